"""The autograd engine: a ``Value`` holds one number, remembers how it was made,
and back-propagates gradients through the graph of Values that produced it.

Every operation below does two things at once:

* the **forward** computation, ``out.data``, and
* the **local derivatives** ``d out / d operand``, one per operand, stored on
  ``out`` in ``out._local`` (plain numbers, no closures).

``backward()`` then applies the chain rule: visiting the nodes from the output
back towards the inputs, each node passes ``local * node.grad`` to every
operand. Because a node stores numbers and links only *to its operands*, the
graph has no reference cycles, so Python frees a dropped graph at once.

``data`` is usually a ``float``. It may also be a 1-D NumPy array holding one
quantity for a whole batch of samples: every operation then works
element-wise, and a float that meets a batch receives the *sum* of the batch's
gradients (see ``docs/speed.md``).
"""

from __future__ import annotations

import itertools
import operator
import threading
from contextlib import ContextDecorator
from typing import Any, Union

import numpy as np

from zdravkograd import operators as ops

Number = Union[float, np.ndarray]
"""What ``Value.data`` and ``Value.grad`` hold: a float, or a 1-D array for a batch."""


class _Mode(threading.local):
    """Per-thread switches: is the graph being recorded, are we hunting NaNs."""

    grad_enabled: bool = True
    anomaly: bool = False

    def __init__(self) -> None:
        self.saved: list[bool] = []  # the values the open `with` blocks will restore


_mode = _Mode()
# How many no_grad / enable_grad / detect_anomaly blocks are open, in all threads.
# While it is 0, every thread has the default mode and `_result` need not read
# the thread-local `_mode` (a read that costs several times a global's).
_open_switches = 0
_switch_lock = threading.Lock()
_creation_counter = itertools.count()
_REAL_TYPES = (int, float, np.integer, np.floating, np.bool_)  # bool is an int


def _as_data(data: Any) -> Number:
    """Check that ``data`` is a real number (or a 1-D real array) and store it as float64."""
    if type(data) is float:
        return data
    if isinstance(data, _REAL_TYPES):
        try:
            return float(data)
        except OverflowError:  # an int beyond 1.8e308
            raise OverflowError(
                f"Value() got an int too large for a float: it has {len(str(abs(data)))} digits"
            ) from None
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        if data.ndim == 0:
            return float(data)
        if data.ndim == 1:
            return data.astype(np.float64, copy=False)
        raise TypeError(
            f"Value() takes a 1-D array for a batch, got an array of shape {data.shape}"
        )
    raise TypeError(
        f"Value() takes a real number (int, float, bool or a NumPy real scalar) "
        f"or a 1-D NumPy array of them, got {type(data).__name__}: {data!r:.60}"
    )


class Value:
    """One scalar (or one column of a batch) in a computation graph.

    >>> a = Value(2.0); b = Value(-3.0)
    >>> L = a * b + 1
    >>> L.backward()
    >>> a.grad, b.grad
    (-3.0, 2.0)
    """

    # A node has at most two operands, `_a` and `_b`, each with its local
    # derivative `_da`, `_db`. Plain slots instead of tuples keep a node to one
    # allocation, which is what keeps Python's garbage collector quiet.
    __slots__ = ("data", "grad", "label", "_op", "_a", "_b", "_da", "_db", "_id", "__weakref__")
    __array_ufunc__ = None  # ndarray * Value -> Value.__rmul__, never an object array

    def __init__(self, data: Any, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value() takes a str label, got {type(label).__name__}: {label!r:.40}")
        self.data: Number = _as_data(data)
        self.grad: Number = 0.0
        self.label = label
        self._op = ""  # '+', '*', 'exp', ...; '' for a leaf
        self._a: Value | None = None  # operands (None: absent)
        self._b: Value | None = None
        self._da = self._db = 0.0  # d self / d _a, d self / d _b
        self._id = next(_creation_counter)  # creation order; see topological_order

    @property
    def _prev(self) -> tuple[Value, ...]:
        """The operands, in operand order; () for a leaf."""
        if self._a is None:
            return ()
        return (self._a,) if self._b is None else (self._a, self._b)

    @property
    def _local(self) -> tuple[Any, ...]:
        """The local derivatives d self / d operand, one per operand in ``_prev``."""
        if self._a is None:
            return ()
        return (self._da,) if self._b is None else (self._da, self._db)

    # ---------------------------------------------------------------- primitives
    # Each primitive returns _result(data, op, operand, its local derivative, ...).

    def __add__(self, other: Any) -> Value:  # self + other
        other = other if isinstance(other, Value) else Value(other)
        return _result(self.data + other.data, "+", self, 1.0, other, 1.0)

    def __mul__(self, other: Any) -> Value:  # self * other
        other = other if isinstance(other, Value) else Value(other)
        x, y = self.data, other.data
        return _result(x * y, "*", self, y, other, x)  # d/dself = other, d/dother = self

    def __pow__(self, k: Any) -> Value:  # self ** k
        x = self.data
        if isinstance(k, (Value, np.ndarray)):
            k = k if isinstance(k, Value) else Value(k)
            out = ops.power(x, k.data)
            dx = ops.power_base_grad(x, k.data)  # k x^(k-1)
            dk = ops.power_exponent_grad(x, k.data, out)  # x^k ln x
            return _result(out, "**", self, dx, k, dk)
        k = _as_data(k)  # a constant exponent is part of the op: '**2', '**-1'
        op = "**" + _format_exponent(k)
        if k == 0.5:  # as PyTorch, x ** 0.5 is sqrt(x): (-0.0) ** 0.5 = -0.0, (-inf) ** 0.5 = nan
            out = ops.sqrt(x)
            return _result(out, op, self, 0.5 * ops.power(out, -1.0))  # 1 / (2 sqrt(x))
        return _result(ops.power(x, k), op, self, ops.power_base_grad(x, k))

    def exp(self) -> Value:
        """e^x; d/dx = e^x. exp(1000) = inf."""
        out = ops.exp(self.data)
        return _result(out, "exp", self, out)  # d/dx e^x = e^x

    def log(self) -> Value:
        """The natural logarithm; d/dx = 1/x. log(0) = -inf, log(-1) = nan."""
        x = self.data
        return _result(ops.log(x), "log", self, ops.power(x, -1.0))  # 1/x

    def tanh(self) -> Value:
        """tanh x; d/dx = 1 - tanh^2 x. Finite for any x (tanh(±1000) = ±1, gradient 0)."""
        t = ops.tanh(self.data)
        return _result(t, "tanh", self, (1.0 - t) * (1.0 + t))  # 1 - t^2, without cancellation

    def sigmoid(self) -> Value:
        """s(x) = 1 / (1 + e^-x); d/dx = s (1 - s). Never overflows."""
        s = ops.sigmoid(self.data)
        return _result(s, "sigmoid", self, s * (1.0 - s))  # s (1 - s)

    def relu(self) -> Value:
        """max(x, 0); d/dx = 1 for x > 0, else 0 (0 at x = 0, as in PyTorch)."""
        x = self.data
        return _result(ops.relu(x), "relu", self, ops.step(x))  # 1 if x > 0 else 0

    def sin(self) -> Value:
        """sin x; d/dx = cos x."""
        x = self.data
        return _result(ops.sin(x), "sin", self, ops.cos(x))

    def cos(self) -> Value:
        """cos x; d/dx = -sin x."""
        x = self.data
        return _result(ops.cos(x), "cos", self, -ops.sin(x))

    def __abs__(self) -> Value:  # abs(self)
        x = self.data
        return _result(ops.fabs(x), "abs", self, ops.sign(x))

    def sum(self) -> Value:
        """Reduce a batched Value to a float Value (a float Value is returned as is)."""
        x = self.data
        if isinstance(x, float):
            return self
        return _result(float(x.sum()), "sum", self, np.ones_like(x))

    # ----------------------------------------------------- derived from the above

    def __neg__(self) -> Value:  # -self
        return self * -1.0

    def __sub__(self, other: Any) -> Value:  # self - other
        if not isinstance(other, Value):
            other = _as_data(other)  # a plain number: check it, then negate it as a number
        return self + (-other)

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
        x = self.data
        if isinstance(x, float):
            return self
        return self.sum() * (1.0 / len(x) if len(x) else ops.nan)  # an empty batch: nan, as torch

    # ------------------------------------------------------------- comparisons
    # Compare the data and return a bool, so that `if score > 0:` works.
    # `==` and `hash` are left as identity: Values live in sets and dicts.

    def __lt__(self, other: Any) -> Any:
        return self.data < _data_of(other)

    def __le__(self, other: Any) -> Any:
        return self.data <= _data_of(other)

    def __gt__(self, other: Any) -> Any:
        return self.data > _data_of(other)

    def __ge__(self, other: Any) -> Any:
        return self.data >= _data_of(other)

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ misc

    def __float__(self) -> float:
        return float(self.data)

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    def detach(self) -> Value:
        """A new leaf holding the same data: no graph behind it."""
        return Value(self.data, self.label)

    @property
    def is_leaf(self) -> bool:
        """True for a Value made by the user (or under ``no_grad``), not by an operation."""
        return self._a is None

    # ----------------------------------------------------------------- backward

    def backward(self, gradient: Any = None) -> None:
        """Compute d(self)/d(node) for every node that ``self`` depends on.

        ``self.grad`` is seeded with ``gradient`` (default 1.0; for a batched Value
        also an array with one number per sample). Then, visiting
        nodes from ``self`` towards the leaves, each node adds
        ``local derivative * node.grad`` to each operand's ``grad`` (the chain
        rule, summed over every path).

        * Leaves accumulate: calling ``backward`` twice adds the gradients twice,
          as in PyTorch. Zero them with ``Module.zero_grad()``.
        * Intermediate nodes restart from zero on each call, so after a call
          each holds d(self)/d(node) from that call alone.
        """
        seed = 1.0 if gradient is None else _as_seed(gradient, self.data)
        order = topological_order(self)
        for node in order:
            if node._a is not None:
                node.grad = 0.0  # intermediate: this pass's gradient only
        if self._a is None:
            self.grad += seed
        else:
            self.grad = seed
        if _mode.anomaly or any(type(node.data) is not float for node in order):
            return _backward_general(order)
        for node in order:  # the chain rule, node by node
            a = node._a
            if a is not None:
                g = node.grad
                a.grad += node._da * g
                b = node._b
                if b is not None:
                    b.grad += node._db * g


def _result(
    data: Number, op: str, a: Value, da: Any, b: Value | None = None, db: Any = 0.0
) -> Value:
    """Make the Value an operation returns. Under ``no_grad`` it is a leaf."""
    out = Value.__new__(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._id = next(_creation_counter)
    if not _open_switches or _mode.grad_enabled:
        out._op, out._a, out._da, out._b, out._db = op, a, da, b, db
    else:
        out._op, out._a, out._da, out._b, out._db = "", None, 0.0, None, 0.0
    if _open_switches and _mode.anomaly and not ops.is_finite(data):
        raise FloatingPointError(
            f"detect_anomaly: '{op}' produced {data} from inputs "
            + ", ".join(_describe(p) for p in (a, b) if p is not None)
        )
    return out


def _as_seed(gradient: Any, data: Any) -> Number:
    """Check ``backward(gradient)``: a number, or for a batch one number per sample."""
    seed: Any = _as_data(gradient)
    if type(seed) is not float and (type(data) is float or len(seed) != len(data)):
        holds = "a single number" if type(data) is float else f"a batch of {len(data)}"
        raise ValueError(
            f"backward(gradient=...) got an array of {len(seed)} numbers for a Value holding "
            f"{holds}; pass a number, or an array with one number per sample"
        )
    return seed


def _describe(v: Value) -> str:
    return f"{v.label or 'unlabelled'}={v.data}"


def _backward_general(order: list[Value]) -> None:
    """The backward loop for batched graphs and for ``detect_anomaly``.

    The same chain rule as in ``Value.backward``, plus two things the all-float
    loop does not need: a float node used by a whole batch receives the *sum*
    of the batch's gradients, and under ``detect_anomaly`` the first NaN or inf
    gradient raises.
    """
    check = _mode.anomaly
    for node in order:
        a = node._a
        if a is not None:
            g = node.grad
            _accumulate(node, a, node._da, g, check)
            if node._b is not None:
                _accumulate(node, node._b, node._db, g, check)


def _accumulate(node: Value, child: Value, local: Any, g: Any, check: bool) -> None:
    """One chain-rule step of ``_backward_general``: ``child.grad += local * g``."""
    d = local * g
    if type(d) is not float and type(child.data) is float:
        d = float(d.sum())  # a float used by a whole batch: sum its gradients
    if check and not ops.is_finite(d):
        raise FloatingPointError(
            f"detect_anomaly: backward through '{node._op}' "
            f"(node {_describe(node)}, grad {g}) gave a non-finite gradient {d} "
            f"for operand {_describe(child)} (local derivative {local})"
        )
    child.grad += d


def _data_of(x: Any) -> Any:
    """What a Value is compared with: another Value's data, or a real number (or array)."""
    if isinstance(x, Value):
        return x.data
    if isinstance(x, (*_REAL_TYPES, np.ndarray)):
        return x
    raise TypeError(f"a Value compares with a Value or a real number, got {type(x).__name__}")


def _format_exponent(k: Number) -> str:
    """'2' for 2.0, '-1' for -1.0, else the exact repr (so float() reads it back)."""
    if isinstance(k, float) and k.is_integer() and abs(k) < 1e15:
        return str(int(k))
    return repr(k)


_creation = operator.attrgetter("_id")


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, ``root`` first, each node before its operands.

    A node is always created after its operands, so sorting the reachable nodes
    by creation number, newest first, is a topological order. The nodes are
    found with an explicit stack: no recursion, so a graph a million nodes deep
    is fine.
    """
    seen = {root}
    stack = [root]
    while stack:
        node = stack.pop()
        for child in (node._a, node._b):
            if child is not None and child not in seen:
                seen.add(child)
                stack.append(child)
    return sorted(seen, key=_creation, reverse=True)


class _Switch(ContextDecorator):
    """A context manager and decorator that sets one per-thread flag, then restores it.

    The value to restore goes on a per-thread stack, so one instance (say, a
    decorated function) may be entered by several threads at once.
    """

    _flag = ""
    _on = False

    def __new__(cls, func: Any = None) -> Any:
        """``no_grad()`` is a context manager or decorator; bare ``@no_grad`` works too."""
        switch = super().__new__(cls)
        if func is None:
            return switch
        if not callable(func):
            raise TypeError(f"{cls.__name__}() takes no arguments, got {type(func).__name__}")
        return switch(func)  # used as @no_grad without parentheses

    def __enter__(self) -> _Switch:
        global _open_switches
        with _switch_lock:
            _open_switches += 1
        _mode.saved.append(getattr(_mode, self._flag))
        setattr(_mode, self._flag, self._on)
        return self

    def __exit__(self, *exc: object) -> None:
        global _open_switches
        setattr(_mode, self._flag, _mode.saved.pop())
        with _switch_lock:
            _open_switches -= 1


class no_grad(_Switch):
    """Record no graph: results are leaves. A context manager or a decorator; per thread.

    >>> with no_grad():
    ...     y = Value(2.0) * 3
    >>> y._prev
    ()
    """

    _flag, _on = "grad_enabled", False


class enable_grad(_Switch):
    """Record the graph again inside a ``no_grad`` block."""

    _flag, _on = "grad_enabled", True


class detect_anomaly(_Switch):
    """Raise ``FloatingPointError`` at the first operation or backward step giving NaN or inf."""

    _flag, _on = "anomaly", True


def is_grad_enabled() -> bool:
    """False inside ``no_grad`` (in this thread)."""
    return _mode.grad_enabled


__all__ = [
    "Value",
    "no_grad",
    "enable_grad",
    "detect_anomaly",
    "is_grad_enabled",
    "topological_order",
]
