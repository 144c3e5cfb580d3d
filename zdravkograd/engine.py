"""The autograd engine: a ``Value`` holds one number, remembers how it was made,
and back-propagates gradients through the graph of Values that produced it.

Every operation is a row of the table in :mod:`zdravkograd.ops`: a forward kernel and
the local derivatives ``d out / d operand``. Applying a row does two things at once:
it computes ``out.data``, and it stores the local derivatives on ``out`` as plain numbers.

``backward()`` then applies the chain rule: visiting the nodes from the output back
towards the inputs, each node passes ``local * node.grad`` to every operand. A node links
only *to its operands* and stores numbers, no closures: the graph has no reference
cycles, so Python frees a dropped graph at once.

``data`` is usually a ``float``. It may also be a 1-D NumPy array holding one quantity
for a whole batch of samples: every operation then works element-wise, and a float that
meets a batch receives the *sum* of the batch's gradients (see ``docs/speed.md``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, Union

import numpy as np

from zdravkograd import modes, nodes, ops
from zdravkograd import operators as kernels
from zdravkograd.modes import detect_anomaly, enable_grad, is_grad_enabled, no_grad
from zdravkograd.nodes import apply, binary, creation_counter, unary
from zdravkograd.operators import as_number
from zdravkograd.walk import chain_rule

Number = Union[float, np.ndarray]
"""What ``Value.data`` and ``Value.grad`` hold: a float, or a 1-D array for a batch."""


def _comparison(compare: Callable[[Any, Any], Any], symbol: str) -> Callable[[Value, Any], Any]:
    def method(self: Value, other: Any) -> Any:
        if not isinstance(other, (Value, *kernels.REAL_TYPES, np.ndarray)):
            kind = type(other).__name__
            raise TypeError(f"a Value compares with a Value or a real number, got {kind}")
        result = compare(self._data, other._data if isinstance(other, Value) else other)
        if modes.tracer is not None:
            modes.tracer.compared(symbol, self, other, result)
        return result

    return method


class Value:
    """One scalar (or one column of a batch) in a computation graph.

    >>> a = Value(2.0); b = Value(-3.0)
    >>> L = a * b + 1
    >>> L.backward()
    >>> a.grad, b.grad
    (-3.0, 2.0)
    """

    # At most two operands `_a`, `_b`, with local derivatives `_da`, `_db`; `_op` is the
    # node's row of the op table (None for a leaf), `_const` the row's constant if it takes
    # one (the 2 of x ** 2; set only then). Slots keep a node to one small allocation.
    __slots__ = ("_data", "grad", "label", "_op", "_a", "_b", "_da", "_db", "_const", "_id",
                 "__weakref__")  # fmt: skip
    _const: float  # only on nodes of a row that takes a constant
    __array_ufunc__ = None  # ndarray * Value -> Value.__rmul__, never an object array

    def __init__(self, data: Any, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value() takes a str label, got {type(label).__name__}: {label!r:.40}")
        self._data: Number = as_number(data)
        self.grad: Number = 0.0
        self.label = label
        self._op: ops.Op | None = None
        self._a: Value | None = None
        self._b: Value | None = None
        self._da = self._db = 0.0
        self._id = next(creation_counter)  # creation order; see topological_order

    @property
    def data(self) -> Number:
        """The number (or batch). While the compiler traces, a read is recorded as a guard."""
        if modes.tracer is not None:
            modes.tracer.read(self)
        return self._data

    @data.setter
    def data(self, value: Any) -> None:  # p.data -= lr * p.grad; checked as Value(value) is
        self._data = value if type(value) is float else as_number(value)

    @property
    def _prev(self) -> tuple[Value, ...]:
        """The operands, in operand order; () for a leaf."""
        a = self._a
        if a is None or type(a) is tuple:
            return a or ()
        return (a,) if self._b is None else (a, self._b)

    @property
    def _local(self) -> tuple[Any, ...]:
        """The local derivatives d self / d operand, one per operand in ``_prev``."""
        a = self._a
        if a is None or type(a) is tuple:
            return tuple(self._da) if a else ()
        return (self._da,) if self._b is None else (self._da, self._db)

    # ------------------------------------------ primitives: rows of zdravkograd.ops

    __add__, __mul__ = binary(ops.add), binary(ops.mul)  # self + other, self * other

    def __pow__(self, k: Any) -> Value:  # self ** k: a plain-number k is data on the node
        if isinstance(k, (Value, np.ndarray)):
            return apply(ops.pow, self, k)
        return nodes.pow_const(self, k)

    exp, log, tanh = unary(ops.exp), unary(ops.log), unary(ops.tanh)
    sigmoid, relu, __abs__ = unary(ops.sigmoid), unary(ops.relu), unary(ops.abs)
    sin, cos = unary(ops.sin), unary(ops.cos)

    def sum(self) -> Value:
        """Reduce a batched Value to a float Value (a float Value is returned as is)."""
        return self if type(self._data) is float else nodes.sum_batch(self)

    # ----------------------------------------------------- derived from the above

    def __neg__(self) -> Value:  # -self
        return self * -1.0

    def __sub__(self, other: Any) -> Value:  # self - other
        return self + (-(other if isinstance(other, Value) else as_number(other)))

    def __rsub__(self, other: Any) -> Value:  # other - self
        return (-self) + other

    def __truediv__(self, other: Any) -> Value:  # self / other
        return self * (other if isinstance(other, Value) else Value(other)) ** -1.0

    def __rtruediv__(self, other: Any) -> Value:  # other / self
        return self**-1.0 * other

    def __radd__(self, other: Any) -> Value:  # other + self
        return self + other

    def __rmul__(self, other: Any) -> Value:  # other * self
        return self * other

    def __rpow__(self, other: Any) -> Value:  # other ** self
        return Value(other) ** self

    def sqrt(self) -> Value:
        """The square root, recorded as ``self ** 0.5``. sqrt(-1) = nan."""
        return self**0.5

    def mean(self) -> Value:
        """The batch mean of a batched Value (a float Value is returned as is)."""
        n = None if type(self._data) is float else len(self._data)  # type: ignore[arg-type]
        return self if n is None else self.sum() * (1.0 / n if n else kernels.nan)

    # Comparisons compare the data and return a bool, so that `if score > 0:` works.
    # `==` and `hash` stay identity: Values live in sets and dicts.
    __lt__, __le__ = _comparison(operator.lt, "<"), _comparison(operator.le, "<=")
    __gt__, __ge__ = _comparison(operator.gt, ">"), _comparison(operator.ge, ">=")
    __hash__ = object.__hash__

    def __float__(self) -> float:
        result = float(self._data)
        if modes.tracer is not None:
            modes.tracer.converted(self, result)
        return result

    def __repr__(self) -> str:
        return f"Value(data={self._data}, grad={self.grad})"

    def detach(self) -> Value:
        """A new leaf holding the same data: no graph behind it."""
        new = Value(self._data, self.label)
        if modes.tracer is not None:
            modes.tracer.detached(new, self)
        return new

    @property
    def is_leaf(self) -> bool:
        """True for a Value made by the user (or under ``no_grad``), not by an operation."""
        return self._a is None

    def backward(self, gradient: Any = None) -> None:
        """Compute d(self)/d(node) for every node that ``self`` depends on.

        ``self.grad`` is seeded with ``gradient`` (default 1.0; for a batched Value also
        an array with one number per sample). Then, from ``self`` towards the leaves,
        each node adds ``local derivative * node.grad`` to each operand's ``grad``.
        Leaves accumulate over calls, as in PyTorch (zero them with
        ``Module.zero_grad()``); intermediate nodes restart from zero on each call.
        """
        seed = 1.0 if gradient is None else kernels.as_seed(gradient, self._data)
        order = topological_order(self)
        for node in order:
            if node._a is not None:
                node.grad = 0.0  # intermediate: this pass's gradient only
        self.grad = self.grad + seed if self._a is None else seed
        if modes.mode.anomaly or any(type(node._data) is not float for node in order):
            return chain_rule(order, None, check=modes.mode.anomaly)  # with the batch sums
        # The one hand-tuned copy of the walk, for all-float graphs: chain_rule's
        # arithmetic without its dictionary, hooks and batch checks (twice as fast).
        for node in order:
            a = node._a
            if a is not None:
                g = node.grad
                if type(a) is tuple:  # a node with many operands (ops.dot)
                    for child, local in zip(a, node._da):
                        child.grad += local * g
                    continue
                a.grad += node._da * g
                b = node._b
                if b is not None:
                    b.grad += node._db * g


_creation = operator.attrgetter("_id")


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, ``root`` first, each node before its operands.

    A node is always created after its operands, so sorting the reachable nodes by
    creation number, newest first, is a topological order. An explicit stack finds them:
    no recursion, so a graph a million nodes deep is fine.
    """
    seen = {root}
    stack = [root]
    while stack:
        node = stack.pop()
        a = node._a
        for child in a if type(a) is tuple else (a, node._b):
            if child is not None and child not in seen:
                seen.add(child)
                stack.append(child)
    return sorted(seen, key=_creation, reverse=True)


__all__ = ["Value", "no_grad", "enable_grad", "detect_anomaly", "is_grad_enabled"]
__all__ += ["topological_order", "chain_rule", "apply", "as_number"]

nodes.Value = Value  # (nodes.py makes Values; see there)
ops.engine.Value, ops.engine.apply = Value, apply  # the table's link back (see ops.py)
