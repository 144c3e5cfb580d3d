"""Compile a traced function into straight-line Python: the tape behind backprop, as code.

``prog = zdravkograd.compile(fn, *example_args)`` calls ``fn`` once on Values, which
records its computation graph (the *trace*). It then writes that graph out as one
Python function:

* one line per operation for the forward pass (``v7 = v3 * v5``), in creation order;
* one line per chain-rule step for the backward pass (``g3 = g3 + v5 * g7``), in
  the reverse order, exactly the order ``Value.backward()`` uses.

``prog(*args)`` runs that function on new inputs and on the *current* data of every
parameter (a leaf Value that ``fn`` uses but did not get as an argument, such as a
model's weights), without creating a single Value. ``print(prog.source)`` shows it.

Every line comes from the op table (:mod:`zdravkograd.ops`): a forward line calls the
row's kernel (``+`` and ``*`` are written inline), and a backward line multiplies by the
row's local derivative, evaluated on symbols and written out as code
(:mod:`zdravkograd.symbolic`). The program thus calls the functions the eager engine
calls, on the same numbers, in the same order: its results equal the engine's bit for
bit, by construction (``tests/test_ops.py`` checks every row). A batched program takes
two shortcuts that group NumPy calls without changing that order: a neuron's weighted sum
``b + h0*w0 + h1*w1 + ...`` is computed for a whole layer at once, and the gradient
sums over the batch are done together (see ``_weighted_sums`` and ``_deferrable``). A
program on plain floats computes a layer of parameters (weighted sums over one vector) in
a few NumPy calls, in the same order too (see "fused layers").

Integer ids can be program inputs (:class:`Indices`): ``fn`` gets :class:`TracedId`s, and
``ids[t].take(table)`` is a lookup the program replays with the ids it is called with.

The trace sees operations on Values and nothing else. What it cannot see is turned
into an error, never into a silently wrong number:

* a comparison of a Value (``if s > 0:``), ``float(value)`` and a read of ``value.data``
  by ``fn``'s own code are recorded as *guards* (the engine reports them through its
  tracing hook, :func:`zdravkograd.modes.tracing`); a call whose data would take the other
  branch, or change the number read, raises :class:`TraceError` (``relu`` and ``abs``
  are fine: their masks are data, recomputed on every call);
* arguments of another kind or batch length than the example raise ``TraceError``;
* a graph computed under ``no_grad``, a Value built before ``compile`` from
  operations, or a new Value made from an argument's raw numbers raise at compile time.

Numbers that ``fn`` computes from ``.data`` would be constants of the program; that is
why such a read is a guard. (The library's own code reads ``value._data``, which is not
guarded: its reads are shape checks, or shifts that cancel out of the result. The
max-shift inside the stable losses is reported to the trace, through the hook's
``derived``, so the program recomputes it from its inputs.)
"""

from __future__ import annotations

import builtins
import inspect
import math
import operator
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from zdravkograd import modes, ops
from zdravkograd.engine import Value, enable_grad
from zdravkograd.symbolic import Sym, code

__all__ = [
    "compile",
    "compile_step",
    "Program",
    "CompiledStep",
    "TraceError",
    "Indices",
    "TracedId",
]


# The fast paths below (the batch's weight-sum columns, the deferred g * w terms, fused
# layers) vectorise the rows ``mul`` and ``add``: for ``x * y`` they write ``g * y`` as x's
# term, and a ``+`` passes g on unchanged. They take those facts from the op table here,
# and stand aside (one line per operation, from the rules) if the table says otherwise:
# the rules stay written once, in ops.py.
_MUL = ops.mul if ops.rule_text(ops.mul) == ["y", "x"] else None
_ADD = ops.add if ops.rule_text(ops.add) == ["1", "1"] else None


class TraceError(ValueError):
    """The compiled program cannot give the eager engine's answer for these inputs."""


# ----------------------------------------------------------------- argument specs
# An argument is described by a spec, checked again on every call:
#   ("f",)          a number              -> one scalar Value
#   ("b", n)        a 1-D array of n      -> one batched Value
#   ("m", n, d)     a 2-D array (n, d)    -> a list of d batched Values (its columns)
#   ("l", specs)    a list or tuple       -> a list of converted items
#   ("i", n)        Indices of n ids      -> a list of n TracedIds (see "index inputs")

Spec = tuple[Any, ...]
_REAL = (int, float, np.integer, np.floating, np.bool_)


def _kind(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of length {len(x)}"
    return f"a {type(x).__name__}"


def _describe_spec(spec: Spec) -> str:
    tag = spec[0]
    if tag == "f":
        return "a number"
    if tag == "b":
        return f"a 1-D array of {spec[1]} numbers"
    if tag == "m":
        return f"an array of shape ({spec[1]}, {spec[2]})"
    if tag == "i":
        return f"Indices of {spec[1]} ids"
    return f"a list of length {len(spec[1])}"


def _trace_inputs(arg: Any, flat: list[Any], where: str, names: list[str]) -> tuple[Any, Spec]:
    """Turn an example argument into the Values ``fn`` is traced with, and its spec.

    ``flat`` collects the input Values, ``names`` their names for the source comments.
    """
    if isinstance(arg, Indices):
        ids = [TracedId(i, f"{where}[{t}]") for t, i in enumerate(arg.ids)]
        flat.extend(ids)
        names.extend(t.where for t in ids)
        return ids, ("i", len(ids))
    if isinstance(arg, Value):
        arg = arg.data
    if isinstance(arg, _REAL):
        v = Value(float(arg))
        flat.append(v)
        names.append(where)
        return v, ("f",)
    if isinstance(arg, np.ndarray) and arg.dtype.kind in "biuf":
        if arg.ndim == 0:
            return _trace_inputs(float(arg), flat, where, names)
        if arg.ndim == 1:
            v = Value(np.array(arg, dtype=np.float64))
            flat.append(v)
            names.append(where)
            return v, ("b", len(arg))
        if arg.ndim == 2:
            columns = [Value(np.array(arg[:, j], dtype=np.float64)) for j in range(arg.shape[1])]
            flat.extend(columns)
            names.extend(f"{where}[:, {j}]" for j in range(arg.shape[1]))
            return columns, ("m", arg.shape[0], arg.shape[1])
    if isinstance(arg, (list, tuple)):
        items, specs = [], []
        for i, item in enumerate(arg):
            value, spec = _trace_inputs(item, flat, f"{where}[{i}]", names)
            items.append(value)
            specs.append(spec)
        return items, ("l", tuple(specs))
    raise TypeError(
        f"compile: argument {where} is {_kind(arg)}; expected a number, a Value, a 1-D or 2-D real "
        "NumPy array, or a list/tuple of those"
    )


def _flatten(arg: Any, spec: Spec, out: list[Any], where: str) -> None:
    """Append the data of ``arg`` to ``out``, checking that it has the traced kind and shape."""
    if isinstance(arg, Value):
        arg = arg.data
    tag = spec[0]
    if tag == "i":
        ids = _ids(arg)
        if ids is not None and len(ids) == spec[1]:
            out.extend(ids)
            return
    elif tag == "f":
        if isinstance(arg, _REAL):
            out.append(float(arg))
            return
        if isinstance(arg, np.ndarray) and arg.ndim == 0 and arg.dtype.kind in "biuf":
            out.append(float(arg))
            return
    elif tag == "b":
        if isinstance(arg, np.ndarray) and arg.ndim == 1 and arg.dtype.kind in "biuf":
            if len(arg) == spec[1]:
                out.append(arg.astype(np.float64, copy=False))
                return
    elif tag == "m":
        if isinstance(arg, np.ndarray) and arg.ndim == 2 and arg.dtype.kind in "biuf":
            if arg.shape == spec[1:]:
                a = arg.astype(np.float64, copy=False)
                out.extend(a[:, j] for j in range(a.shape[1]))
                return
    elif isinstance(arg, (list, tuple)) and len(arg) == len(spec[1]):
        for i, (item, s) in enumerate(zip(arg, spec[1])):
            _flatten(item, s, out, f"{where}[{i}]")
        return
    raise TraceError(
        f"{where} is {_kind(arg)}, but the program was traced with {_describe_spec(spec)}; "
        "the graph's shape depends on it, so compile again for this kind of input"
    )


def _unflatten(spec: Spec, grads: Sequence[Any], pos: list[int]) -> Any:
    """Rebuild the argument structure from the flat list of gradients."""
    tag = spec[0]
    if tag in ("f", "b"):
        pos[0] += 1
        return grads[pos[0] - 1]
    if tag == "i":  # ids have no gradient
        pos[0] += spec[1]
        return None
    if tag == "m":
        n, d = spec[1], spec[2]
        cols = grads[pos[0] : pos[0] + d]
        pos[0] += d
        return np.stack([np.broadcast_to(g, (n,)) for g in cols], axis=1).astype(np.float64)
    return [_unflatten(s, grads, pos) for s in spec[1]]


# ---------------------------------------------------------------- index inputs
# A token id that selects a row of an embedding table is Python control flow: traced as
# a plain int, the program would always take the traced row. An id passed as Indices is a
# program input instead: fn gets a TracedId, and ``tid.take(table)`` records the lookup.
# The program indexes the table with the id it is called with; its backward adds the
# gradient of the row taken into that row, as the eager engine does for the row's Values.


class Indices:
    """Integer ids as a program input: ``compile(fn, Indices([3, 1, 4]))``.

    ``fn`` receives a list of :class:`TracedId`, one per id; ``ids[t].take(table)`` is
    ``table[id]`` (one Value of a list, or a row of a matrix given as a list of rows; an
    ``Embedding`` takes a traced id as it takes an int). Call the program with ``Indices``
    of the same length (or a list or 1-D integer array of ids). Ids get no gradient.
    """

    __slots__ = ("ids",)

    def __init__(self, ids: Any) -> None:
        found = _ids(ids)
        if found is None:
            raise TypeError(f"Indices: expected a list or 1-D array of ints, got {_kind(ids)}")
        self.ids = found

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"Indices({self.ids})"


def _ids(arg: Any) -> list[int] | None:
    """The ints of an Indices, a list/tuple of ints or a 1-D integer array; else None."""
    if isinstance(arg, Indices):
        return arg.ids
    if isinstance(arg, np.ndarray):
        if arg.ndim == 1 and (arg.dtype.kind in "iu" or arg.size == 0):
            return [int(i) for i in arg.tolist()]
        return None
    if isinstance(arg, (list, tuple)) and all(
        isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)) for i in arg
    ):
        return [int(i) for i in arg]
    return None


class TracedId:
    """One id of an :class:`Indices` input while ``compile`` traces ``fn``.

    Its only use is :meth:`take`. Reading it as a number (``int(tid)``, ``table[tid]``,
    ``tid < 3``, ``if tid:``) raises :class:`TraceError`: the program could not follow.
    """

    __slots__ = ("_id", "where", "bound", "_trace")

    def __init__(self, i: int, where: str) -> None:
        self._id = i
        self.where = where
        self.bound: int | None = None  # the smallest table it indexes: ids must stay below
        self._trace: _Trace | None = None

    def __repr__(self) -> str:
        return f"<traced id {self.where}>"

    def take(self, table: Sequence[Any]) -> Any:
        """``table[id]``, recorded: a new Value per number taken, with the data of
        ``table[id]`` (a list of Values) or ``table[id][j]`` (a matrix, a list of rows)."""
        trace = self._trace
        if trace is None or modes.tracer is not trace:
            raise TraceError(f"{self.where}: a traced id can only be used while compile traces")
        rows = list(table)
        if not 0 <= self._id < len(rows):
            raise IndexError(f"{self.where} is {self._id}, beyond a table of {len(rows)} rows")
        self.bound = len(rows) if self.bound is None else min(self.bound, len(rows))
        if all(isinstance(r, Value) for r in rows):
            out = Value(rows[self._id]._data)
            trace.gathers[out] = (self, rows)
            return out
        width = len(rows[0])
        if any(len(r) != width or not all(isinstance(v, Value) for v in r) for r in rows):
            raise TypeError(f"{self.where}.take: expected a list of Values or of rows of Values")
        outs = [Value(v._data) for v in rows[self._id]]
        for j, v in enumerate(outs):
            trace.gathers[v] = (self, [r[j] for r in rows])
        trace.lookups.append((self, outs, rows))
        return outs

    def _refuse(self, *args: Any) -> Any:
        raise TraceError(
            f"fn used {self.where} as a number (int(), an index, a comparison or a truth "
            "value); the program could not follow another id. Use .take(table) instead"
        )

    __index__ = __int__ = __float__ = __bool__ = _refuse
    __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __hash__ = object.__hash__


# --------------------------------------------------------------------- tracing
# While fn runs, the engine's tracing hook (engine.tracing) tells the trace what the graph
# cannot show: comparisons and float() (data-dependent branches), reads of .data by fn's
# own code (numbers frozen into the program), detach() (a value without a gradient) and
# results made under no_grad. The hook is global; only the tracing thread records.


class _Trace:
    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.guards: list[tuple[str, Value, Any, Any]] = []  # (what, node, other, result)
        self.copies: dict[Value, Value] = {}  # detached leaf -> the Value it copies
        self.no_grad: list[Value] = []  # results made under no_grad
        self.seen: set[Value] = set()  # nodes whose .data fn read (each guarded once)
        # leaf -> (function, operands): a number library code computed from the operands'
        # data (the max-shift of losses.logsumexp), recomputed by the program
        self.computed: dict[Value, tuple[Callable[..., Any], list[Value]]] = {}
        # leaf -> (traced id, the Values it chooses from): TracedId.take's results
        self.gathers: dict[Value, tuple[TracedId, list[Value]]] = {}
        self.lookups: list[tuple[TracedId, list[Value], list[list[Value]]]] = []  # row takes

    def _mine(self) -> bool:
        return threading.get_ident() == self.thread

    def compared(self, symbol: str, v: Value, other: Any, result: Any) -> None:
        if self._mine():
            self.guards.append((symbol, v, other, result))

    def converted(self, v: Value, result: float) -> None:
        if self._mine():
            self.guards.append(("float", v, None, result))

    def read(self, v: Value) -> None:
        """``x * x.data`` or ``if x.data > 0:`` makes a number the data decides a constant
        of the program: a call where that node holds other data raises ``TraceError``.
        (The library reads ``_data``, and its reads are operations the trace records or
        shifts that cancel out, as in ``losses``.)"""
        if self._mine() and v not in self.seen:
            self.seen.add(v)
            data = v._data
            seen = data if isinstance(data, float) else np.array(data, copy=True)
            self.guards.append(("data", v, None, seen))

    def detached(self, new: Value, v: Value) -> None:
        if self._mine():
            self.copies[new] = v

    def frozen(self, out: Value) -> None:
        if self._mine():
            self.no_grad.append(out)

    def derived(self, new: Value, fn: Callable[..., Any], operands: Sequence[Value]) -> None:
        if self._mine():
            self.computed[new] = (fn, list(operands))


_trace_lock = threading.Lock()


# ------------------------------------------------------------- code generation
# Each line of the program comes from the op table (zdravkograd.ops): a node's forward is
# a call of its row's kernel (``+`` and ``*`` are written inline), and a chain-rule step
# multiplies ``g`` by the row's local derivative, evaluated on symbols and written out as
# code (zdravkograd.symbolic): the same functions the eager engine calls, on the same
# operands, in the same order. So the program's numbers are the engine's, bit for bit.

_INLINE = {operator.add: "+", operator.mul: "*"}

_NAMESPACE: dict[str, Any] = {
    "inf": math.inf,
    "nan": math.nan,
    "_rows": lambda arrays: np.concatenate(arrays).reshape(len(arrays), -1),  # np.stack, faster
    "_add_reduce": np.add.reduce,  # what np.sum does for a 1-D array
    "_array_equal": np.array_equal,
    "_array": np.array,
    "_empty": np.empty,
    "_zeros": np.zeros,
    "_multiply": np.multiply,
}


class _Functions:
    """The functions a program calls, by name: ``_tanh`` for the tanh kernel, and so on."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace
        self.names: dict[int, str] = {}

    def __call__(self, fn: Callable[..., Any]) -> str:
        if id(fn) not in self.names:
            base = "_" + getattr(fn, "__name__", "f").strip("_<>")
            name, i = base, 1
            while name in self.namespace:
                i += 1
                name = f"{base}{i}"
            self.namespace[name] = fn
            self.names[id(fn)] = name
        return self.names[id(fn)]


def _literal(x: Any) -> str | None:
    """Python source for a plain number, or None if it needs to be a stored constant."""
    if type(x) is float:
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "(-inf)"
        return repr(x) if x >= 0 else f"({x!r})"
    if type(x) is int:
        return repr(x) if x >= 0 else f"({x!r})"
    return None


def _same(a: Any, b: Any) -> bool:
    """Equal, treating nan as equal to nan (for float() guards)."""
    return bool(a == b or (a != a and b != b))


def _same_array(a: Any, b: np.ndarray) -> bool:
    """``a`` is an array equal to ``b``, nan matching nan (for .data guards on batches)."""
    return type(a) is np.ndarray and bool(np.array_equal(a, b, equal_nan=True))


def _short(x: Any) -> str:
    """A short repr for error messages: a float, or the start of an array."""
    text = repr(x) if type(x) is float else np.array2string(x, threshold=6, edgeitems=2)
    return text if len(text) <= 80 else text[:77] + "..."


class Program:
    """A compiled function: ``prog(*args) -> (value, grads)``; ``prog.source`` is its code.

    Attributes:
        source: the generated Python source (forward lines, then backward lines).
        parameters: the leaf Values ``fn`` captured (not arguments); their current
            ``.data`` is read on every call.
        num_nodes: the number of graph nodes in the tape.
    """

    def __init__(
        self,
        source: str,
        function: Callable[..., Any],
        specs: tuple[Spec, ...],
        parameters: list[Value],
        num_nodes: int,
        name: str,
        batched: bool = False,
        bounds: dict[int, tuple[str, int]] | None = None,
    ) -> None:
        self.source = source
        self._bounds = bounds or {}  # flat input position of an id -> (its name, table size)
        self._flat = False  # True: the program reads all parameters as one array
        self._function = function
        self._specs = specs
        self.parameters = parameters
        self._param_types = [
            (type(p.data), None if isinstance(p.data, float) else len(p.data)) for p in parameters
        ]
        self.num_nodes = num_nodes
        self._name = name
        self._batched = batched

    def __repr__(self) -> str:
        return (
            f"<compiled {self._name}: {self.num_nodes} nodes, {len(self._specs)} arguments, "
            f"{len(self.parameters)} parameters>"
        )

    def _inputs(self, args: tuple[Any, ...]) -> list[Any]:
        if len(args) != len(self._specs):
            raise TraceError(
                f"the program was traced with {len(self._specs)} arguments, got {len(args)}"
            )
        flat: list[Any] = []
        for i, (arg, spec) in enumerate(zip(args, self._specs)):
            _flatten(arg, spec, flat, f"argument {i}")
        for pos, (where, bound) in self._bounds.items():
            if not 0 <= flat[pos] < bound:
                raise IndexError(
                    f"{where} is {flat[pos]}, but the table it indexes has {bound} rows "
                    f"(ids 0 to {bound - 1})"
                )
        if self._flat:  # _param_floats checks them, at once
            return flat
        for p, (t, n) in zip(self.parameters, self._param_types):
            d = p.data
            if type(d) is not t or (n is not None and len(d) != n):  # type: ignore[arg-type]
                raise TraceError(
                    f"parameter {p!r} (label {p.label!r}) held {'a float' if n is None else n}"
                    f" when traced, now {_kind(d)}; compile again"
                )
        return flat

    def run(self, *args: Any) -> tuple[float, list[Any], list[Any]]:
        """Forward + backward: ``(value, flat argument gradients, parameter gradients)``.

        The parameter gradients are in the order of ``self.parameters``.
        """
        value, arg_grads, param_grads = self._run(args)
        if type(param_grads) is np.ndarray:
            return value, list(arg_grads), param_grads.tolist()
        return value, list(arg_grads), list(param_grads)

    def _run(self, args: tuple[Any, ...]) -> tuple[float, Sequence[Any], Any]:
        """``run``, with the parameter gradients as the program returns them: an array if
        it has fused layers (see "fused layers"), else a tuple."""
        inputs = self._inputs(args)
        if self._batched:  # IEEE-754 results (inf, nan) without NumPy's warnings, as ops does
            with np.errstate(all="ignore"):
                return self._function(inputs, self.parameters)
        return self._function(inputs, self.parameters)

    def __call__(self, *args: Any) -> tuple[float, tuple[Any, ...]]:
        """``(fn(*args), (d fn / d arg for each argument))``, like ``value_and_grad``."""
        value, flat, _ = self.run(*args)
        pos = [0]
        return value, tuple(_unflatten(spec, flat, pos) for spec in self._specs)


def _arg_names(fn: Callable[..., Any], count: int, skip: int) -> list[str]:
    """The names of ``fn``'s first ``count`` positional parameters (after ``skip``)."""
    try:
        params = list(inspect.signature(fn).parameters.values())[skip:]
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [names[i] if i < len(names) else f"arg{i}" for i in range(count)]


def _trace(
    fn: Callable[..., Any], example_args: tuple[Any, ...], arg_names: list[str]
) -> tuple[Value, list[Any], list[str], tuple[Spec, ...], _Trace, int]:
    """Run ``fn`` once on Values, recording what the graph cannot show."""
    inputs: list[Any] = []  # Values, and the TracedIds of Indices
    input_names: list[str] = []
    structured, specs = [], []
    for i, arg in enumerate(example_args):
        value, spec = _trace_inputs(arg, inputs, arg_names[i], input_names)
        structured.append(value)
        specs.append(spec)
    start = Value(0.0)._id  # Values with a larger _id were created by fn
    trace = _Trace()
    for tid in inputs:
        if isinstance(tid, TracedId):
            tid._trace = trace
    with _trace_lock, modes.tracing(trace), enable_grad():
        out = fn(*structured)
    if isinstance(out, _REAL):
        out = Value(float(out))
    if not isinstance(out, Value):
        raise TypeError(f"compile: fn must return a Value or a number, got {_kind(out)}")
    if not isinstance(out.data, float):
        raise TypeError(
            f"compile: fn must return a single number, got a batch of {len(out.data)}; "
            "reduce it with .sum() or .mean()"
        )
    return out, inputs, input_names, tuple(specs), trace, start


def _build(
    fn: Callable[..., Any],
    example_args: tuple[Any, ...],
    *,
    input_grads: bool,
    parameters: Sequence[Value] = (),
    name: str = "program",
    arg_names: list[str] | None = None,
) -> Program:
    arg_names = arg_names or [f"arg{i}" for i in range(len(example_args))]
    out, inputs, input_names, specs, trace, start = _trace(fn, example_args, arg_names)
    # A node computed before compile() never changes its data: reading it needs no guard.
    trace.guards = [
        g for g in trace.guards if not (g[0] == "data" and g[1]._id < start and g[1]._a is not None)
    ]

    # The tape: every node the output or a guard needs, in creation order.
    roots = [out] + [g[1] for g in trace.guards]
    roots += [g[2] for g in trace.guards if isinstance(g[2], Value)]
    seen = set(roots)
    stack = list(roots)
    while stack:
        node = stack.pop()
        operands: Sequence[Value] = node._prev
        if node in trace.copies:
            operands = (trace.copies[node],)
        elif node in trace.computed:
            operands = trace.computed[node][1]
        elif node in trace.gathers:
            operands = trace.gathers[node][1]
        for child in operands:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    tape = sorted(seen, key=lambda v: v._id)
    index = {node: i for i, node in enumerate(tape)}

    input_pos = {v: i for i, v in enumerate(inputs)}
    frozen = set(trace.no_grad)
    input_arrays = [v.data for v in inputs if isinstance(v, Value) and type(v.data) is np.ndarray]
    params = list(dict.fromkeys(parameters))
    made = trace.copies.keys() | trace.computed.keys() | trace.gathers.keys()
    for node in tape:
        if node in input_pos or node in made:
            continue
        if node in frozen:
            raise TraceError(
                f"compile: fn computed {node!r} under no_grad; its value depends on the data, "
                "so the program could not replay it. Remove no_grad from fn"
            )
        if node._id < start:  # made before the trace: a parameter, read on each call
            if node._a is not None:
                raise TraceError(
                    f"compile: fn uses {node!r} (op {ops.describe(node)}, label {node.label!r}), "
                    "which was computed before compile(); compute it inside fn, or pass it in"
                )
            if node not in params:
                params.append(node)
        elif node._a is None and isinstance(node.data, np.ndarray):
            if any(np.shares_memory(node.data, a) for a in input_arrays):
                raise TraceError(
                    "compile: fn made a new Value from an argument's raw numbers (.data); "
                    "the program would freeze them. Use the argument Value itself"
                )
    param_pos = {p: i for i, p in enumerate(params)}

    constants: list[Any] = []
    names = {node: f"v{i}" for i, node in enumerate(tape)}
    namespace = dict(_NAMESPACE, _param_floats=_param_floats)
    functions = _Functions(namespace)

    def const(x: Any) -> str:
        lit = _literal(x)
        if lit is not None:
            return lit
        constants.append(np.array(x, copy=True) if isinstance(x, np.ndarray) else x)
        return f"C[{len(constants) - 1}]"

    lengths = {len(v.data) for v in tape if isinstance(v.data, np.ndarray)}
    batch = lengths.pop() if len(lengths) == 1 else None
    pinned = {out, *(g[1] for g in trace.guards), *trace.copies.values()}
    pinned |= {g[2] for g in trace.guards if isinstance(g[2], Value)}
    chosen = {c for _, cands in trace.gathers.values() for c in cands}  # read by name
    pinned |= chosen | {c for _, operands in trace.computed.values() for c in operands}
    sums, fused = _weighted_sums(tape, index, pinned) if batch is not None else ({}, set())
    special = {*input_pos, *trace.gathers, *trace.computed, *trace.copies, *trace.no_grad}
    own = {v for v in tape if v._a is None and v._id >= start and v not in special}
    fusion = _fuse(tape, index, param_pos, pinned, trace, own) if batch is None else _Fusion()

    lines = [f"def {name}(X, P):"]
    if fusion.blocks:  # the parameters of fused layers and lookups, as arrays
        lines.append("    F = _param_floats(P)  # every parameter's data")
        for blk, positions in enumerate(fusion.blocks):
            uses = {lay.block for lay in fusion.layers.values()}
            if blk in uses:
                lines.append(f"    BT{blk} = F[{const(positions.T.copy())}]  # weights, transposed")
                lines.append(f"    BR{blk} = F[{const(positions[::-1].copy())}]  # rows reversed")
            if any(blk == lk[2] for lk in fusion.lookups.values()):
                lines.append(f"    B{blk} = F[{const(positions)}]  # a table")
            lines.append(f"    GB{blk} = _zeros({positions.shape})  # their gradients")
    lines.append("    # forward: one line per operation")
    for number, layer in enumerate(fusion.layers.values()):
        layer.number = number
    for node in tape:
        v = names[node]
        label = f"  # {node.label}" if node.label else ""
        if node in fusion.fused:  # part of a layer, computed at its last node
            if index[node] in fusion.layers:
                _emit_layer_forward(fusion.layers[index[node]], names, lines)
        elif node in fusion.taken:  # a row of a parameter table, taken at once
            if node in fusion.lookups:
                tid, outs, blk = fusion.lookups[node]
                row = ", ".join(names[o] for o in outs)
                lines.append(f"    {row}, = B{blk}[X[{input_pos[tid]}]].tolist()  # {tid.where}")
        elif node in fusion.in_block:
            pass  # read with its block
        elif node in fused:
            pass  # part of a weighted sum computed together with others (see below)
        elif node in input_pos:
            k = input_pos[node]
            lines.append(f"    {v} = X[{k}]  # {input_names[k]}")
        elif node in trace.copies:
            src = names[trace.copies[node]]
            lines.append(f"    {v} = {src}  # detached: no gradient flows back")
        elif node in trace.computed:
            function, operands = trace.computed[node]
            args = ", ".join(names[c] for c in operands)
            lines.append(f"    {v} = {functions(function)}([{args}])  # no gradient flows back")
        elif node in trace.gathers:
            tid, cands = trace.gathers[node]
            choices = ", ".join(names[c] for c in cands)
            lines.append(f"    {v} = ({choices})[X[{input_pos[tid]}]]  # take: {tid.where}")
        elif node in param_pos:
            lines.append(f"    {v} = P[{param_pos[node]}]._data{label or '  # parameter'}")
        elif node._a is None:
            lines.append(f"    {v} = {const(node.data)}{label}")
        else:
            lines.append(f"    {v} = {_forward(node, names, functions, const)}{label}")
        for group in sums.get(index[node], []):  # sums whose inputs are all ready now
            _emit_sums(group, names, lines)

    # guards: a branch the trace took must still be the branch the data takes
    guards = []
    for k, (what, node, other, result) in enumerate(trace.guards):
        a = names[node]
        if what == "float":
            test = f"_same({a}, G[{k}])"
            text = f"float({a}) was {result!r}"
        elif what == "data":  # fn used the number itself: the very same data, or no answer
            test = f"_same({a}, G[{k}])" if type(result) is float else f"_same_array({a}, G[{k}])"
            text = f"fn read {a}.data, which was {_short(result)}"
        else:
            b = names[other] if isinstance(other, Value) else const(other)
            expr = f"{a} {what} {b}"
            if isinstance(result, (bool, np.bool_)):
                test = f"({expr}) is {bool(result)}"
            else:
                test = f"_array_equal({expr}, G[{k}])"
            text = f"{expr} was {result!r}"
        guards.append((result, text))
        lines.append(f"    if not {test}:")
        lines.append(f"        _branch({k})")

    # backward: the chain rule, node by node, in the order Value.backward uses
    targets = set(input_pos) if input_grads else set()
    targets |= set(param_pos)
    leads: set[Value] = set()
    for node in tape:  # operands come before their users
        if node in targets or (
            node._a is not None and node not in trace.copies and any(c in leads for c in node._prev)
        ):
            leads.add(node)
        elif node in trace.gathers and any(c in leads for c in trace.gathers[node][1]):
            leads.add(node)
    lines.append("    # backward: one line per chain-rule step")
    reached: set[Value] = set()
    if out in leads:
        lines.append(f"    g{index[out]} = 1.0")
        reached.add(out)
    # A float leaf (a weight) used by a whole batch receives, from each use, the sum over
    # the batch of (column * gradient column). One NumPy call costs about as much for 100
    # numbers as for 30,000, so when all batches have one length those products are
    # stacked and summed in one go at the end (each row's sum is bit-identical to a
    # separate sum; the columns never change after they are computed). Then each leaf
    # adds up its terms in the engine's order.
    terms: dict[Value, list[str]] = {}  # float leaf -> its gradient terms, in order
    columns: list[tuple[str, str]] = []  # (left, right) column pairs to multiply and sum
    temps = 0
    # The same idea for a batched node that receives many terms g * w (a neuron's input,
    # used by every neuron of the next layer): its terms are collected, and the nodes
    # with the same number of terms are summed together, in order, in a few NumPy calls.
    deferred = _deferrable(tape, out, leads, trace.copies) if batch is not None else {}
    deferred = {v: n for v, n in deferred.items() if v not in chosen}
    pending: dict[Value, list[tuple[str, str]]] = {}  # node -> its (g, w) terms so far
    for node in reversed(tape):
        if node in deferred and node in pending:
            _flush(pending, deferred, names, index, lines)
        if node in fusion.fused:
            if index[node] in fusion.layers:
                _emit_layer_backward(
                    fusion.layers[index[node]], names, index, reached, leads, lines
                )
            continue
        if node in fusion.taken:
            if node in fusion.lookups:  # the row's gradient, into the table's at that row
                tid, outs, blk = fusion.lookups[node]
                row = ", ".join(f"g{index[o]}" if o in reached else "0.0" for o in outs)
                lines.append(f"    GB{blk}[X[{input_pos[tid]}]] += [{row}]  # {tid.where}")
            continue
        if node not in reached or node in trace.copies:
            continue
        if node in trace.gathers:  # the gradient goes to the Value the id chose
            tid, cands = trace.gathers[node]
            for i, child in enumerate(cands):
                if child not in leads:
                    continue
                expr = f"(g{index[node]} if X[{input_pos[tid]}] == {i} else 0.0)"
                if batch is not None and type(child.data) is float and child._a is None:
                    lines.append(f"    c{temps} = {expr}")
                    terms.setdefault(child, []).append(f"c{temps}")
                    temps += 1
                else:
                    g = f"g{index[child]}"
                    lines.append(
                        f"    {g} = {g} + {expr}" if child in reached else f"    {g} = {expr}"
                    )
                reached.add(child)
            continue
        if node._a is None:
            continue
        for slot, child in enumerate(node._prev):
            if child not in leads:
                continue
            if child in deferred:
                w = node._b if slot == 0 else node._a
                assert w is not None
                pending.setdefault(child, []).append((f"g{index[node]}", names[w]))
                reached.add(child)
                continue
            expr = _contribution(node, slot, names, index, functions, const)
            summed = type(child.data) is float and (
                type(node.data) is not float or _local_is_array(node, slot)
            )
            a_leaf = child._a is None and child not in trace.gathers  # (a take's result: not)
            if batch is not None and type(child.data) is float and a_leaf:
                if summed:  # a column pair (left, right) whose product is summed at the end
                    if node._op is _MUL:
                        other = node._b if slot == 0 else node._a
                        assert other is not None
                        columns.append((names[other], f"g{index[node]}"))
                    else:
                        columns.append((expr, const(np.ones(batch))))
                    terms.setdefault(child, []).append(f"S[{len(columns) - 1}]")
                else:
                    lines.append(f"    c{temps} = {expr}")
                    terms.setdefault(child, []).append(f"c{temps}")
                    temps += 1
                reached.add(child)
                continue
            if summed:
                expr = f"float(_add_reduce({expr}))"  # a float used by a whole batch
            g = f"g{index[child]}"
            lines.append(f"    {g} = {g} + {expr}" if child in reached else f"    {g} = {expr}")
            reached.add(child)
    if terms:
        if columns:  # the batch sums for the weights, all at once
            lines.append(f"    A = _rows([{', '.join(left for left, _ in columns)}])")
            lines.append(f"    B = _rows([{', '.join(right for _, right in columns)}])")
            lines.append("    S = (A * B).sum(axis=1).tolist()  # row k: the sum of A[k] * B[k]")
        for leaf, parts in terms.items():
            g = f"g{index[leaf]}"
            lines.append(f"    {g} = {parts[0]}")
            lines.extend(f"    {g} = {g} + {part}" for part in parts[1:])

    def grad_of(node: Value) -> str:
        return f"g{index[node]}" if node in reached else "0.0"

    arg_grads = [grad_of(v) if input_grads and v in index else "0.0" for v in inputs]
    param_grads = [grad_of(p) if p in index else "0.0" for p in params]
    if fusion.blocks:  # the blocks' gradients, then the others'
        lines.append(f"    R = _zeros({len(params)})")
        for blk, positions in enumerate(fusion.blocks):
            lines.append(f"    R[{const(positions.ravel())}] = GB{blk}.ravel()")
        for i, (p, g) in enumerate(zip(params, param_grads)):
            if p not in fusion.in_block and g != "0.0":
                lines.append(f"    R[{i}] = {g}")
        lines.append(f"    return {names[out]}, {_tuple(arg_grads)}, R")
    else:
        lines.append(f"    return {names[out]}, {_tuple(arg_grads)}, {_tuple(param_grads)}")
    source = "\n".join(lines) + "\n"

    def branch(k: int) -> None:
        if trace.guards[k][0] == "data":
            raise TraceError(
                f"data-dependent number: while tracing, {guards[k][1]}; with these inputs it "
                "differs. The program froze what fn computed from .data, so it cannot answer. "
                "Compute with Value operations instead of .data, or compile again"
            )
        raise TraceError(
            f"data-dependent branch: while tracing, {guards[k][1]}; with these inputs it "
            "differs, and the trace cannot follow the other branch. Compile again for these "
            "inputs, or express the choice with relu()/abs(), whose masks are data"
        )

    namespace.update(C=constants, G=[g[0] for g in guards], _branch=branch, _same=_same)
    namespace["_same_array"] = _same_array
    code = builtins.compile(source, f"<zdravkograd.compiler {name}>", "exec")
    exec(code, namespace)
    function = namespace[name]
    batched = any(type(node._data) is not float for node in tape)
    bounds = {
        k: (input_names[k], v.bound)
        for k, v in enumerate(inputs)
        if isinstance(v, TracedId) and v.bound is not None
    }
    program = Program(source, function, specs, params, len(tape), name, batched, bounds)
    program._flat = bool(fusion.blocks)
    return program


# ------------------------------------------- fused layers (programs on plain floats)
# Why: a program on plain floats is one Python line per node, and most nodes of a network
# are weighted sums ``w0*x0 + w1*x1 + ...`` with parameters as the weights: a layer is a
# matrix of parameters times a vector. Here such a layer becomes a few NumPy calls, forward
# and backward, and the parameters it uses are read once per call as one array.
#
# Exact, not approximately equal: NumPy multiplies element by element with the same IEEE
# rounding as Python, and ``np.add.reduce(T, 0)`` on a C-contiguous 2-D array with at
# least 2 columns adds its rows one after the other, element by element: each column is
# summed in the chain's order, ((t0 + t1) + t2) + ... (tests/test_compile_fused.py checks it).
# ``np.matmul`` (BLAS) and a reduction along a row (NumPy's pairwise summation) would
# reorder the sums, so they are not used. The backward pass keeps the engine's order too:
# the gradient of ``x_j`` gets the rows' terms from the last row to the first, added to
# what ``x_j`` held before (row 0 of the stacked array); a weight gets ``x_j * g_i`` added
# to its running gradient. A lookup of a parameter table (``TracedId.take``) is one row
# index, and its backward adds the row's gradients into the table's gradient at that row.
# (One difference: where the engine starts a gradient at the first term, a sum here may
# start from 0.0; 0.0 + t is t, except that -0.0 becomes 0.0.)


class _Layer:
    """``k`` chains ``y_i = w_i0 * x_0 + ... + w_i(m-1) * x_(m-1)`` over one vector ``x``,
    made one after the other (tape positions ``first`` to ``last``), weights from a block."""

    def __init__(self, ends: list[Value], xs: list[Value], block: int, nodes: list[Value]):
        self.ends, self.xs, self.block, self.nodes = ends, xs, block, nodes
        self.number = 0  # set when emitted: names its arrays


class _Fusion:
    """What ``_fuse`` found: the layers, the table lookups, and the parameter blocks."""

    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []  # parameter positions, one matrix per block
        self.layers: dict[int, _Layer] = {}  # tape position of a layer's last node -> layer
        self.fused: set[Value] = set()  # nodes computed by a layer (not by their own line)
        # lookups of a parameter table: first output -> (traced id, outputs, block)
        self.lookups: dict[Value, tuple[TracedId, list[Value], int]] = {}
        self.taken: set[Value] = set()  # every output of those lookups
        self.in_block: set[Value] = set()  # parameters read from a block


def _chain(
    end: Value,
    uses: dict[Value, int],
    pinned: set[Value],
    weights: dict[Value, int],
    constants: set[Value],
):
    """``end = w0*x0 + w1*x1 + ...`` (no constant term but -0.0, the identity of +, which a
    bias-free ``ops.dot`` starts from), each w a parameter: the pairs ``[(w0, x0), ...]`` and
    the nodes, or None. Inner nodes must have no other use."""

    def term(m: Value | None) -> tuple[Value, Value] | None:
        if m is None or m._op is not _MUL or uses.get(m, 0) != 1 or m in pinned:
            return None
        if m._a not in weights or m._b is None:
            return None
        return m._a, m._b

    links: list[tuple[Value, Value]] = []
    nodes: list[Value] = []
    cur = end
    while True:
        t = term(cur._b)
        if cur._op is not _ADD or t is None:
            return None
        links.append(t)
        nodes += [cur, cur._b]  # type: ignore[list-item]
        prev = cur._a
        first = term(prev)
        if first is not None:
            links.append(first)
            nodes.append(prev)  # type: ignore[arg-type]
            return links[::-1], nodes
        if prev in constants and uses.get(prev, 0) == 1 and _is_negative_zero(prev):
            return links[::-1], [*nodes, prev]  # -0.0 + t is t: a bias-free ops.dot's chain
        if prev is None or prev._op is not _ADD or uses.get(prev, 0) != 1 or prev in pinned:
            return None
        cur = prev


def _is_negative_zero(v: Value) -> bool:
    """``v`` holds -0.0, the identity of IEEE addition."""
    return type(v._data) is float and v._data == 0.0 and math.copysign(1.0, v._data) < 0


def _fuse(
    tape: list[Value],
    index: dict[Value, int],
    param_pos: dict[Value, int],
    pinned: set[Value],
    trace: _Trace,
    constants: set[Value],
) -> _Fusion:
    """Find the layers and parameter-table lookups of a float program (see above)."""
    users: dict[Value, list[Value]] = {}
    for node in tape:
        operands: Sequence[Value] = node._prev
        if node in trace.gathers:
            operands = trace.gathers[node][1]
        elif node in trace.computed:
            operands = trace.computed[node][1]
        elif node in trace.copies:
            operands = (trace.copies[node],)
        for child in operands:
            users.setdefault(child, []).append(node)
    uses = {v: len(u) for v, u in users.items()}
    weights = {p: i for p, i in param_pos.items() if type(p._data) is float}

    # chains, grouped into layers: consecutive on the tape, over the same vector x
    chains = []
    inner: set[Value] = set()
    for node in reversed(tape):
        if node in inner or node._op is not _ADD:
            continue
        found = _chain(node, uses, pinned, weights, constants)
        if found is None or len(found[0]) < 2:
            continue
        links, nodes = found
        xs = [x for _, x in links]
        if len(set(xs)) < len(xs) or len(nodes) != index[node] - min(index[v] for v in nodes) + 1:
            continue  # a repeated input, or other nodes made in between
        inner.update(nodes)
        chains.append((node, links, nodes))
    chains.reverse()
    candidates: list[tuple[list[Value], list[Value], list[list[Value]], list[Value]]] = []
    for end, links, nodes in chains:
        xs = [x for _, x in links]
        last = candidates[-1] if candidates else None
        lo = index[end] - len(nodes) + 1
        if last is not None and last[1] == xs and index[last[0][-1]] == lo - 1:
            last[0].append(end)
            last[2].append([w for w, _ in links])
            last[3].extend(nodes)
        else:
            candidates.append(([end], xs, [[w for w, _ in links]], list(nodes)))

    fusion = _Fusion()
    keys: dict[tuple[int, ...], int] = {}
    block_of: dict[Value, set[int]] = {}  # parameter -> the blocks that hold it

    def block(rows: list[list[Value]]) -> int:
        positions = np.array([[param_pos[w] for w in row] for row in rows], dtype=np.intp)
        key = (positions.shape[1], *positions.ravel().tolist())
        if key not in keys:
            keys[key] = len(fusion.blocks)
            fusion.blocks.append(positions)
        b = keys[key]
        for row in rows:
            for w in row:
                block_of.setdefault(w, set()).add(b)
        return b

    layers = []
    for ends, xs, rows, nodes in candidates:
        if len(ends) >= 2:  # (one row would be a reduction along a row: pairwise)
            layers.append(_Layer(ends, xs, block(rows), nodes))
    lookups = []
    for tid, outs, rows in trace.lookups:
        if outs[0] in index and all(w in weights for row in rows for w in row) and len(outs) >= 2:
            lookups.append((tid, outs, block(rows)))

    # A block is used only if its parameters have no other use: no other block, no node
    # outside its layers and lookups (their gradients then live in the block's array).
    own: dict[int, set[Value]] = {}
    for layer in layers:
        own.setdefault(layer.block, set()).update(layer.nodes)
    for _, outs, b in lookups:
        own.setdefault(b, set()).update(outs)
    bad = set()
    for w, bs in block_of.items():
        b = next(iter(bs))
        if len(bs) > 1 or any(u not in own[b] for u in users.get(w, [])):
            bad |= bs
        if w in pinned:
            bad |= bs
    for layer in layers:
        if layer.block not in bad:
            fusion.layers[index[layer.ends[-1]]] = layer
            fusion.fused.update(layer.nodes)
    for tid, outs, b in lookups:
        if b not in bad:
            fusion.lookups[outs[0]] = (tid, outs, b)
            fusion.taken.update(outs)
    fusion.in_block = {w for w, bs in block_of.items() if not bs & bad}
    return fusion


def _emit_layer_forward(layer: _Layer, names: dict[Value, str], lines: list[str]) -> None:
    b, n = layer.block, layer.number
    xs = ", ".join(names[x] for x in layer.xs)
    ends = ", ".join(names[y] for y in layer.ends)
    k, m = len(layer.ends), len(layer.xs)
    lines.append(f"    # a layer: {k} weighted sums of {m} inputs (the rows of B{b}), in one go")
    lines.append(f"    XA{n} = _array([{xs}])")
    lines.append(f"    {ends}, = _add_reduce(BT{b} * XA{n}[:, None], 0).tolist()")


def _emit_layer_backward(
    layer: _Layer,
    names: dict[Value, str],
    index: dict[Value, int],
    reached: set[Value],
    leads: set[Value],
    lines: list[str],
) -> None:
    b, n = layer.block, layer.number
    gy = ", ".join(f"g{index[y]}" if y in reached else "0.0" for y in layer.ends)
    k, m = len(layer.ends), len(layer.xs)
    lines.append(f"    # the layer's backward: {k} x {m} weights, {m} inputs")
    lines.append(f"    GY = _array([{gy}])")
    lines.append(f"    GB{b} += GY[:, None] * XA{n}  # each weight: x * g")
    if any(x in leads for x in layer.xs):
        old = ", ".join(f"g{index[x]}" if x in reached else "0.0" for x in layer.xs)
        lines.append(f"    T = _empty(({k + 1}, {m}))")
        lines.append(f"    T[0] = [{old}]  # what the inputs held; then w * g, last row first")
        lines.append(f"    _multiply(BR{b}, GY[::-1, None], out=T[1:])")
        targets = ", ".join(f"g{index[x]}" if x in leads else "_" for x in layer.xs)
        lines.append(f"    {targets}, = _add_reduce(T, 0).tolist()")
        reached.update(x for x in layer.xs if x in leads)


def _param_floats(params: list[Value]) -> np.ndarray:
    """Every parameter's data as one float array (a program with fused layers reads them
    so); a parameter that now holds a batch raises TraceError."""
    try:
        data = np.array([p._data for p in params], dtype=np.float64)
    except ValueError:
        data = np.zeros((0, 0))
    if data.ndim != 1 or len(data) != len(params):
        raise TraceError("a parameter holds a batch now, not a float as when traced; compile again")
    return data


Chain = tuple[Value, Value, list[tuple[Value, Value]]]  # (end, base, [(h, w), ...])


def _weighted_sums(
    tape: list[Value], index: dict[Value, int], pinned: set[Value]
) -> tuple[dict[int, list[list[Chain]]], set[Value]]:
    """Find the neurons: chains ``b + h0*w0 + h1*w1 + ...`` of batched h and float w.

    Such a chain is one line per operation in the plain program: 2 NumPy calls per
    input. Its intermediate values are never needed again (the backward pass of
    ``+`` and ``*`` needs the operands, not the results), so the chains that become
    ready at the same point are computed together, adding the terms in the same order.

    Returns {tape index after which to compute: [groups of chains of equal length]}
    and the set of nodes whose own forward line is then dropped.
    """
    uses: dict[Value, int] = {}
    for node in tape:
        for child in node._prev:
            uses[child] = uses.get(child, 0) + 1

    def term(m: Value) -> tuple[Value, Value] | None:  # m = h * w, used once
        if m._op is not _MUL or uses.get(m, 0) != 1 or m in pinned or m._b is None:
            return None
        h, w = m._a, m._b
        assert h is not None
        if type(h.data) is float:
            h, w = w, h
        if type(h.data) is float or type(w.data) is not float:
            return None
        return h, w

    chains: list[Chain] = []
    inner: set[Value] = set()  # '+' nodes that continue into a longer chain
    for node in reversed(tape):
        if node._op is not _ADD or node in inner:
            continue
        links: list[tuple[Value, Value]] = []
        members = []
        cur = node
        while True:
            assert cur._b is not None and cur._a is not None
            t = term(cur._b)
            if t is None:
                break
            links.append(t)
            members.append(cur)
            prev = cur._a
            if prev._op is not _ADD or uses.get(prev, 0) != 1 or prev in pinned:
                break
            cur = prev
        if len(links) >= 2:
            base = members[-1]._a
            assert base is not None
            chains.append((node, base, links[::-1]))
            inner.update(members[1:])
    groups: dict[tuple[int, int, bool], list[Chain]] = {}
    fused: set[Value] = set()
    for end, base, links in reversed(chains):
        ready = max(index[v] for v in [base, *(x for hw in links for x in hw)])
        key = (ready, len(links), type(base.data) is float)
        groups.setdefault(key, []).append((end, base, links))
        cur = end
        for _ in links:
            fused.update((cur, cur._b))  # type: ignore[arg-type]
            cur = cur._a  # type: ignore[assignment]
    by_ready: dict[int, list[list[Chain]]] = {}
    for (ready, _, _), group in groups.items():
        by_ready.setdefault(ready, []).append(group)
    return by_ready, fused


def _emit_sums(group: list[Chain], names: dict[Value, str], lines: list[str]) -> None:
    """Three lines computing ``len(group)`` chains of ``m`` terms each, terms in order."""
    m, k = len(group[0][2]), len(group)
    hs = ", ".join(names[links[t][0]] for t in range(m) for _, _, links in group)
    ws = ", ".join(names[links[t][1]] for t in range(m) for _, _, links in group)
    bases = ", ".join(names[base] for _, base, _ in group)
    float_base = type(group[0][1].data) is float
    lines.append(f"    # {k} weighted sums b + h0*w0 + ... + h{m - 1}*w{m - 1}, in one go:")
    lines.append(f"    T = (_rows([{hs}]) * _array([{ws}])[:, None]).reshape({m}, {k}, -1)")
    lines.append(
        f"    T[0] += _array([{bases}])[:, None]" if float_base else f"    T[0] += _rows([{bases}])"
    )
    ends = ", ".join(names[end] for end, _, _ in group)
    lines.append(f"    {ends}, = _add_reduce(T, 0)  # adds the terms one after the other")


def _deferrable(
    tape: list[Value], out: Value, leads: set[Value], detached: dict[Value, Value]
) -> dict[Value, int]:
    """Batched intermediate nodes whose every gradient term is ``g * w`` (w a float).

    Returns node -> its number of terms (at least 2). Such a node only receives terms
    from ``*`` nodes with a float on the other side, so the terms can wait and be
    summed together with those of similar nodes.
    """
    live = {out}  # the nodes backward visits: reachable from the output
    for node in reversed(tape):
        if node in live and node not in detached:
            live.update(node._prev)
    count: dict[Value, int] = {}
    bad: set[Value] = set()
    for node in tape:
        if node not in live or node._a is None or node in detached:
            continue
        for slot, child in enumerate(node._prev):
            other = node._b if slot == 0 else node._a
            if (
                node._op is _MUL
                and other is not None
                and type(other.data) is float
                and type(child.data) is not float
            ):
                count[child] = count.get(child, 0) + 1
            else:
                bad.add(child)
    return {
        v: n
        for v, n in count.items()
        if n >= 2 and v not in bad and v._a is not None and v in leads and v not in detached
    }


def _flush(
    pending: dict[Value, list[tuple[str, str]]],
    deferred: dict[Value, int],
    names: dict[Value, str],
    index: dict[Value, int],
    lines: list[str],
) -> None:
    """Emit the sums of the collected terms of every node whose terms are all in."""
    done = [v for v, terms in pending.items() if len(terms) == deferred[v]]
    by_count: dict[int, list[Value]] = {}
    for v in done:
        by_count.setdefault(deferred[v], []).append(v)
    for m, nodes in by_count.items():
        # row t * k + i: term t of node i, so that summing over the first axis of the
        # (m, k, n) array adds each node's terms one after the other, as backward() does
        gs = [pending[v][t][0] for t in range(m) for v in nodes]
        ws = [pending[v][t][1] for t in range(m) for v in nodes]
        targets = ", ".join(f"g{index[v]}" for v in nodes)
        lines.append(f"    # the gradients of {len(nodes)} nodes, {m} terms g * w each")
        lines.append(f"    T = _rows([{', '.join(gs)}]) * _array([{', '.join(ws)}])[:, None]")
        lines.append(f"    {targets}, = _add_reduce(T.reshape({m}, {len(nodes)}, -1), 0)")
    for v in done:
        del pending[v]


def _tuple(items: list[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _forward(
    node: Value, names: dict[Value, str], functions: _Functions, const: Callable[[Any], str]
) -> str:
    """The forward line of ``node``: its row's kernel on the operands (``+``, ``*`` inline)."""
    op = node._op
    assert op is not None
    operands = [names[c] for c in node._prev]
    if op.forward in _INLINE:
        if _array_first(node._b, node._a):
            operands.reverse()  # exact either way; see _array_first
        return f" {_INLINE[op.forward]} ".join(operands)
    if op.constant:
        operands.append(const(node._const))
    return f"{functions(op.forward)}({', '.join(operands)})"


def _array_first(x: Value | None, y: Value | None) -> bool:
    """True if ``x`` holds a batch and ``y`` a float: then write ``x * y``, not ``y * x``.

    ``float * ndarray`` first asks ``float.__mul__``, which gives up, and only then
    NumPy: about twice as slow as ``ndarray * float``. IEEE ``+`` and ``*`` commute
    exactly, so the order changes no bit of the result.
    """
    return x is not None and y is not None and type(x.data) is not float and type(y.data) is float


def _local_is_array(node: Value, slot: int) -> bool:
    return type(node._da if slot == 0 else node._db) is not float


def _local(
    node: Value, slot: int, names: dict[Value, str], fn: _Functions, const: Callable[[Any], str]
) -> str:
    """The code of the local derivative d node / d operand ``slot``, from the op table.

    A built-in rule is evaluated on symbols and written out; a user's rule (define_op) is
    called as the eager engine calls it.
    """
    op = node._op
    assert op is not None
    operands = [names[c] for c in node._prev]
    if not op.builtin:
        call = f"{fn(op.derivative)}({', '.join(operands)}, {names[node]})"
        return call if op.arity == 1 else f"{call}[{slot}]"
    k = node._const if op.constant else None
    local = op.locals(tuple(Sym.var(v) for v in operands), Sym.var(names[node]), k)[slot]
    return code(local, fn, const)


def _contribution(
    node: Value,
    slot: int,
    names: dict[Value, str],
    index: dict[Value, int],
    fn: _Functions,
    const: Callable[[Any], str],
) -> str:
    """``local * g``, the chain-rule term for operand ``slot`` (``1.0 * g`` is ``g``)."""
    g = f"g{index[node]}"
    if node._op is _MUL and type(node._data) is not float:  # the batch first, as in _forward
        other = node._b if slot == 0 else node._a
        if other is not None and type(other._data) is float:
            return f"{g} * {names[other]}"
    local = _local(node, slot, names, fn, const)
    return g if local == "1.0" else f"{local} * {g}"


def compile(fn: Callable[..., Any], *example_args: Any) -> Program:  # noqa: A001
    """Trace ``fn(*example_args)`` once; return a program computing its value and gradients.

    ``prog(*args)`` gives ``(fn(*args), grads)``, the same as
    ``value_and_grad(fn, argnums=all)(*args)``, with the parameters' current data.

    Each argument is handed to ``fn`` as Values: a number as a Value, a 1-D array as
    a batched Value, a 2-D array of shape ``(n, d)`` as the list of its ``d`` columns
    (batched Values, ready for ``MLP``), a list or tuple item by item. Its gradient
    comes back in the same shape.

    >>> import zdravkograd
    >>> prog = zdravkograd.compile(lambda x, y: x * y + x, 2.0, 3.0)
    >>> prog(4.0, 5.0)
    (24.0, (6.0, 4.0))

    Raises:
        TraceError: at call time, for inputs of another kind or shape than the example,
            or data taking another branch than the trace did (see the module docs).
    """
    if not callable(fn):
        raise TypeError(f"compile: fn must be callable, got {_kind(fn)}")
    name = getattr(fn, "__name__", "program")
    name = name if name.isidentifier() and name != "<lambda>" else "program"
    names = _arg_names(fn, len(example_args), 0)
    return _build(fn, example_args, input_grads=True, name=name, arg_names=names)


class CompiledStep:
    """``step(*args) -> loss``: forward + backward of a model's loss; sets every ``p.grad``."""

    def __init__(self, model: Any, program: Program, params: list[Value]) -> None:
        self.model = model
        self.program = program
        self.params = params
        self._grads: Any = None

    @property
    def last_grads(self) -> np.ndarray | None:
        """The last call's gradients of ``model.parameters()``, as one float array."""
        if self._grads is None or type(self._grads) is np.ndarray:
            return self._grads
        return np.array(self._grads[: len(self.params)], dtype=np.float64)

    @property
    def source(self) -> str:
        return self.program.source

    def __repr__(self) -> str:
        return f"<compiled step: {self.program.num_nodes} nodes, {len(self.params)} parameters>"

    def __call__(self, *args: Any) -> float:
        value, _, grads = self.program._run(args)
        if type(grads) is np.ndarray:
            self._grads = grads[: len(self.params)]
            grads = grads.tolist()
        else:
            self._grads = grads
        for p, g in zip(self.params, grads):  # model parameters come first in the program
            p.grad = g
        return value


def compile_step(model: Any, loss_fn: Callable[..., Any], *example_args: Any) -> CompiledStep:
    """Compile a training step: ``step(*args)`` runs ``loss_fn(model, *args)`` forward and backward.

    Like ``model.zero_grad(); loss = loss_fn(model, *args); loss.backward()``, but
    replayed from a trace: it sets ``p.grad`` of every parameter of ``model`` and returns
    the loss as a float. Arguments are converted as in :func:`compile`. The optimiser
    then updates ``p.data`` as usual (so does ``load_state_dict``); the next call reads
    the new data. The program holds the parameter *Values* it saw while tracing: if you
    replace one by a new Value object, compile again.
    """
    if not callable(loss_fn):
        raise TypeError(f"compile_step: loss_fn must be callable, got {_kind(loss_fn)}")
    if not callable(getattr(model, "parameters", None)):
        raise TypeError(f"compile_step: model must have parameters(), got {_kind(model)}")
    params = list(model.parameters())

    def step(*args: Any) -> Any:
        return loss_fn(model, *args)

    names = _arg_names(loss_fn, len(example_args), 1)
    program = _build(
        step, example_args, input_grads=False, parameters=params, name="step", arg_names=names
    )
    return CompiledStep(model, program, params)
