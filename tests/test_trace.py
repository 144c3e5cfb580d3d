"""trace_backward: the same numbers as backward(), bit for bit, in the engine's order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import dags, evaluate, output

from zdravkograd import Value, trace_backward
from zdravkograd.engine import topological_order
from zdravkograd.examples import seed_expression
from zdravkograd.trace import format_number, local_formula, node_names


def _build(dag):
    leaves = [Value(x, f"x{i}") for i, x in enumerate(dag.leaves)]
    nodes = evaluate(dag, leaves)
    return leaves, nodes, output(nodes)


@settings(max_examples=60)
@given(dags(max_nodes=60))
def test_trace_gives_exactly_the_gradients_of_backward(dag):
    leaves, nodes, out = _build(dag)
    out.backward()
    expected = {v: v.grad for v in topological_order(out)}
    for v in expected:  # every leaf, constants included, back to zero: then a second pass
        if v.is_leaf:  # must give exactly the same numbers
            v.grad = 0.0
    trace = trace_backward(out)
    for v, g in expected.items():
        assert trace.grad(v) == g
        assert v.grad == g


@settings(max_examples=30)
@given(dags(max_nodes=40))
def test_steps_follow_the_engines_order_and_add_up(dag):
    _, _, out = _build(dag)
    trace = trace_backward(out, apply=False)
    order = topological_order(out)
    assert trace.order == order
    assert [s.node for s in trace.steps] == [v for v in order if v._prev]
    running = {v: 0.0 for v in order}
    running[out] = 1.0
    for step in trace.steps:
        # a node's gradient is complete when its step runs: nothing after it adds to it
        assert step.grad == running[step.node]
        assert [u.operand for u in step.updates] == list(step.node._prev)
        for u, local in zip(step.updates, step.node._local):
            assert u.local is local or u.local == local
            assert u.upstream == step.grad
            assert u.contribution == local * step.grad
            assert u.before == running[u.operand]
            assert u.after == u.before + u.contribution
            running[u.operand] = u.after
    for later in trace.steps:
        for u in later.updates:
            assert all(u.operand is not s.node for s in trace.steps[: later.index])


def test_apply_false_is_a_dry_run_and_leaves_accumulate_like_backward():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    c = a * b + a
    a.grad = 10.0  # left over from an earlier pass
    t = trace_backward(c, apply=False)
    assert a.grad == 10.0 and b.grad == 0.0 and c.grad == 0.0
    assert t.grad(a) == 10.0 + (-3.0) + 1.0  # accumulates onto the old value, as backward()
    fresh = trace_backward(c, apply=False, zero_leaves=True)
    assert fresh.grad(a) == -2.0
    trace_backward(c)
    assert a.grad == 8.0 and b.grad == 2.0 and c.grad == 1.0
    c.backward()
    assert a.grad == 6.0  # backward agrees: 8 + (-2)


def test_seed_gradient_and_leaf_root():
    x = Value(3.0, "x")
    t = trace_backward(x * x, gradient=0.5, apply=False)
    assert t.seed == 0.5 and t.grad(x) == 3.0
    leaf = Value(1.0)
    t = trace_backward(leaf)
    assert t.steps == [] and leaf.grad == 1.0
    with pytest.raises(TypeError, match="Value"):
        trace_backward(1.0)  # type: ignore[arg-type]


def test_str_shows_each_update_in_numbers():
    L, nodes = seed_expression()
    a, b = nodes["a"], nodes["b"]
    text = str(trace_backward(L))
    assert "d.grad += f.data × L.grad = -2.0 × 1.0 = -2.0" in text
    assert "e.grad += 1 × d.grad = 1.0 × -2.0 = -2.0" in text
    assert "a.grad += b.data × e.grad = -3.0 × -2.0 = 6.0" in text
    assert (a.grad, b.grad) == (6.0, -4.0)


def test_batched_trace_sums_into_float_parameters():
    w = Value(0.5, "w")
    x = Value(np.array([1.0, 2.0, 3.0]), "x")
    loss = (w * x).sum()
    loss.backward()
    expected = w.grad
    w.grad = 0.0
    x.grad = 0.0
    t = trace_backward(loss)
    assert isinstance(t.grad(w), float) and t.grad(w) == expected == 6.0
    assert np.array_equal(t.grad(x), np.full(3, 0.5))
    assert "…" not in format_number(t.grad(x)) and format_number(np.arange(5.0)).endswith("(5)]")


def test_names_and_formulas():
    a, b = Value(1.0, "w"), Value(2.0, "w")
    x = Value(3.0)
    y = (a * x + b).tanh()
    names = node_names(topological_order(y))
    assert names[a] != names[b] and names[a].startswith("w#") and names[x].startswith("v")
    assert local_formula(y, 0, names) == f"(1 − {names[y]}.data)·(1 + {names[y]}.data)"
    sq = x**2
    assert local_formula(sq, 0, node_names(topological_order(sq))).startswith("2·")
    assert format_number(0.1 + 0.2) == "0.3"
    assert format_number(1 / 3) == "0.333333"
    assert format_number(0.9999999999999998) == "1.0"
    assert format_number(-3.0) == "-3.0"


def test_trace_backward_checks_the_seed_as_backward_does():
    x = Value(np.array([1.0, 2.0, 3.0]))
    y = x * x
    for root, seed in [(y, np.ones(2)), ((x * x).sum(), np.ones(3))]:
        with pytest.raises(ValueError, match="backward\\(gradient=...\\) got an array of"):
            root.backward(seed)
        with pytest.raises(ValueError, match="backward\\(gradient=...\\) got an array of"):
            trace_backward(root, seed, apply=False)
    assert x.grad == 0.0  # nothing ran
