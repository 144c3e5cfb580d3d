"""The lab's Session (no server): its training is the engine's, its experiments show what they
say, its pictures and bounds are right."""

from __future__ import annotations

import base64
import random

import numpy as np
import pytest
from conftest import require

require("sklearn")

from zdravkograd import Value, losses, nn, optim  # noqa: E402
from zdravkograd.lab.session import (  # noqa: E402
    DATASETS,
    GRID,
    LIMITS,
    MISTAKES,
    NEURON_GRID,
    LabError,
    Session,
    Settings,
)


def _mistake(name: str) -> Session:
    (m,) = [m for m in MISTAKES if m["id"] == name]
    s = Session()
    s.configure({**Settings().__dict__, **m["settings"]})
    return s


def _dead(s: Session) -> int:
    """Hidden neurons whose output is 0 over the whole plot."""
    return sum(int(np.abs(row.astype(int)).max() == 0) for p in s.neuron_pictures() for row in p)


def test_a_step_is_the_engines_sgd_step_on_the_hinge_loss():
    s = Session({"lr": 0.3})
    model = nn.MLP(2, [16, 16, 1], rng=random.Random(1337))  # the same seed, the same weights
    assert model.state_dict() == s.model.state_dict()
    X, y = s.X, s.y
    for _ in range(3):
        scores = model([Value(X[:, 0]), Value(X[:, 1])])
        loss = losses.hinge_loss(scores, 2.0 * y - 1.0) + 1e-4 * sum(
            p * p for p in model.parameters()
        )
        model.zero_grad()
        loss.backward()
        optim.SGD(model.parameters(), lr=0.3).step()
        lab_loss, _ = s.step()
        assert lab_loss == pytest.approx(float(loss.data), rel=1e-12)
    for (name, w), v in zip(model.state_dict().items(), s.model.state_dict().values()):
        assert w == pytest.approx(v, rel=1e-9, abs=1e-12), name


@pytest.mark.parametrize("dataset", ["moons", "blobs"])
def test_scalar_and_batched_modes_give_the_same_numbers(dataset):
    a = Session({"dataset": dataset, "samples": 40, "mode": "scalar", "hidden": [6]})
    b = Session({"dataset": dataset, "samples": 40, "mode": "batched", "hidden": [6]})
    for _ in range(3):
        (la, aa), (lb, ab) = a.step(), b.step()
        assert la == pytest.approx(lb, rel=1e-12)
        # a score of ±1e-17 (a point on the boundary) may round to either side
        assert abs(aa - ab) <= 1 / 40 + 1e-12
    for p, q in zip(a.params, b.params):
        assert p.data == pytest.approx(q.data, rel=1e-10, abs=1e-13)


def test_every_data_set_trains():
    for name, classes in DATASETS.items():
        s = Session({"dataset": name, "optimizer": "adam", "lr": 0.05})
        assert s.classes == classes and set(np.unique(s.y)) == set(range(classes))
        assert np.abs(s.X).max() < 2.0  # inside the plot
        first, _ = s.step()
        for _ in range(80):
            last, acc = s.step()
        assert last < first and acc > 0.8, (name, first, last, acc)


def test_frames_hold_the_pictures_of_the_model():
    s = Session({"dataset": "blobs", "hidden": [5, 3]})
    f = s.frame_message()
    boundary = np.frombuffer(base64.b64decode(f["boundary"]), dtype=np.uint8)
    assert boundary.shape == (3 * GRID * GRID,)
    # the three class weights of a cell add up to 255 (give or take rounding)
    assert np.all(np.abs(boundary.reshape(3, -1).astype(int).sum(axis=0) - 255) <= 2)
    neurons = [np.frombuffer(base64.b64decode(n), dtype=np.int8) for n in f["neurons"]]
    assert [len(n) for n in neurons] == [5 * NEURON_GRID**2, 3 * NEURON_GRID**2]
    weights = [np.frombuffer(base64.b64decode(w), dtype=np.float32) for w in f["weights"]]
    assert [len(w) for w in weights] == [5 * 3, 3 * 6, 3 * 4]
    first = s.model.layers[0].neurons[0]
    assert weights[0][:3].tolist() == pytest.approx([first.w[0].data, first.w[1].data, 0.0])


def test_the_top_left_corner_of_the_boundary_is_the_models_verdict_there():
    s = Session()
    for _ in range(60):
        s.step()
    b = s.boundary()
    score = float(s.model([Value(-2.0), Value(2.0)]).data)  # row 0 is the top: y = 2
    assert (b[1, 0] > 127) == (score > 0)


def test_lr_too_high_makes_the_loss_leap():
    s = _mistake("lr-too-high")
    first, _ = s.step()
    second, _ = s.step()
    assert second > 100 * first


def _fresh_gradient(s: Session) -> list[float]:
    """The gradient of the session's loss at its current weights, on a copy of its model."""
    model = nn.MLP(2, [16, 16, 1])
    model.load_state_dict(s.model.state_dict())
    scores = model([Value(s.X[:, 0]), Value(s.X[:, 1])])
    params = model.parameters()
    loss = losses.hinge_loss(scores, 2.0 * s.y - 1.0) + 1e-4 * sum(p * p for p in params)
    loss.backward()
    return [p.grad for p in params]


def test_a_forgotten_zero_grad_adds_up_the_gradients_of_every_step():
    s = _mistake("no-zero-grad")
    total = np.zeros(len(s.params))
    for _ in range(4):
        total += _fresh_gradient(s)
        before = np.array([p.data for p in s.params])
        s.step()
        # .grad holds the sum of every step's gradient, and the update follows that sum
        assert [p.grad for p in s.params] == pytest.approx(total.tolist(), rel=1e-9, abs=1e-12)
        after = np.array([p.data for p in s.params])
        assert after == pytest.approx(before - s.settings.lr * total, rel=1e-9, abs=1e-12)


def test_dead_relus_die_and_stay_dead():
    healthy, dying = Session(), _mistake("dead-relu")
    for _ in range(100):
        healthy.step()
        dying.step()
    assert _dead(healthy) == 0 and _dead(dying) >= 5


def test_no_hidden_layer_cannot_learn_xor():
    linear = _mistake("no-hidden-xor")
    assert [layer.nout for layer in linear.model.layers] == [1]
    deep = Session({"dataset": "xor"})
    for _ in range(200):
        _, acc_linear = linear.step()
        _, acc_deep = deep.step()
    assert acc_linear < 0.8 < 0.95 < acc_deep


def _tanh_slopes(s: Session) -> np.ndarray:
    """1 - tanh² of every hidden neuron at every data point: the local derivative of tanh."""
    x = [Value(s.X[:, 0]), Value(s.X[:, 1])]
    slopes = []
    for layer in s.model.layers[:-1]:
        x = layer(x)
        slopes += [1 - v.data**2 for v in x]
    return np.concatenate(slopes)


def test_a_saturated_tanh_has_flat_neurons_and_a_loss_that_stalls():
    saturated = _mistake("saturated-tanh")
    normal = Session({"dataset": "circles", "activation": "tanh"})
    pictures = np.concatenate([p.ravel() for p in saturated.neuron_pictures()])
    assert np.mean(np.abs(pictures.astype(int)) > 120) > 0.8  # ±1 nearly everywhere
    assert np.median(_tanh_slopes(saturated)) < 1e-3 < 0.1 < np.median(_tanh_slopes(normal))
    for _ in range(150):
        stalled, acc_stalled = saturated.step()
        learnt, acc_learnt = normal.step()
    assert stalled > 10 * learnt and acc_stalled < acc_learnt


def test_refused_requests_change_nothing():
    s = Session()
    s.step()
    before = (s.settings, s.model.state_dict(), s.X.copy(), s.step_count)
    for bad in (
        {"samples": LIMITS["points"] + 1},
        {"hidden": [LIMITS["width"] + 1]},
        {"hidden": [2] * (LIMITS["layers"] + 1)},
        {"hidden": [64] * 6, "samples": 2000},
        {"activation": "linear"},
        {"lr": float("nan")},
        {"init_scale": 0},
    ):
        with pytest.raises(LabError):
            s.configure(bad)
    np.testing.assert_array_equal(s.X, before[2])  # the data too
    with pytest.raises(LabError, match="two classes must stay"):
        for i in reversed(range(len(s.X))):
            if s.y[i] == 0:
                s.remove_point(i)
    assert s.settings == before[0] and s.model.state_dict() == before[1]
    assert s.step_count == before[3]


def test_backprop_refuses_a_network_too_large_to_draw():
    s = Session({"hidden": [40, 40]})
    with pytest.raises(LabError, match="at most 1,500"):
        s.backprop(0)


def test_backprop_without_graphviz_says_how_to_get_it(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(LabError, match="needs Graphviz's 'dot' program"):
        Session().backprop(0)
