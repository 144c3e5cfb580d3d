"""Every operation of ``Value`` swept over a dense grid against PyTorch float64.

``test_engine_ops.py`` checks each operation at a spread of about twenty points. A
wrong local derivative can hide between them: ``sigmoid``'s ``s - s*s`` instead of
``s * (1 - s)`` is off by 2e-8 relatively at x = 20 and exact at every one of those
points. So here each operation of ``cases.py`` runs on every point of
[-40, 40] in steps of 0.1, plus the extremes ±1e-300, ±700 and ±1e15, and each binary
operation on a 2-D grid. Forward values and local derivatives must agree with
PyTorch to 1e-12 relatively, or exactly where both give 0, ±inf or nan.

Both of the engine's paths are swept: float Values (``math``, one graph per point)
and batched Values (NumPy, one graph for the whole grid). PyTorch runs once per
operation on the whole grid.

tanh's derivative ``1 - t^2`` is computed from the rounded output ``t``; in the tail
(|x| > 3) a one-ulp difference in ``t`` (NumPy's tanh against the C library's) changes
it by ~2e-16 absolutely, so the batched path's comparison of tanh with PyTorch needs the
absolute slack that ``cases.py`` gives tanh. PyTorch's own ``1 - t*t`` also loses digits
there. To stay strict, both out-based derivatives (tanh and sigmoid) are also checked
against the exact value of their formula at the engine's own output (computed in
rational arithmetic, then rounded), to 1e-12 relatively with no slack.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from cases import BINARY_CASES, UNARY, UNARY_CASES, BinaryCase, UnaryCase
from conftest import require

from zdravkograd import Value

torch = require("torch")

pytestmark = pytest.mark.torch

EXTREMES = (1e-300, -1e-300, 700.0, -700.0, 1e15, -1e15)
# k / 10 for k in -400..400, each correctly rounded (0.0 is in, exactly).
GRID = np.concatenate([np.arange(-400, 401) / 10.0, EXTREMES])

# The 2-D grid's axis: the integers in [-40, 40], some fractions (non-integer
# exponents, bases between -1 and 1) and the extremes.
_FRACTIONS = (0.1, -0.1, 0.25, -0.25, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 1 / 3)
AXIS = np.concatenate([np.arange(-40, 41) * 1.0, _FRACTIONS, EXTREMES])
PAIR_X, PAIR_Y = (a.ravel() for a in np.meshgrid(AXIS, AXIS, indexing="ij"))


@pytest.fixture(autouse=True)
def _no_numpy_warnings():
    """IEEE answers come quietly: a RuntimeWarning from NumPy is a failure."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ------------------------------------------------------------------------ helpers


def torch_sweep(torch_fn, *columns: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """PyTorch float64 on whole columns at once: (values, [d/d column, ...]) elementwise."""
    ts = [torch.tensor(c, dtype=torch.float64, requires_grad=True) for c in columns]
    y = torch_fn(*ts)
    n = len(columns[0])
    y = y.expand(n) if y.dim() == 0 else y
    if not y.requires_grad:  # a constant result
        return y.detach().numpy().copy(), [np.zeros(n) for _ in columns]
    grads = torch.autograd.grad(y, ts, torch.ones_like(y), allow_unused=True)
    return y.detach().numpy().copy(), [
        np.zeros(n) if g is None else g.numpy().copy() for g in grads
    ]


def ours_per_point(fn, *columns: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The float path: one graph of float Values per point, then ``backward()``."""
    n = len(columns[0])
    values = np.empty(n)
    grads = [np.empty(n) for _ in columns]
    for i in range(n):
        xs = [Value(float(c[i])) for c in columns]
        out = fn(*xs)
        assert type(out.data) is float
        out.backward()
        values[i] = out.data
        for g, x in zip(grads, xs):
            assert type(x.grad) is float
            g[i] = x.grad
    return values, grads


def ours_batched(fn, *columns: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The batched path: one graph of batched Values for the whole grid."""
    n = len(columns[0])
    xs = [Value(c.copy()) for c in columns]
    with warnings.catch_warnings():
        # Batched +, - and * are NumPy's own operators, which warn on 0 * inf and
        # inf - inf; the answers (nan) are the IEEE ones, and those are checked.
        warnings.simplefilter("ignore", RuntimeWarning)
        out = fn(*xs)
        assert isinstance(out.data, np.ndarray) and out.data.shape == (n,)
        out.backward(np.ones(n))
    grads = [np.broadcast_to(np.asarray(x.grad, dtype=np.float64), (n,)) for x in xs]
    return out.data, grads


def mismatches(ours, theirs, rtol: float = 1e-12, atol: float = 0.0) -> np.ndarray:
    """A mask of the points where ``ours`` and ``theirs`` disagree.

    They agree when both are nan, when they are equal (the same infinity, both zero),
    or when finite and within ``rtol`` relatively (or ``atol`` absolutely).
    """
    a, b = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    with np.errstate(all="ignore"):
        both_nan = np.isnan(a) & np.isnan(b)
        equal = a == b
        finite = np.isfinite(a) & np.isfinite(b)
        close = np.abs(a - b) <= np.maximum(rtol * np.maximum(np.abs(a), np.abs(b)), atol)
    return ~(both_nan | equal | (finite & close))


def report(name: str, what: str, points, ours, theirs, bad, oracle="torch") -> list[str]:
    """Readable lines for the first few points where ``bad`` is set."""
    idx = np.flatnonzero(bad)
    lines = [
        f"{name} {what} at {tuple(float(c[i]) for c in points)}: "
        f"zdravkograd {float(ours[i])!r}, {oracle} {float(theirs[i])!r}"
        for i in idx[:8]
    ]
    if len(idx) > 8:
        lines.append(f"... and {len(idx) - 8} more {what} mismatches for {name}")
    return lines


def compare(name, points, ours, theirs, rtol=1e-12, atol=0.0, grad_mask=None) -> list[str]:
    """Compare (value, grads) of ours and PyTorch's on every point; [] when all agree."""
    (v, gs), (w, hs) = ours, theirs
    failures = report(name, "value", points, v, w, mismatches(v, w, rtol, atol))
    for k, (g, h) in enumerate(zip(gs, hs)):
        bad = mismatches(g, h, rtol, atol)
        if grad_mask is not None:
            bad &= grad_mask
        failures += report(name, f"d/d{'xy'[k]}", points, g, h, bad)
    return failures


PATHS = {"float": ours_per_point, "batched": ours_batched}


# --------------------------------------------------------------------- unary ops


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", UNARY_CASES, ids=repr)
def test_unary_op_on_dense_grid_matches_torch(case: UnaryCase, path: str) -> None:
    theirs = torch_sweep(case.torch_fn, GRID)
    ours = PATHS[path](case.fn, GRID)
    # The float path uses the C library's tanh, as PyTorch does, and agrees with no slack.
    # NumPy's tanh is an ulp away from it in the tail, where 1 - t^2 turns that ulp into
    # ~2e-16 absolutely: only there does the batched path use the case's absolute slack.
    atol = case.atol if path == "batched" else 0.0
    failures = compare(case.name, (GRID,), ours, theirs, atol=atol)
    assert not failures, f"{path} Values differ from PyTorch:\n" + "\n".join(failures)


def test_the_grid_is_dense_and_reaches_the_extremes() -> None:
    assert len(GRID) == 801 + 6 and 0.0 in GRID and 20.0 in GRID and -35.0 in GRID
    assert np.all(np.diff(GRID[:801]) > 0.0999) and np.all(np.diff(GRID[:801]) < 0.1001)
    assert {1e-300, -1e-300, 700.0, -700.0, 1e15, -1e15} <= set(GRID.tolist())


def _exact_tanh_derivative(t: float) -> float:
    return float(1 - Fraction(t) ** 2)


def _exact_sigmoid_derivative(s: float) -> float:
    return float(Fraction(s) * (1 - Fraction(s)))


# The derivatives the engine computes from its own output, and their exact formula.
OUT_BASED = {"tanh": _exact_tanh_derivative, "sigmoid": _exact_sigmoid_derivative}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", OUT_BASED)
def test_out_based_derivative_is_its_formula_exactly_rounded(name: str, path: str) -> None:
    """tanh' = 1 - t^2 and sigmoid' = s (1 - s), at the engine's own t and s, to 1e-12.

    This is stricter than PyTorch in tanh's tail, where PyTorch's 1 - t*t cancels: a
    derivative written as ``1 - t * t`` would agree with PyTorch but fail here.
    """
    values, (grads,) = PATHS[path](UNARY[name].fn, GRID)
    exact = np.array([OUT_BASED[name](float(v)) for v in values])
    bad = mismatches(grads, exact)
    failures = report(name, "derivative", (GRID,), grads, exact, bad, "exact formula")
    assert not failures, "\n".join(failures)
    # The tail is where it matters: there the derivative is tiny but not zero.
    tail = (np.abs(GRID) > 5) & (np.abs(GRID) < 18)
    assert np.all(grads[tail] > 0) and np.all(grads[tail] < 1e-2)


# --------------------------------------------------------------------- binary ops


def _grad_mask(case: BinaryCase) -> np.ndarray:
    """Where the gradients are comparable (``cases.py`` explains the exceptions)."""
    return np.array([case.comparable(float(x), float(y)) for x, y in zip(PAIR_X, PAIR_Y)])


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", BINARY_CASES, ids=repr)
def test_binary_op_on_2d_grid_matches_torch(case: BinaryCase, path: str) -> None:
    theirs = torch_sweep(case.torch_fn, PAIR_X, PAIR_Y)
    ours = PATHS[path](case.fn, PAIR_X, PAIR_Y)
    mask = _grad_mask(case)
    assert mask.mean() > 0.9  # the exceptions are a few corners, not the grid
    failures = compare(case.name, (PAIR_X, PAIR_Y), ours, theirs, grad_mask=mask)
    assert not failures, f"{path} Values differ from PyTorch:\n" + "\n".join(failures)


@pytest.mark.parametrize("case", BINARY_CASES, ids=repr)
def test_a_float_meeting_a_batch_gets_the_sum_of_its_gradients(case: BinaryCase) -> None:
    """x a float Value, y a batch (one row of the grid): x.grad is the sum over the row."""
    ys = np.concatenate([np.arange(-40, 41) / 4.0, _FRACTIONS])
    failures = []
    for x in (-3.0, -0.5, 0.25, 2.0, 7.5):
        xv, yv = Value(x), Value(ys.copy())
        out = case.fn(xv, yv)
        out.backward(np.ones(len(ys)))
        _, (gx, gy) = torch_sweep(case.torch_fn, np.full(len(ys), x), ys)
        assert type(xv.grad) is float
        if not np.isfinite(gx).all():  # 1 / 0 = inf, (-3) ** 0.5 = nan: so is the sum
            expected = float(np.sum(gx))
            ok = not mismatches(xv.grad, expected)
        else:
            expected = math.fsum(gx.tolist())
            ok = abs(xv.grad - expected) <= 1e-12 * math.fsum(np.abs(gx).tolist())
        if not ok:
            failures.append(f"{case.name} x={x}: d/dx {xv.grad!r}, sum of torch's {expected!r}")
        bad = mismatches(yv.grad, gy)
        failures += report(case.name, "d/dy", (ys,), yv.grad, gy, bad)
    assert not failures, "\n".join(failures)
