"""The chain rule, once: the walk behind ``backward()``, ``gradients()`` and ``trace_backward``.

``Value.backward()`` on an all-float graph runs its own hand-tuned copy of the same loop
(see ``engine.py``); every other pass comes here, with hooks for what it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from zdravkograd import operators as kernels
from zdravkograd import ops


def _describe(v: Any) -> str:
    return f"{v.label or 'unlabelled'}={v._data}"


def chain_rule(
    order: list[Any],
    grads: dict[Any, Any] | None,
    *,
    locals_of: Callable[[Any], tuple[Any, ...]] | None = None,
    through: set[Any] | None = None,
    check: bool = False,
    record: Callable[..., None] | None = None,
) -> None:
    """The chain rule over ``order`` (each node before its operands), kept in ``grads``.

    Each node that has a gradient in ``grads`` adds ``local * gradient`` to its operands'
    entries (a first contribution is stored as is); a float operand used by a batch
    receives the batch's sum. ``grads=None`` keeps the gradients in the nodes' ``.grad``
    instead, as ``Value.backward()`` wants. The hooks:

    * ``locals_of(node)``: the local derivatives (default: the numbers stored on the
      node; ``gradients(create_graph=True)`` evaluates the table's rule on Values);
    * ``through``: only these nodes pass or receive gradients;
    * ``check``: raise at the first NaN or inf contribution (``detect_anomaly``);
    * ``record(node, slot, operand, local, grad, contribution, before, after)``, called
      after each update (``trace_backward``).
    """

    def update(node: Any, slot: int, child: Any, d_local: Any, g: Any) -> None:
        d = d_local * g
        if type(child._data) is float and type(d) is not float:  # a float used by a batch
            if type(d) is np.ndarray:
                d = float(d.sum())  # receives the batch's sum
            elif type(d._data) is not float:
                d = d.sum()  # (a Value holding a batch, in a higher-order pass)
        if check and not kernels.is_finite(ops.data(d)):
            raise FloatingPointError(
                f"detect_anomaly: backward through {ops.describe(node)} (node "
                f"{_describe(node)}, grad {g}) gave a non-finite gradient {d} for operand "
                f"{_describe(child)} (local derivative {d_local})"
            )
        if grads is None:  # backward(): straight into .grad
            child.grad += d
            return
        before = grads.get(child)
        grads[child] = after = d if before is None else before + d
        if record is not None:
            record(node, slot, child, d_local, g, d, before, after)

    for node in order:
        a = node._a
        if a is None:
            continue
        g = node.grad if grads is None else grads.get(node)
        if g is None or (through is not None and node not in through):
            continue
        terms: Iterable[tuple[Any, Any]]
        if locals_of is not None:
            terms = zip(node._prev, locals_of(node))
        elif type(a) is tuple:  # a node with many operands (ops.dot)
            terms = zip(a, node._da)
        else:
            b = node._b
            terms = ((a, node._da),) if b is None else ((a, node._da), (b, node._db))
        for slot, (child, d_local) in enumerate(terms):
            if through is None or child in through:
                update(node, slot, child, d_local, g)


__all__ = ["chain_rule"]
