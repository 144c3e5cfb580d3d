"""The compiler's index inputs, recorded max-shift and fused layers: each checked against
the eager engine bit for bit (the compiled program must give the engine's very numbers)."""

from __future__ import annotations

import random

import numpy as np
import pytest

import zdravkograd
from zdravkograd import Value, value_and_grad
from zdravkograd.compiler import Indices, TraceError, compile_step
from zdravkograd.gpt_train import ids_loss
from zdravkograd.losses import logsumexp
from zdravkograd.transformer import GPT, KVCache, matvec


def _sequential(rows: np.ndarray) -> list[float]:
    """Each column's sum, row after row, in Python floats: the order of a chain of '+'."""
    total = rows[0].tolist()
    for row in rows[1:]:
        total = [a + b for a, b in zip(total, row.tolist())]
    return total


@pytest.mark.parametrize("shape", [(2, 2), (16, 16), (64, 16), (16, 64), (27, 16), (3, 300)])
def test_add_reduce_over_axis_0_adds_the_rows_in_order(shape):
    """What the fused layers rest on: np.add.reduce(T, 0) of a C-contiguous array with at
    least 2 columns is the sequential sum of its rows (no pairwise reordering)."""
    rng = np.random.default_rng(sum(shape))
    for _ in range(10):
        rows = rng.normal(size=shape) * 10.0 ** rng.integers(-8, 8, size=shape)
        assert np.add.reduce(rows, 0).tolist() == _sequential(rows)


def _eager_loss(model, xs, ys, ws):
    """ids_loss with plain int ids: the eager engine, no lookups recorded."""
    cache = KVCache(len(model.blocks))
    total = None
    for t, (x, y, w) in enumerate(zip(xs, ys, ws)):
        logits = model.step(x, t, cache)
        term = (logsumexp(logits) - logits[y]) * w
        total = term if total is None else total + term
    return total


def test_a_compiled_gpt_step_gives_the_eager_bits_for_other_ids():
    model = GPT(11, n_embd=8, n_head=2, block_size=6, rng=random.Random(3))
    rng = random.Random(4)
    ws = [0.25, 0.25, 0.25, 0.25, 0.0]

    def draw():
        return [rng.randrange(11) for _ in range(5)], [rng.randrange(11) for _ in range(5)]

    xs, ys = draw()
    step = compile_step(model, ids_loss, Indices(xs), Indices(ys), ws)
    assert "# a layer: 8 weighted sums" in step.source  # fused, not one line per node
    assert "_shift_of(" in step.source and "if not" not in step.source  # no guard
    for _ in range(4):
        xs, ys = draw()
        loss = step(Indices(xs), Indices(ys), ws)
        grads = [p.grad for p in model.parameters()]
        model.zero_grad()
        eager = _eager_loss(model, xs, ys, ws)
        eager.backward()
        assert loss == eager.data
        assert grads == [p.grad for p in model.parameters()]
        assert step.last_grads.tolist() == grads


def test_a_layer_is_fused_and_exact_and_a_shared_weight_is_not_fused():
    rng = random.Random(0)
    W = [[Value(rng.gauss(0, 1)) for _ in range(5)] for _ in range(4)]

    def f(a, b, c, d, e):
        h = [y.tanh() for y in matvec(W, [a, b, c, d, e])]
        return sum(h[1:], h[0])

    args = (0.3, -1.2, 2.0, 0.7, -0.1)
    program = zdravkograd.compile(f, *args)
    assert "a layer: 4 weighted sums of 5 inputs" in program.source
    for _ in range(3):
        xs = tuple(rng.gauss(0, 2) for _ in range(5))
        value, grads = program(*xs)
        eager_value, eager_grads = value_and_grad(f, tuple(range(5)))(*xs)
        assert value == eager_value and grads == eager_grads
        _, _, param_grads = program.run(*xs)
        for p in program.parameters:
            p.grad = 0.0
        f(*(Value(x) for x in xs)).backward()
        assert param_grads == [p.grad for p in program.parameters]

    def g(a, b, c, d, e):  # W[0][0] is also used outside the layer: no fused block
        return f(a, b, c, d, e) + W[0][0] * a

    program = zdravkograd.compile(g, *args)
    assert "a layer" not in program.source
    assert program(*args) == value_and_grad(g, tuple(range(5)))(*args)


def test_indices_replay_other_ids_and_refuse_bad_ones():
    table = [[Value(float(3 * i + j)) for j in range(3)] for i in range(4)]

    def f(ids, y):
        total = Value(0.0)
        for t in ids:
            z = [r * y for r in t.take(table)]
            total = total + logsumexp(z) - t.take(z + z[:1])  # a lookup among Values too
        return total

    program = zdravkograd.compile(f, Indices([1, 2]), 0.5)
    for ids in ([1, 2], [3, 0], [2, 2], np.array([0, 3])):
        value, (id_grads, y_grad) = program(Indices(ids), 0.7)
        y = Value(0.7)
        eager = Value(0.0)
        for i in list(ids):
            z = [r * y for r in table[i]]
            eager = eager + logsumexp(z) - (z + z[:1])[i]
        eager.backward()
        assert (value, y_grad, id_grads) == (eager.data, y.grad, None)
    with pytest.raises(IndexError, match=r"ids\[0\] is 4, but the table it indexes has 4 rows"):
        program([4, 0], 0.1)
    with pytest.raises(TraceError, match="Indices of 2 ids"):
        program([1, 2, 3], 0.1)
    with pytest.raises(TraceError, match=r"used ids\[0\] as a number"):
        zdravkograd.compile(lambda ids: table[ids[0]][0] * 2.0, Indices([1]))
    kept = []
    zdravkograd.compile(lambda ids: kept.append(ids[0]) or table[0][0] * 1.0, Indices([1]))
    with pytest.raises(TraceError, match="only be used while compile traces"):
        kept[0].take(table)
    with pytest.raises(TypeError, match="Indices: expected a list or 1-D array of ints"):
        Indices([1.5])


def test_a_lookup_in_a_batched_program_gives_the_eager_numbers():
    table = [[Value(0.5 * i - j) for j in range(2)] for i in range(3)]

    def f(ids, x):
        row = ids[0].take(table)
        return (row[0] * x + row[1] * x * x).sum()

    def f_eager(i, x):
        return (table[i][0] * x + table[i][1] * x * x).sum()

    x = np.array([0.5, -1.0, 2.0])
    program = zdravkograd.compile(f, Indices([2]), x)
    for i in range(3):
        value, (_, grad) = program(Indices([i]), x)
        _, param_grads = program.run(Indices([i]), x)[::2]
        eager_value, eager_grad = value_and_grad(lambda x, i=i: f_eager(i, x))(x)
        assert value == eager_value and np.array_equal(grad, eager_grad)
        for p in program.parameters:
            p.grad = 0.0
        f_eager(i, Value(x)).backward()
        assert param_grads == [p.grad for p in program.parameters]


@pytest.mark.parametrize(
    "row", [(0.1, 0.2, 0.3), (1000.0, 0.0, -1000.0), (float("inf"), 1.0, 2.0), (-np.inf, 3.0, 1.0)]
)
def test_the_max_shift_is_recomputed_by_the_program(row):
    f = lambda a, b, c: logsumexp([a, b, c])  # noqa: E731
    program = zdravkograd.compile(f, 0.5, 0.25, -0.75)
    assert "_shift_of([" in program.source
    value, grads = program(*row)
    eager_value, eager_grads = value_and_grad(f, (0, 1, 2))(*row)
    np.testing.assert_array_equal([value, *grads], [eager_value, *eager_grads])


def test_a_fused_program_refuses_a_parameter_that_became_a_batch():
    model = GPT(5, n_embd=4, n_head=1, block_size=3, rng=random.Random(1))
    step = compile_step(model, ids_loss, Indices([0, 1]), Indices([1, 2]), [0.5, 0.5])
    model.lm_head[0][0].data = np.array([1.0, 2.0])
    with pytest.raises(TraceError, match="holds a batch now"):
        step(Indices([0, 1]), Indices([1, 2]), [0.5, 0.5])
