"""Small labelled graphs that the docs, the command line and the pictures share."""

from __future__ import annotations

from zdravkograd.engine import Value

TANH_NEURON = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
"""Inputs of micrograd's lecture neuron; ``b`` is chosen so that ``o = tanh(n) = 1/sqrt(2)``."""


def tanh_neuron(backward: bool = True) -> Value:
    """The neuron ``o = tanh(x1*w1 + x2*w2 + b)``, every node labelled.

    With ``backward=True`` (the default) ``o.backward()`` has run, so every node
    holds its gradient: ``x1.grad = -1.5``, ``w1.grad = 1.0``, ``n.grad = 0.5``.
    """
    v = {name: Value(x, label=name) for name, x in TANH_NEURON.items()}
    x1w1 = v["x1"] * v["w1"]
    x1w1.label = "x1*w1"
    x2w2 = v["x2"] * v["w2"]
    x2w2.label = "x2*w2"
    s = x1w1 + x2w2
    s.label = "x1*w1 + x2*w2"
    n = s + v["b"]
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    if backward:
        o.backward()
    return o


def seed_expression() -> tuple[Value, dict[str, Value]]:
    """The seed README's ``L = (a*b + c) * f`` with every node labelled, before backward.

    Returns ``L`` and the nodes by label (``a b c e d f L``). After ``L.backward()``:
    ``a.grad = 6``, ``b.grad = -4``, ``c.grad = -2``, ``f.grad = 4``.
    """
    a, b, c, f = Value(2.0, "a"), Value(-3.0, "b"), Value(10.0, "c"), Value(-2.0, "f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    return L, {v.label: v for v in (a, b, c, e, d, f, L)}
