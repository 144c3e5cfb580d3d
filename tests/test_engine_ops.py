"""Every operation of ``Value``: its value and gradient against PyTorch (float64) and
against central finite differences, over the spread of inputs in ``cases.py``,
plus the IEEE-754 corners that issue 2 spells out."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from cases import (
    BINARY,
    BINARY_CASES,
    UNARY,
    UNARY_CASES,
    BinaryCase,
    UnaryCase,
    assert_matches_torch,
    central_difference,
    same,
    step_for,
    value_and_grads,
)
from conftest import require
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import reals

from zdravkograd import Value, detect_anomaly

torch = require("torch")

pytestmark = pytest.mark.torch


@pytest.fixture(autouse=True)
def _no_numpy_warnings():
    """An IEEE answer must come quietly: no RuntimeWarning from NumPy either."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ------------------------------------------------------------------ against PyTorch


@pytest.mark.parametrize("case", UNARY_CASES, ids=repr)
def test_unary_op_matches_torch(case: UnaryCase) -> None:
    points = [(x,) for x in case.inputs]
    assert_matches_torch(case.name, case.fn, case.torch_fn, points, atol=case.atol)


@pytest.mark.parametrize("case", BINARY_CASES, ids=repr)
def test_binary_op_matches_torch(case: BinaryCase) -> None:
    assert_matches_torch(case.name, case.fn, case.torch_fn, case.inputs)


@pytest.mark.parametrize("name", UNARY)
@given(x=reals())
def test_unary_op_matches_torch_anywhere(name: str, x: float) -> None:
    case = UNARY[name]
    assert_matches_torch(case.name, case.fn, case.torch_fn, [(x,)], atol=case.atol)


@pytest.mark.parametrize("name", BINARY)
@given(x=reals(), y=reals())
def test_binary_op_matches_torch_anywhere(name: str, x: float, y: float) -> None:
    case = BINARY[name]
    assume(case.comparable(x, y))
    assert_matches_torch(case.name, case.fn, case.torch_fn, [(x, y)])


# --------------------------------------------------------- against finite differences


def _forward(fn):
    return lambda *args: fn(*map(Value, args)).data


def _fd_report(name, fn, args, i, analytic, singular, fd_limit=math.inf):
    """'' when the analytic d/d args[i] matches central differences (or they do not apply)."""
    x = args[i]
    h = step_for(*args)
    if not math.isfinite(analytic) or abs(x) > fd_limit:
        return None
    if any(abs(x - s) <= 2 * h for s in singular):
        return None  # a kink or pole inside the stencil
    numeric = central_difference(_forward(fn), args, i, h)
    if not math.isfinite(numeric):
        return None  # the function leaves its domain inside the stencil
    if same(analytic, numeric, rtol=1e-6, atol=1e-8):
        return ""
    return f"{name} at {args}: d/d{'xy'[i]} analytic {analytic!r}, central difference {numeric!r}"


@pytest.mark.parametrize("case", UNARY_CASES, ids=repr)
def test_unary_op_matches_finite_differences(case: UnaryCase) -> None:
    reports = []
    for x in case.inputs:
        _, (g,) = value_and_grads(case.fn, (x,))
        reports.append(_fd_report(case.name, case.fn, (x,), 0, g, case.singular, case.fd_limit))
    failures = [r for r in reports if r]
    assert not failures, "\n".join(failures)
    assert reports.count("") >= case.fd_points, "too few points where central differences apply"


@pytest.mark.parametrize("case", BINARY_CASES, ids=repr)
def test_binary_op_matches_finite_differences(case: BinaryCase) -> None:
    reports = []
    for args in case.inputs:
        _, grads = value_and_grads(case.fn, args)
        for i, singular in enumerate((case.singular_x, case.singular_y)):
            reports.append(_fd_report(case.name, case.fn, args, i, grads[i], singular))
    failures = [r for r in reports if r]
    assert not failures, "\n".join(failures)
    assert reports.count("") >= 20


# ---------------------------------------------------------------- the IEEE-754 corners


@pytest.mark.parametrize(
    "expr, expected",
    [
        (lambda: Value(0.0).log(), -math.inf),
        (lambda: Value(-0.0).log(), -math.inf),
        (lambda: Value(-1.0).log(), math.nan),
        (lambda: Value(-1.0).sqrt(), math.nan),
        (lambda: Value(1000.0).exp(), math.inf),
        (lambda: Value(-1000.0).exp(), 0.0),
        (lambda: Value(1.0) / 0, math.inf),
        (lambda: Value(-1.0) / 0, -math.inf),
        (lambda: Value(0.0) / 0, math.nan),
        (lambda: Value(1.0) / Value(0.0), math.inf),
        (lambda: 1 / Value(0.0), math.inf),
        (lambda: 1 / Value(-0.0), -math.inf),
        (lambda: Value(-8.0) ** (1 / 3), math.nan),
        (lambda: Value(-8.0) ** Value(0.5), math.nan),
        (lambda: (-8.0) ** Value(1 / 3), math.nan),
        (lambda: Value(-8.0) ** 3, -512.0),
        (lambda: Value(0.0) ** -1, math.inf),
        (lambda: Value(10.0) ** 400, math.inf),
        (lambda: Value(-10.0) ** 401, -math.inf),
        (lambda: Value(2.0) ** 5000.5, math.inf),
        (lambda: Value(math.inf).sin(), math.nan),
        (lambda: Value(-math.inf).cos(), math.nan),
        (lambda: Value(math.nan).relu(), math.nan),
        (lambda: Value(math.inf) - math.inf, math.nan),
    ],
)
def test_ieee_results(expr, expected) -> None:
    out = expr()
    assert type(out.data) is float, f"got a {type(out.data).__name__}, not a float"
    assert same(out.data, expected), f"got {out.data!r}, expected {expected!r}"


@pytest.mark.parametrize("x", [1000.0, -1000.0, 1e308, -1e308, math.inf, -math.inf])
@pytest.mark.parametrize("op", ["tanh", "sigmoid"])
def test_saturating_ops_stay_finite_with_finite_gradients(op: str, x: float) -> None:
    v = Value(x)
    out = getattr(v, op)()
    out.backward()
    assert math.isfinite(out.data) and math.isfinite(v.grad)
    assert out.data in (-1.0, 0.0, 1.0) and v.grad == 0.0
    with detect_anomaly():  # and not even the anomaly detector objects
        getattr(Value(x), op)().backward()


@pytest.mark.parametrize("x", [-50.0, -30.0, -1.0, 0.0, 1.0, 30.0, 50.0])
def test_sigmoid_is_accurate_in_both_tails(x: float) -> None:
    # s(x) = 1/(1+e^-x) computed naively loses all relative precision for x << 0.
    s = Value(x).sigmoid().data
    exact = math.exp(x) / (1 + math.exp(x)) if x < 0 else 1 / (1 + math.exp(-x))
    assert math.isclose(s, exact, rel_tol=1e-15)
    assert math.isclose(
        s, float(torch.sigmoid(torch.tensor(x, dtype=torch.float64))), rel_tol=1e-14
    )


@pytest.mark.parametrize(
    "expr",
    [
        lambda: Value(-1.0) ** 0.5,
        lambda: Value(-8.0) ** Value(1 / 3),
        lambda: Value(0.0).log(),
        lambda: Value(1e6).exp(),
        lambda: Value(3.0) / 0,
        lambda: Value(0.0) ** -2,
        lambda: (Value(0.0) ** Value(-0.5)) * Value(-1.0).sqrt(),
    ],
)
def test_ieee_corners_never_raise_nor_go_complex(expr) -> None:
    out = expr()
    out.backward()  # no ZeroDivisionError, OverflowError, ValueError, complex
    for node in (out, *out._prev):
        assert type(node.data) is float and type(node.grad) is float


def test_sqrt_of_zero_has_infinite_gradient_as_torch() -> None:
    x = Value(0.0)
    x.sqrt().backward()
    assert x.grad == math.inf


def test_pow_gradient_at_zero_exponent_is_zero_even_at_zero_base() -> None:
    x = Value(0.0)
    (x**0).backward()
    assert x.grad == 0.0  # PyTorch masks k * x**(k-1) where k == 0
    k = Value(2.0)
    (Value(0.0) ** k).backward()
    assert k.grad == 0.0  # and x**k * log(x) where x == 0 and k >= 0


@pytest.mark.parametrize("x", [0.0, 1.5, -2.0, 1e-300])
def test_relu_and_abs_take_derivative_zero_at_zero(x: float) -> None:
    a, b = Value(x), Value(x)
    a.relu().backward()
    abs(b).backward()
    assert a.grad == (1.0 if x > 0 else 0.0)
    assert b.grad == (0.0 if x == 0 else math.copysign(1.0, x))


def test_an_inactive_relu_passes_a_nan_gradient_on_where_torch_masks_it() -> None:
    # documented in docs/backprop.md: the chain rule multiplies, 0 * nan = nan
    x = Value(-1.0)
    (x.relu() * math.nan).backward()
    t = torch.tensor(-1.0, dtype=torch.float64, requires_grad=True)
    (torch.relu(t) * math.nan).backward()
    assert math.isnan(x.grad) and t.grad.item() == 0.0


@given(x=st.floats(-1e6, 1e6), y=st.floats(-1e6, 1e6))
def test_subtraction_and_negation_are_exact(x: float, y: float) -> None:
    assert (Value(x) - Value(y)).data == x - y
    assert (x - Value(y)).data == x - y
    assert (-Value(x)).data == -x


@pytest.mark.parametrize("x", [6.506107007494474e16, 1.1, -3.7e-5, 1e154])
def test_square_is_correctly_rounded_like_torch(x: float) -> None:
    # math.pow(6.506107007494474e16, 2) is one ulp off; x * x (PyTorch's x ** 2) is exact
    exact = float(Fraction(x) ** 2)
    t = torch.tensor(x, dtype=torch.float64) ** 2
    assert (Value(x) ** 2).data == exact == t.item()
    batch = (Value(np.array([x, -x])) ** 2).data
    assert batch.tolist() == [exact, exact]
