"""How a row of the op table becomes an operation on Values, and the node it makes.

``unary(ops.tanh)`` is ``Value.tanh``: it runs the row's forward kernel on the operand's
number, evaluates the row's local derivative on the numbers, and returns a new node that
holds the result, its operand(s) and those local derivatives (see ``engine.py`` for what
``backward`` does with them). ``binary``, ``constant`` (``x ** 2``: k is node data) and
``variadic`` (``ops.dot``, a weighted sum with any number of operands) do the same for
the other shapes of rows; ``apply`` picks the right one for ``ops.NAME(...)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from zdravkograd import modes, ops
from zdravkograd import operators as kernels
from zdravkograd.operators import as_number

Value: Any = None  # zdravkograd.engine.Value: the engine sets it once the class exists


creation_counter = itertools.count()  # every Value's number, in creation order


def unary(op: ops.Op) -> Callable[[Any], Any]:
    """The method applying a one-operand row: its kernel, then its local derivative."""
    forward, derivative = op.forward, op.derivative

    def method(self: Any) -> Any:
        x = self._data
        data = forward(x)
        if modes.open_switches:  # inside no_grad, enable_grad or detect_anomaly
            return _result(data, op, self, derivative(x, data))
        out = Value.__new__(Value)  # what _result does, inline: see binary
        out._data, out.grad, out.label, out._id = data, 0.0, "", next(creation_counter)
        out._op, out._a, out._da, out._b, out._db = op, self, derivative(x, data), None, 0.0
        return out

    method.__name__, method.__doc__ = op.name, f"The op table's row ``ops.{op.name}``."
    return method


def binary(op: ops.Op) -> Callable[[Any, Any], Any]:
    """The method applying a two-operand row; a plain number becomes a leaf Value.

    It makes the node itself, as ``_result`` does: ``+`` and ``*`` make almost every node
    of a network, and one call less per node is a sixth of the time to build a graph.
    """
    forward, derivative = op.forward, op.derivative

    def method(self: Any, other: Any) -> Any:
        if not isinstance(other, Value):
            other = Value(other)
        x, y = self._data, other._data
        data = forward(x, y)
        da, db = derivative(x, y, data)
        if modes.open_switches:  # inside no_grad, enable_grad or detect_anomaly
            return _result(data, op, self, da, other, db)
        out = Value.__new__(Value)
        out._data, out.grad, out.label, out._id = data, 0.0, "", next(creation_counter)
        out._op, out._a, out._da, out._b, out._db = op, self, da, other, db
        return out

    method.__name__ = op.name
    return method


def constant(op: ops.Op) -> Callable[[Any, Any], Any]:
    """The method applying a row with a constant parameter (``x ** 2``): k is node data."""
    forward, derivative = op.forward, op.derivative

    def method(self: Any, k: Any) -> Any:
        k = k if type(k) is float else as_number(k)
        x = self._data
        data = forward(x, k)
        out = _result(data, op, self, derivative(x, k, data))
        out._const = k
        return out

    method.__name__ = op.name
    return method


def variadic(op: ops.Op) -> Callable[..., Any]:
    """The function applying a row with any number of operands (``ops.dot``).

    Such a node keeps its operands as a tuple in ``_a`` and their local derivatives as a
    tuple in ``_da`` (``_b`` stays None): one node, however many operands.
    """
    forward, derivative = op.forward, op.derivative

    def method(*operands: Any) -> Any:
        if modes.tracer is not None:  # the compiler records the chain b + w0*x0 + ..., which
            return ops.dot_chain(*operands)  # it turns into a few NumPy calls (compiler.py)
        try:
            xs = [v._data for v in operands]
        except AttributeError:  # plain numbers among the operands: leaves
            operands = tuple(v if isinstance(v, Value) else Value(v) for v in operands)
            xs = [v._data for v in operands]
        data = forward(*xs)
        if modes.open_switches:
            return _result(data, op, operands, tuple(derivative(*xs, data)))
        out = Value.__new__(Value)
        out._data, out.grad, out.label, out._id = data, 0.0, "", next(creation_counter)
        out._op, out._da, out._b, out._db = op, derivative(*xs, data), None, 0.0
        out._a = operands  # (a tuple: see the docstring)
        return out

    method.__name__ = op.name
    return method


def _result(data: Any, op: ops.Op, a: Any, da: Any, b: Any = None, db: Any = 0.0) -> Any:
    """Make the Value an operation returns. Under ``no_grad`` it is a leaf."""
    out = Value.__new__(Value)
    out._data, out.grad, out.label, out._id = data, 0.0, "", next(creation_counter)
    if not modes.open_switches or modes.mode.grad_enabled:
        out._op, out._a, out._da, out._b, out._db = op, a, da, b, db
    else:
        out._op, out._a, out._da, out._b, out._db = None, None, 0.0, None, 0.0
        if modes.tracer is not None:
            modes.tracer.frozen(out)
    if modes.open_switches and modes.mode.anomaly and not kernels.is_finite(data):
        given = a if type(a) is tuple else (a, b)
        operands = ", ".join(_describe(p) for p in given if p is not None)
        raise FloatingPointError(
            f"detect_anomaly: '{op.name}' produced {data} from inputs {operands}"
        )
    return out


sum_batch, pow_const = unary(ops.sum), constant(ops.pow_const)  # Value.sum, Value.__pow__
dot = variadic(ops.dot)
_methods: dict[ops.Op, Callable[..., Any]] = {}  # rows of define_op -> unary/binary


def apply(op: ops.Op, *operands: Any) -> Any:
    """Apply a row of the table to Values (numbers become leaves): ``ops.NAME(...)``.

    ``pow`` with a plain-number exponent becomes ``pow_const``, the exponent kept on the
    node as ``_const``: ``x ** 2`` has one operand, and k = 2.0.
    """
    if op.arity == 0:
        return dot(*operands)
    a = operands[0] if isinstance(operands[0], Value) else Value(operands[0])
    if op.arity == 1 and not op.constant:
        return (_methods.get(op) or _methods.setdefault(op, unary(op)))(a)
    k = operands[1]
    if op is ops.pow and not isinstance(k, (Value, np.ndarray)):
        op = ops.pow_const
    make = _methods.get(op) or _methods.setdefault(op, constant(op) if op.constant else binary(op))
    return make(a, k)


def _describe(v: Any) -> str:
    return f"{v.label or 'unlabelled'}={v._data}"


__all__ = ["unary", "binary", "constant", "variadic", "apply", "dot", "creation_counter"]
