"""``explain(root, leaf)``: the chain-rule sum behind ``leaf.grad``, written out.

The multivariable chain rule says that d root / d leaf is a sum over every
path from ``leaf`` to ``root`` of the product of the local derivatives along
the path:

    d root / d leaf  =  Σ over paths p from leaf to root of  Π over edges (u → v) of p of  d v / d u

The number of paths can grow exponentially with depth (``x = x * x`` forty
times has 2^40 of them), so ``explain`` first *counts* them (one pass of
dynamic programming over the graph) and lists them only when there are at
most ``max_paths``. Otherwise it groups them by the first operation ``leaf``
feeds: each group is ``local derivative × d root / d consumer``, the gradient
of the consumer taken from a recorded backward pass. Either way it never
enumerates more than ``max_paths`` paths, so it never hangs.

>>> from zdravkograd import Value
>>> a, b, c = Value(2.0, "a"), Value(-3.0, "b"), Value(10.0, "c")
>>> e = a * b; e.label = "e"
>>> L = (e + c) * a; L.label = "L"
>>> ex = explain(L, a)
>>> len(ex.paths), ex.total
(2, -2.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from zdravkograd.engine import Number, Value
from zdravkograd.trace import (
    BackwardTrace,
    format_number,
    is_zero,
    local_formula,
    trace_backward,
)
from zdravkograd.viz.graph import op_text

__all__ = ["explain", "Explanation", "Path", "PathGroup"]


@dataclass(frozen=True, eq=False)
class Path:
    """One path ``leaf → ... → root`` and the product of the local derivatives on it."""

    nodes: tuple[Value, ...]  # leaf first, root last
    slots: tuple[int, ...]  # slots[i]: nodes[i] is operand number slots[i] of nodes[i + 1]
    locals: tuple[Number, ...]  # locals[i] = d nodes[i + 1] / d nodes[i]
    product: Number  # seed × the product of ``locals`` (multiplied root-side first)


@dataclass(frozen=True, eq=False)
class PathGroup:
    """All the paths that leave ``leaf`` through one edge ``leaf → via``."""

    via: Value  # the node that uses the leaf
    slot: int
    local: Number  # d via / d leaf
    count: int  # how many paths from leaf to root go through this edge
    downstream: Number  # d root / d via: the sum over those paths after the first edge
    total: Number  # local × downstream


class Explanation:
    """The chain-rule sum for d root / d leaf. ``str()`` shows it; ``.total`` is its value.

    * ``.paths``: every path with its product (empty when there were too many to list).
    * ``.groups``: the paths grouped by the leaf's first edge (always filled in).
    * ``.count``: the number of paths, ``.grouped``: True when they were not listed.
    * ``.total``: the sum, equal to the gradient ``root.backward()`` gives ``leaf``.
    """

    def __init__(
        self,
        root: Value,
        leaf: Value,
        paths: list[Path],
        groups: list[PathGroup],
        count: int,
        total: Number,
        trace: BackwardTrace,
        max_paths: int,
    ) -> None:
        self.root, self.leaf = root, leaf
        self.paths, self.groups = paths, groups
        self.count, self.total = count, total
        self.grouped = count > max_paths
        self.trace = trace
        self.max_paths = max_paths
        self.summed = isinstance(leaf.data, float) and isinstance(total, np.ndarray)
        if self.summed:
            self.total = float(np.sum(total))

    def __repr__(self) -> str:
        n = self.trace.refs
        return f"<Explanation d{n[self.root]}/d{n[self.leaf]} = {self.total!r}, {self.count} paths>"

    def __str__(self) -> str:
        n = self.trace.refs
        r, x = n[self.root], n.get(self.leaf, self.leaf.label or "leaf")
        plural = "path" if self.count == 1 else "paths"
        if self.count == 0:
            return f"∂{r}/∂{x} = 0: {x} is not used on the way to {r} (no path leads there)."
        seed = self.trace.seed
        seed_is_one = is_zero(np.asarray(seed) - 1.0)
        seed_note = "" if seed_is_one else f" (times the seed {format_number(seed)})"
        lines = [
            f"∂{r}/∂{x} = the sum over {self.count:,} {plural} from {x} to {r} of the "
            f"product of the local derivatives along each path{seed_note}:",
            "",
        ]
        if not self.grouped:
            for i, p in enumerate(self.paths, start=1):
                route = " → ".join(n[v] for v in p.nodes)
                lines.append(f"  path {i}: {route}")
                if not p.locals:
                    lines.append(f"      (the root itself) = {format_number(p.product)}")
                    continue
                syms = [f"∂{n[p.nodes[k + 1]]}/∂{n[p.nodes[k]]}" for k in range(len(p.locals))]
                nums = [format_number(v) for v in p.locals]
                if not seed_is_one:
                    syms.append("seed")
                    nums.append(format_number(seed))
                lines.append(f"      {' × '.join(syms)}")
                product = "" if len(nums) == 1 else f" = {format_number(p.product)}"
                lines.append(f"      = {' × '.join(nums)}{product}")
        else:
            lines.append(
                f"  That is too many paths to list (more than max_paths={self.max_paths}), so "
                f"they are grouped by the first operation {x} feeds:"
            )
            lines.append(
                f"  each group is ∂(that node)/∂{x} × ∂{r}/∂(that node), where "
                f"∂{r}/∂(that node) sums all of the group's paths at once."
            )
            shown = self.groups[:20]
            for gr in shown:
                v = n[gr.via]
                sym = local_formula(gr.via, gr.slot, n)
                lines.append(
                    f"  via {v} ({op_text(gr.via)}), {gr.count:,} "
                    f"{'path' if gr.count == 1 else 'paths'}: ∂{v}/∂{x} × ∂{r}/∂{v} = "
                    f"{sym} × {v}.grad = {format_number(gr.local)} × "
                    f"{format_number(gr.downstream)} = {format_number(gr.total)}"
                )
            if len(self.groups) > len(shown):
                lines.append(f"  ... and {len(self.groups) - len(shown)} more groups")
        lines.append("")
        if self.summed:
            lines.append(
                f"  {x} is one number used by a whole batch, so its gradient is the sum over "
                "the batch of the per-sample sums above."
            )
        lines.append(f"  total: ∂{r}/∂{x} = {format_number(self.total)}")
        backward = self.groups_total
        lines.append(
            f"  (backward() gives {x}.grad = {format_number(backward)} from a zeroed start)"
        )
        return "\n".join(lines)

    @property
    def groups_total(self) -> Number:
        """The same sum, added up in the engine's order: what ``backward()`` computes."""
        return self.trace.grad(self.leaf)


def explain(root: Value, leaf: Value, *, max_paths: int = 24, gradient: Any = None) -> Explanation:
    """Write d root / d leaf as the chain rule's sum over paths. See the module docstring.

    No ``.grad`` is changed. ``max_paths`` is the most paths listed one by one;
    above it the paths are counted and grouped instead.
    """
    if not isinstance(root, Value) or not isinstance(leaf, Value):
        raise TypeError(
            "explain(root, leaf) takes two Values, got "
            f"{type(root).__name__} and {type(leaf).__name__}"
        )
    if max_paths < 0:
        raise ValueError(f"explain(): max_paths must be >= 0, got {max_paths}")
    trace = trace_backward(root, gradient, apply=False, zero_leaves=True)
    order = trace.order  # root first, each node before its operands
    if leaf not in trace.grads:
        return Explanation(root, leaf, [], [], 0, 0.0, trace, max_paths)

    # Count the paths root -> node for every node (dynamic programming, root first).
    from_root: dict[Value, int] = {root: 1}
    for node in order:
        k = from_root.get(node, 0)
        if k:
            for child in node._prev:
                from_root[child] = from_root.get(child, 0) + k
    count = from_root.get(leaf, 0)

    # The groups: one per edge leaf -> consumer, in the engine's order.
    groups = []
    for node in order:
        for slot, (child, local) in enumerate(zip(node._prev, node._local)):
            if child is leaf:
                g = trace.grad(node)
                groups.append(PathGroup(node, slot, local, from_root[node], g, local * g))
    if leaf is root:
        total: Number = trace.seed
    else:
        total = 0.0
        for gr in groups:
            total = total + gr.total

    paths: list[Path] = []
    if count <= max_paths:
        paths = _enumerate_paths(root, leaf, order, trace.seed)
        if leaf is not root:
            total = 0.0
            for p in paths:
                total = total + p.product
    return Explanation(root, leaf, paths, groups, count, total, trace, max_paths)


def _enumerate_paths(root: Value, leaf: Value, order: list[Value], seed: Number) -> list[Path]:
    """Every path from ``root`` down to ``leaf`` (only called when there are few). No recursion."""
    reach = {leaf}
    for node in reversed(order):  # operands before the nodes that use them
        if any(c in reach for c in node._prev):
            reach.add(node)
    paths: list[Path] = []
    # stack of (node, nodes so far root-first, slots, locals, running product)
    stack: list[tuple[Value, list[Value], list[int], list[Any], Any]] = [
        (root, [root], [], [], seed)
    ]
    while stack:
        node, nodes, slots, locs, prod = stack.pop()
        if node is leaf:
            paths.append(
                Path(tuple(reversed(nodes)), tuple(reversed(slots)), tuple(reversed(locs)), prod)
            )
            continue
        children = list(enumerate(zip(node._prev, node._local)))
        for slot, (child, local) in reversed(children):  # pushed reversed: popped in order
            if child in reach:
                stack.append((child, nodes + [child], slots + [slot], locs + [local], local * prod))
    return paths
