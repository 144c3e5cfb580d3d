"""The functional API: ``grad``, ``value_and_grad``, ``gradcheck``.

``Value.backward()`` stores numbers in ``.grad``. To differentiate *again*
(a second derivative), the gradient itself must be a Value with a graph behind
it. So this module keeps a second copy of each primitive's local derivative,
written with Value operations (the table ``DERIVATIVES``), and a backward pass
that builds a new graph from them. ``grad(grad(f))`` is then just two passes.

The rules mirror the numeric ones in ``engine.py``; the test-suite checks both
against PyTorch and HIPS autograd up to the third derivative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Union

import numpy as np

from zdravkograd import operators as ops
from zdravkograd.engine import Value, topological_order

Rule = Callable[..., tuple[Any, ...]]

# op -> (out, *operands) -> local derivatives d out / d operand, as Values or constants.
DERIVATIVES: dict[str, Rule] = {
    "+": lambda out, x, y: (1.0, 1.0),
    "*": lambda out, x, y: (y, x),
    "**": lambda out, x, k: _power_rule(out, x, k),
    "exp": lambda out, x: (out,),
    "log": lambda out, x: (x**-1.0,),
    "tanh": lambda out, x: ((1.0 - out) * (1.0 + out),),
    "sigmoid": lambda out, x: (out * (1.0 - out),),
    "sin": lambda out, x: (x.cos(),),
    "cos": lambda out, x: (-x.sin(),),
    # piecewise-linear ops: the derivative is a constant mask (its own derivative is 0)
    "relu": lambda out, x: (ops.step(x.data),),
    "abs": lambda out, x: (ops.sign(x.data),),
    "sum": lambda out, x: (np.ones_like(x.data),),
}


def _power_rule(out: Value, x: Value, k: Value) -> tuple[Any, Any]:
    """d(x**k)/dx = k x^(k-1) and d(x**k)/dk = x^k ln x, with PyTorch's two masks:

    the first is 0 where k == 0 and the second 0 where x == 0 and k >= 0 (where
    the formulas would give 0 * inf = nan).
    """
    xd, kd = x.data, k.data
    if type(xd) is float and type(kd) is float:
        dx = 0.0 if kd == 0.0 else k * x ** (k - 1.0)
        return dx, 0.0 if xd == 0.0 and kd >= 0.0 else out * x.log()
    # A batch: the masks hold sample by sample. Where a formula would give 0 * inf,
    # the base is moved from 0 to 1, so that the product there is exactly 0;
    # elsewhere x + (-0.0) is x itself, bit for bit (also for x = -0.0).
    base_dx = x + np.where((kd == 0.0) & (xd == 0.0), 1.0, -0.0)
    base_dk = x + np.where((xd == 0.0) & (kd >= 0.0), 1.0, -0.0)
    return k * base_dx ** (k - 1.0), out * base_dk.log()


def _rule(node: Value) -> tuple[Any, ...]:
    op = node._op
    if op.startswith("**") and len(op) > 2:  # constant exponent, e.g. '**2' or '**0.5'
        k = float(op[2:])
        (x,) = node._prev
        return (0.0 if k == 0.0 else k * x ** (k - 1.0),)
    try:
        rule = DERIVATIVES[op]
    except KeyError:
        raise NotImplementedError(
            f"no differentiable rule for op {op!r}; add one to zdravkograd.autodiff.DERIVATIVES"
        ) from None
    return rule(node, *node._prev)


def gradients(output: Value, inputs: Sequence[Value], create_graph: bool = False) -> list[Any]:
    """d output / d input for each input, without touching any ``.grad``.

    With ``create_graph=True`` the results are Values with a graph behind them,
    so they can be differentiated again; otherwise they are numbers.
    An input that ``output`` does not depend on gets 0.0.
    """
    wanted = set(inputs)
    order = topological_order(output)
    # Only nodes with a path down to some input need a gradient.
    leads: set[Value] = set()
    for node in reversed(order):  # operands before their users
        if node in wanted or any(c in leads for c in node._prev):
            leads.add(node)
    grads: dict[Value, Any] = {output: Value(1.0) if create_graph else 1.0}
    found: dict[Value, Any] = {}
    for node in order:
        if node not in grads:
            continue
        g = grads.pop(node)  # complete: every user of `node` came earlier in `order`
        if node in wanted:
            found[node] = g  # and carry on: another input may lie below this one
        if node not in leads or node.is_leaf:
            continue
        local = _rule(node) if create_graph else node._local
        for child, d in zip(node._prev, local):
            if child not in leads:
                continue
            contribution = d * g
            if isinstance(child.data, float) and not _is_float_like(contribution):
                contribution = contribution.sum()  # a float used by a whole batch
                if not isinstance(contribution, Value):
                    contribution = float(contribution)
            grads[child] = grads[child] + contribution if child in grads else contribution
    return [found.get(x, 0.0) for x in inputs]


def _is_float_like(x: Any) -> bool:
    data = x.data if isinstance(x, Value) else x
    return isinstance(data, float)


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


__all__ = ["DERIVATIVES", "gradients", "grad", "value_and_grad", "gradcheck"]
