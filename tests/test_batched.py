"""Batched Values: the same scalar graph, each node carrying a column of numbers.

The reference is always the per-sample scalar path: one graph per sample, as
in micrograd. The batched graph must give the same loss and the same gradient
for every parameter, to 1e-12 relative.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from cases import same

import zdravkograd
from zdravkograd import Value, losses
from zdravkograd.engine import topological_order
from zdravkograd.nn import MLP


def _moons(n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1337)  # micrograd's moons shape, without scikit-learn
    t = rng.uniform(0, np.pi, n)
    upper = rng.random(n) < 0.5
    X = np.where(upper[:, None], np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    X = X + 0.1 * rng.standard_normal((n, 2))
    return X, np.where(upper, 1.0, -1.0)


def _model() -> MLP:
    random.seed(1337)
    return MLP(2, [16, 16, 1])


def _rel_close(a: float, b: float, rtol: float = 1e-12) -> bool:
    return abs(a - b) <= rtol * max(abs(a), abs(b), 1e-300)


# ------------------------------------------------------------------ operators


def test_ndarray_on_the_left_gives_a_batched_value():
    y = np.array([1.0, -1.0, 2.0])
    v = Value(np.array([0.5, 0.25, -1.0]))
    for out in (y * v, y + v, y - v, y / v, y**v, 1 - y * v):
        assert isinstance(out, Value), type(out)
        assert isinstance(out.data, np.ndarray) and out.data.shape == (3,)
    assert np.array_equal((1 - y * v).data, 1 - y * v.data)


def test_float_leaf_meeting_a_batch_gets_the_sum():
    w = Value(3.0)
    x = Value(np.array([1.0, 2.0, 4.0]))
    loss = (w * x).sum()
    loss.backward()
    assert w.grad == 7.0 and isinstance(w.grad, float)
    assert np.array_equal(x.grad, np.array([3.0, 3.0, 3.0]))


def test_sum_and_mean_reduce_to_a_float_value():
    x = Value(np.array([1.0, 2.0, 6.0]))
    m = x.mean()
    assert isinstance(m.data, float) and m.data == 3.0
    m.backward()
    assert np.allclose(x.grad, [1 / 3] * 3)
    f = Value(2.0)
    assert f.sum() is f and f.mean() is f


def test_an_empty_batch_sums_to_zero_and_averages_to_nan_as_torch():
    x = Value(np.array([]))
    assert x.sum().data == 0.0  # torch.tensor([]).sum() == 0
    m = x.mean()  # torch.tensor([]).mean() is nan: no ZeroDivisionError
    assert isinstance(m.data, float) and np.isnan(m.data)
    m.backward()
    assert x.grad.shape == (0,)


def test_batched_ops_equal_elementwise_scalar_ops():
    xs = np.array([-2.0, -0.5, 0.0, 0.3, 1.7])
    batch = Value(xs)
    out = ((batch * 2).tanh() + batch.sigmoid() * batch.exp() - (batch * batch + 1).log()).relu()
    out.sum().backward()
    for i, x in enumerate(xs):
        v = Value(float(x))
        o = ((v * 2).tanh() + v.sigmoid() * v.exp() - (v * v + 1).log()).relu()
        o.backward()
        # NumPy's and math's exp/tanh may differ in the last bit: compare to 1e-14
        assert same(o.data, out.data[i], 1e-14) and same(v.grad, batch.grad[i], 1e-14)


# ---------------------------------------------------------------------- the MLP


def test_mlp_runs_unchanged_on_batched_columns_with_67_batched_nodes():
    X, _ = _moons()
    model = _model()
    score = model([Value(X[:, 0]), Value(X[:, 1])])
    assert isinstance(score, Value) and score.data.shape == (100,)
    nodes = topological_order(score)
    batched_nodes = [n for n in nodes if isinstance(n.data, np.ndarray)]
    assert len(batched_nodes) == 2 + 33 + 32  # the inputs, a sum per neuron, 32 ReLUs
    per_sample = sum(len(topological_order(model(list(map(Value, row))))) for row in X[:3])
    assert per_sample / 3 * 100 > 30_000  # the per-sample path: about 100x as many nodes
    for i in (0, 17, 99):
        assert same(model(list(map(Value, X[i]))).data, score.data[i], 1e-12)


def _scalar_step(model: MLP, X: np.ndarray, y: np.ndarray) -> tuple[float, list[float]]:
    scores = [model(list(map(Value, row))) for row in X.tolist()]
    losses = [(1 + -yi * si).relu() for yi, si in zip(y.tolist(), scores)]
    total = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())
    model.zero_grad()
    total.backward()
    return total.data, [p.grad for p in model.parameters()]


def _batched_step(model: MLP, X: np.ndarray, y: np.ndarray) -> tuple[float, list[float]]:
    score = model([Value(X[:, 0]), Value(X[:, 1])])
    total = (1 + -y * score).relu().mean() + 1e-4 * sum(p * p for p in model.parameters())
    model.zero_grad()
    total.backward()
    return total.data, [p.grad for p in model.parameters()]


def test_moons_step_batched_equals_per_sample_to_1e_12():
    X, y = _moons()
    model = _model()
    loss_s, grads_s = _scalar_step(model, X, y)
    loss_b, grads_b = _batched_step(model, X, y)
    assert isinstance(loss_b, float) and _rel_close(loss_b, loss_s)
    assert all(isinstance(g, float) for g in grads_b)
    bad = [(i, a, b) for i, (a, b) in enumerate(zip(grads_b, grads_s)) if not _rel_close(a, b)]
    assert not bad, bad[:5]
    assert sum(g != 0.0 for g in grads_s) > 300  # the comparison covers real gradients


def test_batched_inside_fast_gives_the_same_numbers():
    X, y = _moons(30)
    model = _model()
    loss, grads = _batched_step(model, X, y)
    with zdravkograd.fast():
        loss2, grads2 = _batched_step(model, X, y)
    assert loss == loss2 and grads == grads2


# ------------------------------------------------------------------- the losses


@pytest.mark.parametrize(
    "name, targets",
    [
        ("hinge_loss", "pm1"),
        ("mse_loss", "real"),
        ("binary_cross_entropy_with_logits", "01"),
    ],
)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_losses_accept_batched_scores(name, targets, reduction):
    X, y = _moons(40)
    t = {"pm1": y, "01": (y > 0).astype(float), "real": X[:, 0] * 0.5}[targets]
    loss_fn = getattr(losses, name)
    model = _model()
    model.zero_grad()
    per_sample = loss_fn([model(list(map(Value, row))) for row in X.tolist()], t, reduction)
    per_sample.backward()
    expected = [p.grad for p in model.parameters()]
    model.zero_grad()
    batched = loss_fn(model([Value(X[:, 0]), Value(X[:, 1])]), t, reduction)
    batched.backward()
    assert isinstance(batched.data, float) and _rel_close(batched.data, per_sample.data)
    for a, b in zip([p.grad for p in model.parameters()], expected):
        assert abs(a - b) <= 1e-12 * max(1.0, abs(b)), (name, a, b)


def test_l2_regularization_and_cross_entropy_on_batches():
    reg = losses.l2_regularization(_model().parameters(), 1e-4)
    assert isinstance(reg, Value) and isinstance(reg.data, float)
    X, y = _moons(20)
    cls = (y > 0).astype(int)
    random.seed(5)
    model = MLP(2, [8, 2])
    rows = [model(list(map(Value, row))) for row in X.tolist()]
    scalar = sum(losses.cross_entropy(r, int(c)) for r, c in zip(rows, cls)) * (1 / len(rows))
    batched = losses.cross_entropy(model([Value(X[:, 0]), Value(X[:, 1])]), cls)
    assert _rel_close(batched.data, scalar.data, 1e-12)
