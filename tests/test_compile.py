"""zdravkograd.compile / compile_step: the compiled tape agrees with the eager engine.

Every value/gradient case of the engine's tables (tests/cases.py) and random
expression DAGs (tests/strategies.py) run through a compiled program, on floats
and on batches, and must agree with eager evaluation to 1e-12. Then: the guards
(data-dependent branches, shape and kind changes) raise instead of answering wrong.
"""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest
from cases import BINARY_CASES, COMPOSITES, UNARY_CASES, same, value_and_grads
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import dags, evaluate, output

import zdravkograd
from zdravkograd import Value, no_grad, nodes, value_and_grad
from zdravkograd.compiler import Program, TraceError
from zdravkograd.nn import MLP

# The IEEE cases (inf - inf, 0 * inf, ...) make the *eager* engine's NumPy warn; the
# values are the point of those cases, so the warnings are expected here.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def compiled_value_and_grads(fn, args):
    prog = zdravkograd.compile(fn, *args)
    value, grads = prog(*args)
    return value, list(grads)


def check(name, ours, theirs, args, rtol=1e-12):
    (v, gs), (w, hs) = ours, theirs
    rows = [("value", v, w)] + [(f"d/d{n}", g, h) for n, g, h in zip("xyzw", gs, hs)]
    bad = [
        f"  {what}: compiled {a!r} eager {b!r}"
        for what, a, b in rows
        if not np.all([same(float(p), float(q), rtol) for p, q in zip(np.ravel(a), np.ravel(b))])
    ]
    return [f"{name} at {args}:\n" + "\n".join(bad)] if bad else []


# ------------------------------------------------------------ the engine's cases


@pytest.mark.parametrize("case", UNARY_CASES, ids=repr)
def test_unary_cases_compiled_equal_eager(case):
    prog = zdravkograd.compile(case.fn, 0.5)  # traced once, re-run at every input
    failures = []
    for x in case.inputs:
        value, (gx,) = prog(x)
        failures += check(case.name, (value, [gx]), value_and_grads(case.fn, (x,)), (x,))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("case", BINARY_CASES, ids=repr)
def test_binary_cases_compiled_equal_eager(case):
    prog = zdravkograd.compile(case.fn, 0.5, 1.5)
    failures = []
    for x, y in case.inputs:
        value, grads = prog(x, y)
        failures += check(case.name, (value, grads), value_and_grads(case.fn, (x, y)), (x, y))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name, fn, _t, _h, point", COMPOSITES, ids=[c[0] for c in COMPOSITES])
def test_composites_compiled_equal_eager(name, fn, _t, _h, point):
    ours = compiled_value_and_grads(fn, point)
    assert not check(name, ours, value_and_grads(fn, point), point)


def _batched_eager(fn, args, argnums):
    return value_and_grad(fn, argnums)(*args)


@pytest.mark.parametrize("case", UNARY_CASES, ids=repr)
def test_unary_cases_batched(case):
    xs = np.array(case.inputs)

    def f(x):
        return case.fn(x).sum()

    prog = zdravkograd.compile(f, xs * 0.5)
    value, (gx,) = prog(xs)
    ev, eg = value_and_grad(f)(xs)
    assert isinstance(gx, np.ndarray) and gx.shape == xs.shape
    assert same(value, ev) and all(same(a, b) for a, b in zip(gx, eg)), (case.name, gx, eg)


@pytest.mark.parametrize("case", BINARY_CASES, ids=repr)
def test_binary_cases_batched_and_mixed(case):
    xs = np.array([p[0] for p in case.inputs])
    ys = np.array([p[1] for p in case.inputs])

    def f(x, y):
        return case.fn(x, y).sum()

    prog = zdravkograd.compile(f, xs, ys)
    value, (gx, gy) = prog(xs, ys)
    ev, (ex, ey) = value_and_grad(f, (0, 1))(xs, ys)
    assert same(value, ev)
    assert all(same(a, b) for a, b in zip(np.r_[gx, gy], np.r_[ex, ey])), case.name
    # a float meeting a batch: its gradient is the sum over the batch
    finite = np.isfinite(xs) & (np.abs(xs) < 1e6)
    prog = zdravkograd.compile(f, xs[finite], 1.5)
    value, (gx, gy) = prog(xs[finite], 0.75)
    ev, (ex, ey) = value_and_grad(f, (0, 1))(xs[finite], 0.75)
    assert isinstance(gy, float) and same(gy, float(ey)) and same(value, ev), case.name
    assert all(same(a, b) for a, b in zip(gx, ex))


@settings(max_examples=40)
@given(dag=dags(max_nodes=120), scale=st.floats(0.2, 1.0))
def test_random_dags_compiled_equal_eager(dag, scale):
    def f(*leaves):
        return output(evaluate(dag, list(leaves)))

    prog = zdravkograd.compile(f, *dag.leaves)
    for leaves in (dag.leaves, tuple(x * scale for x in dag.leaves)):
        ours = prog(*leaves)
        theirs = value_and_grads(f, leaves)
        assert not check("dag", (ours[0], list(ours[1])), theirs, leaves)


@settings(max_examples=15)
@given(dag=dags(max_nodes=60))
def test_random_dags_batched_equal_eager(dag):
    rng = np.random.default_rng(len(dag.instructions))
    leaves = [np.clip(x + 0.1 * rng.standard_normal(4), -1, 1) for x in dag.leaves]

    def f(*xs):
        return output(evaluate(dag, list(xs))).sum()

    value, grads = zdravkograd.compile(f, *leaves)(*leaves)
    ev, egrads = value_and_grad(f, tuple(range(len(leaves))))(*leaves)
    assert same(value, ev)
    for g, e in zip(grads, egrads):
        assert all(same(a, b) for a, b in zip(np.broadcast_to(g, (4,)), np.broadcast_to(e, (4,))))


# ------------------------------------------------------------------ the program


def test_source_is_straight_line_python():
    prog = zdravkograd.compile(lambda x, y: (x * y + x).relu(), 2.0, 3.0)
    src = prog.source
    assert "v2 = v0 * v1" in src and "v3 = v2 + v0" in src
    assert "# backward" in src and "g0 = g0 + v1 * g2" in src
    assert not any(w in src for w in ("for ", "while ", "Value("))
    assert isinstance(prog, Program) and "nodes" in repr(prog)


def test_parameters_are_read_at_call_time():
    w = Value(2.0, label="w")
    prog = zdravkograd.compile(lambda x: w * x * x, 3.0)
    assert prog.parameters == [w]
    assert prog(3.0) == (18.0, (12.0,))
    w.data = 5.0
    assert prog(3.0) == (45.0, (30.0,))
    value, arg_grads, param_grads = prog.run(3.0)
    assert param_grads == [9.0] and w.grad == 0.0  # run() touches no .grad


def test_relu_mask_is_data_not_a_branch():
    prog = zdravkograd.compile(lambda x: (x * 2).relu() + abs(x), 1.0)
    assert prog(-3.0) == (3.0, (-1.0,))
    assert prog(2.0) == (6.0, (3.0,))


def test_constants_and_arrays_on_the_left():
    c = np.array([1.0, -2.0, 3.0])
    prog = zdravkograd.compile(lambda x: (c * x + 1 - c / (x + 5)).sum(), np.ones(3))
    x = np.array([0.5, 1.5, -2.0])
    value, (g,) = prog(x)
    ev, eg = value_and_grad(lambda x: (c * x + 1 - c / (x + 5)).sum())(x)
    assert same(value, ev) and np.allclose(g, eg, rtol=1e-12, atol=0)


def test_structured_arguments_and_their_gradients():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])

    def f(cols, pair):
        a, b = cols
        return (a * pair[0] + b * pair[1]).sum()

    prog = zdravkograd.compile(f, X, [1.0, 2.0])
    value, (gX, gpair) = prog(X, [1.0, -1.0])
    assert value == -3.0
    assert gX.shape == (3, 2) and np.array_equal(gX, np.array([[1.0, -1.0]] * 3))
    assert gpair == [9.0, 12.0]


def test_output_is_batched_raises():
    with pytest.raises(TypeError, match="single number"):
        zdravkograd.compile(lambda x: x * 2, np.ones(3))


def test_bad_arguments():
    with pytest.raises(TypeError, match="argument x is a str"):
        zdravkograd.compile(lambda x: x, "a")
    with pytest.raises(TypeError, match="callable"):
        zdravkograd.compile(3)


# --------------------------------------------------------------------- the guards


def test_data_dependent_branch_raises():
    def f(x):
        return x * 2 if x > 0 else x * -3

    prog = zdravkograd.compile(f, 1.0)
    assert prog(4.0) == (8.0, (2.0,))
    with pytest.raises(TraceError, match=r"data-dependent branch.*v0 > 0 was True"):
        prog(-1.0)


def test_branch_on_a_value_compared_with_a_value():
    def f(x, y):
        return x if x >= y else y

    prog = zdravkograd.compile(f, 2.0, 1.0)
    assert prog(5.0, 3.0) == (5.0, (1.0, 0.0))
    with pytest.raises(TraceError):
        prog(1.0, 3.0)


def test_float_of_a_value_is_a_guard():
    def f(x):
        return x * float(x)  # the second factor is frozen by the trace

    prog = zdravkograd.compile(f, 3.0)
    assert prog(3.0) == (9.0, (3.0,))  # the same data: the frozen number is right
    with pytest.raises(TraceError, match="float"):
        prog(4.0)


def test_a_number_taken_from_data_is_a_guard():
    def f(x):
        return x * x.data  # the second factor is a plain number: the trace freezes it

    prog = zdravkograd.compile(f, 2.0)
    assert prog(2.0) == (4.0, (2.0,)) and value_and_grad(f)(2.0) == (4.0, 2.0)
    with pytest.raises(TraceError, match=r"data-dependent number.*v0\.data, which was 2\.0"):
        prog(3.0)  # eager gives 9.0; the frozen program would say 6.0


def test_a_branch_on_data_is_a_guard():
    def f(x):
        return x * 2 if x.data > 0 else x * -3

    prog = zdravkograd.compile(f, 1.0)
    assert prog(1.0) == (2.0, (2.0,))
    with pytest.raises(TraceError, match="Value operations instead of .data"):
        prog(-1.0)  # eager takes the other branch: 3.0, not -2.0


def test_a_data_guard_on_a_batch_and_on_a_parameter():
    prog = zdravkograd.compile(lambda x: (x * float(len(x.data))).sum(), np.ones(3))
    assert prog(np.ones(3))[0] == 9.0
    with pytest.raises(TraceError, match=r"which was \[1\. 1\. 1\.\]"):
        prog(np.array([1.0, 2.0, 3.0]))
    w = Value(2.0, label="w")
    prog = zdravkograd.compile(lambda x: x * w.data, 1.0)
    assert prog(5.0) == (10.0, (2.0,))
    w.data = 3.0  # an optimiser step: the frozen 2.0 would now be wrong
    with pytest.raises(TraceError, match="data-dependent number"):
        prog(5.0)


def test_reading_the_data_of_a_value_computed_before_compile_is_fine():
    h = Value(2.0) * 3  # computed once, before compile: its data can never change
    prog = zdravkograd.compile(lambda x: x * h.data, 1.0)
    assert prog(5.0) == (30.0, (6.0,)) and "_branch" not in prog.source


def test_the_librarys_own_data_reads_are_not_guards():
    from zdravkograd.losses import binary_cross_entropy_with_logits

    def f(x):  # the loss shifts by max(x.data, 0) internally: the shift cancels out
        return binary_cross_entropy_with_logits(x * 2.0, np.array([1.0, 0.0]))

    prog = zdravkograd.compile(f, np.array([0.5, -1.0]))
    x = np.array([3.0, 2.0])
    value, (g,) = prog(x)
    ev, eg = value_and_grad(f)(x)
    assert "_branch" not in prog.source
    assert same(value, ev) and np.allclose(g, eg, rtol=1e-12, atol=0)


def test_batched_branch_guard():
    def f(x):
        return (x * 2).sum() if bool(np.all(x > 0)) else x.sum()

    prog = zdravkograd.compile(f, np.array([1.0, 2.0]))
    assert prog(np.array([3.0, 4.0]))[0] == 14.0
    with pytest.raises(TraceError):
        prog(np.array([3.0, -4.0]))


def test_shape_and_kind_changes_raise():
    prog = zdravkograd.compile(lambda x: x.mean(), np.ones(4))
    assert prog(np.arange(4.0))[0] == 1.5
    with pytest.raises(TraceError, match="1-D array of 4 numbers"):
        prog(np.ones(5))  # mean() divides by the traced length: must not answer
    with pytest.raises(TraceError, match="traced with a 1-D array"):
        prog(2.0)
    prog = zdravkograd.compile(lambda x: x * 2, 1.0)
    with pytest.raises(TraceError, match="traced with a number"):
        prog(np.ones(3))
    with pytest.raises(TraceError, match="1 arguments, got 2"):
        prog(1.0, 2.0)
    prog = zdravkograd.compile(lambda xs: xs[0] + xs[1], [1.0, 2.0])
    with pytest.raises(TraceError, match="list of length 2"):
        prog([1.0, 2.0, 3.0])


def test_a_2d_argument_with_another_row_count_raises():
    """Traced on 4 rows, the program's mean() divides by 4: 6 rows must not answer."""

    def f(X):
        return (X[0] + X[1]).mean()

    four = np.arange(8.0).reshape(4, 2)
    six = np.arange(12.0).reshape(6, 2)
    prog = zdravkograd.compile(f, four)
    value, (grad,) = prog(four)
    assert value == 7.0 and grad.shape == (4, 2) and np.all(grad == 0.25)
    with pytest.raises(TraceError, match=r"shape \(6, 2\).*traced with an array of shape \(4, 2\)"):
        prog(six)
    with pytest.raises(TraceError, match=r"shape \(3, 2\)"):
        prog(six[:3])
    with pytest.raises(TraceError, match=r"shape \(4, 3\)"):
        prog(np.arange(12.0).reshape(4, 3))
    assert zdravkograd.compile(f, six)(six)[0] == 11.0  # traced again, it answers as eager
    assert f([Value(six[:, 0]), Value(six[:, 1])]).data == 11.0


def test_compile_step_with_another_row_count_raises():
    X, y = _moons()
    random.seed(2)
    model = MLP(2, [3, 1])
    step = zdravkograd.compile_step(model, _batched_loss, X[:4], y[:4], 1e-4)
    step(X[:4], y[:4], 1e-4)
    with pytest.raises(TraceError, match=r"shape \(6, 2\)"):
        step(X[:6], y[:4], 1e-4)
    with pytest.raises(TraceError, match="1-D array of 4 numbers"):
        step(X[:4], y[:6], 1e-4)


def test_parameter_changed_kind_raises():
    w = Value(2.0)
    prog = zdravkograd.compile(lambda x: w * x, 1.0)
    w.data = np.ones(3)
    with pytest.raises(TraceError, match="parameter"):
        prog(1.0)


def test_no_grad_inside_fn_raises_at_compile():
    def f(x):
        with no_grad():
            y = x * 2
        return y + x

    with pytest.raises(TraceError, match="no_grad"):
        zdravkograd.compile(f, 1.0)


def test_value_computed_before_compile_raises():
    w = Value(2.0)
    h = w * 3
    with pytest.raises(TraceError, match="computed before compile"):
        zdravkograd.compile(lambda x: h * x, 1.0)


def test_new_value_from_raw_argument_data_raises():
    with pytest.raises(TraceError, match="raw numbers"):
        zdravkograd.compile(lambda x: (Value(x.data[::-1]) * x).sum(), np.ones(3))


def test_detach_blocks_the_gradient_but_follows_the_data():
    def f(x):
        return x * x.detach()

    prog = zdravkograd.compile(f, 2.0)
    assert prog(3.0) == (9.0, (3.0,))
    assert value_and_grad(f)(3.0) == (9.0, 3.0)


def test_compile_under_no_grad_still_traces():
    with no_grad():
        prog = zdravkograd.compile(lambda x: x * x, 2.0)
    assert prog(3.0) == (9.0, (6.0,))


def test_tracing_restores_the_value_class_even_on_error():
    saved = {k: Value.__dict__[k] for k in ("__lt__", "__float__", "detach", "data")}

    def boom(x):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        zdravkograd.compile(boom, 1.0)
    assert {k: Value.__dict__[k] for k in saved} == saved
    assert (Value(1.0) < 2) is True


def test_other_threads_are_not_recorded():
    results = []
    barrier = threading.Barrier(2)

    def other():
        barrier.wait()
        results.append(Value(1.0) > 0)

    t = threading.Thread(target=other)
    t.start()

    def f(x):
        barrier.wait()
        t.join()
        return x * 2

    prog = zdravkograd.compile(f, 1.0)
    assert results == [True]
    assert prog(-5.0) == (-10.0, (2.0,))  # the other thread's comparison is no guard


# --------------------------------------------------------------- compile_step


def _moons(n=12):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)
    return X, y


def _batched_loss(model, columns, y, alpha):
    score = model(columns)
    return (1 + -y * score).relu().mean() + alpha * sum(p * p for p in model.parameters())


def _scalar_loss(model, rows, ys, alpha):
    losses = [(1 + -yi * model(row)).relu() for row, yi in zip(rows, ys)]
    return sum(losses) * (1.0 / len(losses)) + alpha * sum(p * p for p in model.parameters())


@pytest.mark.parametrize("mode", ["batched", "scalar"])
def test_compile_step_matches_zero_grad_and_backward(mode):
    X, y = _moons()
    random.seed(3)
    model = MLP(2, [6, 5, 1])
    if mode == "batched":
        args, loss_fn = (X, y, 1e-4), _batched_loss
        eager_args = ([Value(X[:, 0]), Value(X[:, 1])], y, 1e-4)
    else:
        args, loss_fn = (X.tolist(), y.tolist(), 1e-4), _scalar_loss
        eager_args = (X.tolist(), y.tolist(), 1e-4)
    step = zdravkograd.compile_step(model, loss_fn, *args)
    params = model.parameters()
    for k in range(3):  # a few SGD steps: the program reads the updated weights
        loss = step(*args)
        grads = [p.grad for p in params]
        model.zero_grad()
        eager = loss_fn(model, *eager_args)
        eager.backward()
        assert isinstance(loss, float) and same(loss, eager.data)
        assert all(same(g, p.grad) for g, p in zip(grads, params)), k
        for p in params:
            p.data -= 0.5 * p.grad
    assert "step" in repr(step) and step.source.startswith("def step(X, P):")


def test_calling_a_program_builds_no_value():

    X, y = _moons()
    random.seed(1)
    model = MLP(2, [4, 1])
    prog = zdravkograd.compile(lambda x: (x * x).exp().log().tanh(), 0.5)
    step = zdravkograd.compile_step(model, _batched_loss, X, y, 1e-4)
    before = next(nodes.creation_counter)  # every Value takes the next creation number
    prog(0.7)
    step(X, y, 1e-4)
    assert next(nodes.creation_counter) == before + 1  # none was made in between


def test_compile_step_sets_unused_parameter_grads_to_zero():
    random.seed(0)
    model = MLP(2, [3, 1])
    extra = model.parameters()
    for p in extra:
        p.grad = 7.0
    step = zdravkograd.compile_step(model, lambda m, x: m.layers[0].neurons[0].w[0] * x, 2.0)
    assert step(3.0) == 3.0 * extra[0].data
    assert extra[0].grad == 3.0 and all(p.grad == 0.0 for p in extra[1:])


def test_compile_step_follows_load_state_dict():
    random.seed(0)
    model = MLP(2, [3, 1])
    step = zdravkograd.compile_step(model, lambda m, x: m([x, x]), 1.0)
    state = model.state_dict()
    first = step(1.0)
    for p in model.parameters():
        p.data += 1.0
    assert step(1.0) != first
    model.load_state_dict(state)
    assert step(1.0) == first


def test_compile_step_bad_arguments():
    with pytest.raises(TypeError, match="loss_fn"):
        zdravkograd.compile_step(MLP(2, [1]), None, 1.0)
    with pytest.raises(TypeError, match="parameters"):
        zdravkograd.compile_step(object(), lambda m: m, 1.0)


def test_float_intermediate_and_float_leaves_meeting_batches():
    x = np.array([0.5, -1.5, 2.0, 3.0])
    z = np.array([1.0, 2.0])  # a second batch length: no shared column buffer

    def f(w1, w2, x, z):
        c = w1 * w2  # a float intermediate used by the whole batch
        return (c * x + w1 * x * x).sum() * w2 + (w1 * z).mean()

    for args in ((0.7, -1.3, x, z), (0.7, -1.3, x, np.array([3.0, 4.0]))):
        prog = zdravkograd.compile(f, *args)
        value, grads = prog(*args)
        ev, egrads = value_and_grad(f, (0, 1, 2, 3))(*args)
        assert same(value, ev)
        for g, e in zip(grads, egrads):
            assert np.allclose(g, e, rtol=1e-12, atol=0), (g, e)
    assert "_rows" not in zdravkograd.compile(f, 0.7, -1.3, x, z).source
    prog = zdravkograd.compile(lambda w, x: (w * x).sum(), 1.0, x)
    value, (gw, gx) = prog(2.0, x)
    assert "A = _rows([v1])" in prog.source and (value, gw) == (8.0, 4.0)
    assert np.array_equal(gx, np.full(4, 2.0))


def test_batched_step_is_bit_identical_to_eager_and_uses_the_shortcuts():
    X, y = _moons(30)
    random.seed(4)
    model = MLP(2, [8, 8, 1])
    step = zdravkograd.compile_step(model, _batched_loss, X, y, 1e-4)
    assert "weighted sums" in step.source and "_rows(" in step.source
    params = model.parameters()
    for _ in range(3):
        loss = step(X, y, 1e-4)
        grads = [p.grad for p in params]
        model.zero_grad()
        eager = _batched_loss(model, [Value(X[:, 0]), Value(X[:, 1])], y, 1e-4)
        eager.backward()
        assert loss == eager.data and grads == [p.grad for p in params]
        for p in params:
            p.data -= 0.3 * p.grad


def test_weighted_sums_with_batched_base_and_a_guarded_intermediate():
    x1, x2 = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.25, -3.0])
    w = [Value(0.3), Value(-0.7), Value(1.1)]

    def f(a, b, c):
        s = a + b * w[0] + c * w[1]  # a batched base
        t = s + a * w[2]
        if bool(np.all(s > -100)):  # s is compared: it must keep its own value
            t = t * 2
        return (t.relu() + (a + b * w[1] + c * w[2] + a * w[0])).sum()

    args = (x1, x2, x1 * x2)
    prog = zdravkograd.compile(f, *args)
    value, grads = prog(*args)
    ev, egrads = value_and_grad(f, (0, 1, 2))(*args)
    assert value == ev and all(np.array_equal(g, e) for g, e in zip(grads, egrads))
    assert "weighted sums" in prog.source


def test_batched_relu_gives_the_engines_bits():
    x = np.array([-0.0, 0.0, np.nan, -np.inf, np.inf, -1.0, 2.0, 5e-324, -5e-324])
    prog = zdravkograd.compile(lambda v: v.relu().sum() + (v.relu() * 0.0).sum(), x)
    reference = np.where(x <= 0.0, 0.0, x)  # max(x, 0), nan kept, -0.0 -> 0.0
    eager = zdravkograd.operators.relu(x)
    assert np.array_equal(reference, eager, equal_nan=True)
    assert np.array_equal(np.signbit(reference), np.signbit(eager))
    assert "_relu(" in prog.source  # the program calls the engine's own kernel
    value, (g,) = prog(x)
    ev, eg = value_and_grad(lambda v: v.relu().sum() + (v.relu() * 0.0).sum())(x)
    assert same(value, ev) and np.array_equal(g, eg, equal_nan=True)


@settings(max_examples=25)
@given(dag=dags(max_nodes=80), pattern=st.lists(st.booleans(), min_size=8, max_size=8))
def test_random_dags_with_float_and_batched_leaves(dag, pattern):
    """Floats meeting batches, in any mix: the shortcuts must keep the engine's numbers."""
    rng = np.random.default_rng(len(dag.instructions))
    leaves = [
        np.clip(x + 0.1 * rng.standard_normal(5), -1, 1) if batched else x
        for x, batched in zip(dag.leaves, pattern)
    ]

    def f(*xs):
        nodes = evaluate(dag, list(xs))
        total = output(nodes)
        for k, node in enumerate(nodes[: len(xs)]):  # neuron-like sums: leaf * leaf chains
            total = total + node * xs[-1 - k] * 0.25
        return total.sum()

    value, grads = zdravkograd.compile(f, *leaves)(*leaves)
    ev, egrads = value_and_grad(f, tuple(range(len(leaves))))(*leaves)
    assert same(value, ev)
    for g, e in zip(grads, egrads):
        g, e = np.broadcast_to(g, (5,)), np.broadcast_to(e, (5,))
        assert all(same(a, b) for a, b in zip(g, e)), (g, e)


def test_square_and_an_empty_batch_match_the_eager_engine():
    x = 6.506107007494474e16  # math.pow(x, 2) is one ulp off; the engine's x ** 2 is x * x
    prog = zdravkograd.compile(lambda v: v**2, 1.0)
    value, (g,) = prog(x)
    assert (value, g) == value_and_grad(lambda v: v**2)(x) == (x * x, 2.0 * x)
    empty = np.array([])
    prog = zdravkograd.compile(lambda v: v.mean() + (v * 2).sum(), empty)
    value, (g,) = prog(empty)
    assert np.isnan(value) and g.shape == (0,)


def test_tanh_gradient_has_the_engines_bits():
    """The compiled tanh rule is the engine's (1 - t)(1 + t), not 1 - t*t: equal to the bit."""
    f = lambda x: (x * 1.3).tanh()
    program = zdravkograd.compile(f, 0.3)
    rng = random.Random(0)
    for _ in range(500):
        x = rng.uniform(-3.0, 3.0)
        assert program(x)[1][0] == value_and_grad(f)(x)[1]


def test_no_module_is_shadowed_by_a_public_function() -> None:
    import importlib
    import types

    for module, function in [
        ("compiler", "compile"),
        ("compiler", "compile_step"),
        ("fastmode", "fast"),
    ]:
        m = importlib.import_module(f"zdravkograd.{module}")
        assert isinstance(m, types.ModuleType) and m.__name__ == f"zdravkograd.{module}"
        assert getattr(zdravkograd, function) is getattr(m, function)
        assert not isinstance(getattr(zdravkograd, function), types.ModuleType)


def test_tracing_goes_through_the_engine_hook_and_patches_nothing() -> None:
    from pathlib import Path

    from zdravkograd import compiler, modes

    before = dict(vars(Value))
    during: dict = {}

    def f(x: Value) -> Value:
        during.update(vars(Value))
        assert modes.tracer is not None  # the hook is open while fn runs
        return x * 2

    zdravkograd.compile(f, 1.0)
    assert during == before == dict(vars(Value)) and modes.tracer is None
    source = Path(compiler.__file__).read_text()
    assert "_getframe" not in source and "currentframe" not in source
    assert "setattr(Value" not in source
