"""zdravkograd.losses against torch.nn.functional in float64: values and gradients."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require
from hypothesis import given
from hypothesis import strategies as st

from zdravkograd import losses as L
from zdravkograd import ops
from zdravkograd.engine import Value

torch = require("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch

RTOL = 1e-12


def _scalar_grads(fn, xs, *args, **kw):
    """Run a loss on a list of Values; return (value, gradients)."""
    vs = [Value(float(x)) for x in xs]
    out = fn(vs, *args, **kw)
    out.backward()
    return out.data, np.array([v.grad for v in vs])


def _batched_grads(fn, xs, *args, **kw):
    v = Value(np.asarray(xs, dtype=np.float64))
    out = fn(v, *args, **kw)
    out.backward()
    return out.data, np.asarray(v.grad)


def _torch(fn, xs, *args, **kw):
    t = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    out = fn(t, *args, **kw)
    out.backward()
    return out.item(), t.grad.numpy()


def _check(ours, theirs, rtol=RTOL, atol=1e-15):
    assert ours[0] == pytest.approx(theirs[0], rel=rtol, abs=atol)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=rtol, atol=atol)


SCORES = [0.3, -1.2, 2.5, 0.0, -0.01, 4.0, 1.0]
PM1 = [1, -1, -1, 1, 1, -1, 1]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("runner", [_scalar_grads, _batched_grads])
def test_hinge_loss(runner, reduction):
    y = torch.tensor(PM1, dtype=torch.float64)

    def ref(s):
        r = torch.relu(1 - y * s)
        return r.mean() if reduction == "mean" else r.sum()

    _check(runner(L.hinge_loss, SCORES, PM1, reduction=reduction), _torch(ref, SCORES))


def test_hinge_loss_builds_the_seed_graph_exactly():
    ys = [1, -1, 1]
    s1 = [Value(0.3), Value(-0.4), Value(2.0)]
    s2 = [Value(0.3), Value(-0.4), Value(2.0)]
    seed = [(1 + -yi * si).relu() for yi, si in zip(ys, s1)]
    expected = sum(seed) * (1.0 / len(seed))
    got = L.hinge_loss(s2, ys)
    assert got.data == expected.data and got._op is expected._op is ops.mul


def test_hinge_loss_rejects_zero_one_labels():
    with pytest.raises(ValueError, match="targets must be -1 or \\+1, got 0.0"):
        L.hinge_loss([Value(1.0), Value(2.0)], [0, 1])


def test_reduction_none_and_errors():
    out = L.hinge_loss([Value(0.5), Value(3.0)], [1, 1], reduction="none")
    assert [v.data for v in out] == [0.5, 0.0]
    out = L.mse_loss(Value(np.array([1.0, 2.0])), [0.0, 0.0], reduction="none")
    np.testing.assert_array_equal(out.data, [1.0, 4.0])
    with pytest.raises(ValueError, match="reduction must be one of"):
        L.mse_loss([Value(1.0)], [1.0], reduction="avg")
    with pytest.raises(ValueError, match="3 scores but 2 targets"):
        L.mse_loss([Value(1.0)] * 3, [1.0, 2.0])
    with pytest.raises(ValueError, match="at least one sample"):
        L.mse_loss([], [])
    with pytest.raises(TypeError, match="scores must be a Value or a list"):
        L.mse_loss(3.0, [1.0])  # type: ignore[arg-type]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("runner", [_scalar_grads, _batched_grads])
def test_mse_loss(runner, reduction):
    targets = [0.5, 0.5, -3.0, 1.0, 0.0, 2.0, 1e3]
    ref = lambda s: F.mse_loss(s, torch.tensor(targets, dtype=torch.float64), reduction=reduction)
    _check(runner(L.mse_loss, SCORES, targets, reduction=reduction), _torch(ref, SCORES))


LOGITS = [-1000.0, -40.0, -3.0, -1e-3, 0.0, 1e-3, 2.0, 35.0, 1000.0]
PROBS = [0.0, 1.0, 0.3, 1.0, 0.5, 0.0, 1.0, 0.2, 1.0]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("runner", [_scalar_grads, _batched_grads])
def test_bce_with_logits_is_stable_at_1000(runner, reduction):
    t = torch.tensor(PROBS, dtype=torch.float64)
    ref = lambda s: F.binary_cross_entropy_with_logits(s, t, reduction=reduction)
    ours = runner(L.binary_cross_entropy_with_logits, LOGITS, PROBS, reduction=reduction)
    assert np.isfinite(ours[0]) and np.all(np.isfinite(ours[1]))
    _check(ours, _torch(ref, LOGITS), rtol=1e-12, atol=1e-14)


def test_bce_with_logits_gradient_is_sigmoid_minus_target_at_zero():
    x = Value(0.0)
    L.binary_cross_entropy_with_logits([x], [1.0]).backward()
    assert x.grad == -0.5  # sigmoid(0) - 1: the kink-free formula gets 0 right


def test_bce_rejects_targets_outside_unit_interval():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        L.binary_cross_entropy_with_logits([Value(0.0)], [2.0])


ROWS = [[0.1, 2.0, -1.0], [1000.0, -1000.0, 0.0], [-5.0, -5.0, -5.0], [3.0, 1e-3, 700.0]]
CLASSES = [1, 0, 2, 1]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_lists_of_rows(reduction):
    vs = [[Value(x) for x in row] for row in ROWS]
    out = L.cross_entropy(vs, CLASSES, reduction=reduction)
    out.backward()
    t = torch.tensor(ROWS, dtype=torch.float64, requires_grad=True)
    ref = F.cross_entropy(t, torch.tensor(CLASSES), reduction=reduction)
    ref.backward()
    assert out.data == pytest.approx(ref.item(), rel=RTOL)
    got = np.array([[v.grad for v in row] for row in vs])
    np.testing.assert_allclose(got, t.grad.numpy(), rtol=RTOL, atol=1e-15)


def test_cross_entropy_batched_columns():
    cols = [Value(np.array([row[c] for row in ROWS])) for c in range(3)]
    out = L.cross_entropy(cols, np.array(CLASSES))
    out.backward()
    t = torch.tensor(ROWS, dtype=torch.float64, requires_grad=True)
    ref = F.cross_entropy(t, torch.tensor(CLASSES))
    ref.backward()
    assert out.data == pytest.approx(ref.item(), rel=RTOL)
    got = np.stack([c.grad for c in cols], axis=1)
    np.testing.assert_allclose(got, t.grad.numpy(), rtol=RTOL, atol=1e-15)


def test_cross_entropy_one_sample_and_errors():
    vs = [Value(x) for x in ROWS[0]]
    out = L.cross_entropy(vs, 2)
    ref = F.cross_entropy(torch.tensor([ROWS[0]], dtype=torch.float64), torch.tensor([2]))
    assert out.data == pytest.approx(ref.item(), rel=RTOL)
    with pytest.raises(ValueError, match="out of range for 3 classes"):
        L.cross_entropy(vs, 3)
    with pytest.raises(TypeError, match="class index"):
        L.cross_entropy(vs, 1.0)
    with pytest.raises(ValueError, match="2 samples but 3 targets"):
        L.cross_entropy([vs, vs], [0, 1, 2])
    with pytest.raises(TypeError, match="got one Value"):
        L.cross_entropy(Value(1.0), 0)


@pytest.mark.parametrize("row", ROWS)
def test_softmax_and_log_softmax(row):
    vs = [Value(x) for x in row]
    sm, lsm = L.softmax(vs), L.log_softmax(vs)
    t = torch.tensor(row, dtype=torch.float64, requires_grad=True)
    np.testing.assert_allclose([v.data for v in sm], F.softmax(t, 0).detach(), rtol=RTOL)
    np.testing.assert_allclose([v.data for v in lsm], F.log_softmax(t, 0).detach(), rtol=RTOL)
    assert sum(v.data for v in sm) == pytest.approx(1.0, rel=1e-15)
    # gradient of a weighted sum of log_softmax
    weights = [0.5, -2.0, 1.5]
    sum(w * v for w, v in zip(weights, lsm)).backward()
    (F.log_softmax(t, 0) * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose([v.grad for v in vs], t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_l2_regularization_matches_seed_and_torch():
    ps = [Value(x) for x in (0.5, -2.0, 3.0)]
    reg = L.l2_regularization(ps, 1e-4)
    assert reg.data == 1e-4 * sum(p.data * p.data for p in ps)
    reg.backward()
    assert [p.grad for p in ps] == pytest.approx([2e-4 * p.data for p in ps], rel=1e-15)

    class Holder:
        def parameters(self):
            return ps

    assert L.l2_regularization(Holder(), 2.0).data == 2.0 * (0.25 + 4.0 + 9.0)
    assert L.l2_regularization([], 1.0).data == 0.0


@pytest.mark.parametrize("row", ROWS)
def test_logsumexp_matches_torch(row):
    vs = [Value(x) for x in row]
    out = L.logsumexp(vs)
    out.backward()
    t = torch.tensor(row, dtype=torch.float64, requires_grad=True)
    ref = torch.logsumexp(t, 0)
    ref.backward()
    assert out.data == pytest.approx(ref.item(), rel=RTOL)
    np.testing.assert_allclose([v.grad for v in vs], t.grad.numpy(), rtol=RTOL, atol=1e-15)
    with pytest.raises(ValueError, match="no values"):
        L.logsumexp([])


def test_cross_entropy_reduction_none_gives_per_sample_losses():
    vs = [[Value(x) for x in row] for row in ROWS]
    per = L.cross_entropy(vs, CLASSES, reduction="none")
    ref = F.cross_entropy(
        torch.tensor(ROWS, dtype=torch.float64), torch.tensor(CLASSES), reduction="none"
    )
    np.testing.assert_allclose([v.data for v in per], ref.numpy(), rtol=RTOL, atol=1e-15)


@given(
    st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=6),
    st.lists(st.floats(0.0, 1.0), min_size=6, max_size=6),
)
def test_bce_property_matches_torch_on_any_logits(xs, ts):
    ts = ts[: len(xs)]
    ours = _batched_grads(L.binary_cross_entropy_with_logits, xs, ts)
    t = torch.tensor(ts, dtype=torch.float64)
    theirs = _torch(lambda s: F.binary_cross_entropy_with_logits(s, t), xs)
    _check(ours, theirs, rtol=1e-9, atol=1e-12)


@given(
    st.lists(st.floats(-500, 500), min_size=2, max_size=5).flatmap(
        lambda row: st.tuples(st.just(row), st.integers(0, len(row) - 1))
    )
)
def test_cross_entropy_property_matches_torch(case):
    row, c = case
    vs = [Value(x) for x in row]
    out = L.cross_entropy(vs, c)
    out.backward()
    t = torch.tensor([row], dtype=torch.float64, requires_grad=True)
    ref = F.cross_entropy(t, torch.tensor([c]))
    ref.backward()
    assert out.data == pytest.approx(ref.item(), rel=1e-9, abs=1e-12)
    np.testing.assert_allclose([v.grad for v in vs], t.grad.numpy()[0], rtol=1e-9, atol=1e-12)


def test_a_one_element_list_holding_a_batch_is_the_batch():
    from zdravkograd.nn import Linear, Sequential

    seq = Sequential(Linear(2, 1))
    X = np.array([[0.5, 1.0], [-1.0, 2.0], [0.0, 0.0]])
    out = seq([Value(X[:, 0]), Value(X[:, 1])])  # [one batched Value]
    assert L.mse_loss(out, [0.0, 1.0, 2.0]).data == L.mse_loss(out[0], [0.0, 1.0, 2.0]).data


@pytest.mark.parametrize("logit", [1.0, 1200.0, -1200.0, 0.0, 35.0])
def test_compiled_bce_recomputes_its_shift_far_from_the_traced_input(logit):
    """The max-shift is part of the graph (detached), not a constant frozen at trace time."""
    import zdravkograd
    from zdravkograd import value_and_grad

    f = lambda x: L.binary_cross_entropy_with_logits(x, 1.0)
    program = zdravkograd.compile(f, 1.0)
    value, (grad,) = program(logit)
    eager_value, eager_grad = value_and_grad(f)(logit)
    assert value == eager_value and grad == eager_grad
    assert np.isfinite(value) and np.isfinite(grad)


def test_compiled_cross_entropy_recomputes_its_shift():
    import zdravkograd
    from zdravkograd import value_and_grad

    f = lambda a, b, c: L.cross_entropy([a, b, c], 1)
    program = zdravkograd.compile(f, 0.1, 0.2, 0.3)
    for args in ((0.1, 0.2, 0.3), (1000.0, 0.0, -1000.0), (5.0, 900.0, 3.0)):
        value, grads = program(*args)
        eager_value, eager_grads = value_and_grad(f, (0, 1, 2))(*args)
        assert value == eager_value and grads == eager_grads
        assert np.isfinite(value)
