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

import itertools
import operator
from collections.abc import Callable
from typing import Any, Union

import numpy as np

from zdravkograd import modes, ops
from zdravkograd import operators as kernels
from zdravkograd.modes import detect_anomaly, enable_grad, is_grad_enabled, no_grad
from zdravkograd.operators import as_number
from zdravkograd.walk import chain_rule

Number = Union[float, np.ndarray]
"""What ``Value.data`` and ``Value.grad`` hold: a float, or a 1-D array for a batch."""

_creation_counter = itertools.count()


def _unary(op: ops.Op) -> Callable[[Value], Value]:
    """The method applying a one-operand row: its kernel, then its local derivative."""
    forward, derivative = op.forward, op.derivative

    def method(self: Value) -> Value:
        x = self._data
        data = forward(x)
        if modes.open_switches:  # inside no_grad, enable_grad or detect_anomaly
            return _result(data, op, self, derivative(x, data))
        out = _new(Value)  # what _result does, inline: see _binary
        out._data, out.grad, out.label, out._id = data, 0.0, "", next(_creation_counter)
        out._op, out._a, out._da, out._b, out._db = op, self, derivative(x, data), None, 0.0
        return out

    method.__name__, method.__doc__ = op.name, f"The op table's row ``ops.{op.name}``."
    return method


def _binary(op: ops.Op) -> Callable[[Value, Any], Value]:
    """The method applying a two-operand row; a plain number becomes a leaf Value.

    It makes the node itself, as ``_result`` does: ``+`` and ``*`` make almost every node
    of a network, and one call less per node is a sixth of the time to build a graph.
    """
    forward, derivative = op.forward, op.derivative

    def method(self: Value, other: Any) -> Value:
        if not isinstance(other, Value):
            other = Value(other)
        x, y = self._data, other._data
        data = forward(x, y)
        da, db = derivative(x, y, data)
        if modes.open_switches:  # inside no_grad, enable_grad or detect_anomaly
            return _result(data, op, self, da, other, db)
        out = _new(Value)
        out._data, out.grad, out.label, out._id = data, 0.0, "", next(_creation_counter)
        out._op, out._a, out._da, out._b, out._db = op, self, da, other, db
        return out

    method.__name__ = op.name
    return method


def _constant(op: ops.Op) -> Callable[[Value, Any], Value]:
    """The method applying a row with a constant parameter (``x ** 2``): k is node data."""
    forward, derivative = op.forward, op.derivative

    def method(self: Value, k: Any) -> Value:
        k = k if type(k) is float else as_number(k)
        x = self._data
        data = forward(x, k)
        out = _result(data, op, self, derivative(x, k, data))
        out._const = k
        return out

    method.__name__ = op.name
    return method


def _variadic(op: ops.Op) -> Callable[..., Value]:
    """The function applying a row with any number of operands (``ops.dot``).

    Such a node keeps its operands as a tuple in ``_a`` and their local derivatives as a
    tuple in ``_da`` (``_b`` stays None): one node, however many operands.
    """
    forward, derivative = op.forward, op.derivative

    def method(*operands: Any) -> Value:
        if modes.tracer is not None:  # the compiler records the chain b + w0*x0 + ..., which
            return forward(*operands)  # it turns into a few NumPy calls (see compiler.py)
        try:
            xs = [v._data for v in operands]
        except AttributeError:  # plain numbers among the operands: leaves
            operands = tuple(v if isinstance(v, Value) else Value(v) for v in operands)
            xs = [v._data for v in operands]
        data = forward(*xs)
        if modes.open_switches:
            return _result(data, op, operands, tuple(derivative(*xs, data)))
        out = _new(Value)
        out._data, out.grad, out.label, out._id = data, 0.0, "", next(_creation_counter)
        out._op, out._da, out._b, out._db = op, derivative(*xs, data), None, 0.0
        out._a = operands  # type: ignore[assignment]  # (a tuple: see the docstring)
        return out

    method.__name__ = op.name
    return method


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
        self._id = next(_creation_counter)  # creation order; see topological_order

    @property
    def data(self) -> Number:
        """The number (or batch). While the compiler traces, a read is recorded as a guard."""
        if modes.tracer is not None:
            modes.tracer.read(self)
        return self._data

    @data.setter
    def data(self, value: Number) -> None:
        self._data = value

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

    __add__, __mul__ = _binary(ops.add), _binary(ops.mul)  # self + other, self * other

    def __pow__(self, k: Any) -> Value:  # self ** k: a plain-number k is data on the node
        if isinstance(k, (Value, np.ndarray)):
            return apply(ops.pow, self, k)
        return _pow_const(self, k)

    exp, log, tanh = _unary(ops.exp), _unary(ops.log), _unary(ops.tanh)
    sigmoid, relu, __abs__ = _unary(ops.sigmoid), _unary(ops.relu), _unary(ops.abs)
    sin, cos = _unary(ops.sin), _unary(ops.cos)

    def sum(self) -> Value:
        """Reduce a batched Value to a float Value (a float Value is returned as is)."""
        return self if type(self._data) is float else _sum(self)

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


def _result(data: Any, op: ops.Op, a: Any, da: Any, b: Any = None, db: Any = 0.0) -> Value:
    """Make the Value an operation returns. Under ``no_grad`` it is a leaf."""
    out = Value.__new__(Value)
    out._data, out.grad, out.label, out._id = data, 0.0, "", next(_creation_counter)
    if not modes.open_switches or modes.mode.grad_enabled:
        out._op, out._a, out._da, out._b, out._db = op, a, da, b, db
    else:
        out._op, out._a, out._da, out._b, out._db = None, None, 0.0, None, 0.0
        if modes.tracer is not None:
            modes.tracer.frozen(out)
    if modes.open_switches and modes.mode.anomaly and not kernels.is_finite(data):
        operands = ", ".join(_describe(p) for p in (a, b) if p is not None)
        raise FloatingPointError(
            f"detect_anomaly: '{op.name}' produced {data} from inputs {operands}"
        )
    return out


_new = Value.__new__
_sum, _pow_const = _unary(ops.sum), _constant(ops.pow_const)
dot = _variadic(ops.dot)
_methods: dict[ops.Op, Callable[..., Value]] = {}  # rows of define_op -> _unary/_binary


def apply(op: ops.Op, *operands: Any) -> Value:
    """Apply a row of the table to Values (numbers become leaves): ``ops.NAME(...)``.

    ``pow`` with a plain-number exponent becomes ``pow_const``, the exponent kept on the
    node as ``_const``: ``x ** 2`` has one operand, and k = 2.0.
    """
    if op.arity == 0:
        return dot(*operands)
    a = operands[0] if isinstance(operands[0], Value) else Value(operands[0])
    if op.arity == 1 and not op.constant:
        return (_methods.get(op) or _methods.setdefault(op, _unary(op)))(a)
    k = operands[1]
    if op is ops.pow and not isinstance(k, (Value, np.ndarray)):
        op = ops.pow_const
    make = _methods.get(op) or _methods.setdefault(
        op, _constant(op) if op.constant else _binary(op)
    )
    return make(a, k)


def _describe(v: Value) -> str:
    return f"{v.label or 'unlabelled'}={v._data}"


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

ops.engine.Value, ops.engine.apply = Value, apply  # the table's link back (see ops.py)
