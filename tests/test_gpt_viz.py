"""Seeing the GPT: module groups for draw_dot and the viewer."""

from __future__ import annotations

import random

import pytest
from conftest import require, require_program

from zdravkograd.losses import logsumexp
from zdravkograd.transformer import GPT
from zdravkograd.viz import module_groups
from zdravkograd.viz.graph import fold
from zdravkograd.viz.viewer import viewer_data

TOKENS = [26, 4, 12, 12, 0, 26]


def position_loss(model, pos=1):
    with module_groups(model) as groups:
        logits = model(TOKENS[: pos + 1])
        with groups.scope("loss"):
            loss = logsumexp(logits[pos]) - logits[pos][TOKENS[pos + 1]]
    return loss, groups


def test_groups_fold_one_position_into_a_dozen_acyclic_boxes():
    model = GPT(27, rng=random.Random(0))
    loss, groups = position_loss(model)
    assert not any(m in vars(mod) for mod in model.modules() for m in ("forward", "step"))
    from zdravkograd.viz.graph import collect_nodes

    nodes = collect_nodes(loss)
    folded = fold(nodes, {loss}, groups)
    drawn = [v for v in nodes if v not in folded.hidden]
    assert len(nodes) > 4000 and len(drawn) <= 20  # (4,192 parameters alone)
    labels = sorted(folded.labels.values())
    assert any(label.startswith("blocks.0.attn.step [1] (") for label in labels)
    assert any(label.startswith("blocks.0.mlp [1] (") for label in labels)
    assert not any(label.startswith("blocks.0.mlp [0]") for label in labels)  # unused by loss
    assert any(label.startswith("loss (") for label in labels)
    # every input of a folded box is drawn, and made before it: no cycles
    for top, inputs in folded.inputs.items():
        for x in inputs:
            assert x not in folded.hidden and x._id < top._id
    # each weight is hidden, and the boxes count them: attention reads its 4 x 256
    attn = next(label for label in labels if label.startswith("blocks.0.attn.step [1]"))
    assert "1024 weights" in attn
    assert all(p in folded.hidden for p in model.blocks[0].attn.wq[0])


def test_the_viewer_replays_the_position_box_by_box():
    model = GPT(27, rng=random.Random(1))
    loss, groups = position_loss(model)
    from zdravkograd.trace import trace_backward

    trace = trace_backward(loss, apply=False)
    from zdravkograd.viz.graph import collect_nodes

    data = viewer_data(trace, fold(collect_nodes(loss), {loss}, groups))
    titles = [s["title"] for s in data["steps"]]
    assert titles[0].startswith("Start")
    assert any(t.startswith("blocks.0.attn.step [1]") for t in titles)
    # a folded step hands out the gradients of every node inside it, to the drawn ones
    shown = {n["id"] for n in data["nodes"]}
    for s in data["steps"]:
        assert all(u["to"] in shown for u in s["updates"])
    loss.backward()
    final = {}
    for s in data["steps"]:
        for u in s["updates"]:
            final[u["to"]] = float(u["grad"]["exact"])
    for v in trace.order:
        if v._id in final:
            assert final[v._id] == v.grad


def test_draw_dot_with_module_groups(tmp_path):
    require("graphviz")
    require_program("dot")
    from zdravkograd.viz import draw_dot

    model = GPT(27, rng=random.Random(2))
    loss, groups = position_loss(model, pos=0)
    loss.backward()
    dot = draw_dot(loss, collapse=groups)
    svg = dot.pipe(format="svg", encoding="utf-8")
    assert "ln_0" in svg and "blocks.0.mlp" in svg and "loss (" in svg
    with pytest.raises(TypeError, match="collapse= takes True"):
        draw_dot(loss, collapse="modules")
