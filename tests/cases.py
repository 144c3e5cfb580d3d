"""Case tables for the per-operation tests, shared with the compiled-tape tests.

Each case names one operation and gives it three times: as zdravkograd code
(``fn``, called with Values), as PyTorch code (``torch_fn``, called with
float64 tensors) and as HIPS autograd code (``hips_fn``, called with autograd's
NumPy; ``None`` where HIPS has no fitting primitive). ``fn`` only uses
operators and methods, so it also runs on anything Value-like (for example
the speed helper's compiled tape).

``inputs`` is a spread of points: zero, negatives, tiny and huge magnitudes
and the IEEE-754 corners of issue 2 (log(0) = -inf, log(-1) = nan, ...).
``singular`` lists the points where the function has a kink or a pole:
central differences are not taken across them. ``fd_limit`` bounds the
magnitude at which central differences are meaningful (sin(1e10) is not).

    from cases import UNARY_CASES, BINARY_CASES
    for case in UNARY_CASES:
        for x in case.inputs:
            ...
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

inf = math.inf
nan = math.nan

Fn = Callable[..., Any]

# A spread of inputs every smooth unary op sees.
SPREAD: tuple[float, ...] = (
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -0.75,
    2.5,
    -3.0,
    1e-8,
    -1e-8,
    37.5,
    -42.0,
    710.0,  # exp overflows just above 709.78
    -745.5,  # exp underflows to 0
    1e10,
    -1e10,
    1000.0,
    -1000.0,
)
# Points that make IEEE-754 answers (nan, inf) appear somewhere.
IEEE: tuple[float, ...] = (inf, -inf, nan, 1e300, -1e300)

# Points where every derivative (up to the third) is smooth for most primitives;
# the higher-order tests use those of them that lie in a case's domain.
SMOOTH: tuple[float, ...] = (-2.2, -0.7, 0.3, 1.4, 3.1)


def _torch() -> Any:
    import torch

    return torch


def _anp() -> Any:
    import autograd.numpy as anp

    return anp


@dataclass(frozen=True)
class UnaryCase:
    """One operation of one Value: ``fn(x)``."""

    name: str
    fn: Fn
    torch_fn: Fn
    hips_fn: Fn | None
    inputs: tuple[float, ...] = SPREAD + IEEE
    singular: tuple[float, ...] = ()
    fd_limit: float = inf
    fd_points: int = 5  # how many inputs at least must allow central differences
    atol: float = 0.0  # an absolute tolerance for the torch comparison, where one is needed

    def __repr__(self) -> str:  # what pytest prints in test ids and failures
        return self.name


@dataclass(frozen=True)
class BinaryCase:
    """One operation of two Values: ``fn(x, y)``."""

    name: str
    fn: Fn
    torch_fn: Fn
    hips_fn: Fn | None
    inputs: tuple[tuple[float, float], ...]
    singular_x: tuple[float, ...] = ()
    singular_y: tuple[float, ...] = ()
    comparable: Callable[[float, float], bool] = lambda x, y: True  # for random inputs

    def __repr__(self) -> str:
        return self.name


def _t(name: str) -> Fn:
    """``torch.<name>``, looked up when called (torch is an optional test dependency)."""
    return lambda *args: getattr(_torch(), name)(*args)


def _n(name: str) -> Fn:
    """``autograd.numpy.<name>``, looked up when called."""
    return lambda *args: getattr(_anp(), name)(*args)


def _hips_sigmoid(x: Any) -> Any:
    return 0.5 * (_anp().tanh(0.5 * x) + 1.0)  # the logistic function, overflow-free


def _hips_relu(x: Any) -> Any:
    return _anp().maximum(x, 0.0)


UNARY_CASES: tuple[UnaryCase, ...] = (
    # the methods
    UnaryCase("exp", lambda x: x.exp(), _t("exp"), _n("exp")),
    UnaryCase("log", lambda x: x.log(), _t("log"), _n("log"), singular=(0.0,)),
    UnaryCase("sqrt", lambda x: x.sqrt(), _t("sqrt"), _n("sqrt"), singular=(0.0,)),
    # tanh'(x) = (1 - t)(1 + t) is computed from the rounded t = tanh(x): for |x| > 3 a
    # one-ulp difference between two tanh implementations changes it by ~1e-16 absolutely,
    # which is far more than 1e-12 relatively once tanh' is tiny.
    UnaryCase("tanh", lambda x: x.tanh(), _t("tanh"), _n("tanh"), atol=1e-15),
    UnaryCase("sigmoid", lambda x: x.sigmoid(), _t("sigmoid"), _hips_sigmoid),
    UnaryCase("relu", lambda x: x.relu(), _t("relu"), _hips_relu, singular=(0.0,)),
    UnaryCase("sin", lambda x: x.sin(), _t("sin"), _n("sin"), fd_limit=1e4),
    UnaryCase("cos", lambda x: x.cos(), _t("cos"), _n("cos"), fd_limit=1e4),
    UnaryCase("abs", lambda x: abs(x), _t("abs"), _n("abs"), singular=(0.0,)),
    UnaryCase("neg", lambda x: -x, lambda x: -x, lambda x: -x),
    # a Value and a plain number, the number on either side
    UnaryCase("x + 2", lambda x: x + 2, lambda x: x + 2, lambda x: x + 2),
    UnaryCase("2 + x", lambda x: 2 + x, lambda x: 2 + x, lambda x: 2 + x),
    UnaryCase("x - 3.5", lambda x: x - 3.5, lambda x: x - 3.5, lambda x: x - 3.5),
    UnaryCase("3.5 - x", lambda x: 3.5 - x, lambda x: 3.5 - x, lambda x: 3.5 - x),
    UnaryCase("x * -2.5", lambda x: x * -2.5, lambda x: x * -2.5, lambda x: x * -2.5),
    UnaryCase("-2.5 * x", lambda x: -2.5 * x, lambda x: -2.5 * x, lambda x: -2.5 * x),
    UnaryCase("x / 4", lambda x: x / 4, lambda x: x / 4, lambda x: x / 4),
    UnaryCase("x / 0", lambda x: x / 0, lambda x: x / 0.0, None, fd_points=0),
    UnaryCase("4 / x", lambda x: 4 / x, lambda x: 4 / x, lambda x: 4 / x, singular=(0.0,)),
    UnaryCase("x ** 2", lambda x: x**2, lambda x: x**2, lambda x: x**2),
    UnaryCase("x ** 3", lambda x: x**3, lambda x: x**3, lambda x: x**3),
    UnaryCase("x ** 0", lambda x: x**0, lambda x: x**0, lambda x: x**0),
    UnaryCase("x ** 1", lambda x: x**1, lambda x: x**1, lambda x: x**1),
    UnaryCase("x ** 0.5", lambda x: x**0.5, lambda x: x**0.5, lambda x: x**0.5, singular=(0.0,)),
    UnaryCase("x ** -1", lambda x: x**-1, lambda x: x**-1, lambda x: x**-1, singular=(0.0,)),
    UnaryCase(
        "x ** -1.5", lambda x: x**-1.5, lambda x: x**-1.5, lambda x: x**-1.5, singular=(0.0,)
    ),
    UnaryCase("x ** (1/3)", lambda x: x ** (1 / 3), lambda x: x ** (1 / 3), None, singular=(0.0,)),
    UnaryCase("2 ** x", lambda x: 2**x, lambda x: 2**x, lambda x: 2**x),
    UnaryCase("0.5 ** x", lambda x: 0.5**x, lambda x: 0.5**x, lambda x: 0.5**x),
    UnaryCase("0 ** x", lambda x: 0**x, lambda x: 0.0**x, None, singular=(0.0,)),
    UnaryCase("(-2) ** x", lambda x: (-2) ** x, lambda x: (-2.0) ** x, None, fd_points=0),
)

# Pairs for the binary ops: every combination of a small spread, plus IEEE corners.
_PAIR_POINTS = (0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-8, 1e8, -1e8)
PAIRS: tuple[tuple[float, float], ...] = tuple(
    (x, y) for x in _PAIR_POINTS for y in _PAIR_POINTS
) + ((inf, 1.0), (1.0, inf), (-inf, 2.0), (nan, 1.0), (1.0, nan), (inf, -inf), (1e300, 1e300))

# Division is x * y**-1, so d/dy = -x * y**-2 underflows to 0 once |y| > 1e154, where
# PyTorch's (x / y) / y does not: (1e300, 1e300) is left out on purpose.
DIV_PAIRS = tuple(p for p in PAIRS if p != (1e300, 1e300)) + ((1e300, 1e-300), (-1e-300, 1e300))

_POW_POINTS = (0.0, 1.0, -1.0, 0.5, 2.0, -2.5, 3.0, 0.3)
POW_PAIRS: tuple[tuple[float, float], ...] = tuple(
    (x, y) for x in _POW_POINTS for y in _POW_POINTS
) + ((10.0, 400.0), (-10.0, 401.0), (0.0, -1.0), (-0.0, -1.0), (inf, 0.5), (nan, 0.0))

UNARY = {case.name: case for case in UNARY_CASES}
BINARY_CASES: tuple[BinaryCase, ...] = (
    BinaryCase("x + y", lambda x, y: x + y, lambda x, y: x + y, lambda x, y: x + y, PAIRS),
    BinaryCase("x - y", lambda x, y: x - y, lambda x, y: x - y, lambda x, y: x - y, PAIRS),
    BinaryCase("x * y", lambda x, y: x * y, lambda x, y: x * y, lambda x, y: x * y, PAIRS),
    BinaryCase(
        "x / y",
        lambda x, y: x / y,
        lambda x, y: x / y,
        lambda x, y: x / y,
        DIV_PAIRS,
        singular_y=(0.0,),
        # d/dy = x * (-y**-2): y**-2 overflows (0 * inf = nan) or underflows outside this range
        comparable=lambda x, y: not (0.0 < abs(y) < 1e-150 or 1e150 < abs(y) < inf),
    ),
    BinaryCase(
        "x ** y",
        lambda x, y: x**y,
        _t("pow"),
        lambda x, y: x**y,
        POW_PAIRS,
        singular_x=(0.0,),
    ),
)

BINARY = {case.name: case for case in BINARY_CASES}

# A few composites, used by the gradient and higher-order tests: (name, fn, torch, hips, point).
COMPOSITES: tuple[tuple[str, Fn, Fn, Fn, tuple[float, ...]], ...] = (
    (
        "tanh(x) * exp(-x**2) / (1 + x**2)",
        lambda x: x.tanh() * (-(x**2)).exp() / (1 + x**2),
        lambda x: _torch().tanh(x) * _torch().exp(-(x**2)) / (1 + x**2),
        lambda x: _anp().tanh(x) * _anp().exp(-(x**2)) / (1 + x**2),
        (0.7,),
    ),
    (
        "log(sigmoid(x) + 1) * cos(x)",
        lambda x: (x.sigmoid() + 1).log() * x.cos(),
        lambda x: _torch().log(_torch().sigmoid(x) + 1) * _torch().cos(x),
        lambda x: _anp().log(_hips_sigmoid(x) + 1) * _anp().cos(x),
        (-1.3,),
    ),
    (
        "x ** y * sin(x * y)",
        lambda x, y: x**y * (x * y).sin(),
        lambda x, y: x**y * _torch().sin(x * y),
        lambda x, y: x**y * _anp().sin(x * y),
        (1.7, 0.6),
    ),
    (
        "sqrt(x*x + y*y) - 2 ** (x / y)",
        lambda x, y: (x * x + y * y).sqrt() - 2 ** (x / y),
        lambda x, y: _torch().sqrt(x * x + y * y) - 2 ** (x / y),
        lambda x, y: _anp().sqrt(x * x + y * y) - 2 ** (x / y),
        (-0.8, 1.9),
    ),
    (
        "relu(x) * abs(y) + sigmoid(x * y) ** 3",
        lambda x, y: x.relu() * abs(y) + (x * y).sigmoid() ** 3,
        lambda x, y: _torch().relu(x) * _torch().abs(y) + _torch().sigmoid(x * y) ** 3,
        lambda x, y: _hips_relu(x) * _anp().abs(y) + _hips_sigmoid(x * y) ** 3,
        (0.9, -1.1),
    ),
)


# ----------------------------------------------------------------- comparing numbers


def same(a: float, b: float, rtol: float = 1e-12, atol: float = 0.0) -> bool:
    """``a`` and ``b`` agree: both nan, the same infinity, or close (relative ``rtol``)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= max(rtol * max(abs(a), abs(b)), atol)


def _row(what: str, ours: float, theirs: float, ok: bool, oracle: str) -> str:
    mark = "" if ok else "   <-- differs"
    return f"    {what:<8} zdravkograd {ours!r:<24} {oracle} {theirs!r:<24}{mark}"


def _call(args: tuple[float, ...]) -> str:
    return "(" + ", ".join(f"{n}={a!r}" for n, a in zip("xyzw", args)) + ")"


def value_and_grads(fn: Fn, args: tuple[float, ...]) -> tuple[float, list[float]]:
    """Run ``fn`` on fresh zdravkograd leaves, back-propagate; (value, [d/d arg, ...])."""
    from zdravkograd import Value

    xs = [Value(a) for a in args]
    out = fn(*xs)
    out.backward()
    return out.data, [x.grad for x in xs]


def torch_value_and_grads(torch_fn: Fn, args: tuple[float, ...]) -> tuple[float, list[float]]:
    """The PyTorch float64 oracle: (value, [d/d arg, ...]); an unused argument gets 0.0."""
    torch = _torch()
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    y = torch_fn(*ts)
    if not y.requires_grad:  # e.g. a constant result
        return y.item(), [0.0] * len(args)
    grads = torch.autograd.grad(y, ts, allow_unused=True)
    return y.item(), [0.0 if g is None else g.item() for g in grads]


def compare_with_torch(
    name: str,
    fn: Fn,
    torch_fn: Fn,
    args: tuple[float, ...],
    rtol: float = 1e-12,
    atol: float = 0.0,
    run: Callable[[Fn, tuple[float, ...]], tuple[float, list[float]]] = value_and_grads,
) -> list[str]:
    """Compare the value and every gradient of ``fn`` with PyTorch float64 at ``args``.

    Returns ``[]`` when all agree, else a readable report, one line per quantity::

        x ** y at (x=-2.5, y=0.5):
            value    zdravkograd nan        torch nan
            d/dx     zdravkograd 0.1        torch 0.2       <-- differs

    ``run(fn, args) -> (value, grads)`` computes our side; the default builds Values
    and calls ``backward()``. Pass another to check a different engine (a compiled tape).
    """
    ours, our_grads = run(fn, args)
    theirs, their_grads = torch_value_and_grads(torch_fn, args)
    checks = [("value", ours, theirs)]
    checks += [(f"d/d{n}", g, h) for n, g, h in zip("xyzw", our_grads, their_grads)]
    rows, bad = [], False
    for what, a, b in checks:
        ok = same(float(a), float(b), rtol, atol)
        bad = bad or not ok
        rows.append(_row(what, a, b, ok, "torch"))
    return [f"{name} at {_call(args)}:\n" + "\n".join(rows)] if bad else []


def assert_matches_torch(
    name: str,
    fn: Fn,
    torch_fn: Fn,
    points: Any,
    rtol: float = 1e-12,
    atol: float = 0.0,
    run: Callable[[Fn, tuple[float, ...]], tuple[float, list[float]]] = value_and_grads,
) -> None:
    """``compare_with_torch`` at each point (a tuple of arguments); one report for all."""
    failures = [
        f for p in points for f in compare_with_torch(name, fn, torch_fn, p, rtol, atol, run)
    ]
    assert not failures, f"{len(failures)} mismatch(es) with PyTorch:\n" + "\n".join(failures)


def central_difference(f: Callable[..., float], args: tuple[float, ...], i: int, h: float) -> float:
    """d f / d args[i] by the fourth-order central difference with step ``h``."""

    def at(delta: float) -> float:
        moved = list(args)
        moved[i] += delta
        return f(*moved)

    return (at(-2 * h) - 8 * at(-h) + 8 * at(h) - at(2 * h)) / (12 * h)


def step_for(*args: float) -> float:
    """The finite-difference step at ``args``: relative to the largest, absolute near 0."""
    return 1e-5 * max([1.0] + [abs(a) for a in args if math.isfinite(a)])
