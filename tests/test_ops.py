"""The op table (zdravkograd.ops): user-defined ops everywhere, and every consumer agreeing.

``atan`` (unary) and ``hypot`` (binary) are defined here, at test time, with
``define_op``, and then checked in every place the table feeds: eager backward on floats
and batches, ``grad(grad(grad(f)))``, ``compile`` / ``compile_step``, ``trace_backward``,
the viewer and ``draw_dot``, against finite differences and PyTorch in float64.
The second half checks the built-in rows: compiled programs give the eager engine's
bits (this replaces the compiler's old ``_self_check``), and each rule is stated once.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from conftest import require

import zdravkograd
from zdravkograd import Value, grad, ops, trace_backward, value_and_grad
from zdravkograd.symbolic import Sym

torch = require("torch")

ROOT = Path(__file__).resolve().parent.parent

atan = ops.define_op("atan", np.arctan, lambda x, out: 1 / (1 + x * x))
hypot = ops.define_op("hypot", np.hypot, lambda x, y, out: (x / out, y / out), text="hypot")

XS = [-3.0, -1.2, -0.3, 0.0, 0.4, 1.0, 2.5, 40.0]
PAIRS = [(3.0, 4.0), (-1.5, 0.2), (0.7, -2.0), (1e-3, 5.0), (-6.0, -0.5)]


def _close(a: float, b: float, rtol: float = 1e-12) -> bool:
    return abs(a - b) <= rtol * max(abs(a), abs(b), 1e-300)


def _torch_grads(f, *args: float) -> tuple[float, list[float]]:
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    out = f(*ts)
    gs = torch.autograd.grad(out, ts)
    return float(out.detach()), [float(g) for g in gs]


# ------------------------------------------------------------------ define_op


def test_a_defined_op_is_in_the_table_the_namespace_and_on_value() -> None:
    assert ops.TABLE["atan"] is atan is ops.atan and ops.TABLE["hypot"] is hypot is ops.hypot
    assert atan.arity == 1 and hypot.arity == 2 and not atan.builtin
    x = Value(0.5)
    assert x.atan().data == ops.atan(x).data == math.atan(0.5)
    assert type(ops.atan(0.5)) is float and ops.atan(0.5) == math.atan(0.5)
    assert ops.hypot(3.0, 4.0) == 5.0 and Value(3.0).hypot(4.0).data == 5.0
    assert ops.hypot(3.0, Value(4.0)).data == 5.0  # a number on the left becomes a leaf


@pytest.mark.parametrize("x", XS)
def test_unary_eager_backward_matches_finite_differences_and_torch(x: float) -> None:
    v = Value(x)
    y = (v.atan() * v).tanh()
    y.backward()
    ty, (tg,) = _torch_grads(lambda t: torch.tanh(torch.atan(t) * t), x)
    assert _close(y.data, ty) and _close(v.grad, tg)
    h = 1e-6
    f = lambda t: math.tanh(math.atan(t) * t)  # noqa: E731
    assert abs(v.grad - (f(x + h) - f(x - h)) / (2 * h)) < 1e-6


@pytest.mark.parametrize(("x", "y"), PAIRS)
def test_binary_eager_backward_matches_finite_differences_and_torch(x: float, y: float) -> None:
    a, b = Value(x), Value(y)
    out = ops.hypot(a, b) * a
    out.backward()
    ty, tg = _torch_grads(lambda s, t: torch.hypot(s, t) * s, x, y)
    assert _close(out.data, ty) and _close(a.grad, tg[0]) and _close(b.grad, tg[1])
    h = 1e-6
    f = lambda s, t: math.hypot(s, t) * s  # noqa: E731
    assert abs(a.grad - (f(x + h, y) - f(x - h, y)) / (2 * h)) < 1e-5
    assert abs(b.grad - (f(x, y + h) - f(x, y - h)) / (2 * h)) < 1e-5


def test_batched_values_match_torch() -> None:
    xs, ys = np.array(XS), np.linspace(-2.0, 3.0, len(XS))
    w = Value(0.7)
    a, b = Value(xs), Value(ys)
    loss = (ops.hypot(a.atan(), b) * w).sum()
    loss.backward()
    ta, tb = torch.tensor(xs, requires_grad=True), torch.tensor(ys, requires_grad=True)
    tw = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    tl = (torch.hypot(torch.atan(ta), tb) * tw).sum()
    tl.backward()
    np.testing.assert_allclose(a.grad, ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad, tb.grad.numpy(), rtol=1e-12)
    assert type(w.grad) is float and _close(w.grad, float(tw.grad))  # the batch sum


@pytest.mark.parametrize("x", [-1.3, 0.0, 0.6, 2.0])
def test_third_derivatives_match_torch(x: float) -> None:
    f = lambda v: v.atan() * ops.hypot(v, 2.0)  # noqa: E731
    d1, d2, d3 = grad(f), grad(grad(f)), grad(grad(grad(f)))
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = torch.atan(t) * torch.hypot(t, torch.tensor(2.0, dtype=torch.float64))
    (g1,) = torch.autograd.grad(y, t, create_graph=True)
    (g2,) = torch.autograd.grad(g1, t, create_graph=True)
    (g3,) = torch.autograd.grad(g2, t)
    assert _close(d1(x), float(g1.detach())) and _close(d2(x), float(g2.detach()), 1e-11)
    assert _close(d3(x), float(g3), 1e-10)


def test_compile_and_compile_step_give_the_eager_bits() -> None:
    def f(x: Value, y: Value) -> Value:
        return ops.hypot(x.atan(), y) * x + x.atan()

    prog = zdravkograd.compile(f, 0.3, -0.7)
    assert "_atan(" in prog.source and "_hypot(" in prog.source
    for x, y in PAIRS:
        assert prog(x, y) == value_and_grad(f, (0, 1))(x, y)  # bit for bit
    xs, ys = np.array([p[0] for p in PAIRS]), np.array([p[1] for p in PAIRS])
    batched = zdravkograd.compile(lambda x, y: f(x, y).sum(), xs, ys)
    value, (gx, gy) = batched(xs * 2, ys)
    ex, ey = Value(xs * 2), Value(ys)
    eager = f(ex, ey).sum()
    eager.backward()
    assert value == eager.data and np.array_equal(gx, ex.grad) and np.array_equal(gy, ey.grad)

    class Model:
        def __init__(self) -> None:
            self.w = Value(0.5)

        def parameters(self) -> list[Value]:
            return [self.w]

    model = Model()
    step = zdravkograd.compile_step(model, lambda m, x: ops.hypot(m.w * x, 1.0).atan(), 2.0)
    loss = step(3.0)
    v = Value(0.5)
    eager = ops.hypot(v * 3.0, 1.0).atan()
    eager.backward()
    assert loss == eager.data and model.w.grad == v.grad


def test_trace_backward_viewer_and_draw_dot_show_the_new_ops() -> None:
    x, y = Value(0.5, "x"), Value(2.0, "y")
    a = x.atan()
    a.label = "a"
    out = ops.hypot(a, y)
    out.label = "out"
    t = trace_backward(out, apply=False)
    text = str(t)
    assert "a.grad += a.data/out.data × out.grad" in text
    assert "x.grad += 1/(1 + x.data·x.data) × a.grad" in text
    out.backward()
    assert t.grads[x] == x.grad and t.grads[y] == y.grad
    from zdravkograd.viz.viewer import viewer_data

    data = viewer_data(t)
    assert {n["opText"] for n in data["nodes"]} >= {"atan", "hypot"}
    titles = [s.get("title", "") for s in data["steps"]]
    assert "out = hypot(a, y)" in titles and "a = atan(x)" in titles
    require("graphviz")
    src = zdravkograd.viz.draw_dot(out).source
    assert "atan" in src and "hypot" in src


def test_python_errors_become_ieee_answers_in_a_user_op() -> None:
    h = Value(0.0)
    out = ops.hypot(h, 0.0)  # d/dx = x / out = 0 / 0
    out.backward()
    assert out.data == 0.0 and math.isnan(h.grad)
    ts = [torch.tensor(0.0, dtype=torch.float64, requires_grad=True) for _ in range(2)]
    torch.hypot(*ts).backward()
    assert math.isnan(float(ts[0].grad))
    inv = ops.define_op("inverse", lambda x: 1 / x, lambda x, out: -out * out)
    assert inv(0.0) == math.inf and inv(-0.0) == -math.inf


def test_bad_definitions_fail_clearly_when_made() -> None:
    with pytest.raises(ValueError, match="forward takes 3 arguments; an operation takes 1 or 2"):
        ops.define_op("fma3", lambda x, y, z: x * y + z, lambda x, y, z, out: (y, x, 1.0))
    with pytest.raises(ValueError, match="derivative takes 2 arguments.*derivative\\(x, y, out\\)"):
        ops.define_op("bad2", np.hypot, lambda x, out: x)
    with pytest.raises(ValueError, match="binary op's derivative returns a pair.*got 1 term"):
        ops.define_op("bad3", np.hypot, lambda x, y, out: x / out)
    with pytest.raises(ValueError, match="binary op's derivative returns a pair.*got 3 terms"):
        ops.define_op("bad4", np.hypot, lambda x, y, out: (x, y, out))
    with pytest.raises(ValueError, match="unary op's derivative returns one term, not a tuple"):
        ops.define_op("bad5", np.arctan, lambda x, out: (x, out))
    for name in ("tanh", "pow", "add", "where", "step", "define_op"):
        with pytest.raises(ValueError, match=f"'{name}' clashes with a built-in"):
            ops.define_op(name, np.arctan, lambda x, out: 1 / (1 + x * x))
    with pytest.raises(ValueError, match="must work on floats, arrays and Values alike"):
        ops.define_op("bad6", np.sin, lambda x, out: math.cos(x))
    with pytest.raises(ValueError, match="must work on floats, arrays and Values alike"):
        ops.define_op("bad7", np.sin, lambda x, out: np.cos(x))
    with pytest.raises(ValueError, match="Python identifier"):
        ops.define_op("not a name", np.sin, lambda x, out: x)
    with pytest.raises(TypeError, match="derivative must be callable"):
        ops.define_op("bad8", np.sin, 3.0)  # type: ignore[arg-type]
    assert not {"fma3", "bad2", "bad3", "bad4", "bad5", "bad6", "bad7", "bad8"} & set(ops.TABLE)
    assert not hasattr(Value, "bad3")


def test_a_name_taken_on_value_still_gives_the_op_but_no_method() -> None:
    mean_op = ops.define_op("backward_only", np.sin, lambda x, out: ops.cos(x))
    assert Value.backward_only  # type: ignore[attr-defined]
    taken = ops.define_op("detach", np.sin, lambda x, out: ops.cos(x))  # Value.detach exists
    assert ops.detach is taken and Value.detach.__name__ == "detach" and mean_op.arity == 1
    assert Value(1.0).detach().data == 1.0  # still the engine's detach


# ------------------------------------------------------------- the built-in rows

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 20.0, -20.0, 700.0, -700.0, 1e-300, math.inf]
SPECIAL += [-math.inf, math.nan]
UNARY = ["exp", "log", "tanh", "sigmoid", "relu", "sin", "cos", "__abs__"]
EXPONENTS = [2.0, 3.0, -1.0, 0.5, 0.0, 1.0, 1 / 3, -2.5]


def _bits(a: object, b: object) -> bool:
    """The same IEEE-754 numbers: equal, or both nan; zeros with the same sign."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    return bool(np.all(same) and np.all((np.signbit(a) == np.signbit(b)) | np.isnan(a)))


def _method(name: str):
    return lambda x: getattr(x, name)()


def _power(k: float):
    return lambda x: x**k


def _fns() -> list[tuple[str, object, int]]:
    fns: list[tuple[str, object, int]] = [(n, _method(n), 1) for n in UNARY]
    fns += [(f"x**{k}", _power(k), 1) for k in EXPONENTS]
    fns += [("add", lambda x, y: x + y, 2), ("mul", lambda x, y: x * y, 2)]
    fns += [("pow", lambda x, y: x**y, 2)]
    return fns


# ------------------------------------------------------------ dot: a weighted sum

DOT_POINTS = [
    (0.5, [1.5, -2.0, 0.25], [3.0, -0.7, 1.1]),
    (-1.25, [0.3], [-4.0]),
    (0.0, [2.0, -1.0, 0.5, 3.0], [0.1, 0.2, -0.3, 0.4]),
]


def _dot_operands(b, ws, xs):
    operands = [b]
    for w, x in zip(ws, xs):
        operands += [w, x]
    return operands


@pytest.mark.parametrize("b, ws, xs", DOT_POINTS)
def test_dot_matches_the_chain_torch_and_finite_differences(b, ws, xs) -> None:
    args = _dot_operands(b, ws, xs)
    values = [Value(a) for a in args]
    out = ops.dot(*values).tanh()
    out.backward()
    assert out._prev[0]._op is ops.dot and len(out._prev[0]._prev) == len(args)
    chain_values = [Value(a) for a in args]
    chain = chain_values[0]
    for w, x in zip(chain_values[1::2], chain_values[2::2]):
        chain = chain + w * x
    chain = chain.tanh()
    chain.backward()
    assert out.data == chain.data  # the chain's numbers, bit for bit
    assert [v.grad for v in values] == [v.grad for v in chain_values]

    def torch_f(b, *wx):
        return (b + sum(w * x for w, x in zip(wx[0::2], wx[1::2]))).tanh()

    t_out, t_grads = _torch_grads(torch_f, *args)
    assert _close(out.data, t_out)
    assert all(_close(v.grad, g, 1e-10) or abs(v.grad - g) < 1e-15 for v, g in zip(values, t_grads))
    h = 1e-6
    for i, a in enumerate(args):
        up, down = list(args), list(args)
        up[i], down[i] = a + h, a - h
        fd = (math.tanh(ops.dot(*up)) - math.tanh(ops.dot(*down))) / (2 * h)
        assert abs(fd - values[i].grad) < 1e-7, (i, fd, values[i].grad)


def test_dot_on_batches_sums_the_weights_gradients_as_torch_does() -> None:
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=5) for _ in range(3)]
    ws, b = [0.3, -1.2, 0.8], 0.25
    vw, vb, vx = [Value(w) for w in ws], Value(b), [Value(x) for x in xs]
    out = ops.dot(vb, *_dot_operands_flat(vw, vx)).relu().sum()
    out.backward()
    tw = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in ws]
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    tx = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    t_out = (tb + sum(w * x for w, x in zip(tw, tx))).relu().sum()
    t_out.backward()
    assert _close(out.data, float(t_out))
    for v, t in zip([*vw, vb], [*tw, tb]):
        assert type(v.grad) is float and _close(v.grad, float(t.grad))
    for v, t in zip(vx, tx):
        assert np.allclose(v.grad, t.grad.numpy(), rtol=1e-12, atol=0)


def _dot_operands_flat(ws, xs):
    return [v for pair in zip(ws, xs) for v in pair]


def test_dot_higher_order_compiled_traced_and_plain_numbers() -> None:
    def f(x: Value) -> Value:  # 0.5 + x·x + 2·x
        return ops.dot(0.5, x, x, 2.0, x)

    assert grad(f)(3.0) == 8.0 and grad(grad(f))(3.0) == 2.0 and grad(grad(grad(f)))(3.0) == 0.0

    def g(b: Value, w: Value, x: Value) -> Value:
        return ops.dot(b, w, x, x, x).sigmoid()

    prog = zdravkograd.compile(g, 0.1, 0.2, 0.3)
    for point in [(0.5, -1.0, 2.0), (-3.0, 0.25, 0.75)]:
        assert prog(*point) == value_and_grad(g, (0, 1, 2))(*point)  # bit for bit
    b, w, x = Value(0.5, "b"), Value(-1.5, "w"), Value(2.0, "x")
    s = ops.dot(b, w, x)
    s.label = "s"
    text = str(trace_backward(s, apply=False))
    assert "w.grad += x.data × s.grad" in text and "x.grad += w.data × s.grad" in text
    assert "b.grad += s.grad" in text or "b.grad += 1 × s.grad" in text


@pytest.mark.parametrize(("name", "fn", "arity"), _fns(), ids=[f[0] for f in _fns()])
def test_compiled_rows_give_the_eager_bits(name: str, fn, arity: int) -> None:
    """What the compiler's _self_check did at compile time, for every row, as a test."""
    grid = np.array(SPECIAL)
    if arity == 1:
        prog = zdravkograd.compile(fn, 0.5)
        for x in SPECIAL:
            (value, (g,)), (ev, eg) = prog(x), value_and_grad(fn)(x)
            assert _bits(value, ev) and _bits(g, eg), (name, x, value, ev, g, eg)
        batched = zdravkograd.compile(lambda v: fn(v).sum(), grid)
        value, (g,) = batched(grid)
        ev, eg = value_and_grad(lambda v: fn(v).sum())(grid)  # numbers in: first order
        assert _bits(value, ev) and _bits(g, eg), name
        return
    prog = zdravkograd.compile(fn, 0.5, 1.5)
    for x in SPECIAL[::2]:
        for y in SPECIAL[1::2]:
            (value, gs), (ev, egs) = prog(x, y), value_and_grad(fn, (0, 1))(x, y)
            assert _bits(value, ev) and _bits(gs, egs), (name, x, y)
    xs, ys = np.repeat(grid, len(grid)), np.tile(grid, len(grid))
    batched = zdravkograd.compile(lambda a, b: fn(a, b).sum(), xs, ys)
    value, gs = batched(xs, ys)
    ev, egs = value_and_grad(lambda a, b: fn(a, b).sum(), (0, 1))(xs, ys)
    assert _bits(value, ev) and _bits(gs, egs), name


def test_every_rule_runs_on_floats_arrays_values_and_symbols() -> None:
    for op in ops.TABLE.values():
        if not op.builtin or op is ops.sum:
            continue
        args = [0.5, 1.5][: op.arity] if op.arity else [0.5, 1.5, -2.0, 0.25, 3.0]
        args = [0.5] if op.constant else args
        k = 2.0 if op.constant else None
        out = op.forward(*args, *([k] if op.constant else []))
        floats = op.locals(tuple(args), out, k)
        arrays = op.locals(tuple(np.array([a]) for a in args), np.array([out]), k)
        values = op.locals(tuple(Value(a) for a in args), Value(out), k)
        assert all(
            isinstance(s, Sym) or isinstance(s, float)
            for s in op.locals(tuple(Sym.var(n) for n in op.operand_names(5)), Sym.var("out"), k)
        )
        for f, a, v in zip(floats, arrays, values):
            assert (
                type(f) is float and float(np.asarray(a).reshape(-1)[0]) == f and ops.data(v) == f
            )


def test_each_builtin_rule_is_written_once_in_the_package() -> None:
    """The local derivatives live in ops.py; no other module restates one."""
    package = ROOT / "zdravkograd"
    rules = ["(1.0 - out) * (1.0 + out)", "out * (1.0 - out)", "pow(x, -1.0)", "-sin(x)"]
    for rule in rules:
        homes = [p.name for p in package.rglob("*.py") if rule in p.read_text()]
        assert homes == ["ops.py"], (rule, homes)
    for stale in ["DERIVATIVES", "_BACKWARD_A", "_FORWARD", "_self_check", 'startswith("**")']:
        assert not [p.name for p in package.rglob("*.py") if stale in p.read_text()], stale


def test_the_rules_in_the_docs_are_the_table() -> None:
    text = (ROOT / "docs" / "backprop.md").read_text()
    for line in ops.rules_markdown():
        assert line in text, line


# ------------------------------------------------------------------ audit (issue 9)


def test_dot_with_an_operand_in_two_pairs_compiles_to_the_eager_bits() -> None:
    """x in two pairs gets two contributions; the compiled chain must add them in the
    dot node's order (b, w0, x0, w1, x1, ...), or the last bit differs at some points."""

    def g(b: Value, w: Value, x: Value) -> Value:
        return ops.dot(b, w, x, x, x, w, 2.0).sigmoid()

    prog = zdravkograd.compile(g, 0.1, 0.2, 0.3)
    rng = np.random.default_rng(1)
    points = [tuple(float(t) for t in rng.normal(size=3) * 10) for _ in range(300)]
    assert [prog(*p) for p in points] == [value_and_grad(g, (0, 1, 2))(*p) for p in points]
    columns = [np.array(c) for c in zip(*points)]
    batched = zdravkograd.compile(lambda b, w, x: g(b, w, x).sum(), *columns)
    value, grads = batched(*columns)
    eager = [Value(c) for c in columns]
    total = g(*eager).sum()
    total.backward()
    assert value == total.data and all(np.array_equal(a, v.grad) for a, v in zip(grads, eager))


def test_dot_operand_count_errors_are_clear() -> None:
    for args in [(), (Value(1.0), Value(2.0)), (1.0, 2.0), (Value(1.0), 2.0, 3.0, 4.0)]:
        with pytest.raises(TypeError, match=r"ops.dot takes b, then pairs w, x: got \d operands"):
            ops.dot(*args)
    assert "any number" in repr(ops.dot) and repr(ops.tanh) == "<op tanh: 1 operand>"


def test_collapse_folds_a_dot_nodes_bias_and_weights_but_keeps_its_inputs() -> None:
    from zdravkograd.viz.graph import collapse_sums, collect_nodes

    b, w0, w1 = Value(0.1, "b"), Value(0.3, "w0"), Value(-0.2, "w1")
    x0, x1 = Value(1.0, "x0"), Value(2.0, "x1")  # leaves used once, as a network's inputs
    s = ops.dot(b, w0, x0, w1, x1)
    folded = collapse_sums(collect_nodes(s), {s})
    assert folded.params[s] == [b, w0, w1] and folded.inputs[s] == [x0, x1]
    chain = b + w0 * x0 + w1 * x1  # the chain folds the same leaves
    folded = collapse_sums(collect_nodes(chain), {chain})
    assert set(folded.params[chain]) == {b, w0, w1} and set(folded.inputs[chain]) == {x0, x1}


@pytest.mark.parametrize("name", ["np", "math", "re", "engine", "kernels", "Sym", "operator"])
def test_define_op_refuses_the_names_the_table_module_itself_uses(name: str) -> None:
    before = getattr(ops, name)
    with pytest.raises(ValueError, match=f"'{name}' clashes with a built-in"):
        ops.define_op(name, np.arctan, lambda x, out: 1 / (1 + x * x))
    assert getattr(ops, name) is before and name not in ops.TABLE


def test_no_module_is_shadowed_by_a_public_function() -> None:
    import importlib
    import pkgutil

    for info in pkgutil.walk_packages(zdravkograd.__path__, "zdravkograd."):
        module = importlib.import_module(info.name)
        parent, _, leaf = info.name.rpartition(".")
        found = getattr(importlib.import_module(parent), leaf)
        assert found is module, f"{parent}.{leaf} is {found!r}, not the module {info.name}"


def test_a_derivative_returning_no_number_or_a_one_term_list_is_refused() -> None:
    with pytest.raises(ValueError, match="must be a number or an expression.*got NoneType"):
        ops.define_op("bad_none", np.sin, lambda x, out: None)
    with pytest.raises(ValueError, match="must be a number or an expression.*got str"):
        ops.define_op("bad_str", np.hypot, lambda x, y, out: (x / out, "y"))
    with pytest.raises(ValueError, match=r"returns one term, not a list \(got 1 term\)"):
        ops.define_op("bad_list", np.sin, lambda x, out: [ops.cos(x)])
    assert not {"bad_none", "bad_str", "bad_list"} & set(ops.TABLE)
    assert ops.define_op("twice", lambda x: 2 * x, lambda x, out: 2).derivative(1.0, 2.0) == 2.0


def test_a_user_rule_with_where_shows_both_branches_in_the_formulas() -> None:
    """The trace's formula must say what the number is: 1 for x > 0 here, not 0.1."""
    leaky = ops.define_op(
        "leaky",
        lambda x: x * (0.1 + 0.9 * (x > 0)),
        lambda x, out: ops.where(ops.data(x) > 0, 1.0, 0.1),
    )
    x = Value(2.0, "x")
    y = leaky(x)
    y.label = "y"
    (step,) = trace_backward(y, apply=False).steps
    assert step.updates[0].local == 1.0
    text = str(trace_backward(y, apply=False))
    assert "x.grad += (1 if x.data > 0 else 0.1) × y.grad = 1.0 × 1.0" in text, text
    assert ops.rule_text(ops.pow)[0] == "y·x^(y − 1)"  # pow's isolated-point masks stay hidden


def test_the_operations_listed_in_differences_md_are_the_table() -> None:
    """docs/differences.md names every built-in row (a new row must be added there too)."""
    text = (ROOT / "docs" / "differences.md").read_text()
    section = text.split("## More operations")[1].split("```")[0]
    shown = {"add": "`+`", "mul": "`*`", "pow": "`**` with a Value exponent"}
    shown["pow_const"] = "`**` with a constant exponent"
    for op in ops.TABLE.values():
        if op.builtin:
            assert shown.get(op.name, f"`{op.name}`") in section, op.name


def test_the_viewer_writes_a_dot_node_as_its_sum() -> None:
    from zdravkograd.viz.viewer import viewer_data

    b, w, x = Value(0.5, "b"), Value(-1.5, "w"), Value(2.0, "x")
    s = ops.dot(b, w, x, x, w)
    s.label = "s"
    titles = [step.get("title") for step in viewer_data(trace_backward(s.tanh()))["steps"]]
    assert "s = b + w·x + x·w" in titles, titles


def test_define_op_is_a_top_level_function() -> None:
    """The issue names it ``zdravkograd.define_op``; ``ops.define_op`` is the same function."""
    assert zdravkograd.define_op is ops.define_op and "define_op" in zdravkograd.__all__


def test_calling_a_row_with_the_wrong_number_of_arguments_says_so() -> None:
    with pytest.raises(TypeError, match=r"ops.tanh takes 1 argument, got 2$"):
        ops.tanh(Value(1.0), Value(2.0))
    with pytest.raises(TypeError, match=r"ops.hypot takes 2 arguments, got 1$"):
        ops.hypot(Value(1.0))
    with pytest.raises(TypeError, match=r"ops.pow_const takes 2 arguments, got 1$"):
        ops.pow_const(Value(1.0))


def test_the_compilers_fast_paths_read_the_add_and_mul_rules_from_the_table() -> None:
    """With another rule for mul in the table, the fused paths stand aside and the program
    writes that rule, one line per operation. (With the real rule the same function is a
    fused layer: tests/test_compile_fused.py.)"""
    import subprocess
    import sys

    code = """
import importlib, random
from zdravkograd import Value, compiler, ops
from zdravkograd.transformer import matvec
ops.mul.derivative = lambda x, y, out: (2.0 * y, x)  # another rule in the table
compiler = importlib.reload(compiler)
assert compiler._MUL is None and compiler._ADD is ops.add
rng = random.Random(0)
W = [[Value(rng.gauss(0, 1)) for _ in range(3)] for _ in range(4)]
f = lambda a, b, c: sum(y.tanh() for y in matvec(W, [a, b, c]))
program = compiler.compile(f, 0.3, -1.2, 2.0)
assert "a layer" not in program.source and "2.0 * " in program.source, program.source
print("ok")
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
    from zdravkograd import compiler

    assert compiler._MUL is ops.mul and compiler._ADD is ops.add
