"""``Value`` itself: what it accepts, what it refuses (and how it says so),
its attributes, comparisons, ``repr`` and ``detach``."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from zdravkograd import Value, ops


@pytest.mark.parametrize(
    "data, stored",
    [
        (3, 3.0),
        (-2.5, -2.5),
        (True, 1.0),
        (False, 0.0),
        (np.float32(0.5), 0.5),
        (np.float64(-1.25), -1.25),
        (np.int64(7), 7.0),
        (np.int8(-3), -3.0),
        (np.bool_(True), 1.0),
        (np.array(4.0), 4.0),  # a 0-d array is a scalar
        (math.inf, math.inf),
        (-math.inf, -math.inf),
        (10**20, 1e20),
    ],
)
def test_real_numbers_are_stored_as_float(data, stored) -> None:
    v = Value(data)
    assert type(v.data) is float and v.data == stored


def test_nan_is_accepted() -> None:
    assert math.isnan(Value(math.nan).data)


def test_fresh_value_attributes() -> None:
    v = Value(1.5, label="w")
    assert (v.data, v.grad, v.label, v._op, v._prev) == (1.5, 0.0, "w", None, ())
    assert type(v.grad) is float and v.is_leaf
    assert Value(1.0).label == ""


@pytest.mark.parametrize(
    "bad, type_name",
    [
        ("1.0", "str"),
        (None, "NoneType"),
        (1 + 2j, "complex"),
        (np.complex128(1.0), "complex128"),
        ([1.0, 2.0], "list"),
        ((1.0,), "tuple"),
        (Fraction(1, 3), "Fraction"),
        (object(), "object"),
        (Value(1.0), "Value"),  # wrap a number, not a Value: use .data or .detach()
        (np.array(["a"]), "ndarray"),
        (np.array([1 + 1j]), "ndarray"),
    ],
)
def test_bad_data_raises_type_error_naming_the_type_and_what_is_accepted(bad, type_name) -> None:
    with pytest.raises(TypeError) as info:
        Value(bad)
    message = str(info.value)
    assert type_name in message
    assert "real number" in message and "int, float, bool" in message


def test_an_int_beyond_the_float_range_is_refused_clearly() -> None:
    with pytest.raises(OverflowError, match="too large for a float: it has 401 digits"):
        Value(10**400)
    v = Value(2.0)
    with pytest.raises(OverflowError, match="too large"):
        v * -(10**400)
    assert Value(10**308).data == 1e308


def test_a_two_dimensional_array_is_refused_with_its_shape() -> None:
    with pytest.raises(TypeError, match=r"1-D array.*shape \(2, 2\)"):
        Value(np.zeros((2, 2)))


@pytest.mark.parametrize(
    "operation",
    [
        lambda v: v + "1",
        lambda v: "1" + v,
        lambda v: v * None,
        lambda v: None * v,
        lambda v: v - [1],
        lambda v: [1] - v,
        lambda v: v / "2",
        lambda v: "2" / v,
        lambda v: v ** "2",
        lambda v: "2" ** v,
        lambda v: v * (1 + 1j),
        lambda v: v.backward(gradient="1"),
    ],
)
def test_bad_operands_raise_type_error_and_change_nothing(operation) -> None:
    v = Value(2.0)
    with pytest.raises(TypeError, match=r"got (str|NoneType|list|complex)"):
        operation(v)
    assert (v.data, v.grad, v._prev) == (2.0, 0.0, ())


def test_a_bad_operand_in_a_graph_leaves_the_graph_as_it_was() -> None:
    x = Value(2.0)
    y = x * 3
    with pytest.raises(TypeError):
        y + "oops"
    y.backward()
    assert x.grad == 3.0


# ------------------------------------------------------------------------ ops naming


def test_ops_and_operands_are_recorded_in_order() -> None:
    a, b = Value(2.0), Value(3.0)
    assert (a + b)._op is ops.add and (a + b)._prev == (a, b)
    assert (a * b)._op is ops.mul and (a * b)._prev == (a, b)
    assert (a**2)._op is ops.pow_const and (a**2)._prev == (a,) and (a**2)._const == 2.0
    assert (a**0.5)._op is ops.pow_const and (a**0.5)._const == 0.5
    assert a.sqrt()._op is ops.pow_const and a.sqrt()._const == 0.5
    assert (a**-1)._op is ops.pow_const and (a**-1)._const == -1.0
    assert (a**b)._op is ops.pow and (a**b)._prev == (a, b)
    for name in ("exp", "log", "tanh", "sigmoid", "relu", "sin", "cos"):
        out = getattr(a, name)()
        assert out._op is ops.TABLE[name] and out._op.name == name and out._prev == (a,)
    assert abs(a)._op is ops.abs


def test_derived_ops_are_built_from_primitives() -> None:
    a, b = Value(2.0), Value(4.0)
    neg = -a
    assert neg._op is ops.mul and neg._prev[0] is a and neg._prev[1].data == -1.0
    diff = a - b
    assert diff._op is ops.add and diff._prev[0] is a and diff._prev[1]._op is ops.mul
    quot = a / b
    assert quot._op is ops.mul and quot._prev[0] is a
    assert quot._prev[1]._op is ops.pow_const and quot._prev[1]._const == -1.0
    assert (2**a)._op is ops.pow and (2**a)._prev[0].data == 2.0


def test_local_derivatives_are_numbers_in_operand_order() -> None:
    a, b = Value(2.0), Value(-3.0)
    assert (a * b)._local == (-3.0, 2.0)
    assert (a + b)._local == (1.0, 1.0)
    assert (a**3)._local == (12.0,)
    assert Value(1.0)._local == ()


def test_constant_exponents_are_data_on_the_node() -> None:
    for k in (2, -1, 0.5, 1 / 3, 1e20, -2.75):
        node = Value(1.5) ** k
        assert node._op is ops.pow_const and node._const == float(k)
        assert type(node._const) is float


# ------------------------------------------------------------------- comparisons


def test_comparisons_compare_data_and_return_bool() -> None:
    a, b = Value(1.0), Value(2.0)
    results = [a < b, a <= b, a > b, a >= b, a < 1.5, a > 0, 3 > a, 0.5 <= a, a >= 1, 1 <= a]
    assert results == [True, True, False, False, True, True, True, True, True, True]
    assert all(type(r) is bool for r in results)
    score = Value(-0.3)
    assert ("positive" if score > 0 else "negative") == "negative"


def test_equality_and_hash_are_identity() -> None:
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a
    assert len({a, b}) == 2 and {a: 1, b: 2}[a] == 1
    assert hash(a) == object.__hash__(a)


def test_comparing_with_a_string_raises_type_error() -> None:
    with pytest.raises(TypeError, match="compares with a Value or a real number, got str"):
        Value(1.0) < "a"  # noqa: B015
    with pytest.raises(TypeError, match="got NoneType"):
        None >= Value(1.0)  # noqa: B015  (Python tries the reflected Value.__le__)


# --------------------------------------------------------------- repr, detach, float


def test_repr() -> None:
    v = Value(2.5)
    assert repr(v) == "Value(data=2.5, grad=0.0)"
    (v * v).backward()
    assert repr(v) == "Value(data=2.5, grad=5.0)"


def test_detach_makes_a_new_leaf_with_the_same_data() -> None:
    x = Value(3.0, label="x")
    y = x * x
    d = y.detach()
    assert d is not y and d.data == 9.0 and d._prev == () and d.is_leaf
    z = d * x
    z.backward()
    assert x.grad == 9.0  # no path through the detached y
    assert d.grad == 3.0


def test_float_of_a_value() -> None:
    assert float(Value(2.0) * 3) == 6.0


@pytest.mark.parametrize("label, type_name", [(None, "NoneType"), (3, "int"), (b"w", "bytes")])
def test_a_label_that_is_not_text_is_refused(label, type_name) -> None:
    with pytest.raises(TypeError, match=rf"str label, got {type_name}"):
        Value(1.0, label=label)


def test_setting_data_stores_what_value_would_store():
    """``p.data = 3`` keeps a float, as ``Value(3)`` does, so every operation still works;
    ``p.data -= lr * p.grad`` keeps working on floats and batches."""
    p = Value(1.0)
    p.data = 3
    assert type(p.data) is float and p.data == 3.0
    assert p.sum().data == 3.0 and (p * 2).data == 6.0
    p.data = np.float64(0.5)
    assert type(p.data) is float
    p.grad = 2.0
    p.data -= 0.1 * p.grad
    assert p.data == 0.3
    batch = Value(np.array([1.0, 2.0]))
    batch.data = np.array([1, 2])
    assert batch.data.dtype == np.float64 and batch.sum().data == 3.0
    with pytest.raises(TypeError, match="got str"):
        p.data = "1.0"
    with pytest.raises(TypeError, match="1-D array for a batch"):
        p.data = np.zeros((2, 2))
    assert p.data == 0.3  # a refused value leaves the old one
