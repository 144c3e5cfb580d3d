"""The table of primitives: one row per operation, and every part of the library reads it.

A row (an :class:`Op`) holds

* the **name** and **arity** (one or two operands);
* the **forward kernel**: the number(s) in, the result out, on floats and on 1-D NumPy
  arrays, with PyTorch's IEEE-754 answers (the kernels live in
  :mod:`zdravkograd.operators`);
* the **local derivative(s)**, written once, as ``derivative(x, out)`` for a unary op and
  ``derivative(x, y, out)`` (returning a pair) for a binary one;
* the **text** the graph pictures show for the node.

The derivative is written with operations that work on floats, arrays and Values alike
(``+ - * / **``, ``abs`` and the functions of this module), so one expression serves

* the eager engine, which evaluates it on the numbers when it builds a node and stores
  the result on the node;
* higher-order gradients (``grad(grad(f))``, ``gradients(create_graph=True)``), which
  evaluate it on the Values themselves and so get a graph to differentiate again;
* the compiler, which evaluates it on symbols (:mod:`zdravkograd.symbolic`) and pastes
  the resulting code into its program: the same functions on the same operands in the
  same order, so compiled results equal eager ones bit for bit;
* ``trace_backward`` and the viewer, which print the same symbolic evaluation as a formula.

>>> from zdravkograd import Value, ops
>>> ops.tanh.derivative(0.0, 0.0)     # d tanh(x)/dx at x = 0, from x and out = tanh(x)
1.0
>>> ops.tanh(Value(0.5)).data == Value(0.5).tanh().data
True

New operations are one call of :func:`define_op`.
"""

from __future__ import annotations

import functools
import inspect
import keyword
import math
import operator
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from zdravkograd import operators as kernels
from zdravkograd.symbolic import Sym, number_text
from zdravkograd.symbolic import text as symbolic_text


class _EngineLink:
    """The engine's ``Value`` class and ``apply``. The engine reads this table as it loads, so
    this module cannot import the engine: the engine fills these in (its last lines)."""

    Value: Any = None
    apply: Any = None


engine = _EngineLink()

__all__ = [
    "Op",
    "TABLE",
    "define_op",
    "data",
    "where",
    "step",
    "sign",
    "ones_like",
    "sqrt",
    "add",
    "mul",
    "pow",
    "pow_const",
    "exp",
    "log",
    "tanh",
    "sigmoid",
    "relu",
    "sin",
    "cos",
    "abs",
    "sum",
    "dot",
]


class Op:
    """One row of the table: see the module docs. Calling it applies the operation.

    ``op(x)`` / ``op(x, y)`` on Values records a node (as ``x.tanh()`` does); on plain
    floats or arrays it runs the forward kernel; on symbols it records a call. That is
    what lets a derivative rule use another row, as ``sin``'s rule uses ``cos``.
    """

    __slots__ = ("name", "arity", "forward", "derivative", "text", "builtin", "constant", "show")

    def __init__(
        self,
        name: str,
        arity: int,
        forward: Callable[..., Any],
        derivative: Callable[..., Any],
        text: str,
        *,
        builtin: bool = True,
        constant: bool = False,
        show: Callable[..., str] | None = None,
    ) -> None:
        self.name = name
        self.arity = arity  # operands that are Values: 1 or 2; 0 for any number (dot)
        self.forward = forward
        self.derivative = derivative
        self.text = text  # the node's label in draw_dot and the viewer
        self.builtin = builtin  # False for define_op's rows
        # True: a unary op with a constant parameter k, kept on the node as ``node._const``
        # (x ** 2 is pow_const with k = 2.0). Then forward(x, k) and derivative(x, k, out).
        self.constant = constant
        self.show = show or (lambda *a: f"{name}({', '.join(a)})")  # a call, as text

    def __repr__(self) -> str:
        count = "any number of operands" if not self.arity else f"{self.arity} operand"
        return f"<op {self.name}: {count}{'s' if self.arity > 1 else ''}>"

    def __call__(self, *args: Any) -> Any:
        if len(args) != self.arity + self.constant and self.arity:
            want = self.arity + self.constant
            many = "s" if want != 1 else ""
            raise TypeError(f"ops.{self.name} takes {want} argument{many}, got {len(args)}")
        for a in args:  # (a loop, not any(): rules call this on floats for every node)
            if isinstance(a, engine.Value):
                return engine.apply(self, *args)
            if isinstance(a, Sym):
                return Sym.call(self.forward, self.show, *args)
        return self.forward(*args)

    def operand_names(self, count: int = 3) -> list[str]:
        """The operands' names in formulas: x (and y); for ``dot``, b, w0, x0, w1, x1, ..."""
        if self.arity:
            return ["x", "y"][: self.arity]
        return ["b"] + [f"{wx}{i}" for i in range((count - 1) // 2) for wx in "wx"]

    def locals(self, operands: tuple[Any, ...], out: Any, k: Any = None) -> tuple[Any, ...]:
        """The local derivatives d out / d operand, one per operand, as a tuple."""
        if self.constant:
            return (self.derivative(operands[0], k, out),)
        if self.arity == 1:
            return (self.derivative(operands[0], out),)
        return tuple(self.derivative(*operands, out))

    def label(self, node: Any) -> str:
        """The text of ``node``'s op in pictures: ``×``, ``tanh``, ``^2``."""
        return self.text + (number_text(node._const) if self.constant else "")


def describe(node: Any) -> str:
    """``'mul'``, ``'pow_const' (k = 0.5)``: a node's op, for messages."""
    op = node._op
    return f"'{op.name}'" + (f" (k = {node._const})" if op.constant else "")


# ------------------------------------------------------- functions for the rules
# A derivative rule may use these besides + - * / ** and abs. Each works on floats,
# 1-D arrays, Values and symbols. The masks (step, sign, where's mask) are data: their
# own derivative is 0, so on a Value they give plain numbers, not a graph.


def data(x: Any) -> Any:
    """The numbers inside ``x``: ``x.data`` for a Value, ``x`` itself otherwise."""
    return x._data if isinstance(x, engine.Value) else x


def where(mask: Any, a: Any, b: Any) -> Any:
    """``a`` where ``mask`` holds, else ``b``; ``mask`` is data (a bool or a bool array).

    On Values and a mixed mask it is ``a·m + b·(1 − m)``, so compute the branch you throw
    away at a harmless point (both branches are always evaluated). In formulas it shows
    as ``(a if mask else b)``.
    """
    if isinstance(mask, Sym):
        return Sym.call(where, lambda c, x, y: f"({x} if {c} else {y})", mask, a, b)
    if isinstance(mask, (bool, np.bool_)):
        return a if mask else b
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return b
    if mask.all():
        return a
    if isinstance(a, engine.Value) or isinstance(b, engine.Value):
        m = mask.astype(np.float64)
        parts = [t * w for t, w in ((a, m), (b, 1.0 - m)) if not _is_zero_constant(t)]
        return parts[0] + parts[1] if len(parts) == 2 else parts[0] if parts else 0.0
    return np.where(mask, a, b)


def _unless(mask: Any, a: Any, b: Any) -> Any:
    """``where(mask, a, b)`` for the exceptions of a rule at isolated points (PyTorch's
    conventions in pow's rules): in formulas it shows only the general case, ``b``."""
    if isinstance(mask, Sym):
        return Sym.call(where, lambda c, x, y: y, mask, a, b)
    return where(mask, a, b)


def _is_zero_constant(x: Any) -> bool:
    return isinstance(x, (int, float)) and x == 0


def step(x: Any) -> Any:
    """1 where ``x > 0``, else 0 (also at 0; 1 at nan): the derivative of relu."""
    if type(x) is float:  # the common case first: relu's rule in the eager engine
        return kernels.step(x)
    x = data(x)
    if isinstance(x, Sym):
        return Sym.call(kernels.step, lambda t: f"[{t} > 0]", x)
    return kernels.step(x)


def sign(x: Any) -> Any:
    """-1, 0 or 1 (0 at ±0 and nan): the derivative of abs."""
    x = data(x)
    if isinstance(x, Sym):
        return Sym.call(kernels.sign, lambda t: f"sign({t})", x)
    return kernels.sign(x)


def _ones(x: Any) -> Any:
    return 1.0 if type(x) is float else np.ones_like(x)


def ones_like(x: Any) -> Any:
    """1.0 for a number, an array of ones for a batch: the derivative of sum."""
    x = data(x)
    if isinstance(x, Sym):
        return Sym.call(_ones, lambda t: "1", x)
    return _ones(x)


def sqrt(x: Any) -> Any:
    """``x ** 0.5`` (PyTorch's sqrt: sqrt(-0.0) = -0.0, sqrt(-1) = nan)."""
    return pow(x, 0.5)


# ------------------------------------------------------------------------ the table


def _quiet(rule: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``rule`` on arrays under ``np.errstate(all="ignore")``: IEEE answers, no warnings."""

    @functools.wraps(rule)
    def quiet(*args: Any) -> Any:
        for a in args:
            if isinstance(a, np.ndarray):
                with np.errstate(all="ignore"):
                    return rule(*args)
        return rule(*args)

    return quiet


@_quiet
def _pow_dx(x: Any, k: Any) -> Any:
    """d(x^k)/dx = k x^(k-1); 0 where k = 0, as in PyTorch (even at x = 0: there the
    formula is taken at base 1, so that neither it nor its own derivative meets 0 · inf)."""
    if type(k) is float:  # a constant exponent (x ** 2): the masks below reduce to this
        return 0.0 if k == 0.0 else k * pow(x, k - 1.0)
    k0 = data(k) == 0.0
    return _unless(k0, 0.0, k * pow(_unless(k0 & (data(x) == 0.0), 1.0, x), k - 1.0))


@_quiet
def _pow_dk(x: Any, k: Any, out: Any) -> Any:
    """d(x^k)/dk = x^k ln x; 0 where x = 0 and k >= 0, as in PyTorch (base 1 there)."""
    m = (data(x) == 0.0) & (data(k) >= 0.0)
    return _unless(m, 0.0, out * log(_unless(m, 1.0, x)))


def _pow_derivatives(x: Any, k: Any, out: Any) -> tuple[Any, Any]:
    return _pow_dx(x, k), _pow_dk(x, k, out)


def _pow_const_forward(x: Any, k: float) -> Any:
    """x ** k for a constant k; as in PyTorch, x ** 0.5 is sqrt(x): (-0.0) ** 0.5 = -0.0."""
    return kernels.sqrt(x) if k == 0.5 else kernels.power(x, k)


def _pow_const_derivative(x: Any, k: float, out: Any) -> Any:
    """k x^(k-1); for the square root 1 / (2 sqrt x), from the result."""
    return 0.5 * pow(out, -1.0) if k == 0.5 else _pow_dx(x, k)


def _show_pow(base: str, k: str) -> str:
    """``x^k`` as text: ``x`` for k = 1, ``1/x`` for k = -1, parentheses where needed."""
    if k == "1":
        return base
    base = base if re.fullmatch(r"[\w.#\[\]]+", base) else f"({base})"
    k = k if re.fullmatch(r"-?[\w.]+", k) else f"({k})"
    return "1/" + base if k == "-1" else f"{base}^{k}"


def _sum_forward(x: Any) -> Any:
    return x if type(x) is float else float(x.sum())


# name, arity, forward kernel, local derivative(s), text in pictures
add = Op("add", 2, operator.add, lambda x, y, out: (1.0, 1.0), "+")
mul = Op("mul", 2, operator.mul, lambda x, y, out: (y, x), "×")
pow = Op("pow", 2, kernels.power, _pow_derivatives, "^", show=_show_pow)  # noqa: A001
pow_const = Op("pow_const", 1, _pow_const_forward, _pow_const_derivative, "^", constant=True,
               show=_show_pow)  # fmt: skip
exp = Op("exp", 1, kernels.exp, lambda x, out: out, "exp")
log = Op("log", 1, kernels.log, lambda x, out: pow(x, -1.0), "log")
tanh = Op("tanh", 1, kernels.tanh, lambda x, out: (1.0 - out) * (1.0 + out), "tanh")
sigmoid = Op("sigmoid", 1, kernels.sigmoid, lambda x, out: out * (1.0 - out), "sigmoid")
relu = Op("relu", 1, kernels.relu, lambda x, out: step(x), "relu")
sin: Op  # (sin's rule uses cos, cos's uses sin)
cos = Op("cos", 1, kernels.cos, lambda x, out: -sin(x), "cos")
sin = Op("sin", 1, kernels.sin, lambda x, out: cos(x), "sin")
abs = Op("abs", 1, kernels.fabs, lambda x, out: sign(x), "abs")  # noqa: A001
sum = Op("sum", 1, _sum_forward, lambda x, out: ones_like(x), "Σ")  # noqa: A001


def _dot_pairs(operands: tuple[Any, ...]) -> Iterator[tuple[Any, Any]]:
    """The pairs (w, x) after the bias b; an even count of operands is a mistake."""
    if len(operands) % 2 == 0:
        raise TypeError(f"ops.dot takes b, then pairs w, x: got {len(operands)} operands")
    return zip(operands[1::2], operands[2::2])


def _dot_forward(*operands: Any) -> Any:
    """b + w0·x0 + w1·x1 + ...: the products added one after the other, from b."""
    total = operands[0] if operands else None
    for w, x in _dot_pairs(operands):
        total = total + w * x
    return total


def dot_chain(*operands: Any) -> Any:
    """The same sum built from ``+`` and ``*`` nodes: what the compiler records for a dot.

    The products are made last pair first, so that backward (newest node first) meets the
    operands in the dot node's order b, w0, x0, w1, ...: an operand in several pairs then
    adds up its gradient's parts in the same order as ``dot``, bit for bit.
    """
    products = [w * x for w, x in reversed(list(_dot_pairs(operands)))]
    total = operands[0]
    for p in reversed(products):
        total = total + p
    return total


def _show_dot(b: str, *wx: str) -> str:
    """``b + w0·x0 + w1·x1``: a dot node as text."""
    return " + ".join([b, *(f"{w}·{x}" for w, x in zip(wx[0::2], wx[1::2]))])


def _dot_derivative(b: Any, *wx_out: Any) -> tuple[Any, ...]:
    """d/db = 1, d/dw_i = x_i, d/dx_i = w_i: each factor's partner."""
    wx = wx_out[:-1]
    partners = list(wx)
    partners[0::2], partners[1::2] = wx[1::2], wx[0::2]
    return (1.0, *partners)


# A weighted sum as one node, operands (b, w0, x0, w1, x1, ...): what a neuron computes.
# The same numbers as the chain b + w0*x0 + ..., bit for bit, from one node instead of 2n
# (gradients too, unless one Value is in two pairs: then its parts add in another order).
dot = Op("dot", 0, _dot_forward, _dot_derivative, "Σ", show=_show_dot)

TABLE: dict[str, Op] = {
    op.name: op
    for op in (add, mul, pow, pow_const, exp, log, tanh, sigmoid, relu, sin, cos, abs, sum, dot)
}
"""Every operation by name: the built-in rows above, then those of :func:`define_op`."""


def rule_text(op: Op, k: float | None = None) -> list[str]:
    """The local derivatives of ``op`` as formulas in x, y and out (for ``pow_const``, at
    the exponent ``k``): the row's rule evaluated on symbols, as the viewer shows it."""
    operands = tuple(Sym.var(n) for n in op.operand_names())
    return [symbolic_text(t) for t in op.locals(operands, Sym.var("out"), k)]


def rules_markdown() -> list[str]:
    """The built-in rules as Markdown table rows, generated from the table (docs/backprop.md
    prints them; a test checks that the page and the table agree)."""
    rows = ["| op | shown as | d out / d x | d out / d y |", "| --- | --- | --- | --- |"]
    for op in TABLE.values():
        if not op.builtin:
            continue
        if not op.arity:  # dot: out = b + w0·x0 + ..., shown for one pair
            one, dw, dx = rule_text(op)
            rows.append(f"| `{op.name}` (b + w0·x0 + ...) | {op.text} | d/db `{one}`, "
                        f"d/dw0 `{dw}` | d/dx0 `{dx}` |")  # fmt: skip
            continue
        for k in (3.0, 0.5) if op.constant else (None,):
            terms = [f"`{t}`" for t in rule_text(op, k)] + [""]
            name = f"`{op.name}` (k = {number_text(k)})" if op.constant else f"`{op.name}`"
            rows.append(f"| {name} | {op.text} | {terms[0]} | {terms[1]} |")
    return rows


_RESERVED = set(TABLE) | set(__all__) | set(globals())  # (and np, math, ...: this module's)
_methods: set[str] = set()  # Value methods define_op added (so a redefinition may replace them)


# ------------------------------------------------------------------ define_op


def define_op(
    name: str,
    forward: Callable[..., Any],
    derivative: Callable[..., Any],
    text: str | None = None,
) -> Op:
    """Add an operation to the table; afterwards ``ops.NAME(...)`` works everywhere.

    Args:
        name: a Python identifier, not one of the built-in operations.
        forward: the operation on one or two numbers (floats or 1-D arrays).
        derivative: ``derivative(x, out)`` (unary) or ``derivative(x, y, out)``
            (binary, returning the pair ``(d out/dx, d out/dy)``). Write it with
            ``+ - * / **``, ``abs`` and the functions of this module, which work on
            floats, arrays and Values alike (see the docs: "Add your own operation").
        text: the node's label in pictures (default: the name).

    The new op works in eager backward, batches, ``grad(grad(grad(f)))``, ``compile``,
    ``trace_backward``, the viewer and ``draw_dot``; ``Value.NAME`` is added too when
    ``Value`` has no attribute of that name. On plain floats, an operation Python refuses
    (``1 / 0.0``, ``(-8.0) ** (1/3)``) gets the IEEE-754 answer (inf, nan) instead.

    >>> from zdravkograd import Value, ops
    >>> cube = ops.define_op("cube", lambda x: x * x * x, lambda x, out: 3.0 * x * x)
    >>> y = ops.cube(Value(2.0)); y.backward(); y.data
    8.0

    Raises:
        ValueError: at definition, for a bad name, an arity other than 1 or 2, or a
            derivative that returns the wrong number of terms or cannot run on Values.
        TypeError: if ``forward`` or ``derivative`` is not callable, or text not a str.
    """
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"define_op: the name must be a Python identifier, got {name!r}")
    if name.startswith("_"):
        raise ValueError(f"define_op: the name {name!r} must not start with '_'")
    if name in _RESERVED:
        raise ValueError(
            f"define_op: {name!r} clashes with a built-in of zdravkograd.ops; choose another name"
        )
    for what, fn in (("forward", forward), ("derivative", derivative)):
        if not callable(fn):
            raise TypeError(f"define_op({name!r}): {what} must be callable, got {fn!r:.40}")
    if text is not None and not isinstance(text, str):
        raise TypeError(f"define_op({name!r}): text must be a str, got {type(text).__name__}")
    arity = _arity(forward, name)
    if arity not in (1, 2):
        raise ValueError(
            f"define_op({name!r}): forward takes {arity} arguments; an operation takes 1 or 2 "
            "numbers (floats or 1-D arrays)"
        )
    wanted = arity + 1
    takes = _arity(derivative, name, default=wanted)
    if takes != wanted:
        args = "(x, out)" if arity == 1 else "(x, y, out)"
        raise ValueError(
            f"define_op({name!r}): derivative takes {takes} arguments; for a {arity}-operand "
            f"op it is called as derivative{args}"
        )
    op = Op(name, arity, _ieee(forward, name), _ieee(derivative, name), text or name, builtin=False)
    _check_rule(op)
    TABLE[name] = op
    globals()[name] = op
    Value = engine.Value
    if name in _methods or not hasattr(Value, name):
        setattr(Value, name, _method(op))
        _methods.add(name)
    return op


def _arity(fn: Callable[..., Any], name: str, default: int | None = None) -> int:
    """How many positional arguments ``fn`` needs (a ufunc: its ``nin``)."""
    nin = getattr(fn, "nin", None)
    if isinstance(nin, int):
        return nin
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        if default is not None:
            return default
        raise ValueError(
            f"define_op({name!r}): cannot tell how many arguments forward takes; "
            "pass a Python function (lambda x: ...)"
        ) from None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return default if default is not None else 1
    return len([p for p in params if p.kind in kinds and p.default is inspect.Parameter.empty])


def _check_rule(op: Op) -> None:
    """Run the rule on symbols: the right number of terms, and only Value-friendly operations."""
    names = ["x", "y"][: op.arity]
    try:
        terms = op.derivative(*(Sym.var(n) for n in names), Sym.var("out"))
    except (TypeError, AttributeError) as e:
        raise ValueError(
            f"define_op({op.name!r}): the derivative must work on floats, arrays and Values "
            f"alike (use + - * / **, abs and zdravkograd.ops functions); on symbols it "
            f"failed: {e}"
        ) from None
    if op.arity == 1 and isinstance(terms, (tuple, list)):
        raise ValueError(
            f"define_op({op.name!r}): a unary op's derivative returns one term, not a "
            f"{type(terms).__name__} (got {len(terms)} term{'s' if len(terms) != 1 else ''})"
        )
    if op.arity == 2 and (not isinstance(terms, (tuple, list)) or len(terms) != 2):
        count = len(terms) if isinstance(terms, (tuple, list)) else 1
        raise ValueError(
            f"define_op({op.name!r}): a binary op's derivative returns a pair "
            f"(d out/dx, d out/dy), got {count} term{'s' if count != 1 else ''}"
        )
    for term in terms if op.arity == 2 else (terms,):
        if not isinstance(term, (Sym, *kernels.REAL_TYPES)):
            raise ValueError(
                f"define_op({op.name!r}): each term of the derivative must be a number or "
                f"an expression in the operands and out, got {type(term).__name__}: {term!r:.40}"
            )


def _as_number(r: Any) -> Any:
    """A float for a scalar result, a float64 array for a batch; Values pass through."""
    if isinstance(r, (tuple, list)):
        return tuple(_as_number(t) for t in r)
    if isinstance(r, (engine.Value, Sym)):
        return r
    if isinstance(r, np.ndarray):
        return float(r) if r.ndim == 0 else r.astype(np.float64, copy=False)
    if isinstance(r, complex):
        return math.nan
    return float(r)


def _ieee(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``fn`` with IEEE-754 answers on floats: retried in NumPy where Python raises."""

    def guarded(*args: Any) -> Any:
        if all(type(a) is float for a in args):
            try:
                r = fn(*args)
                if not _has_complex(r):
                    return _as_number(r)
            except (ZeroDivisionError, OverflowError, ValueError):
                pass
            with np.errstate(all="ignore"):
                return _as_number(fn(*(np.float64(a) for a in args)))
        if any(isinstance(a, (engine.Value, Sym)) for a in args):
            return fn(*args)
        with np.errstate(all="ignore"):
            return _as_number(fn(*args))

    guarded.__name__ = name
    return guarded


def _has_complex(r: Any) -> bool:
    if isinstance(r, (tuple, list)):
        return any(isinstance(t, complex) for t in r)
    return isinstance(r, complex)


def _method(op: Op) -> Callable[..., Any]:
    def method(self: Any, *args: Any) -> Any:
        return op(self, *args)

    method.__name__ = op.name
    method.__doc__ = f"ops.{op.name}(self, ...): defined with define_op"
    return method
