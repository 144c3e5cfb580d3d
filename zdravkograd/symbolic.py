"""Symbols: run a rule of the op table on names instead of numbers, to write it out.

Each row of :mod:`zdravkograd.ops` states its local derivative once, as a Python
expression (tanh's is written with ``out``, the result). Evaluated on floats or arrays it gives
the eager engine's numbers; on Values, a graph (higher-order gradients). Evaluated on
:class:`Sym` objects it gives an expression tree, which this module writes out two ways:

* :func:`code`: Python source that calls the very same functions, with the same operands
  in the same order. The compiler pastes it into its program, so a compiled program
  computes each local derivative exactly as the eager engine does, bit for bit;
* :func:`text`: the formula the viewer and ``trace_backward`` print, such as
  ``(1 − o.data)·(1 + o.data)``.

A ``Sym`` refuses what it cannot record (``float(s)``, ``if s > 0:``, NumPy and ``math``
functions): a rule must use ``+ - * / **``, ``abs`` and the functions of ``zdravkograd.ops``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["Sym", "code", "text"]

# Kinds of node: ("var", code_name, text_key), ("const", number),
# ("bin", symbol, left, right), ("neg", operand), ("cmp", symbol, left, right),
# ("call", function, text_of_arguments -> str, arguments).


class Sym:
    """A number known only by name, recording what is computed from it."""

    __slots__ = ("kind", "args")
    __array_ufunc__ = None  # np.exp(sym) raises TypeError instead of making an object array

    def __init__(self, kind: str, *args: Any) -> None:
        self.kind = kind
        self.args = args

    @staticmethod
    def var(code_name: str, text_key: str = "") -> Sym:
        """A named input: ``code_name`` in generated code, ``text_key`` in formulas."""
        return Sym("var", code_name, text_key or code_name)

    @staticmethod
    def call(function: Callable[..., Any], show: Callable[..., str], *args: Any) -> Sym:
        """``function(*args)``; ``show`` writes it as text from the arguments' texts."""
        return Sym("call", function, show, *(_sym(a) for a in args))

    def _bin(self, symbol: str, other: Any, swap: bool = False) -> Any:
        if not _is_operand(other):
            return NotImplemented
        left, right = (_sym(other), self) if swap else (self, _sym(other))
        return Sym("bin", symbol, left, right)

    def __add__(self, o: Any) -> Any:
        return self._bin("+", o)

    def __radd__(self, o: Any) -> Any:
        return self._bin("+", o, swap=True)

    def __sub__(self, o: Any) -> Any:
        return self._bin("-", o)

    def __rsub__(self, o: Any) -> Any:
        return self._bin("-", o, swap=True)

    def __mul__(self, o: Any) -> Any:
        return self._bin("*", o)

    def __rmul__(self, o: Any) -> Any:
        return self._bin("*", o, swap=True)

    def __truediv__(self, o: Any) -> Any:
        return self._bin("/", o)

    def __rtruediv__(self, o: Any) -> Any:
        return self._bin("/", o, swap=True)

    def __pow__(self, o: Any) -> Any:
        return self._bin("**", o)

    def __rpow__(self, o: Any) -> Any:
        return self._bin("**", o, swap=True)

    def __neg__(self) -> Sym:
        return Sym("neg", self)

    def __abs__(self) -> Sym:
        return Sym.call(abs, lambda x: f"|{x}|", self)

    def _cmp(self, symbol: str, other: Any) -> Any:
        return Sym("cmp", symbol, self, _sym(other)) if _is_operand(other) else NotImplemented

    def __eq__(self, o: Any) -> Any:
        return self._cmp("==", o)

    def __ne__(self, o: Any) -> Any:
        return self._cmp("!=", o)

    def __lt__(self, o: Any) -> Any:
        return self._cmp("<", o)

    def __le__(self, o: Any) -> Any:
        return self._cmp("<=", o)

    def __gt__(self, o: Any) -> Any:
        return self._cmp(">", o)

    def __ge__(self, o: Any) -> Any:
        return self._cmp(">=", o)

    def __and__(self, o: Any) -> Any:  # masks: True & s is s, False & s is False
        if isinstance(o, (bool, np.bool_)):
            return self if o else False
        return self._bin("&", o)

    __rand__ = __and__

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        raise TypeError(
            "a rule branched on a number (if/and/or on data); write the choice with "
            "zdravkograd.ops.where(mask, a, b) so that it also works on batches and Values"
        )

    def __float__(self) -> float:
        raise TypeError(
            "a rule converted a number with float() or used a math/NumPy function; use "
            "+ - * / **, abs and the functions of zdravkograd.ops, which work on floats, "
            "arrays and Values alike"
        )

    def __repr__(self) -> str:
        return f"Sym({text(self)})"


def _is_operand(x: Any) -> bool:
    return isinstance(x, (Sym, int, float))


def _sym(x: Any) -> Sym:
    return x if isinstance(x, Sym) else Sym("const", x)


def is_sym(x: Any) -> bool:
    return isinstance(x, Sym)


# ------------------------------------------------------------------------ code


def code(s: Any, name_of: Callable[[Callable[..., Any]], str], const: Callable[[Any], str]) -> str:
    """Python source computing ``s``, fully parenthesised (so in the same order).

    ``name_of(function)`` gives the name a called function has in the program's
    namespace; ``const(x)`` the source of a constant.
    """
    if not isinstance(s, Sym):
        return const(s)
    kind, a = s.kind, s.args
    if kind == "var":
        return str(a[0])
    if kind == "const":
        return const(a[0])
    if kind in ("bin", "cmp"):
        return f"({code(a[1], name_of, const)} {a[0]} {code(a[2], name_of, const)})"
    if kind == "neg":
        return f"(-{code(a[0], name_of, const)})"
    args = ", ".join(code(x, name_of, const) for x in a[2:])
    return f"{name_of(a[0])}({args})"


# ------------------------------------------------------------------------ text

_LEVEL = {"+": 1, "-": 1, "*": 2, "/": 2, "**": 4}
_SHOW = {"+": " + ", "-": " − ", "*": "·", "/": "/", "**": "^", "&": " and "}


def number_text(x: Any) -> str:
    """``2`` for 2.0, ``0.5``, ``-1``: a constant inside a formula."""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, (int, float)):
        if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
            return str(int(x))
        if isinstance(x, float) and math.isfinite(x):
            return f"{x:.6g}"
        return repr(x)
    return "c"  # an array constant


def text(s: Any, names: dict[str, str] | None = None) -> str:
    """The formula ``s`` as a learner reads it; ``names`` maps input keys to display names."""
    return _text(s, names or {})[0]


def _text(s: Any, names: dict[str, str]) -> tuple[str, int]:
    """(text, precedence level): 1 sums, 2 products, 3 negations, 4 powers, 5 atoms."""
    if not isinstance(s, Sym):
        t = number_text(s)
        return t, (3 if t.startswith("-") else 5)
    kind, a = s.kind, s.args
    if kind == "var":
        return names.get(a[1], a[1]), 5
    if kind == "const":
        return _text(a[0], names)
    if kind == "neg":
        inner, level = _text(a[0], names)
        return "−" + (inner if level >= 3 else f"({inner})"), 3
    if kind == "call":
        return a[1](*(_text(x, names)[0] for x in a[2:])), 5
    symbol, left, right = a
    if kind == "cmp":
        return f"{_text(left, names)[0]} {symbol} {_text(right, names)[0]}", 0
    if symbol == "**" and _const_value(right) == 1.0:
        return _text(left, names)
    if symbol == "**" and _const_value(right) == -1.0:
        base, level = _text(left, names)
        return "1/" + (base if level >= 5 else f"({base})"), 2
    level = _LEVEL.get(symbol, 0)
    lt, ll = _text(left, names)
    rt, rl = _text(right, names)
    if ll < level or (symbol == "**" and ll <= level):
        lt = f"({lt})"
    if rl < level or (rl == level and symbol in ("-", "/", "**")):
        rt = f"({rt})"
    if symbol == "*" and rt.startswith("1/"):
        return f"{lt}/{rt[2:]}", level  # a·(1/b) reads a/b
    return lt + _SHOW[symbol] + rt, level


def _const_value(s: Any) -> Any:
    if isinstance(s, Sym) and s.kind == "const":
        return s.args[0]
    return s if isinstance(s, (int, float)) and not isinstance(s, bool) else None
