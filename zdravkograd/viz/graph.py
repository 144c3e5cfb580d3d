"""Draw a computation graph with Graphviz: ``draw_dot(root)``.

Each Value becomes a record node ``label | data 2.0000 | grad -6.0000`` and
each operation its own small round node between its operands and its result.
The graph is walked with an explicit stack (no recursion), so deep graphs are
fine; very large ones are refused above ``max_nodes`` with a message saying
how to draw them anyway.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zdravkograd import ops
from zdravkograd._optional import require_extra
from zdravkograd.engine import Value, topological_order

__all__ = [
    "draw_dot",
    "collect_nodes",
    "collapse_sums",
    "fold",
    "Collapsed",
    "format_value",
    "op_text",
]

COLOR_MODES = ("grad", "sign", "magnitude", None)
_FONT = "Helvetica,Arial,sans-serif"
_HIGHLIGHT = "#e8590c"
_EDGE = "#868e96"


def collect_nodes(roots: Value | Sequence[Value]) -> list[Value]:
    """Every Value the roots depend on, newest first (a topological order). No recursion."""
    if isinstance(roots, Value):
        root_list = [roots]
    elif isinstance(roots, (list, tuple)) and roots:
        root_list = list(roots)
    else:
        root_list = [roots]  # type: ignore[list-item]
    for r in root_list:
        if not isinstance(r, Value):
            raise TypeError(f"draw_dot() takes a Value or a list of Values, got {type(r).__name__}")
    if len(root_list) == 1:
        return topological_order(root_list[0])
    seen: set[Value] = set()
    for r in root_list:
        seen.update(topological_order(r))
    return sorted(seen, key=lambda v: v._id, reverse=True)  # the engine's order, over all roots


# ----------------------------------------------------------------- formatting


def format_value(x: Any) -> str:
    """``%.4f`` as in the record nodes; a batch shows its size and first value."""
    if isinstance(x, np.ndarray):
        return f"[{len(x)}] {x[0]:.4f}…" if len(x) else "[0]"
    return f"{float(x):.4f}"


def _escape_record(text: str) -> str:
    """Escape the characters that structure a Graphviz record label."""
    for ch in "\\{}|<>":
        text = text.replace(ch, "\\" + ch)
    return text


def op_text(v: Value) -> str:
    """The label of ``v``'s operation, from its row of the op table (``×``, ``tanh``, ``^2``);
    '' for a leaf."""
    return "" if v._op is None else v._op.label(v)


def _magnitude(g: Any) -> float:
    return float(np.max(np.abs(g))) if isinstance(g, np.ndarray) else abs(float(g))


def _sign(g: Any) -> float:
    return float(np.sign(np.sum(g)))


def _mix(light: str, strong: str, t: float) -> str:
    """Interpolate two ``#rrggbb`` colours (t = 0: light, t = 1: strong)."""
    a = [int(light[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(strong[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b))


def _fill(g: Any, scale: float, mode: str | None) -> str:
    """The fill colour of a node with gradient ``g`` (``scale`` is the largest |grad|)."""
    if mode is None:
        return "#ffffff"
    m = _magnitude(g)
    if not math.isfinite(m):
        return "#ffd43b"  # inf / nan: impossible to miss
    t = 0.15 + 0.85 * m / scale if scale > 0 and m > 0 else 0.0  # any nonzero shows a tint
    s = _sign(g)
    if mode == "magnitude":
        return _mix("#f8f9fa", "#b197fc", t)
    if s == 0:
        return "#f1f3f5"
    if mode == "sign":
        t = 0.6
    # positive gradients blue, negative red: darker for larger |grad|
    return _mix("#f1f8ff", "#74c0fc", t) if s > 0 else _mix("#fff5f5", "#ffa8a8", t)


# ------------------------------------------------------------------- collapse


@dataclass
class Collapsed:
    """Neuron sums folded into one node each."""

    hidden: set[Value] = field(default_factory=set)  # nodes not drawn
    inputs: dict[Value, list[Value]] = field(default_factory=dict)  # sum root -> its inputs
    params: dict[Value, list[Value]] = field(default_factory=dict)  # sum root -> absorbed leaves
    owner: dict[Value, Value] = field(default_factory=dict)  # hidden node -> its sum root
    labels: dict[Value, str] = field(default_factory=dict)  # module group root -> its label


def collapse_sums(nodes: list[Value], roots: set[Value]) -> Collapsed:
    """Find every dot product ``Σ w_i x_i + b`` and fold it into one node.

    A ``dot`` node (a neuron's sum) keeps its inputs (the x's); its bias and weights, when
    leaves used only there, are folded into it.

    A chain (or tree) of '+' nodes whose inner nodes feed only each other becomes
    one node. Its terms ``w * x`` are folded when ``w`` is a leaf used only there
    (a weight); a leaf term used only there (a bias) is folded too. What is left
    (the ``x``) becomes the inputs of the folded node.
    """
    uses: dict[Value, int] = {}
    parent_op: dict[Value, Any] = {}
    for node in nodes:
        for child in node._prev:
            uses[child] = uses.get(child, 0) + 1
            parent_op[child] = node._op

    def inner(v: Value) -> bool:  # a '+' that only feeds another '+'
        return (
            v._op is ops.add
            and uses.get(v, 0) == 1
            and parent_op.get(v) is ops.add
            and v not in roots
        )

    out = Collapsed()
    for top in nodes:
        if top._op is ops.dot:  # already one node: fold its bias and weights into it
            leaves = [  # operands b, w0, x0, w1, x1, ...: b and the w's, if used only here
                v
                for i, v in enumerate(top._prev)
                if (i == 0 or i % 2) and v._a is None and uses.get(v, 0) == 1 and v not in roots
            ]
            if leaves:
                out.hidden.update(leaves)
                out.owner.update(dict.fromkeys(leaves, top))
                out.inputs[top] = [v for v in top._prev if v not in leaves]
                out.params[top] = leaves
            continue
        if top._op is not ops.add or inner(top):
            continue
        tree: list[Value] = []
        terms: list[Value] = []
        stack = [top]
        while stack:
            v = stack.pop()
            tree.append(v)
            for child in v._prev:
                (stack if inner(child) else terms).append(child)
        inputs: list[Value] = []
        params: list[Value] = []
        folded: list[Value] = []
        for t in terms:
            single = uses.get(t, 0) == 1 and t not in roots
            if single and t._op is ops.mul:
                a, b = t._prev
                weight = next(
                    (w for w in (a, b) if w._a is None and uses.get(w, 0) == 1 and w is not t),
                    None,
                )
                if weight is not None and a is not b:
                    folded.append(t)
                    params.append(weight)
                    inputs.append(b if weight is a else a)
                    continue
            if single and t._a is None:
                params.append(t)  # a bias (or a constant)
                folded.append(t)
                continue
            inputs.append(t)
        products = sum(1 for t in folded if t._op is ops.mul)
        if products < 2:  # a single product is just drawn as it is
            continue
        for v in [*tree[1:], *folded, *params]:  # tree[0] is top itself
            out.hidden.add(v)
            out.owner[v] = top
        out.inputs[top] = inputs
        out.params[top] = params
    return out


def _collapse_modules(nodes: list[Value], roots: set[Value], groups: Any) -> Collapsed:
    """Fold the nodes of each module call recorded by ``module_groups`` into one node.

    The group's representative is its newest node (or a root in it); the others, and the
    parameters (leaves made outside every group, used only by hidden nodes), are hidden.
    Its inputs are the nodes outside the group that it reads, each drawn as the group
    that holds it.
    """
    members: dict[Any, list[Value]] = {}
    label: dict[Any, str] = {}
    for v in nodes:
        g = groups.group_of(v)
        if g is not None:
            members.setdefault(g[0], []).append(v)
            label[g[0]] = g[1]
    out = Collapsed()
    for key, group in members.items():
        made = [v for v in group if v._a is not None]  # (a group of leaves is not folded)
        if len(group) < 2 or not made:
            continue
        top = next((v for v in group if v in roots), max(made, key=lambda v: v._id))
        for v in group:
            if v is not top:
                out.hidden.add(v)
                out.owner[v] = top
        out.labels[top] = label[key]
    used_by: dict[Value, set[Value]] = {}
    for v in nodes:
        for child in v._prev:
            used_by.setdefault(child, set()).add(v)
    for v in nodes:  # parameters: leaves outside the groups that only hidden nodes read
        if v._a is None and v not in out.owner and v not in roots and groups.group_of(v) is None:
            users = used_by.get(v, set())
            if users and all(u in out.owner or u in out.labels for u in users):
                out.hidden.add(v)
    for top in out.labels:
        group_nodes = [top] + [v for v, t in out.owner.items() if t is top]
        inside = set(group_nodes)
        inputs: dict[Value, None] = {}
        params: dict[Value, None] = {}
        for v in group_nodes:
            for child in v._prev:
                if child in inside:
                    continue
                if child in out.hidden and child not in out.owner:
                    params[child] = None
                else:
                    inputs[out.owner.get(child, child)] = None
        out.inputs[top] = list(inputs)
        out.params[top] = []  # not drawn and not replayed: shared by many groups
        out.labels[top] += f" ({len(group_nodes)} Values, {len(params)} weights)"
    return out


def fold(nodes: list[Value], roots: set[Value], collapse: Any) -> Collapsed:
    """What ``collapse=`` asks for: nothing, neurons (True), or module groups."""
    if collapse is True:
        return collapse_sums(nodes, roots)
    if not collapse:
        return Collapsed()
    if not callable(getattr(collapse, "group_of", None)):
        raise TypeError(
            "collapse= takes True (fold neurons) or the groups of module_groups(model), "
            f"got {type(collapse).__name__}"
        )
    return _collapse_modules(nodes, roots, collapse)


# ---------------------------------------------------------------------- draw


def _reaching(nodes: list[Value], target: Value) -> set[Value]:
    """The nodes from which ``target`` can be reached (``target`` included)."""
    reach = {target}
    for node in reversed(nodes):  # oldest first: operands before the nodes using them
        if any(c in reach for c in node._prev):
            reach.add(node)
    return reach


def draw_dot(
    root: Value | Sequence[Value],
    format: str = "svg",
    rankdir: str = "LR",
    show_grad: bool = True,
    max_nodes: int | None = 500,
    *,
    color: str | None = "grad",
    highlight: Value | None = None,
    collapse: Any = False,
    names: dict[Value, str] | None = None,
    tooltips: bool = True,
) -> Any:
    """Draw the graph behind ``root`` and return a ``graphviz.Digraph``.

    * Each Value is a record ``label | data 2.0000 | grad -6.0000``; each operation
      is its own small node. Hover a node in the SVG to see the exact numbers.
    * ``color``: ``'grad'`` (blue for positive, red for negative gradients, darker
      when larger), ``'sign'``, ``'magnitude'`` or ``None``.
    * ``highlight=leaf`` draws every path from ``leaf`` to ``root`` in orange:
      the paths the chain rule sums over.
    * ``collapse=True`` folds each neuron's dot product ``Σ w_i x_i + b`` into one node;
      ``collapse=groups`` (from ``viz.module_groups(model)``) folds each module call, so that
      a GPT's position is a dozen boxes (see ``docs/gpt.md``).
    * ``names``: a display name per Value, used instead of its label; ``tooltips=False``
      leaves out the hover text (the engine's exact ``repr``) of each node.
    * Above ``max_nodes`` Values it raises ``ValueError``; pass ``max_nodes=None``
      to draw anyway.

    In Jupyter the result displays inline; ``.render('graph', cleanup=True)`` writes
    ``graph.svg`` (or the ``format`` chosen: 'png', 'pdf', ...) and nothing else (without
    ``cleanup=True`` the DOT source ``graph`` stays behind); ``.pipe()`` returns the bytes.
    """
    graphviz = require_extra("graphviz", "viz", "draw_dot()")
    if format not in graphviz.FORMATS:
        raise ValueError(f"draw_dot(): unknown format {format!r}; use 'svg', 'png' or 'pdf'")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_dot(): rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if color not in COLOR_MODES:
        raise ValueError(f"draw_dot(): color must be one of {COLOR_MODES}, got {color!r}")
    nodes = collect_nodes(root)
    roots = {root} if isinstance(root, Value) else set(root)
    folded = fold(nodes, roots, collapse)
    drawn = [v for v in nodes if v not in folded.hidden]
    if max_nodes is not None and len(drawn) > max_nodes:
        hint = "" if collapse else ", or collapse=True to fold each neuron into one node"
        raise ValueError(
            f"draw_dot(): the graph has {len(drawn)} Values, more than max_nodes={max_nodes}. "
            f"Draw it anyway with draw_dot(..., max_nodes=None) (rendering may be slow){hint}."
        )
    on_path: set[Value] = set()
    if highlight is not None:
        if highlight not in set(nodes):
            raise ValueError("draw_dot(): highlight= must be a Value the root depends on")
        on_path = _reaching(nodes, highlight)
        for v in folded.inputs:  # a folded node is on the path if a hidden part of it is
            if any(p is highlight for p in folded.params[v]):
                on_path.add(v)

    scale = max((_magnitude(v.grad) for v in drawn if math.isfinite(_magnitude(v.grad))), default=0)
    dot = graphviz.Digraph(
        format=format,
        graph_attr={
            "rankdir": rankdir,
            "bgcolor": "white",
            "nodesep": "0.25",
            "ranksep": "0.45",
            "fontname": _FONT,
        },
        node_attr={"fontname": _FONT, "fontsize": "11", "color": "#495057", "penwidth": "1.1"},
        edge_attr={"color": _EDGE, "arrowsize": "0.6", "penwidth": "1.1"},
    )
    horizontal = rankdir in ("LR", "RL")

    def record(v: Value, head: str) -> str:
        fields = [_escape_record(head), f"data {format_value(v.data)}"]
        if show_grad:
            fields.append(f"grad {format_value(v.grad)}")
        body = " | ".join(fields)
        return "{ " + body + " }" if horizontal else body

    for v in drawn:
        vid = f"v{v._id}"
        lit = v in on_path
        label = names[v] if names is not None and v in names else v.label
        style = {"penwidth": "2.6", "color": _HIGHLIGHT} if lit else {}
        fill = _fill(v.grad, scale, color) if show_grad else "#ffffff"
        if v in folded.inputs:
            n_in = len(folded.inputs[v])
            head = f"{label}  Σ w·x + b ({n_in} in)" if label else f"Σ w·x + b ({n_in} in)"
            if v in folded.labels:
                head = f"{folded.labels[v]}  {label}"
            params = folded.params[v]
            tip = f"{v!r}\nfolded parameters:\n" + "\n".join(repr(p) for p in params)
            dot.node(
                vid,
                record(v, head),
                shape="record",
                style="filled,bold",
                fillcolor=fill,
                tooltip=tip if tooltips else " ",
                id=f"val{v._id}",
                **style,
            )
            for i, x in enumerate(folded.inputs[v]):
                edge_lit = lit and x in on_path
                dot.edge(
                    f"v{x._id}",
                    vid,
                    id=f"c{v._id}_{i}",
                    **({"color": _HIGHLIGHT, "penwidth": "2.4"} if edge_lit else {}),
                )
            continue
        dot.node(
            vid,
            record(v, label),
            shape="Mrecord" if v._a is None else "record",
            style="filled",
            fillcolor=fill,
            tooltip=repr(v) if tooltips else " ",
            id=f"val{v._id}",
            **style,
        )
        if v._op is not None:
            op = f"{vid}op"
            text = op_text(v)
            dot.node(
                op,
                text,
                shape="circle" if len(text) <= 2 else "ellipse",
                width="0.3",
                height="0.3",
                margin="0.02",
                style="filled",
                fillcolor="#fff3bf" if not lit else "#ffd8a8",
                fontsize="12",
                id=f"op{v._id}",
                **style,
            )
            dot.edge(
                op,
                vid,
                id=f"eo{v._id}",
                **({"color": _HIGHLIGHT, "penwidth": "2.4"} if lit else {}),
            )
            for slot, child in enumerate(v._prev):
                if child in folded.hidden and child not in folded.owner:
                    continue  # a folded-away parameter
                edge_lit = lit and child in on_path
                dot.edge(
                    f"v{folded.owner.get(child, child)._id}",
                    op,
                    id=f"e{v._id}_{slot}",
                    **({"color": _HIGHLIGHT, "penwidth": "2.4"} if edge_lit else {}),
                )
    return dot
