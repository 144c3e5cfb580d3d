"""``backprop_html(root, path)``: a web page that steps through the backward pass.

The page is one self-contained HTML file: the graph is an SVG drawn by
Graphviz and pasted in, the steps are a JSON record of
``trace_backward(root)``, and a little JavaScript replays them. It loads
nothing from the network and needs no server: open it in any browser.

Every number on the page is formatted in Python from the engine's own
values; the JavaScript only decides which of them to show.
"""

from __future__ import annotations

import html
import json
import os
import re
from typing import Any

from zdravkograd.engine import Value
from zdravkograd.trace import (
    BackwardTrace,
    _is_zero,
    format_number,
    local_formula,
    trace_backward,
)
from zdravkograd.viz.graph import _Collapsed, _fmt, _fold, _op_text, draw_dot

__all__ = ["backprop_html", "viewer_data"]


def viewer_data(trace: BackwardTrace, folded: _Collapsed | None = None) -> dict[str, Any]:
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
    folded = folded if folded is not None else _Collapsed()
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
        return {"short": format_number(g), "four": _fmt(g), "exact": exact}

    hidden = folded.hidden
    shown = [v for v in trace.order if v not in hidden or v in params]
    nodes = [
        {
            "id": v._id,
            "name": trace.names[v],
            "data": format_number(v.data),
            "op": "Σ" if v in folded.inputs else v._op,
            "opText": folded.labels.get(v, "Σ w·x + b") if v in folded.inputs else _op_text(v._op),
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
            if not _is_zero(u.before):
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
    """``a × b``, ``tanh(n)``, ``x^2``: how ``v`` was computed, in names."""
    prev = [names[c] for c in v._prev]
    op = v._op
    if op == "+":
        return f"{prev[0]} + {prev[1]}"
    if op == "*":
        return f"{prev[0]} × {prev[1]}"
    if op == "**":
        return f"{prev[0]} ^ {prev[1]}"
    if op.startswith("**"):
        return f"{prev[0]} ^ {op[2:]}"
    return f"{op}({', '.join(prev)})"


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
    folded = _fold(trace.order, {root}, collapse) if collapse else None
    data = viewer_data(trace, folded)
    heading = title or f"Backpropagation through {trace.names[root]}, step by step"
    page = (
        _TEMPLATE.replace("__TITLE__", html.escape(heading))
        .replace("__SVG__", _clean_svg(svg))
        .replace("__DATA__", json.dumps(data, ensure_ascii=False).replace("</", "<\\/"))
    )
    out = os.fspath(path)
    with open(out, "w", encoding="utf-8") as f:
        f.write(page)
    return out


_TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
:root {
  --bg: #f4f6fa; --card: #ffffff; --ink: #212529; --muted: #6c757d; --line: #dee2e6;
  --current: #f76707; --current-soft: #ffe8cc; --receive: #2f9e44; --receive-soft: #d3f9d8;
  --done-soft: #e7f5ff; --known-soft: #f3f0ff; --accent: #1c7ed6;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial,
       sans-serif; color: var(--ink); background: var(--bg); }
header { padding: 14px 22px 10px; background: linear-gradient(90deg, #1c7ed6, #5f3dc4);
         color: white; }
header h1 { margin: 0; font-size: 19px; font-weight: 600; }
header p { margin: 3px 0 0; opacity: .85; font-size: 13px; }
main { display: grid; grid-template-columns: minmax(0, 1fr) 390px; gap: 14px; padding: 14px; }
.card { background: var(--card); border-radius: 10px; box-shadow: 0 1px 3px rgba(0,0,0,.08),
        0 4px 14px rgba(0,0,0,.04); }
#graph-card { overflow: auto; padding: 10px; max-height: calc(100vh - 110px);
              align-self: start; }
#graph { width: 100%; height: auto; display: block; }
#graph.natural { max-width: none; }
#side { display: flex; flex-direction: column; gap: 12px; max-height: calc(100vh - 110px); }
#controls { padding: 12px; }
.buttons { display: flex; gap: 6px; }
button { flex: 1; border: 1px solid var(--line); background: white; border-radius: 7px;
         padding: 7px 4px; font: inherit; font-weight: 600; cursor: pointer; color: var(--ink); }
button:hover:not(:disabled) { background: #f1f3f5; }
button:disabled { opacity: .4; cursor: default; }
button.primary { background: var(--accent); border-color: var(--accent); color: white; }
button.primary:hover:not(:disabled) { background: #1971c2; }
#progress { height: 6px; background: #e9ecef; border-radius: 3px; margin: 10px 0 6px;
            overflow: hidden; }
#bar { height: 100%; width: 0; background: linear-gradient(90deg, #1c7ed6, #7048e8);
       transition: width .2s; }
.meta { display: flex; justify-content: space-between; color: var(--muted); font-size: 12px; }
.meta label { display: flex; gap: 4px; align-items: center; }
#step-card { padding: 12px 14px; overflow: auto; flex: 0 1 auto; }  /* shrinks on a short screen */
#step-title { font-weight: 700; font-size: 15px; margin-bottom: 4px; }
#step-text { color: #495057; margin-bottom: 8px; }
.update { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
          font-size: 12.5px;
          background: var(--receive-soft); border-left: 3px solid var(--receive); padding: 6px 8px;
          border-radius: 5px; margin-top: 6px; word-break: break-word; }
#updates { max-height: 38vh; overflow: auto; }
.update .acc { display: block; color: #2b8a3e; font-size: 11.5px; margin-top: 2px;
               font-family: system-ui, sans-serif; }
#table-card { padding: 0; overflow: auto; flex: 1; min-height: 120px; }
#table-card h2 { font-size: 13px; margin: 10px 14px 6px; color: var(--muted); font-weight: 600;
                 text-transform: uppercase; letter-spacing: .04em; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th, td { padding: 3px 14px; text-align: right; border-bottom: 1px solid #f1f3f5; }
th { position: sticky; top: 0; background: white; color: var(--muted); font-weight: 600; }
td:first-child, th:first-child { text-align: left; }
td:first-child { overflow-wrap: anywhere; }  /* long names (layers.1.neurons.12.w.15) wrap */
td.num { font-family: ui-monospace, Menlo, Consolas, monospace; white-space: nowrap; }
td.unknown { color: #adb5bd; }
tr.param td:first-child { color: var(--muted); }
tr.current td { background: var(--current-soft); }
tr.receive td { background: var(--receive-soft); }
.legend { display: flex; gap: 12px; flex-wrap: wrap; font-size: 12px; color: var(--muted);
          padding: 8px 4px 2px; }
.sw { display: inline-block; width: 11px; height: 11px; border-radius: 3px; margin-right: 4px;
      vertical-align: -1px; border: 1px solid rgba(0,0,0,.25); }
kbd { font: inherit; font-size: 12px; color: var(--ink); border: 1px solid var(--line);
      border-bottom-width: 2px;
      border-radius: 4px; padding: 0 4px; background: #f8f9fa; }
/* a wide, flat graph gets the full width, with the panels below it */
body.wide main { grid-template-columns: minmax(0, 1fr); }
body.wide #graph-card { max-height: 62vh; }
body.wide #side { display: grid; grid-template-columns: 420px minmax(0, 1fr);
                  grid-template-rows: auto 1fr; max-height: none; }
body.wide #table-card { grid-column: 2; grid-row: 1 / span 2; max-height: 40vh; }
/* the graph: Graphviz draws the shapes, these classes colour them */
#graph g.node polygon, #graph g.node path, #graph g.node ellipse { transition: fill .25s; }
#graph g.node.known polygon, #graph g.node.known path { fill: var(--known-soft); }
#graph g.node.done polygon, #graph g.node.done path { fill: var(--done-soft); }
#graph g.node.receive polygon, #graph g.node.receive path {
  fill: var(--receive-soft); stroke: var(--receive); stroke-width: 2.5px; }
#graph g.node.current polygon, #graph g.node.current path, #graph g.node.current ellipse {
  fill: var(--current-soft); stroke: var(--current); stroke-width: 3px; }
#graph g.edge.active path { stroke: var(--current); stroke-width: 2.5px; }
#graph g.edge.active polygon { stroke: var(--current); fill: var(--current); }
#graph text.grad-unknown { fill: #adb5bd; }
#graph text.grad-new { fill: var(--receive); font-weight: 700; }
</style>
</head>
<body>
<header>
  <h1>__TITLE__</h1>
  <p>The chain rule, one node at a time, in the order the engine runs it.
     Keys: <kbd>→</kbd> next, <kbd>←</kbd> back, <kbd>space</kbd> play/pause,
     <kbd>Home</kbd> reset.</p>
</header>
<main>
  <section class="card" id="graph-card">
    __SVG__
    <div class="legend">
      <span><span class="sw" style="background:#ffe8cc;border-color:#f76707"></span>passing its
        gradient</span>
      <span><span class="sw" style="background:#d3f9d8;border-color:#2f9e44"></span>receiving</span>
      <span><span class="sw" style="background:#f3f0ff"></span>gradient known</span>
      <span><span class="sw" style="background:#e7f5ff"></span>passed on</span>
      <label style="margin-left:auto">zoom <select id="zoom"><option value="fit" selected>fit
        width</option><option value="1">100%</option><option value="1.5">150%</option>
        <option value="2">200%</option></select></label>
    </div>
  </section>
  <aside id="side">
    <section class="card" id="controls">
      <div class="buttons">
        <button id="reset" title="Reset (Home)">Reset</button>
        <button id="back" title="Back (←)">◀ Back</button>
        <button id="play" title="Play / Pause (space)">▶ Play</button>
        <button id="next" class="primary" title="Next (→)">Next ▶</button>
      </div>
      <div id="progress"><div id="bar"></div></div>
      <div class="meta"><span id="counter"></span>
        <label>speed <select id="speed"><option value="1400">slow</option>
          <option value="800" selected>normal</option><option value="300">fast</option>
        </select></label></div>
    </section>
    <section class="card" id="step-card">
      <div id="step-title"></div>
      <div id="step-text"></div>
      <div id="updates"></div>
    </section>
    <section class="card" id="table-card">
      <h2>Gradients so far</h2>
      <table><thead><tr><th>node</th><th>data</th><th>grad</th></tr></thead>
        <tbody id="grads"></tbody></table>
    </section>
  </aside>
</main>
<script type="application/json" id="trace-data">__DATA__</script>
<script>
"use strict";
window.__errors = [];
window.addEventListener("error", function (e) { window.__errors.push(String(e.message)); });
(function () {
  const D = JSON.parse(document.getElementById("trace-data").textContent);
  const steps = D.steps, N = steps.length;
  const $ = (id) => document.getElementById(id);
  const svgNode = (id) => document.getElementById("val" + id);
  const opNode = (id) => document.getElementById("op" + id);
  let k = 0, timer = null;
  const box0 = $("graph").viewBox.baseVal;
  if (box0 && box0.height > 0 && box0.width / box0.height > 3.2) {
    document.body.classList.add("wide");
  }

  // the grad text of every record in the SVG, and one table row per node
  const gradText = {};
  for (const n of D.nodes) {
    const g = svgNode(n.id);
    if (g) {
      for (const t of g.querySelectorAll("text")) {
        if (t.textContent.startsWith("grad ")) { gradText[n.id] = t; }
      }
    }
  }
  const rows = {};
  const tbody = $("grads");
  // the drawn nodes, output first, then the weights folded into neurons (if any)
  const ordered = D.nodes.filter((n) => !n.param).reverse()
    .concat(D.nodes.filter((n) => n.param));
  for (const n of ordered) {
    const tr = document.createElement("tr");
    tr.dataset.node = n.id;
    if (n.param) tr.className = "param";
    const name = document.createElement("td");
    name.textContent = n.name + (n.op ? "  (" + n.opText + ")" : "");
    const data = document.createElement("td");
    data.className = "num"; data.textContent = n.data;
    const grad = document.createElement("td");
    grad.className = "num grad"; grad.dataset.node = n.id;
    tr.append(name, data, grad);
    tbody.append(tr);
    rows[n.id] = tr;
  }

  function state(upto) {  // gradients after applying steps[0 .. upto-1]
    const grads = {}, passed = new Set();
    for (let i = 0; i < upto; i++) {
      const s = steps[i];
      if (s.kind === "node") passed.add(s.node);
      for (const u of s.updates) grads[u.to] = u.grad;
    }
    return { grads, passed };
  }

  function render() {
    const { grads, passed } = state(k);
    const cur = k > 0 ? steps[k - 1] : null;
    const receiving = new Set(cur && cur.kind === "node" ? cur.updates.map((u) => u.to) : []);
    for (const n of D.nodes) {
      const g = svgNode(n.id), op = opNode(n.id), t = gradText[n.id], gr = grads[n.id];
      const isCur = cur !== null && cur.node === n.id;
      if (g) {
        g.classList.toggle("known", gr !== undefined);
        g.classList.toggle("done", passed.has(n.id) || (n.leaf && gr !== undefined));
        g.classList.toggle("current", isCur);
        g.classList.toggle("receive", receiving.has(n.id) && !isCur);
      }
      if (op) op.classList.toggle("current", isCur && cur.kind === "node");
      if (t) {
        t.textContent = gr === undefined ? "grad  ·" : "grad " + gr.four;
        t.classList.toggle("grad-unknown", gr === undefined);
        t.classList.toggle("grad-new", receiving.has(n.id) || (isCur && cur.kind === "seed"));
      }
      const cell = rows[n.id].querySelector("td.grad");
      cell.textContent = gr === undefined ? "·" : gr.short;
      cell.classList.toggle("unknown", gr === undefined);
      if (gr === undefined) { delete cell.dataset.exact; } else { cell.dataset.exact = gr.exact; }
      rows[n.id].classList.toggle("current", isCur);
      rows[n.id].classList.toggle("receive", receiving.has(n.id) && !isCur);
    }
    for (const e of document.querySelectorAll("#graph g.edge.active")) {
      e.classList.remove("active");
    }
    if (cur) {
      for (const id of cur.edges) {
        const e = document.getElementById(id);
        if (e) e.classList.add("active");
      }
    }
    // the explanation panel
    const box = $("updates");
    box.replaceChildren();
    if (cur === null) {
      $("step-title").textContent = "Ready";
      $("step-text").textContent = "Forward pass done: every node has its data. Its gradient " +
        "(·) is unknown until the backward pass reaches it. Press Next.";
    } else {
      $("step-title").textContent = "Step " + k + ": " + cur.title;
      $("step-text").textContent = cur.text;
      for (const u of cur.updates) {
        if (!u.formula) continue;
        const div = document.createElement("div");
        div.className = "update";
        div.textContent = u.formula;
        if (u.accumulate) {
          const acc = document.createElement("span");
          acc.className = "acc"; acc.textContent = u.accumulate;
          div.append(acc);
        }
        box.append(div);
      }
      if (k === N) {
        const div = document.createElement("div");
        div.className = "update";
        div.style.background = "#e7f5ff"; div.style.borderColor = "#1c7ed6";
        div.textContent = "Done: every gradient is known. Leaves have no operands, so " +
          "they pass nothing on.";
        box.append(div);
      }
    }
    $("counter").textContent = "step " + k + " of " + N;
    $("bar").style.width = (100 * k / N) + "%";
    $("back").disabled = k === 0; $("reset").disabled = k === 0;
    $("next").disabled = k === N;
    $("play").textContent = timer ? "⏸ Pause" : "▶ Play";
    $("play").disabled = k === N && !timer;
    if (cur) {
      const g = svgNode(cur.node);
      if (g) reveal($("graph-card"), g, 0);
      const card = $("table-card");
      reveal(card, rows[cur.node], card.querySelector("thead").offsetHeight);
    }
  }

  // Scroll `box` (not the page: the buttons must stay where they are) until `el` shows;
  // `inset` is how much of the box's top a sticky header covers.
  function reveal(box, el, inset) {
    const b = box.getBoundingClientRect(), r = el.getBoundingClientRect();
    if (r.top < b.top + inset) box.scrollTop -= b.top + inset - r.top + 4;
    else if (r.bottom > b.bottom) box.scrollTop += r.bottom - b.bottom + 4;
    if (r.left < b.left) box.scrollLeft -= b.left - r.left + 4;
    else if (r.right > b.right) box.scrollLeft += r.right - b.right + 4;
  }

  function go(to) { k = Math.max(0, Math.min(N, to)); if (k === N) stop(); render(); }
  function stop() { if (timer) { clearInterval(timer); timer = null; } }
  function play() {
    if (timer) { stop(); render(); return; }
    if (k === N) k = 0;
    timer = setInterval(() => go(k + 1), Number($("speed").value));
    go(k + 1);
  }
  $("next").addEventListener("click", () => { stop(); go(k + 1); });
  $("back").addEventListener("click", () => { stop(); go(k - 1); });
  $("reset").addEventListener("click", () => { stop(); go(0); });
  $("play").addEventListener("click", play);
  $("speed").addEventListener("change", () => { if (timer) { stop(); play(); } });
  $("zoom").addEventListener("change", (e) => {
    const svg = $("graph"), z = e.target.value;
    svg.classList.toggle("natural", z !== "fit");
    svg.style.width = z === "fit" ? "" : (parseFloat(svg.dataset.width) * Number(z)) + "pt";
  });
  document.addEventListener("keydown", (e) => {
    if (e.target.tagName === "SELECT") return;
    if (e.key === "ArrowRight") { stop(); go(k + 1); }
    else if (e.key === "ArrowLeft") { stop(); go(k - 1); }
    else if (e.key === " ") { play(); }
    else if (e.key === "Home") { stop(); go(0); }
    else return;
    e.preventDefault();
  });
  render();
})();
</script>
</body>
</html>
"""
