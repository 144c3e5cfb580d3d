"""The functional API: ``grad``, ``value_and_grad``, ``gradients``, ``gradcheck``.

``Value.backward()`` stores numbers in ``.grad``. To differentiate *again* (a second
derivative), the gradient itself must be a Value with a graph behind it. The op table
(:mod:`zdravkograd.ops`) writes each local derivative once, with operations that work on
numbers and Values alike; evaluated on the Values of the graph, it builds that graph.
``gradients(create_graph=True)`` runs the engine's chain-rule walk with those locals, so
``grad(grad(f))`` is just two passes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Union

import numpy as np

from zdravkograd.engine import Value, chain_rule, topological_order


def _value_locals(node: Value) -> tuple[Any, ...]:
    """The table's local derivatives of ``node``, evaluated on Values (so differentiable)."""
    op = node._op
    assert op is not None
    return op.locals(node._prev, node, node._const if op.constant else None)


def gradients(output: Value, inputs: Sequence[Value], create_graph: bool = False) -> list[Any]:
    """d output / d input for each input, without touching any ``.grad``.

    With ``create_graph=True`` the results are Values with a graph behind them,
    so they can be differentiated again; otherwise they are numbers.
    An input that ``output`` does not depend on gets 0.0.
    """
    wanted = set(inputs)
    order = topological_order(output)
    leads: set[Value] = set()  # only nodes with a path down to some input need a gradient
    for node in reversed(order):  # operands before their users
        if node in wanted or any(c in leads for c in node._prev):
            leads.add(node)
    grads: dict[Value, Any] = {output: Value(1.0) if create_graph else 1.0}
    chain_rule(order, grads, locals_of=_value_locals if create_graph else None, through=leads)
    return [grads.get(x, 0.0) for x in inputs]


Argnums = Union[int, tuple[int, ...]]


def value_and_grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., tuple[Any, Any]]:
    """Return ``g(*args) -> (f(*args), df/d args[argnums])``.

    Called with plain numbers, the results are numbers. Called with Values
    (as ``grad(grad(f))`` does), they are Values that can be differentiated again.
    ``argnums`` may be an int or a tuple of ints (then a tuple of gradients).
    """
    if not callable(f):
        raise TypeError(f"value_and_grad needs a function, got {type(f).__name__}")
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        nums: tuple[int, ...] = (argnums,)
    elif isinstance(argnums, tuple) and all(
        isinstance(i, int) and not isinstance(i, bool) for i in argnums
    ):
        nums = argnums
    else:
        raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r:.40}")

    def value_and_grad_f(*args: Any) -> tuple[Any, Any]:
        for i in nums:
            if not -len(args) <= i < len(args):
                raise IndexError(
                    f"argnums={argnums!r} but the function was called with {len(args)} arguments"
                )
        symbolic = any(isinstance(a, Value) for a in args)
        xs = [a if isinstance(a, Value) else Value(a) for a in args]
        out = f(*xs)
        if not isinstance(out, Value):
            if not isinstance(out, (int, float, np.integer, np.floating)):
                raise TypeError(
                    f"grad needs f to return a Value or a number, got {type(out).__name__}"
                )
            out = Value(out)
        if not isinstance(out.data, float):
            raise TypeError(
                f"grad needs f to return a single number, got a batch of {len(out.data)}; "
                "reduce it with .sum() or .mean()"
            )
        gs = gradients(out, [xs[i] for i in nums], create_graph=symbolic)
        value = out if symbolic else out.data
        return value, (gs[0] if isinstance(argnums, int) else tuple(gs))

    return value_and_grad_f


def grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """Return the function ``df/d args[argnums]``; compose it for higher orders.

    >>> d2 = grad(grad(lambda x: x ** 3))   # 6x
    >>> d2(2.0)
    12.0
    """
    vg = value_and_grad(f, argnums)

    def grad_f(*args: Any) -> Any:
        return vg(*args)[1]

    return grad_f


def gradcheck(
    f: Callable[..., Any], *args: float, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3
) -> bool:
    """Compare ``f``'s analytic gradient with central finite differences.

    Returns True, or raises ``AssertionError`` listing every argument with its
    analytic and numeric derivative.
    """
    xs = []
    for i, a in enumerate(args):
        x = a.data if isinstance(a, Value) else a
        if not isinstance(x, (int, float, np.integer, np.floating)):
            raise TypeError(
                f"gradcheck: argument {i} must be a real number (finite differences are taken "
                f"one number at a time), got {type(x).__name__}"
            )
        xs.append(float(x))
    _, analytic = value_and_grad(f, tuple(range(len(xs))))(*xs)
    rows, ok = [], True
    for i, (x, a) in enumerate(zip(xs, analytic)):
        hi = xs[:i] + [x + eps] + xs[i + 1 :]
        lo = xs[:i] + [x - eps] + xs[i + 1 :]
        numeric = (float(_data(f(*map(Value, hi)))) - float(_data(f(*map(Value, lo))))) / (2 * eps)
        good = abs(a - numeric) <= atol + rtol * abs(numeric)
        ok = ok and good
        rows.append(
            f"  arg {i} = {x!r}: analytic {a!r}, numeric {numeric!r}"
            + ("" if good else "   <-- differs")
        )
    if not ok:
        raise AssertionError("gradcheck failed:\n" + "\n".join(rows))
    return True


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Value) else x


__all__ = ["gradients", "grad", "value_and_grad", "gradcheck"]
