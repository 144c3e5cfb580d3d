"""``backward``: the topological order, accumulation, reuse, deep graphs, memory,
``no_grad`` (also per thread) and ``detect_anomaly``."""

from __future__ import annotations

import gc
import math
import sys
import threading
import weakref

import numpy as np
import pytest

import zdravkograd
from zdravkograd import Value, detect_anomaly, enable_grad, is_grad_enabled, no_grad
from zdravkograd.engine import topological_order

# ------------------------------------------------------------------- the seed example


def test_seed_example() -> None:
    a, b, c, f = Value(2.0), Value(-3.0), Value(10.0), Value(-2.0)
    e = a * b
    d = e + c
    L = d * f
    L.backward()
    assert (L.data, a.grad, b.grad) == (-8.0, 6.0, -4.0)
    assert (c.grad, f.grad, d.grad, e.grad) == (-2.0, 4.0, -2.0, -2.0)


# ------------------------------------------------------------------ topological order


def test_topological_order_puts_every_node_before_its_operands() -> None:
    x, y = Value(1.0), Value(2.0)
    a = x * y
    b = a + x
    c = b * a
    order = topological_order(c)
    assert order[0] is c
    assert set(order) == {x, y, a, b, c, *a._prev, *b._prev, *c._prev}
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for operand in node._prev:
            assert position[node] < position[operand]


def test_topological_order_of_a_leaf_is_the_leaf() -> None:
    x = Value(1.0)
    assert topological_order(x) == [x]


# --------------------------------------------------------------------- accumulation


def test_backward_seeds_with_one_or_with_the_given_gradient() -> None:
    x = Value(3.0)
    y = x * x
    y.backward()
    assert (y.grad, x.grad) == (1.0, 6.0)
    x.grad = 0.0
    y.backward(gradient=0.5)
    assert (y.grad, x.grad) == (0.5, 3.0)
    y.backward(2)  # any real number
    assert (y.grad, x.grad) == (2.0, 15.0)


def test_repeated_backward_accumulates_in_leaves_and_resets_intermediates() -> None:
    x = Value(3.0)
    xx = x * x
    y = xx * x
    y.backward()
    assert x.grad == 27.0 and xx.grad == 3.0
    y.backward()
    assert x.grad == 54.0  # leaves accumulate, as in PyTorch
    assert xx.grad == 3.0  # the intermediate holds this pass's gradient only
    assert y.grad == 1.0


def test_backward_from_an_intermediate_resets_only_that_graph() -> None:
    x = Value(2.0)
    a = x * 3
    b = a * a
    b.backward()
    assert (a.grad, x.grad) == (12.0, 36.0)
    a.backward()  # a fresh pass from a: a is the root now
    assert a.grad == 1.0 and x.grad == 39.0


def test_backward_on_a_leaf_accumulates_the_seed() -> None:
    x = Value(1.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


def test_zero_grad_is_the_users_job() -> None:
    w = Value(0.5)
    for _ in range(3):
        (w * 4).backward()
    assert w.grad == 12.0
    w.grad = 0.0
    (w * 4).backward()
    assert w.grad == 4.0


def test_a_plus_a_counts_both_paths() -> None:
    a = Value(-3.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0
    a2 = Value(5.0)
    (a2 * a2).backward()
    assert a2.grad == 10.0


def test_diamond_sums_every_path() -> None:
    x = Value(0.5)
    left = x.exp()
    right = x.sin()
    top = left * right
    top.backward()
    assert x.grad == pytest.approx(math.exp(0.5) * (math.sin(0.5) + math.cos(0.5)), rel=1e-15)


def test_stacked_diamonds_double_the_gradient_each_level() -> None:
    x = Value(1.0)
    y = x
    for _ in range(40):
        y = y + y  # 2**40 paths from y to x
    y.backward()
    assert x.grad == 2.0**40


# -------------------------------------------------------------------- deep graphs


@pytest.mark.slow
def test_a_million_deep_chain_backpropagates_without_recursion() -> None:
    limit = sys.getrecursionlimit()
    x = Value(0.0)
    one = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y + one
    y = y * 2
    y.backward()
    assert y.data == 2_000_000.0
    assert x.grad == 2.0 and one.grad == 2_000_000.0
    assert sys.getrecursionlimit() == limit  # nobody raised it
    del y  # freeing a million-deep chain must not overflow the C stack either


def test_deep_chain_of_every_unary_op() -> None:
    x = Value(0.3)
    y = x
    for _ in range(5_000):
        y = (y.sin() + 0.5).tanh()
    y.backward()
    assert math.isfinite(x.grad)


# ------------------------------------------------------------------------ memory


def test_a_dropped_graph_is_freed_at_once_by_reference_counting() -> None:
    gc.disable()  # prove that no cycle collector is needed
    try:
        x = Value(2.0)
        a = x * x
        b = a.tanh() + a.exp() - x / 3
        b.backward()
        refs = [weakref.ref(v) for v in topological_order(b) if v is not x]
        del a, b
        assert all(r() is None for r in refs)
        assert x.grad != 0.0  # the leaf keeps its gradient
    finally:
        gc.enable()


def test_values_hold_no_closures() -> None:
    v = Value(1.0) * Value(2.0)
    assert not hasattr(v, "__dict__")
    assert all(not callable(getattr(v, slot)) for slot in ("_a", "_b", "_da", "_db"))
    assert gc.get_referents(v) != [] and v not in gc.get_referents(v)


# ------------------------------------------------------------------------ no_grad


def test_no_grad_as_a_context_manager() -> None:
    w = Value(2.0)
    with no_grad():
        assert not is_grad_enabled()
        y = w * 3 + 1
    assert is_grad_enabled()
    assert y.data == 7.0 and y._prev == () and y._op == "" and y.is_leaf


def test_no_grad_as_a_decorator_and_nested_enable_grad() -> None:
    @no_grad()
    def evaluate(v: Value) -> Value:
        assert not is_grad_enabled()
        with enable_grad():
            inner = v * 2
        return inner + 1

    x = Value(1.0)
    out = evaluate(x)
    assert out._prev == ()
    assert is_grad_enabled()
    inner = (x * 2)._prev
    assert inner == (x, inner[1])


def test_bare_decorators_without_parentheses() -> None:
    @no_grad
    def f(v: Value) -> Value:
        return v * 2

    @detect_anomaly
    def g(v: Value) -> Value:
        return v.log()

    assert f(Value(1.0))._prev == () and f.__name__ == "f"
    with pytest.raises(FloatingPointError):
        g(Value(-1.0))
    with pytest.raises(TypeError, match=r"no_grad\(\) takes no arguments, got int"):
        no_grad(3)


def test_no_grad_restores_the_mode_after_an_exception() -> None:
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError("boom")
    assert is_grad_enabled()


def test_no_grad_is_per_thread() -> None:
    inside = threading.Event()
    done = threading.Event()
    seen: dict[str, bool] = {}

    def worker() -> None:
        with no_grad():
            inside.set()
            done.wait(5)
            seen["worker"] = (Value(1.0) * 2)._prev == ()

    t = threading.Thread(target=worker)
    t.start()
    assert inside.wait(5)
    seen["main"] = is_grad_enabled() and (Value(1.0) * 2)._prev != ()  # unaffected
    done.set()
    t.join()
    assert seen == {"worker": True, "main": True}


def test_one_decorated_function_in_two_threads_restores_each_threads_mode() -> None:
    # a enters first and leaves first, while b (inside its own no_grad) is still in
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    results = {}

    @no_grad()
    def hold(arrived: threading.Event, leave_when: threading.Event) -> None:
        arrived.set()
        leave_when.wait(5)

    def run_a() -> None:
        hold(a_in, b_in)
        results["a"] = is_grad_enabled()
        a_out.set()

    def run_b() -> None:
        a_in.wait(5)
        with no_grad():
            hold(b_in, a_out)
            results["b inside"] = is_grad_enabled()
        results["b"] = is_grad_enabled()

    threads = [threading.Thread(target=run_a), threading.Thread(target=run_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"a": True, "b inside": False, "b": True}


# ------------------------------------------------------------------ detect_anomaly


def test_detect_anomaly_names_the_forward_op_its_inputs_and_labels() -> None:
    x = Value(-1.0, label="x")
    with detect_anomaly(), pytest.raises(FloatingPointError) as info:
        x.log()
    message = str(info.value)
    assert "'log'" in message and "nan" in message and "x=-1.0" in message


def test_detect_anomaly_names_both_operands_of_a_binary_op() -> None:
    a, b = Value(1e308, label="big"), Value(10.0, label="ten")
    with (
        detect_anomaly(),
        pytest.raises(FloatingPointError, match=r"'\*'.*inf.*big=1e\+308.*ten=10"),
    ):
        a * b


def test_detect_anomaly_catches_a_backward_step() -> None:
    x = Value(0.0, label="x")
    with detect_anomaly():
        y = x.sqrt()  # 0.0: a finite forward pass
        y.label = "root"
        with pytest.raises(FloatingPointError) as info:
            y.backward()  # d sqrt(x)/dx = inf at 0
    message = str(info.value)
    assert "backward" in message and "'**0.5'" in message
    assert "root=0.0" in message and "x=0.0" in message and "inf" in message


def test_detect_anomaly_is_off_outside_and_does_not_change_results() -> None:
    assert math.isnan(Value(-1.0).log().data)  # no error outside the block
    with detect_anomaly():
        x = Value(0.7)
        y = (x * x).tanh() + x.exp()
        y.backward()
    z = Value(0.7)
    w = (z * z).tanh() + z.exp()
    w.backward()
    assert (y.data, x.grad) == (w.data, z.grad)


def test_detect_anomaly_as_a_decorator() -> None:
    @detect_anomaly()
    def f(v: Value) -> Value:
        return v / 0

    with pytest.raises(FloatingPointError, match=r"'\*\*-1'"):
        f(Value(1.0))
    assert (Value(1.0) / 0).data == math.inf


def test_detect_anomaly_is_exported_at_the_top_level() -> None:
    assert zdravkograd.detect_anomaly is detect_anomaly and zdravkograd.no_grad is no_grad


# ------------------------------------------------------------------ batched Values


def test_batched_value_computes_element_wise() -> None:
    x = Value(np.array([1.0, 2.0, 3.0]))
    w = Value(0.5)
    y = (x * w + 1).tanh()
    assert isinstance(y.data, np.ndarray) and y.data.shape == (3,)
    np.testing.assert_allclose(y.data, np.tanh(np.array([1.0, 2.0, 3.0]) * 0.5 + 1), rtol=1e-15)


def test_a_float_leaf_used_by_a_batch_gets_the_summed_gradient() -> None:
    xs = np.array([1.0, -2.0, 3.0, 0.5])
    x = Value(xs)
    w, b = Value(0.5), Value(-0.25)
    loss = ((x * w + b).relu() * 2).sum()
    loss.backward()
    z = xs * 0.5 - 0.25
    assert type(w.grad) is float and type(b.grad) is float
    assert w.grad == pytest.approx(float(np.sum(2 * xs * (z > 0))), rel=1e-15)
    assert b.grad == float(np.sum(2 * (z > 0)))  # a sum of 2s: exact
    np.testing.assert_array_equal(x.grad, 2 * 0.5 * (z > 0))


def test_batched_graph_equals_per_sample_graphs() -> None:
    xs = np.array([0.3, -1.2, 2.0])
    w = Value(0.7)
    ((Value(xs) * w).sigmoid().log().mean()).backward()
    batched = w.grad
    w2 = Value(0.7)
    total = sum(((Value(x) * w2).sigmoid().log() for x in xs), Value(0.0)) * (1 / 3)
    total.backward()
    assert batched == pytest.approx(w2.grad, rel=1e-14)


def test_sum_and_mean_of_a_float_value_are_the_value() -> None:
    v = Value(2.0)
    assert v.sum() is v and v.mean() is v


def test_a_batched_value_takes_one_seed_per_sample() -> None:
    x = Value(np.array([1.0, 2.0]))
    w = Value(3.0)
    (x * w).backward(np.array([1.0, -2.0]))
    assert w.grad == 1.0 * 1.0 + 2.0 * -2.0  # the seeded sum over the batch
    np.testing.assert_array_equal(x.grad, [3.0, -6.0])


@pytest.mark.parametrize(
    "data, seed, message",
    [
        (2.0, np.array([1.0, 2.0]), "array of 2 numbers for a Value holding a single number"),
        (np.ones(2), np.ones(3), "array of 3 numbers for a Value holding a batch of 2"),
    ],
)
def test_a_seed_of_the_wrong_shape_is_refused_and_changes_nothing(data, seed, message) -> None:
    w = Value(0.5)
    y = Value(data) * w
    y.backward()
    before = (w.grad, y.grad)
    with pytest.raises(ValueError, match=message):
        y.backward(seed)
    assert (w.grad, y.grad) == before


def test_detect_anomaly_is_per_thread() -> None:
    inside, done = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def worker() -> None:
        with detect_anomaly():
            inside.set()
            done.wait(5)
            try:
                Value(-1.0).log()
                seen["worker"] = "no error"
            except FloatingPointError:
                seen["worker"] = "raised"

    t = threading.Thread(target=worker)
    t.start()
    assert inside.wait(5)
    seen["main"] = Value(-1.0).log().data  # this thread is not in the block: a quiet nan
    done.set()
    t.join()
    assert seen["worker"] == "raised" and math.isnan(seen["main"])  # type: ignore[arg-type]
