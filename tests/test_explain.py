"""explain(root, leaf): the sum over paths equals backward's gradient, and it never hangs."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import dags, evaluate, output

from zdravkograd import Value
from zdravkograd.engine import topological_order
from zdravkograd.examples import seed_expression
from zdravkograd.viz import explain


def _fresh_grads(out: Value) -> dict[Value, float]:
    for v in topological_order(out):
        v.grad = 0.0
    out.backward()
    return {v: v.grad for v in topological_order(out)}


@settings(max_examples=60)
@given(dags(max_nodes=40), st.integers(0, 7), st.integers(0, 40))
def test_explain_total_equals_backward_on_random_dags(dag, pick, max_paths):
    leaves = [Value(x, f"x{i}") for i, x in enumerate(dag.leaves)]
    out = output(evaluate(dag, leaves))
    grads = _fresh_grads(out)
    leaf = leaves[pick % len(leaves)]
    ex = explain(out, leaf, max_paths=max_paths)
    assert ex.total == pytest.approx(grads[leaf], rel=1e-9, abs=1e-12)
    # grouped or not, the groups add up to backward's number exactly (same order of sums)
    assert ex.groups_total == grads[leaf]
    assert ex.grouped == (ex.count > max_paths)
    if not ex.grouped:
        assert len(ex.paths) == ex.count
        for p in ex.paths:
            assert p.nodes[0] is leaf and p.nodes[-1] is out
            assert p.product == pytest.approx(math.prod(p.locals), rel=1e-12, abs=1e-300)
            for k, (slot, local) in enumerate(zip(p.slots, p.locals)):
                assert p.nodes[k + 1]._prev[slot] is p.nodes[k]
                assert p.nodes[k + 1]._local[slot] == local
    assert sum(g.count for g in ex.groups) == ex.count
    assert str(ex)  # renders


def test_the_readme_example_lists_its_paths():
    L, nodes = seed_expression()
    a = nodes["a"]
    ex = explain(L, a)
    assert a.grad == 0.0  # explain changes no .grad
    assert ex.count == 1 and ex.total == 6.0
    text = str(ex)
    assert "a → e → d → L" in text
    assert "∂e/∂a × ∂d/∂e × ∂L/∂d" in text
    assert "= -3.0 × 1.0 × -2.0 = 6.0" in text
    assert "total: ∂L/∂a = 6.0" in text


def test_a_reused_leaf_sums_its_paths():
    x = Value(3.0, "x")
    y = x * x + x
    y.label = "y"
    ex = explain(y, x)
    assert ex.count == 3  # through both slots of x*x, and directly
    assert sorted(p.product for p in ex.paths) == [1.0, 3.0, 3.0]
    assert ex.total == 7.0
    assert "3 paths" in str(ex)


def test_exploding_path_counts_are_grouped_quickly():
    x = Value(0.5, "x")
    y = x
    for _ in range(200):  # 2**200 paths: listing them would never end
        y = (y * y + x) * 0.5  # y feeds the next node twice: the path count doubles
    y.label = "y"
    ex = explain(y, x)  # counts paths by dynamic programming: one pass, no listing
    assert ex.count > 2**200 and ex.grouped and ex.paths == []
    y.backward()
    assert ex.total == x.grad
    text = str(ex)
    assert "grouped" in text and "more groups" in text
    assert f"{ex.count:,}" in text


def test_unrelated_leaf_and_the_root_itself():
    x, z = Value(1.0, "x"), Value(2.0, "z")
    y = x * 2
    y.label = "y"
    ex = explain(y, z)
    assert ex.count == 0 and ex.total == 0.0 and "no path" in str(ex)
    me = explain(y, y)
    assert me.count == 1 and me.total == 1.0
    with pytest.raises(TypeError, match="two Values"):
        explain(y, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_paths"):
        explain(y, x, max_paths=-1)


def test_a_float_weight_used_by_a_batch_gets_the_batch_sum():
    import numpy as np

    w = Value(0.5, "w")
    x = Value(np.array([1.0, 2.0, 3.0]), "x")
    y = (w * x).tanh()
    y.label = "y"
    ex = explain(y, w)
    y.backward()
    assert isinstance(ex.total, float) and ex.total == pytest.approx(w.grad, rel=1e-12)
    assert "sum over the batch" in str(ex)
    ex_x = explain(y, x)
    assert np.allclose(ex_x.total, x.grad) and "sum over the batch" not in str(ex_x)
    seeded = explain(y, w, gradient=np.array([1.0, 0.0, 2.0]))
    assert "times the seed" in str(seeded)
