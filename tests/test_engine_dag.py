"""Property test: random expression DAGs of up to 200 nodes, with reused
subexpressions, agree with PyTorch float64 in every node's value and in every
leaf's gradient to a relative 1e-9."""

from __future__ import annotations

import pytest
from cases import same
from conftest import require
from hypothesis import given, settings
from strategies import DAG_OPS, Dag, dags, evaluate, ieee_dags, output

from zdravkograd import Value, gradients

torch = require("torch")

pytestmark = pytest.mark.torch

RTOL = 1e-9
ATOL = 1e-12  # for results that cancel to ~0; every node lies in [-1, 1]


def _run_both(dag: Dag):
    ours = [Value(x) for x in dag.leaves]
    our_nodes = evaluate(dag, ours)
    our_out = output(our_nodes)
    our_out.backward()
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in dag.leaves]
    their_nodes = evaluate(dag, theirs)
    their_out = output(their_nodes)
    their_grads = torch.autograd.grad(their_out, theirs, allow_unused=True)
    return ours, our_nodes, theirs, their_nodes, their_grads


def _mismatches(dag: Dag) -> list[str]:
    ours, our_nodes, _, their_nodes, their_grads = _run_both(dag)
    bad = []
    for k, (a, b) in enumerate(zip(our_nodes, their_nodes)):
        if not same(a.data, b.item(), RTOL, ATOL):
            what = "leaf" if k < len(dag.leaves) else dag.instructions[k - len(dag.leaves)]
            bad.append(f"node {k} {what}: zdravkograd {a.data!r}, torch {b.item()!r}")
    for k, (leaf, g) in enumerate(zip(ours, their_grads)):
        expected = 0.0 if g is None else g.item()
        if not same(leaf.grad, expected, RTOL, ATOL):
            bad.append(f"d out/d leaf {k}: zdravkograd {leaf.grad!r}, torch {expected!r}")
    return bad


@settings(max_examples=60)
@given(dag=dags())
def test_random_dags_match_torch(dag: Dag) -> None:
    bad = _mismatches(dag)
    assert not bad, f"{dag.size}-node DAG differs from PyTorch:\n" + "\n".join(bad)


@settings(max_examples=150)
@given(dag=ieee_dags())
def test_random_dags_with_ieee_leaves_match_torch_nan_and_inf_included(dag: Dag) -> None:
    # exactly rounded ops only, so the forward values must agree bit for bit (nan == nan)
    ours, our_nodes, _, their_nodes, their_grads = _run_both(dag)
    for k, (a, b) in enumerate(zip(our_nodes, their_nodes)):
        assert same(a.data, b.item(), rtol=0.0), f"node {k}: {a.data!r} vs torch {b.item()!r}"
    for k, (leaf, g) in enumerate(zip(ours, their_grads)):
        expected = 0.0 if g is None else g.item()
        assert same(leaf.grad, expected, RTOL, 1e-300), f"leaf {k}: {leaf.grad!r} vs {expected!r}"


@settings(max_examples=25)
@given(dag=dags(max_nodes=60))
def test_functional_gradients_equal_backward(dag: Dag) -> None:
    # zdravkograd.gradients walks the graph its own way; it must agree with .backward()
    leaves = [Value(x) for x in dag.leaves]
    out = output(evaluate(dag, leaves))
    functional = gradients(out, leaves)
    out.backward()
    assert functional == [leaf.grad for leaf in leaves]


@settings(max_examples=25)
@given(dag=dags(max_nodes=60))
def test_backward_twice_doubles_leaf_gradients_only(dag: Dag) -> None:
    leaves = [Value(x) for x in dag.leaves]
    nodes = evaluate(dag, leaves)
    out = output(nodes)
    out.backward()
    once = [n.grad for n in nodes]
    out.backward()
    for k, (node, g) in enumerate(zip(nodes, once)):
        expected = 2 * g if k < len(leaves) else g  # leaves accumulate, intermediates reset
        if k < len(leaves):  # the second pass adds path by path: rounding, relative to O(1) terms
            assert same(node.grad, expected, rtol=1e-12, atol=1e-12), (k, node.grad, expected)
        else:
            assert same(node.grad, expected, rtol=0.0), (k, node.grad, expected)


def test_every_dag_op_is_exercised() -> None:
    # the strategy's op table covers every primitive of the engine
    x, y = Value(0.3), Value(-0.4)
    ops_seen = set()
    for _, op in DAG_OPS.values():
        stack = [op(x, y)]
        while stack:
            node = stack.pop()
            ops_seen.add(node._op.name if node._op is not None else "")
            stack.extend(node._prev)
    assert {
        "add",
        "mul",
        "pow",
        "pow_const",
        "exp",
        "log",
        "tanh",
        "sigmoid",
        "relu",
        "sin",
        "cos",
        "abs",
    } <= ops_seen
