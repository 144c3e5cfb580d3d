"""``backprop_html(root, path)``: a web page that steps through the backward pass.

The page is one self-contained HTML file: the graph is an SVG drawn by
Graphviz and pasted in, the steps are a JSON record of
``trace_backward(root)``, and a little JavaScript replays them. It loads
nothing from the network and needs no server: open it in any browser.

The page's HTML, CSS and JavaScript are files shipped with the package,
``zdravkograd/viz/assets/viewer.html``, ``viewer.css`` and ``viewer.js``;
``_render_page`` pastes them (and the graph and the steps) into one file.

Every number on the page is formatted in Python from the engine's own
values; the JavaScript only decides which of them to show.
"""

from __future__ import annotations

import html
import json
import os
import re
from importlib import resources
from typing import Any

from zdravkograd.engine import Value
from zdravkograd.symbolic import number_text
from zdravkograd.trace import (
    BackwardTrace,
    format_number,
    is_zero,
    local_formula,
    trace_backward,
)
from zdravkograd.viz.graph import Collapsed, draw_dot, fold, format_value, op_text

__all__ = ["backprop_html", "viewer_data"]


def viewer_data(trace: BackwardTrace, folded: Collapsed | None = None) -> dict[str, Any]:
    """The JSON the page replays: the nodes, and one entry per step of the pass.

    Step 0 seeds the root's gradient; then each node that has operands passes its
    gradient on, in the engine's order. Each update carries the formula and the
    operand's gradient after it, both as shown (``short``, ``four`` = ``%.4f``)
    and exact (``exact`` = Python's ``repr``).

    With ``folded`` (neurons collapsed by ``draw_dot(collapse=True)``), the steps of
    the nodes inside a neuron are merged into one step of the neuron: its ``+``
    nodes pass the gradient on unchanged (local derivative 1, exactly), so each
    weight receives ``x.data × neuron.grad`` and each input ``w.data × neuron.grad``.
    """
    folded = folded if folded is not None else Collapsed()
    owner = folded.owner
    params = {p for ps in folded.params.values() for p in ps}
    # inside formulas a hidden node goes by the name of its neuron (its gradient is the same)
    names = {
        v: trace.refs[owner[v]] if v in owner and v not in params else r
        for v, r in trace.refs.items()
    }
    root = trace.root

    def grad_view(g: Any) -> dict[str, str]:
        exact = repr(float(g)) if not hasattr(g, "__len__") else repr(list(map(float, g)))
        return {"short": format_number(g), "four": format_value(g), "exact": exact}

    hidden = folded.hidden
    shown = [v for v in trace.order if v not in hidden or v in params]
    nodes = [
        {
            "id": v._id,
            "name": trace.names[v],
            "data": format_number(v.data),
            "op": "Σ" if v in folded.inputs else (v._op.name if v._op is not None else ""),
            "opText": folded.labels.get(v, "Σ w·x + b") if v in folded.inputs else op_text(v),
            "leaf": v._a is None,
            "param": v in params,
        }
        for v in sorted(shown, key=lambda v: v._id)
    ]
    root_grad = trace.seed if root._a is not None else trace.grads[root]
    steps: list[dict[str, Any]] = [
        {
            "kind": "seed",
            "node": root._id,
            "title": f"Start: {names[root]}.grad = {format_number(trace.seed)}",
            "text": (
                f"The backward pass starts at the output {names[root]}: "
                f"∂{names[root]}/∂{names[root]} = 1, the seed."
            ),
            "updates": [{"to": root._id, "slot": -1, "formula": "", "grad": grad_view(root_grad)}],
            "edges": [],
        }
    ]
    neuron_step: dict[Value, dict[str, Any]] = {}
    for step in trace.steps:
        v = step.node
        updates = []
        for u in step.updates:
            if u.operand in hidden and u.operand not in params:
                continue  # a node inside a neuron or a module: not shown
            accumulate = ""
            if not is_zero(u.before):
                accumulate = (
                    f"{names[u.operand]}.grad was {format_number(u.before)}, "
                    f"now {format_number(u.after)} (gradients add up)"
                )
            updates.append(
                {
                    "to": u.operand._id,
                    "slot": u.slot,
                    "formula": trace.describe(u, v, names),
                    "local": local_formula(v, u.slot, names),
                    "accumulate": accumulate,
                    "grad": grad_view(u.after),
                }
            )
        top = owner.get(v, v)
        if top in neuron_step:  # a node inside a neuron whose step is already there
            neuron_step[top]["updates"].extend(updates)
            continue
        if v in folded.labels:
            n_in = len(folded.inputs[v])
            entry = {
                "kind": "node",
                "node": v._id,
                "title": f"{folded.labels[v]}: one module call, folded",
                "text": (
                    f"{names[v]}.grad = {format_number(step.grad)} is complete. Inside the "
                    f"call the chain rule runs through every folded node in turn, from the "
                    f"newest back, and hands gradients to its weights and its {n_in} inputs."
                ),
                "updates": updates,
                "edges": [f"c{v._id}_{i}" for i in range(n_in)],
            }
            neuron_step[v] = entry
        elif v in folded.inputs:
            n_in = len(folded.inputs[v])
            entry = {
                "kind": "node",
                "node": v._id,
                "title": f"{trace.names[v]} = Σ w·x + b, a neuron with {n_in} inputs",
                "text": (
                    f"{names[v]}.grad = {format_number(step.grad)} is complete. Inside the "
                    f"neuron each + passes it on unchanged, so every weight w gets "
                    f"x.data × {names[v]}.grad and every input x gets w.data × {names[v]}.grad."
                ),
                "updates": updates,
                "edges": [f"c{v._id}_{i}" for i in range(n_in)],
            }
            neuron_step[v] = entry
        else:
            operands = " and ".join(dict.fromkeys(names[c] for c in v._prev))
            entry = {
                "kind": "node",
                "node": v._id,
                "title": f"{trace.names[v]} = {_describe_op(v, names)}",
                "text": (
                    f"{names[v]}.grad = {format_number(step.grad)} is complete, so "
                    f"{names[v]} passes it to {operands}: local derivative × {names[v]}.grad."
                ),
                "updates": updates,
                "edges": [f"eo{v._id}"] + [f"e{v._id}_{slot}" for slot in range(len(v._prev))],
            }
        steps.append(entry)
    return {"root": root._id, "rootName": trace.names[root], "nodes": nodes, "steps": steps}


def _describe_op(v: Value, names: dict[Value, str]) -> str:
    """``a × b``, ``tanh(n)``, ``x ^ 2``: how ``v`` was computed, in names (from its row)."""
    prev = [names[c] for c in v._prev]
    op = v._op
    assert op is not None
    if op.constant:
        return f"{prev[0]} {op.text} {number_text(v._const)}"
    if len(prev) == 2 and not op.text.isidentifier():
        return f"{prev[0]} {op.text} {prev[1]}"
    return op.show(*prev)  # tanh(n); for dot b + w0·x0 + ...


def _clean_svg(svg: str) -> str:
    """Graphviz's SVG without the XML prolog, comments and hover titles, sized by CSS."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r"<title>.*?</title>", "", svg, flags=re.S)
    svg = re.sub(r' xlink:title="[^"]*"', "", svg)
    svg = re.sub(
        r'<svg width="([^"]*)" height="[^"]*"', r'<svg id="graph" data-width="\1"', svg, count=1
    )
    return svg


def _asset(name: str) -> str:
    """The text of ``zdravkograd/viz/assets/NAME``, a file shipped with the package."""
    return resources.files("zdravkograd.viz").joinpath("assets", name).read_text(encoding="utf-8")


_SLOT = re.compile(r"__(TITLE|CSS|JS|SVG|DATA)__")


def _render_page(title: str, svg: str, data: str) -> str:
    """The viewer page: ``assets/viewer.html`` with the style sheet (``viewer.css``), the
    script (``viewer.js``) and the given title, SVG and JSON pasted into its slots.

    The arguments go in as they are (escape them first). Each slot is filled in one pass,
    so text that happens to look like a slot name (a title saying ``__SVG__``) stays as is.
    """
    parts = {"TITLE": title, "SVG": svg, "DATA": data}
    parts["CSS"], parts["JS"] = _asset("viewer.css"), _asset("viewer.js")
    return _SLOT.sub(lambda m: parts[m[1]], _asset("viewer.html"))


def backprop_html(
    root: Value,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    rankdir: str = "LR",
    max_nodes: int | None = 300,
    gradient: Any = None,
    collapse: Any = False,
) -> str:
    """Write a self-contained HTML page that replays ``root.backward()`` node by node.

    Buttons Next, Back, Play/Pause and Reset (or the keys →, ←, space, Home) move
    through the pass. Each step highlights the node passing its gradient, shows the
    chain-rule update in numbers, e.g. ``a.grad += b.data × L.grad = -3.0 × -2.0 = 6.0``,
    and fills in every gradient computed so far.

    The pass is a dry run (``trace_backward(root, apply=False)``): no ``.grad`` changes.
    Leaves start from their current ``.grad`` as in ``backward()``, so call
    ``zero_grad()`` first for a clean pass. Returns the path written.

    ``collapse=True`` draws each neuron's dot product as one node (as ``draw_dot`` does)
    and replays it as one step, so that a whole MLP on one data point stays readable;
    ``collapse=groups`` (``viz.module_groups``) does the same for each module call.
    Graphs with more than ``max_nodes`` drawn Values raise ``ValueError``
    (``max_nodes=None`` draws anything).
    """
    if not isinstance(root, Value):
        raise TypeError(f"backprop_html() takes a Value, got {type(root).__name__}")
    trace = trace_backward(root, gradient, apply=False)
    # The boxes are sized for the final gradients, which the page fills in.
    saved = {v: v.grad for v in trace.order}
    try:
        for v in trace.order:
            v.grad = trace.grads[v]
        dot = draw_dot(
            root,
            format="svg",
            rankdir=rankdir,
            max_nodes=max_nodes,
            color=None,
            names=trace.names,
            tooltips=False,
            collapse=collapse,
        )
        svg = dot.pipe(format="svg", encoding="utf-8")
    finally:
        for v, g in saved.items():
            v.grad = g
    folded = fold(trace.order, {root}, collapse) if collapse else None
    data = viewer_data(trace, folded)
    heading = title or f"Backpropagation through {trace.names[root]}, step by step"
    page = _render_page(
        title=html.escape(heading),
        svg=_clean_svg(svg),
        data=json.dumps(data, ensure_ascii=False).replace("</", "<\\/"),
    )
    out = os.fspath(path)
    with open(out, "w", encoding="utf-8") as f:
        f.write(page)
    return out
