"""The functional API: ``grad`` to third order, ``value_and_grad``, ``argnums``,
``gradients`` and ``gradcheck``. Derivatives are checked against PyTorch
(``torch.autograd.grad(..., create_graph=True)``) and HIPS autograd."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from cases import COMPOSITES, SMOOTH, UNARY_CASES, UnaryCase, same
from conftest import require

import zdravkograd
from zdravkograd import Value, grad, gradcheck, gradients, ops, value_and_grad

torch = require("torch")
hips = require("autograd")

RTOL = 1e-12
ATOL = 1e-12


def torch_derivatives(fn, args, path):
    """[f, df/d args[path[0]], d2f/..., ...] by repeated torch.autograd.grad(create_graph=True)."""
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    y = fn(*ts)
    out = [y.item()]
    for i in path:
        if y.requires_grad:
            (g,) = torch.autograd.grad(y, ts[i], create_graph=True, allow_unused=True)
            y = torch.zeros((), dtype=torch.float64) if g is None else g
        else:  # the previous derivative was a constant
            y = torch.zeros((), dtype=torch.float64)
        out.append(y.item())
    return out


def hips_derivatives(fn, args, path):
    """The same list by HIPS autograd: grad(grad(fn, i), j)..."""
    out = [float(fn(*args))]
    f = fn
    with warnings.catch_warnings():  # "Output seems independent of input" for constants
        warnings.simplefilter("ignore", UserWarning)
        for i in path:
            f = hips.grad(f, i)
            out.append(float(f(*args)))
    return out


def our_derivatives(fn, args, path):
    """The same list by zdravkograd.grad composed len(path) times."""
    out = [fn(*map(Value, args)).data]
    f = fn
    for i in path:
        f = grad(f, i)
        out.append(float(f(*args)))
    return out


def _report(name, args, path, ours, oracle, oracle_name):
    rows = []
    for order, (a, b) in enumerate(zip(ours, oracle)):
        mark = "" if same(a, b, RTOL, ATOL) else "   <-- differs"
        rows.append(f"    order {order}: zdravkograd {a!r:<24} {oracle_name} {b!r}{mark}")
    if any(r.endswith("differs") for r in rows):
        return [f"{name} at {args}, differentiating by args {path}:\n" + "\n".join(rows)]
    return []


def _smooth_points(case: UnaryCase):
    """The SMOOTH points in the case's domain, well away from kinks and poles."""
    pts = []
    for x in SMOOTH:
        derivs = torch_derivatives(case.torch_fn, (x,), (0, 0, 0))
        if all(math.isfinite(d) for d in derivs) and all(abs(x - s) > 0.1 for s in case.singular):
            pts.append(x)
    return pts


@pytest.mark.torch
@pytest.mark.parametrize("case", UNARY_CASES, ids=repr)
def test_first_to_third_derivative_of_each_op(case: UnaryCase) -> None:
    points = _smooth_points(case)
    assert points or case.name in ("x / 0", "(-2) ** x", "0 ** x")
    failures = []
    for x in points:
        ours = our_derivatives(case.fn, (x,), (0, 0, 0))
        failures += _report(
            case.name,
            x,
            (0, 0, 0),
            ours,
            torch_derivatives(case.torch_fn, (x,), (0, 0, 0)),
            "torch",
        )
        if case.hips_fn is not None:
            failures += _report(
                case.name,
                x,
                (0, 0, 0),
                ours,
                hips_derivatives(case.hips_fn, (x,), (0, 0, 0)),
                "HIPS ",
            )
    assert not failures, "\n".join(failures)


def test_derived_ops_at_their_special_points() -> None:
    # (-2) ** x at integers, 0 ** x for x > 0: the derivative w.r.t. x is nan / 0 as in PyTorch
    for x in (2.0, 3.0):
        assert grad(lambda v: (-2) ** v)(x) != grad(lambda v: (-2) ** v)(x)  # nan
        assert same(grad(grad(lambda v: v**3))(x), 6 * x)
    assert grad(lambda v: 0**v)(2.0) == 0.0
    assert grad(lambda v: 0**v)(Value(2.0)).data == 0.0  # the create_graph rule agrees


@pytest.mark.torch
@pytest.mark.parametrize(
    "name, fn, torch_fn, hips_fn, point", COMPOSITES, ids=[c[0] for c in COMPOSITES]
)
def test_composites_to_third_order(name, fn, torch_fn, hips_fn, point) -> None:
    n = len(point)
    paths = [(i,) for i in range(n)]
    paths += [(i, j) for i in range(n) for j in range(n)]
    paths += [(0, n - 1, 0), (n - 1, 0, n - 1), (0, 0, 0)]
    failures = []
    for path in paths:
        ours = our_derivatives(fn, point, path)
        failures += _report(
            name, point, path, ours, torch_derivatives(torch_fn, point, path), "torch"
        )
        failures += _report(
            name, point, path, ours, hips_derivatives(hips_fn, point, path), "HIPS "
        )
    assert not failures, "\n".join(failures)


def test_grad_of_a_polynomial_to_fourth_order() -> None:
    f = lambda x: 3 * x**4 - 2 * x**3 + x - 7
    d1, d2, d3, d4 = grad(f), grad(grad(f)), grad(grad(grad(f))), grad(grad(grad(grad(f))))
    x = 1.5
    assert d1(x) == pytest.approx(12 * x**3 - 6 * x**2 + 1, rel=1e-14)
    assert d2(x) == pytest.approx(36 * x**2 - 12 * x, rel=1e-14)
    assert d3(x) == pytest.approx(72 * x - 12, rel=1e-14)
    assert d4(x) == pytest.approx(72.0, rel=1e-14)


def test_hessian_of_two_variables_is_symmetric() -> None:
    f = lambda x, y: (x * y).sin() + x**2 * y.exp()
    hxy = grad(grad(f, 0), 1)(0.3, -0.8)
    hyx = grad(grad(f, 1), 0)(0.3, -0.8)
    exact = math.cos(0.3 * -0.8) - 0.3 * -0.8 * math.sin(0.3 * -0.8) + 2 * 0.3 * math.exp(-0.8)
    assert hxy == pytest.approx(exact, rel=1e-13)
    assert hyx == pytest.approx(exact, rel=1e-13)


# ------------------------------------------------------------- value_and_grad, argnums


def test_value_and_grad_with_floats_returns_floats() -> None:
    value, g = value_and_grad(lambda x: x.tanh() * 3)(0.5)
    assert type(value) is float and type(g) is float
    assert value == pytest.approx(3 * math.tanh(0.5), rel=1e-15)
    assert g == pytest.approx(3 * (1 - math.tanh(0.5) ** 2), rel=1e-12)


def test_value_and_grad_with_values_returns_differentiable_values() -> None:
    x = Value(0.5)
    value, g = value_and_grad(lambda v: v**3)(x)
    assert isinstance(value, Value) and isinstance(g, Value)
    g.backward()
    assert x.grad == 6 * 0.5


def test_argnums_int_tuple_and_negative() -> None:
    f = lambda x, y, z: x * y**2 + z.exp()
    assert grad(f, 1)(2.0, 3.0, 0.0) == 12.0
    assert grad(f, -1)(2.0, 3.0, 0.0) == 1.0
    value, (gx, gz) = value_and_grad(f, (0, 2))(2.0, 3.0, 0.0)
    assert (value, gx, gz) == (19.0, 9.0, 1.0)
    assert grad(f, (1,))(2.0, 3.0, 0.0) == (12.0,)


def test_argnums_out_of_range_names_the_call() -> None:
    with pytest.raises(IndexError, match=r"argnums=3 .* 2 arguments"):
        grad(lambda x, y: x * y, 3)(1.0, 2.0)


@pytest.mark.parametrize("argnums", ["0", [0, 1], (0, "1"), 1.0, None, True, (0, False)])
def test_bad_argnums_raise_type_error(argnums) -> None:
    with pytest.raises(TypeError, match="argnums must be an int or a tuple of ints"):
        grad(lambda x, y: x * y, argnums)


def test_grad_needs_a_function_returning_a_number() -> None:
    with pytest.raises(TypeError, match="needs a function, got float"):
        grad(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="return a Value or a number, got list"):
        grad(lambda x: [x])(1.0)


def test_grad_of_a_function_that_ignores_its_argument_is_zero() -> None:
    assert grad(lambda x: Value(5.0))(1.0) == 0.0
    assert grad(lambda x: 5.0)(1.0) == 0.0
    assert grad(grad(lambda x: x * 2))(1.0) == 0.0


def test_grad_refuses_a_batched_output() -> None:
    with pytest.raises(TypeError, match=r"single number.*batch of 3.*sum\(\)"):
        grad(lambda x: x * np.ones(3))(1.0)


def test_grad_leaves_dot_grad_alone() -> None:
    x = Value(2.0)
    g = grad(lambda v: v * v)(x)
    assert g.data == 4.0 and x.grad == 0.0


# --------------------------------------------------------------------- gradients()


def test_gradients_touch_no_grad_and_follow_inputs_through_inputs() -> None:
    x = Value(2.0)
    y = x * x
    z = y * 3 + x
    assert gradients(z, [y, x]) == [3.0, 13.0]  # x also reaches z through y
    assert gradients(z, [x, Value(1.0)]) == [13.0, 0.0]  # an unrelated input gets 0.0
    assert x.grad == 0.0 and y.grad == 0.0 and z.grad == 0.0


def test_gradients_with_create_graph_are_values() -> None:
    x = Value(2.0)
    (g,) = gradients(x**3, [x], create_graph=True)
    assert isinstance(g, Value) and g.data == 12.0
    (h,) = gradients(g, [x])
    assert h == 12.0  # 6x


def test_every_engine_op_is_a_row_of_the_table() -> None:
    x, y = Value(0.7), Value(1.3)
    made = [x + y, x * y, x**y, x**2, x.exp(), x.log(), x.tanh(), x.sigmoid(), x.relu()]
    made += [x.sin(), x.cos(), abs(x), Value(np.ones(2)).sum(), ops.dot(x, y, x)]
    builtin = {name: op for name, op in ops.TABLE.items() if op.builtin}
    assert all(v._op is builtin[v._op.name] for v in made)
    assert {v._op.name for v in made} == set(builtin)


# ---------------------------------------------------------------------- gradcheck


def test_gradcheck_passes_for_correct_gradients() -> None:
    assert gradcheck(lambda x, y: (x * y).sin() / (1 + y**2), 0.4, -1.2) is True
    assert zdravkograd.gradcheck(lambda x: x.sigmoid().log(), 3.0) is True


def test_gradcheck_lists_every_argument_when_a_gradient_is_wrong() -> None:
    def wrong(x, y):  # x * x.detach(): the analytic gradient misses one of the two paths
        return x * x.detach() + y * 2

    with pytest.raises(AssertionError) as info:
        gradcheck(wrong, 3.0, 1.0)
    text = str(info.value)
    assert "gradcheck failed" in text
    assert "arg 0 = 3.0: analytic 3.0, numeric 6.0" in text and "<-- differs" in text
    assert "arg 1 = 1.0: analytic 2.0, numeric 2.0" in text
    assert text.count("<-- differs") == 1


def test_gradcheck_tolerances_are_keywords() -> None:
    f = lambda x: x * x.detach() * 1.0001 + x * x * 0.0  # deliberately wrong by ~50%
    with pytest.raises(AssertionError):
        gradcheck(f, 1.0)
    assert gradcheck(lambda x: x**2, 1.0, eps=1e-4, atol=1e-9, rtol=1e-9)


@pytest.mark.parametrize("bad, name", [(np.ones(2), "ndarray"), ("1.0", "str"), (None, "NoneType")])
def test_gradcheck_refuses_what_is_not_a_number(bad, name) -> None:
    with pytest.raises(TypeError, match=rf"argument 1 must be a real number.*got {name}"):
        gradcheck(lambda x, y: x * y, 1.0, bad)
    assert gradcheck(lambda x, y: x * y, Value(2.0), np.float64(3.0)) is True


def test_power_rule_on_batches_masks_sample_by_sample_as_torch() -> None:
    # zero bases and zero exponents in one batch: the symbolic rule (used by grad of
    # grad) must apply PyTorch's masks per sample, not crash or give 0 * inf = nan
    x = np.array([0.0, 0.0, 0.5, 2.0, -0.0])
    k = np.array([0.0, 2.0, 0.0, 1.5, 3.0])

    def f(a, b):
        return (a**b).sum()

    numeric = value_and_grad(f, (0, 1))(x, k)[1]
    symbolic = [g.data for g in value_and_grad(f, (0, 1))(Value(x), Value(k))[1]]
    xt = torch.tensor(x, requires_grad=True)
    kt = torch.tensor(k, requires_grad=True)
    gx, gk = torch.autograd.grad((xt**kt).sum(), (xt, kt), create_graph=True)
    for ours in (numeric, symbolic):
        np.testing.assert_array_equal(ours[0], gx.detach().numpy())
        np.testing.assert_allclose(ours[1], gk.detach().numpy(), rtol=1e-15)
    # second derivative in k (the Hessian is diagonal), where the masks matter too
    d2 = grad(lambda b: grad(lambda c: (Value(x) ** c).sum())(b).sum())(k)
    (hk,) = torch.autograd.grad(gk.sum(), kt)
    live = x != 0.0  # at a zero base PyTorch's masked branch back-propagates 0 * inf = nan;
    np.testing.assert_allclose(d2[live], hk.numpy()[live], rtol=1e-14)
    assert np.all(d2[~live] == 0.0)  # here the mask is a constant, as for a float base:
    assert grad(grad(lambda b: Value(0.0) ** b))(2.0) == 0.0
