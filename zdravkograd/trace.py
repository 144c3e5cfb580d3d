"""A recorded backward pass: every chain-rule step, in the engine's own order.

``trace_backward(root)`` does what ``root.backward()`` does, and writes down
each step as it goes. For every node (root first, each node before its
operands, exactly the order of ``engine.topological_order``) it records the
node's gradient and, for each operand, the update

    operand.grad += (d node / d operand) × node.grad

with the numbers before and after. The same record feeds ``viz.explain``, the
step-by-step viewer ``viz.backprop_html`` and the notebooks, so every number a
learner sees is the number the engine computed.

>>> from zdravkograd import Value
>>> a, b = Value(2.0, "a"), Value(-3.0, "b")
>>> L = a * b
>>> L.label = "L"
>>> t = trace_backward(L)
>>> print(t)
backward pass from L (seed 1.0): 1 step
  1. L.grad = 1.0
       a.grad += b.data × L.grad = -3.0 × 1.0 = -3.0
       b.grad += a.data × L.grad = 2.0 × 1.0 = 2.0
>>> a.grad, b.grad
(-3.0, 2.0)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zdravkograd.engine import Number, Value, chain_rule, topological_order
from zdravkograd.operators import as_seed
from zdravkograd.symbolic import Sym, text

__all__ = [
    "BackwardTrace",
    "Step",
    "Update",
    "trace_backward",
    "format_number",
    "node_names",
    "local_formula",
    "is_zero",
]


@dataclass(frozen=True, eq=False)
class Update:
    """One chain-rule update: ``operand.grad += local * upstream``."""

    operand: Value
    slot: int  # the operand's position in the node's operands (``_prev``): 0, 1, ...
    local: Number  # d node / d operand, computed in the forward pass
    upstream: Number  # the node's gradient d root / d node
    contribution: Number  # local * upstream (summed when a float meets a batch)
    before: Number  # the operand's gradient before this update
    after: Number  # ... and after it


@dataclass(frozen=True, eq=False)
class Step:
    """A node passing its gradient to its operands (leaves pass nothing and get no step)."""

    index: int  # position in ``BackwardTrace.steps``
    node: Value
    grad: Number  # d root / d node, complete when the step runs
    updates: tuple[Update, ...]


@dataclass(eq=False)
class BackwardTrace:
    """The record of one backward pass. ``grads[node]`` is each node's final gradient."""

    root: Value
    seed: Number
    order: list[Value]  # every node, root first (engine.topological_order)
    steps: list[Step]
    grads: dict[Value, Number] = field(repr=False)
    names: dict[Value, str] = field(repr=False)  # display names (``node_names``)
    refs: dict[Value, str] = field(repr=False)  # the same, parenthesised inside formulas

    def grad(self, node: Value) -> Number:
        """The gradient this pass gives ``node`` (0.0 for a node outside the graph)."""
        return self.grads.get(node, 0.0)

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def describe(self, update: Update, node: Value, names: dict[Value, str] | None = None) -> str:
        """``a.grad += b.data × out.grad = -3.0 × -2.0 = 6.0`` for one update.

        ``names`` replaces the trace's own names (``refs``) in the formula.
        """
        n = self.refs if names is None else names
        sym = local_formula(node, update.slot, n)
        return (
            f"{n[update.operand]}.grad += {sym} × {n[node]}.grad = "
            f"{format_number(update.local)} × {format_number(update.upstream)} = "
            f"{format_number(update.contribution)}"
        )

    def __str__(self) -> str:
        n = self.refs
        lines = [
            f"backward pass from {n[self.root]} (seed {format_number(self.seed)}): "
            f"{len(self.steps)} step{'s' if len(self.steps) != 1 else ''}"
        ]
        for step in self.steps:
            lines.append(f"  {step.index + 1}. {n[step.node]}.grad = {format_number(step.grad)}")
            for u in step.updates:
                line = "       " + self.describe(u, step.node)
                if not is_zero(u.before):
                    line += f"  ({n[u.operand]}.grad: {format_number(u.before)} → "
                    line += f"{format_number(u.after)})"
                lines.append(line)
        return "\n".join(lines)


def trace_backward(
    root: Value, gradient: Any = None, *, apply: bool = True, zero_leaves: bool = False
) -> BackwardTrace:
    """Run ``root.backward(gradient)`` step by step and return the record of it.

    The gradients start as the engine starts them: intermediate nodes from 0,
    leaves from their current ``.grad`` (they accumulate across passes), so the
    recorded numbers are bit for bit the ones ``backward()`` produces.

    * ``apply=True`` writes the gradients into ``.grad`` as ``backward()`` would;
      ``apply=False`` leaves every ``.grad`` untouched (a dry run).
    * ``zero_leaves=True`` starts the leaves from 0 too, as after ``zero_grad()``.
    """
    if not isinstance(root, Value):
        raise TypeError(f"trace_backward() takes a Value, got {type(root).__name__}")
    seed: Number = 1.0 if gradient is None else as_seed(gradient, root._data)  # as backward
    order = topological_order(root)
    grads: dict[Value, Number] = {}
    for node in order:
        grads[node] = node.grad if node._a is None and not zero_leaves else 0.0
    grads[root] = grads[root] + seed if root._a is None else seed
    steps: list[Step] = []
    updates: list[Update] = []
    current: list[Any] = [None, None]  # the node whose updates are being recorded, its grad

    def close_step() -> None:
        if updates:
            steps.append(Step(len(steps), current[0], current[1], tuple(updates)))
            updates.clear()

    def record(node: Value, slot: int, child: Value, local: Any, g: Any, d: Any, *ba: Any) -> None:
        if node is not current[0]:
            close_step()
            current[:] = [node, g]
        updates.append(Update(child, slot, local, g, d, ba[0], ba[1]))

    chain_rule(order, grads, record=record)  # the engine's own walk, recording every update
    close_step()
    if apply:
        for node in order:
            node.grad = grads[node]
    names = node_names(order)
    refs = {v: formula_name(name) for v, name in names.items()}
    return BackwardTrace(root, seed, order, steps, grads, names, refs)


# ------------------------------------------------------------------ formatting


def is_zero(x: Number) -> bool:
    return bool(np.all(np.asarray(x) == 0))


def format_number(x: Any) -> str:
    """A float as Python prints it when that is short (``-3.0``, ``0.5``), else 6 digits
    (``0.707107``).

    A batch (1-D array) shows its first values: ``[1.0, 2.0, 3.0, … (100)]``.
    """
    if isinstance(x, np.ndarray):
        head = ", ".join(format_number(v) for v in x[:3])
        return f"[{head}, … ({len(x)})]" if len(x) > 3 else f"[{head}]"
    x = float(x)
    r = repr(x)
    if len(r) <= 9:
        return r
    r = f"{x:.6g}"  # keep the point, so that 0.9999999999999998 shows as 1.0, not 1
    return r if any(c in r for c in ".ein") else r + ".0"


def node_names(order: list[Value]) -> dict[Value, str]:
    """A display name per node: its label if unique, else ``v1, v2, ...`` in creation order.

    A label used by several nodes gets its creation number as a suffix (``w#3``).
    """
    by_creation = sorted(order, key=lambda v: v._id)
    counts: dict[str, int] = {}
    for v in by_creation:
        if v.label:
            counts[v.label] = counts.get(v.label, 0) + 1
    names = {}
    for i, v in enumerate(by_creation, start=1):
        if not v.label:
            names[v] = f"v{i}"
        elif counts[v.label] > 1:
            names[v] = f"{v.label}#{i}"
        else:
            names[v] = v.label
    return names


def formula_name(name: str) -> str:
    """``name`` as written inside a formula: ``(x1*w1 + x2*w2)`` needs its parentheses."""
    plain = "".join(c for c in name if c not in "_#.[]")
    return name if plain.isalnum() else f"({name})"


def local_formula(node: Value, slot: int, names: dict[Value, str]) -> str:
    """The local derivative d node / d operand as a formula in the nodes' names.

    It is the op table's rule (:mod:`zdravkograd.ops`) evaluated on symbols: for
    ``out = a * b``, slot 0 gives ``b.data``; for ``out = tanh(x)``, ``(1 − out.data)·(1 +
    out.data)``.
    """
    op = node._op
    if op is None:
        raise ValueError("local_formula: a leaf has no local derivative")
    prev = node._prev
    keys = op.operand_names(len(prev))
    shown = {key: f"{names.get(v, key)}.data" for key, v in zip(keys, prev)}
    shown["out"] = f"{names.get(node, 'out')}.data"
    const = node._const if op.constant else None
    local = op.locals(tuple(Sym.var(key) for key in keys), Sym.var("out"), const)[slot]
    return text(local, shown)
