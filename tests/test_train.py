"""zdravkograd.train.fit: the seed's recipe, the three modes agree, bad input is refused."""

from __future__ import annotations

import random

import numpy as np
import pytest

from zdravkograd import compile, compile_step  # noqa: F401  (the compiled mode is built in)
from zdravkograd.engine import Value
from zdravkograd.nn import MLP
from zdravkograd.train import (
    DEFAULT_LR,
    TrainingDiverged,
    _make_step,
    accuracy,
    best_mode,
    fit,
    scores,
    svm_loss,
)


def moons(n: int = 100, seed: int = 1337) -> tuple[np.ndarray, np.ndarray]:
    """The seed notebook's data: np.random.seed(1337); make_moons(n_samples=100, noise=0.1)."""
    from conftest import require

    datasets = require("sklearn.datasets")
    return datasets.make_moons(n_samples=n, noise=0.1, random_state=seed)


def model(seed: int = 1337, hidden: tuple[int, ...] = (16, 16)) -> MLP:
    return MLP(2, [*hidden, 1], rng=random.Random(seed))


def weights(m: MLP) -> list[float]:
    return [float(p.data) for p in m.parameters()]


def test_fit_reproduces_micrograd_demo_losses():
    """Oracle: micrograd 0.1.0 running the seed notebook's loop on the same data and weights."""
    from conftest import require

    mg_engine = require("micrograd.engine")
    mg_nn = require("micrograd.nn")
    X, y = moons(50)
    zd = model()
    random.seed(0)
    mg = mg_nn.MLP(2, [16, 16, 1])
    for p, q in zip(mg.parameters(), zd.parameters()):
        p.data = float(q.data)
    yb = y * 2 - 1
    expected = []
    steps = 3
    for k in range(steps):  # the notebook's loop, over 3 steps instead of 100
        inputs = [list(map(mg_engine.Value, xrow)) for xrow in X]
        scores_ = list(map(mg, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(yb, scores_)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in mg.parameters())
        total_loss = data_loss + reg_loss
        mg.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / steps
        for p in mg.parameters():
            p.data -= learning_rate * p.grad
        expected.append(total_loss.data)
    history = fit(zd, X, y, steps=steps, mode="scalar")
    np.testing.assert_allclose(history["loss"], expected, rtol=1e-12)
    np.testing.assert_allclose(weights(zd), [p.data for p in mg.parameters()], rtol=1e-12)


def test_seed_recipe_reaches_full_accuracy_in_100_steps():
    X, y = moons()
    m = model()
    history = fit(m, X, y, steps=100, mode="batched")
    assert len(history["loss"]) == len(history["accuracy"]) == len(history["lr"]) == 100
    assert history["loss"][-1] < 0.05 < history["loss"][0]
    assert history["accuracy"][-1] == 1.0
    assert accuracy(m, X, y) == 1.0
    # The learning rate falls linearly: LinearLR(start_factor=1.0, end_factor=0.1, 100).
    np.testing.assert_array_equal(history["lr"], [1.0 - 0.9 * k / 100 for k in range(100)])


def _loss_and_grads(m: MLP, X: np.ndarray, y: np.ndarray, mode: str) -> tuple[float, list[float]]:
    m.zero_grad()
    loss = svm_loss(m, X, y, mode=mode)
    loss.backward()
    return float(loss.data), [float(p.grad) for p in m.parameters()]


def test_scalar_and_batched_give_the_same_loss_and_gradients():
    X, y = moons(40)
    m = model()
    loss_s, grads_s = _loss_and_grads(m, X, y, "scalar")
    loss_b, grads_b = _loss_and_grads(m, X, y, "batched")
    assert loss_s == pytest.approx(loss_b, rel=1e-12)
    np.testing.assert_allclose(grads_b, grads_s, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("other", ["batched", "compiled"])
def test_modes_train_identically(other):
    X, y = moons(30)
    a, b = model(), model()
    ha = fit(a, X, y, steps=4, mode="scalar")
    hb = fit(b, X, y, steps=4, mode=other)
    np.testing.assert_allclose(hb["loss"], ha["loss"], rtol=1e-12)
    assert hb["accuracy"] == ha["accuracy"]
    np.testing.assert_allclose(weights(b), weights(a), rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
@pytest.mark.parametrize(("optimizer", "lr"), [("sgd", 1.0), ("adam", 0.05), ("sgd", 1e6)])
def test_compiled_mode_is_batched_mode_bit_for_bit(activation, optimizer, lr):
    """Same losses, accuracies and weights, exactly; lr=1e6 diverges in both at the same step.

    (tanh is left out: the compiled tanh derivative is 1 - t·t, the engine's (1 - t)(1 + t),
    which differ in the last bit; test_modes_train_identically covers it to 1e-12.)
    """
    X, y = moons(40)
    runs = []
    for mode in ("batched", "compiled"):
        m = MLP(2, [8, 8, 1], activation=activation, rng=random.Random(5))
        seen: list[tuple[int, float, float]] = []
        try:
            fit(
                m,
                X,
                y,
                steps=12,
                optimizer=optimizer,
                lr=lr,
                mode=mode,
                callback=lambda *a, seen=seen: seen.append(a),
            )
            stop = None
        except TrainingDiverged as exc:
            stop = (exc.step, exc.loss)
        runs.append((seen, stop, weights(m)))
    (hb, sb, wb), (hc, sc, wc) = runs
    assert hc == hb and sc == sb
    np.testing.assert_array_equal(wc, wb)
    assert (sb is not None) == (lr == 1e6)


def test_compiled_step_falls_back_to_the_eager_step_on_inf_and_nan():
    """0 · inf is NaN: the compiled replay cannot read the scores then; the eager step can."""
    X, y = moons(20)
    out = []
    for mode in ("batched", "compiled"):
        m = MLP(2, [4, 1], rng=random.Random(5))
        for p in m.parameters():
            p.data *= 1e160  # products of two weights overflow to inf
        with np.errstate(all="ignore"):
            step = _make_step(m, X, 2.0 * y - 1.0, 1e-4, mode)
            out.append((step(), [p.grad for p in m.parameters()]))
    assert not np.isfinite(out[0][0][0])
    assert repr(out[1]) == repr(out[0])  # the same numbers, NaN and inf included


def test_compiled_mode_runs_the_model_once_not_every_step():
    """The accuracy comes from the compiled replay: no extra forward pass per step."""
    X, y = moons(20)
    inner = model(hidden=(4,))
    calls = []

    class Counted:
        def parameters(self):
            return inner.parameters()

        def __call__(self, x):
            calls.append(1)
            return inner(x)

    history = fit(Counted(), X, y, steps=6, mode="compiled")
    assert len(calls) == 1  # the trace
    ref = model(hidden=(4,))
    assert history == fit(ref, X, y, steps=6, mode="batched")
    assert weights(inner) == weights(ref)


def test_auto_mode_is_the_best_available():
    assert best_mode() == "compiled"  # compile_step ships with the package
    X, y = moons(20)
    a, b = model(), model()
    fit(a, X, y, steps=3)  # mode='auto'
    fit(b, X, y, steps=3, mode=best_mode())
    assert weights(a) == weights(b)


def test_adam_trains_and_uses_its_own_default_lr():
    X, y = moons()
    m = model()
    history = fit(m, X, y, steps=60, optimizer="adam")
    assert DEFAULT_LR["adam"] == history["lr"][0]
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["accuracy"][-1] >= 0.95


@pytest.mark.torch
def test_adam_matches_pytorch_update():
    """One Adam run checked against torch.optim.Adam in float64 on the same gradients."""
    from conftest import require

    torch = require("torch")
    X, y = moons(20)
    m = model(hidden=(4,))
    start = weights(m)
    history = fit(m, X, y, steps=5, optimizer="adam", lr=0.1, schedule=False, mode="batched")
    # Replay in torch: the same gradients (from our engine) fed to torch's Adam.
    ref = model(hidden=(4,))
    tparams = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in start]
    opt = torch.optim.Adam(tparams, lr=0.1)
    for _ in range(5):
        for p, t in zip(ref.parameters(), tparams):
            p.data = float(t.detach())
        _, grads = _loss_and_grads(ref, X, y, "batched")
        for t, g in zip(tparams, grads):
            t.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    np.testing.assert_allclose(weights(m), [float(t.detach()) for t in tparams], rtol=1e-10)
    assert len(history["loss"]) == 5


def test_callback_sees_every_step():
    X, y = moons(20)
    seen = []
    history = fit(model(), X, y, steps=5, callback=lambda *a: seen.append(a))
    assert [s[0] for s in seen] == list(range(5))
    assert [s[1] for s in seen] == history["loss"]
    assert [s[2] for s in seen] == history["accuracy"]


def test_labels_in_minus_one_one_are_the_same_as_zero_one():
    X, y = moons(20)
    a, b = model(), model()
    ha = fit(a, X, y, steps=3)
    hb = fit(b, X, 2 * y - 1, steps=3)
    assert ha == hb


def test_scores_and_accuracy_match_the_eager_model():
    X, y = moons(10)
    m = model()
    s = scores(m, X)
    assert s.shape == (10,)
    for row, si in zip(X, s):
        assert float(m([Value(v) for v in row]).data) == pytest.approx(si, rel=1e-13)
    assert accuracy(m, X, y) == np.mean((s > 0) == (y == 1))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"steps": -1}, ValueError, "steps must be at least 0, got -1"),
        ({"steps": 2.5}, TypeError, "steps must be an int, got float"),
        ({"steps": True}, TypeError, "steps must be an int, got bool"),
        ({"optimizer": "rmsprop"}, ValueError, "optimizer must be one of 'sgd', 'adam'"),
        ({"lr": 0.0}, ValueError, "lr must be a finite number > 0"),
        ({"lr": float("nan")}, ValueError, "lr must be a finite number > 0"),
        ({"lr": "0.1"}, TypeError, "lr must be a number, got str"),
        ({"alpha": -1.0}, ValueError, "alpha must be a finite number >= 0"),
        ({"mode": "gpu"}, ValueError, "mode must be one of 'scalar', 'batched', 'compiled'"),
    ],
)
def test_bad_arguments_raise_before_any_weight_changes(kwargs, error, message):
    X, y = moons(10)
    m = model()
    before = weights(m)
    with pytest.raises(error, match=message):
        fit(m, X, y, **kwargs)
    assert weights(m) == before


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        ([[0.0, 1.0]], [0, 1], r"y must have shape \(1,\)"),
        ([0.0, 1.0], [0, 1], "X must be a non-empty 2-D array"),
        ([[0.0, float("nan")]], [1], "NaN"),
        ([[0.0, 1.0], [1.0, 0.0]], [0, 2], "labels in"),
        ([["a", "b"]], [1], "X must be a 2-D array of numbers"),
    ],
)
def test_bad_data_is_refused(X, y, message):
    with pytest.raises(ValueError, match=message):
        fit(model(), X, y, steps=1)


def test_a_model_with_several_outputs_is_refused():
    X, y = moons(10)
    with pytest.raises(ValueError, match="one Value per input"):
        fit(MLP(2, [3, 2], rng=random.Random(0)), X, y, steps=1)


def test_zero_steps_is_a_no_op():
    X, y = moons(10)
    m = model()
    before = weights(m)
    assert fit(m, X, y, steps=0) == {"loss": [], "accuracy": [], "lr": []}
    assert weights(m) == before


# ------------------------------------------------- cross-entropy, MSE, minibatches, validation


def _ce_numpy(m: MLP, X: np.ndarray, y: np.ndarray, alpha: float) -> float:
    """The objective of fit(loss='cross_entropy') in plain NumPy, from the weights."""
    from zdravkograd.engine import no_grad

    with no_grad():
        out = m([Value(X[:, j]) for j in range(X.shape[1])])
    z = np.column_stack([o.data for o in out])
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(
        -logp[np.arange(len(y)), y].mean() + alpha * sum(p.data**2 for p in m.parameters())
    )


def _blobs(n: int = 30, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    X = rng.normal(0, 0.5, (n, 2)) + np.column_stack([np.cos(2 * y), np.sin(2 * y)]) * 2
    return X, y.astype(np.int64)


def test_cross_entropy_gradient_matches_finite_differences():
    """One SGD step with lr=1 moves each weight by minus its gradient: compare to central
    differences of the NumPy objective."""
    X, y = _blobs(12)
    m = MLP(2, [4, 3], activation="tanh", rng=random.Random(1))
    before = weights(m)
    h = fit(m, X, y, steps=1, loss="cross_entropy", lr=1.0, schedule=False, alpha=1e-3,
            mode="batched")  # fmt: skip
    grads = np.array(before) - np.array(weights(m))
    assert h["loss"][0] == pytest.approx(_ce_numpy(_with(before), X, y, 1e-3), rel=1e-12)
    for i in range(len(before)):
        eps = 1e-6
        hi, lo = list(before), list(before)
        hi[i] += eps
        lo[i] -= eps
        fd = (_ce_numpy(_with(hi), X, y, 1e-3) - _ce_numpy(_with(lo), X, y, 1e-3)) / (2 * eps)
        assert grads[i] == pytest.approx(fd, abs=1e-7), i


def _with(ws: list[float]) -> MLP:
    m = MLP(2, [4, 3], activation="tanh", rng=random.Random(1))
    for p, w in zip(m.parameters(), ws):
        p.data = w
    return m


@pytest.mark.parametrize("loss", ["cross_entropy", "mse", "hinge"])
@pytest.mark.parametrize("batch_size", [None, 8])
def test_task_modes_agree(loss, batch_size):
    """scalar, batched and compiled give the same history for every loss, with minibatches."""
    X, y = _blobs(20)
    if loss == "mse":
        y = X[:, 0] * 2 - X[:, 1]
    if loss == "hinge":
        y = (y == 0).astype(np.int64)
    nout = 3 if loss == "cross_entropy" else 1
    histories = {}
    for mode in ("scalar", "batched", "compiled"):
        m = MLP(2, [5, nout], rng=random.Random(4))
        histories[mode] = fit(m, X, y, steps=6, loss=loss, optimizer="adam", lr=0.05,
                              batch_size=batch_size, seed=3, mode=mode,
                              validation=(X[:6], y[:6]))  # fmt: skip
    metric = "r2" if loss == "mse" else "accuracy"
    for key in ("loss", metric, "val_loss", f"val_{metric}"):
        np.testing.assert_allclose(histories["scalar"][key], histories["batched"][key], rtol=1e-12)
        np.testing.assert_allclose(
            histories["batched"][key], histories["compiled"][key], rtol=1e-12
        )


def test_validation_history_is_the_objective_before_each_update():
    X, y = _blobs(30)
    Xv, yv = _blobs(15, seed=9)
    m = MLP(2, [6, 3], rng=random.Random(2))
    snapshots = []
    h = fit(m, X, y, steps=5, loss="cross_entropy", optimizer="adam", lr=0.05, alpha=1e-3,
            validation=(Xv, yv), callback=lambda *a: snapshots.append(weights(m)))  # fmt: skip
    assert sorted(h) == ["accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    assert all(len(v) == 5 for v in h.values())
    start = MLP(2, [6, 3], rng=random.Random(2))
    states = [weights(start)] + snapshots[:-1]
    for k, ws in enumerate(states):
        mk = MLP(2, [6, 3], rng=random.Random(2))
        for p, w in zip(mk.parameters(), ws):
            p.data = w
        assert h["val_loss"][k] == pytest.approx(_ce_numpy(mk, Xv, yv, 1e-3), rel=1e-12)
        assert h["loss"][k] == pytest.approx(_ce_numpy(mk, X, y, 1e-3), rel=1e-12)
        from zdravkograd.engine import no_grad

        with no_grad():
            out = mk([Value(Xv[:, 0]), Value(Xv[:, 1])])
        acc = np.mean(np.column_stack([o.data for o in out]).argmax(axis=1) == yv)
        assert h["val_accuracy"][k] == acc


def test_minibatches_cover_each_epoch_once():
    """With batch_size, each epoch visits every row once (n divisible by the batch)."""
    X = np.arange(12.0).reshape(-1, 1)
    y = np.zeros(12)
    seen: list[float] = []

    class Spy(MLP):
        def __call__(self, x):
            if isinstance(x[0], Value) and not isinstance(x[0].data, float):
                seen.extend(x[0].data.tolist())
            return super().__call__(x)

    m = Spy(1, [1], rng=random.Random(0))
    fit(m, X, y, steps=6, loss="mse", optimizer="adam", lr=0.01, batch_size=4, seed=0,
        mode="batched")  # fmt: skip
    assert sorted(seen[:12]) == sorted(seen[12:24]) == list(range(12))
    assert seen[:12] != seen[12:24]  # a new order each epoch


def test_mse_fit_learns_a_line():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (40, 1))
    y = 3.0 * X[:, 0] - 1.0
    m = MLP(1, [1], rng=random.Random(0))  # linear
    h = fit(m, X, y, steps=300, loss="mse", optimizer="adam", lr=0.05, alpha=0.0)
    assert h["loss"][-1] < 1e-4 and h["r2"][-1] > 0.9999
    assert [p.data for p in m.parameters()] == pytest.approx([3.0, -1.0], abs=0.01)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"loss": "hinge2"}, "loss must be one of"),
        ({"batch_size": 0}, "batch_size must be at least 1, got 0"),
        ({"validation": ([[0.0, 1.0]],)}, "validation must be a pair"),
        ({"validation": ([[0.0, 1.0, 2.0]], [0])}, "X_val has 3 columns but X has 2"),
        ({"validation": ([[0.0, 1.0]], [5])}, "y holds class 5 but the model has 3 outputs"),
    ],
)
def test_task_arguments_are_checked_before_any_weight_changes(kwargs, message):
    X, y = _blobs(9)
    m = MLP(2, [3, 3], rng=random.Random(0))
    before = weights(m)
    with pytest.raises(ValueError, match=message):
        fit(m, X, y, steps=2, **{"loss": "cross_entropy", **kwargs})
    assert weights(m) == before


def test_cross_entropy_needs_class_indices_and_outputs():
    X, _ = _blobs(6)
    with pytest.raises(ValueError, match="class indices"):
        fit(MLP(2, [3, 3], rng=random.Random(0)), X, X[:, 0], steps=1, loss="cross_entropy")
    with pytest.raises(ValueError, match="one output per class"):
        fit(MLP(2, [3, 1], rng=random.Random(0)), X, np.zeros(6, int), steps=1,
            loss="cross_entropy")  # fmt: skip


@pytest.mark.parametrize("mode", ["scalar", "batched", "compiled"])
def test_a_diverging_run_stops_with_a_clear_error_and_no_numpy_warning(mode):
    """lr=1e10: the loss grows a million-fold at step 1; fit stops before that step's update."""
    import warnings

    X, y = moons(30)
    m = model(hidden=(8,))
    # The oracle for "step 1 was not applied": step 0's update by hand (SGD, lr 1e10).
    reference = model(hidden=(8,))
    ref_mode = "batched" if mode == "compiled" else mode  # the compiled step is batched's
    first = svm_loss(reference, X, y, mode=ref_mode)
    first.backward()
    for p in reference.parameters():
        p.data -= 1e10 * p.grad
    losses = [float(first.data)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NumPy RuntimeWarning would fail the test
        with pytest.raises(TrainingDiverged) as info:
            fit(m, X, y, steps=5, lr=1e10, mode=mode)
    exc = info.value
    assert exc.step == 1 and exc.first_loss == pytest.approx(losses[0], rel=1e-12)
    assert exc.loss > 1e6 * exc.first_loss
    message = str(exc)
    assert message.startswith("training diverged at step 1: the loss grew from ")
    assert "try a smaller lr (this run used 1e+10)" in message
    np.testing.assert_array_equal(weights(m), weights(reference))  # step 1 was not applied


@pytest.mark.parametrize("mode", ["scalar", "batched", "compiled"])
@pytest.mark.parametrize("lr", [1e10, 1e300])
def test_a_last_update_that_diverges_is_caught_and_undone(mode, lr):
    """No step after the last update checks it: fit does, and puts the weights back."""
    import warnings

    X, y = moons(30)
    m = model(hidden=(8,))
    start = weights(m)
    seen: list[float] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NumPy RuntimeWarning would fail the test
        with pytest.raises(TrainingDiverged) as info:
            fit(m, X, y, steps=1, lr=lr, mode=mode, callback=lambda *a: seen.append(a[1]))
    exc = info.value
    assert exc.step == 1 and exc.first_loss == seen[0]
    assert not np.isfinite(exc.loss) or exc.loss > 1e6 * exc.first_loss
    assert str(exc).startswith("training diverged at step 1: the loss ")
    assert weights(m) == start  # the update that diverged is undone
    # A last update that does not diverge is kept, and costs no error.
    history = fit(m, X, y, steps=1, lr=0.1, mode=mode)
    assert len(history["loss"]) == 1 and weights(m) != start


def test_a_loss_that_is_infinite_at_once_stops_at_step_0():
    X, y = moons(20)
    m = model(hidden=(4,))
    for p in m.parameters():
        p.data *= 1e160
    before = weights(m)
    with pytest.raises(TrainingDiverged, match=r"at step 0: the loss became (inf|nan)"):
        fit(m, X, y, steps=3, lr=0.1, mode="scalar")
    assert weights(m) == before


def test_a_loss_just_under_a_million_fold_growth_is_not_divergence():
    """The threshold: a run whose loss grows, but less than a million-fold, is left alone."""
    from zdravkograd.train import DIVERGENCE_GROWTH

    X, y = moons(20)
    seen: list[float] = []
    fit(model(hidden=(4,)), X, y, steps=3, lr=50.0, callback=lambda *a: seen.append(a[1]))
    assert len(seen) == 3 and max(seen) < DIVERGENCE_GROWTH * seen[0]
