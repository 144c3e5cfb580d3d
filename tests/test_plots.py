"""Training plots, checked on the pixels of the PNG they make."""

from __future__ import annotations

import random

import numpy as np
import pytest
from conftest import require

require("matplotlib")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from zdravkograd import Value, is_grad_enabled  # noqa: E402
from zdravkograd.viz import plot_decision_boundary, plot_history, plot_neuron_lines  # noqa: E402


def _moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, made here so that the test needs no dataset library."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, np.pi, n)
    y = (np.arange(n) % 2).astype(int)
    X = np.where(
        (y == 0)[:, None],
        np.c_[np.cos(t), np.sin(t)],
        np.c_[1 - np.cos(t), 0.5 - np.sin(t)],
    )
    return X + rng.normal(0, noise, X.shape), y


@pytest.fixture(scope="module")
def trained():
    nn = require("zdravkograd.nn")
    losses = require("zdravkograd.losses")
    optim = require("zdravkograd.optim")
    X, y = _moons()
    model = nn.MLP(2, [16, 16, 1], rng=random.Random(1337))
    params = model.parameters()
    opt = optim.SGD(params, lr=1.0)
    sched = optim.LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=100)
    xs = [Value(X[:, 0]), Value(X[:, 1])]
    targets = 2.0 * y - 1.0
    history = {"loss": [], "accuracy": []}
    for _ in range(100):
        scores = model(xs)
        loss = losses.hinge_loss(scores, targets) + losses.l2_regularization(params, 1e-4)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        history["loss"].append(float(loss.data))
        history["accuracy"].append(float(np.mean((scores.data > 0) == (y == 1))))
    assert history["accuracy"][-1] >= 0.95  # else the pixel test below means nothing
    return model, X, y, history


def _pixels_at(fig, ax, points: np.ndarray, path) -> np.ndarray:
    """The RGB colour of the saved PNG under each data point."""
    fig.savefig(path, dpi=80)
    img = plt.imread(path)[..., :3]
    h = img.shape[0]
    xy = ax.transData.transform(points) * (80 / fig.dpi)
    cols = np.clip(np.round(xy[:, 0]).astype(int), 0, img.shape[1] - 1)
    rows = np.clip(np.round(h - xy[:, 1]).astype(int), 0, h - 1)
    return img[rows, cols]


def test_decision_boundary_png_colours_the_two_moons_differently(trained, tmp_path):
    model, X, y, _ = trained
    ax = plot_decision_boundary(model, X, y)
    fig = ax.figure
    # the points themselves: two different colours
    with_points = _pixels_at(fig, ax, X, tmp_path / "points.png")
    assert np.abs(np.median(with_points[y == 0], 0) - np.median(with_points[y == 1], 0)).sum() > 0.3
    # the background under them (points removed): the model's two regions
    for artist in list(ax.collections):
        if type(artist).__name__ == "PathCollection":
            artist.remove()
    ax.get_legend().remove()
    under = _pixels_at(fig, ax, X, tmp_path / "regions.png")
    c0, c1 = np.median(under[y == 0], 0), np.median(under[y == 1], 0)
    assert np.abs(c0 - c1).sum() > 0.15, (c0, c1)
    # each moon sits on its own colour: most of its points share the moon's median colour
    near0 = np.abs(under - c0).sum(1) < np.abs(under - c1).sum(1)
    assert near0[y == 0].mean() > 0.9 and (~near0)[y == 1].mean() > 0.9
    # and the colour follows the model's sign: class 1 (score > 0) is the blue side, class 0
    # the red one, the hues of their points
    assert c1[2] > c1[0] and c0[0] > c0[2]
    p0, p1 = np.median(with_points[y == 0], 0), np.median(with_points[y == 1], 0)
    assert p0[0] > p0[2] and p1[2] > p1[0]
    plt.close(fig)


def test_the_grid_is_evaluated_without_a_graph_in_one_batched_call(trained):
    model, X, y, _ = trained
    calls = []

    def spy(xs):
        calls.append((is_grad_enabled(), np.shape(xs[0].data)))
        return model(xs)

    grads = [p.grad for p in model.parameters()]
    fig, ax = plt.subplots()
    assert plot_decision_boundary(spy, X, y, ax=ax, h=0.1) is ax
    assert all(enabled is False for enabled, _ in calls)
    assert len(calls) == 2 and len(calls[0][1]) == 1 and calls[0][1][0] > 1000
    assert [p.grad for p in model.parameters()] == grads
    plt.close(fig)


def test_a_model_that_cannot_take_a_batch_is_evaluated_point_by_point():
    X, y = _moons(20)

    def scalar_only(xs):
        if not isinstance(xs[0].data, float):
            raise TypeError("floats only")
        return xs[1] - 0.25

    ax = plot_decision_boundary(scalar_only, X, y, h=0.25)
    assert len(ax.collections) >= 2
    plt.close(ax.figure)


def test_bad_points_are_reported():
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plot_decision_boundary(lambda xs: xs[0], np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="one label per point"):
        plot_decision_boundary(lambda xs: xs[0], np.zeros((5, 2)), np.zeros(4))


def test_history_plot_draws_the_numbers_it_is_given(trained):
    *_, history = trained
    axes = plot_history(history)
    assert len(axes) == 2
    loss_line, acc_line = axes[0].get_lines()[0], axes[1].get_lines()[0]
    assert np.array_equal(loss_line.get_ydata(), history["loss"])
    assert np.array_equal(acc_line.get_ydata(), history["accuracy"])
    assert np.array_equal(loss_line.get_xdata(), np.arange(100))
    plt.close(axes[0].figure)
    fig, ax = plt.subplots()
    ax_loss, ax_acc = plot_history({"loss": [3.0, 2.0], "accuracy": [0.5, 0.75]}, ax=ax)
    assert ax_loss is ax and ax_acc is not ax
    plt.close(fig)
    with pytest.raises(ValueError, match="'loss'"):
        plot_history({"accuracy": [1.0]})
    with pytest.raises(ValueError, match="2 entries"):
        plot_history({"loss": [1.0, 2.0], "accuracy": [1.0]})


def test_neuron_lines_are_the_zero_sets_of_the_first_layer(trained):
    model, X, y, _ = trained
    ax = plot_neuron_lines(model, X, y)
    neurons = model.layers[0].neurons
    lines = ax.get_lines()
    assert len(lines) == len(neurons)
    for line, n in zip(lines, neurons):
        xs, ys = line.get_xdata(), line.get_ydata()
        w0, w1, b = n.w[0].data, n.w[1].data, n.b.data
        assert np.allclose(w0 * np.asarray(xs) + w1 * np.asarray(ys) + b, 0.0, atol=1e-9)
    plt.close(ax.figure)
    with pytest.raises(TypeError, match="neurons"):
        plot_neuron_lines(lambda xs: xs[0], X, y)


def test_neuron_lines_accept_a_layer_a_neuron_and_a_sequential():
    from zdravkograd.nn import Layer, Linear, Neuron, ReLU, Sequential

    X, y = _moons(20)
    models = [Layer(2, 3), Neuron(2), Sequential(Linear(2, 3), ReLU(), Linear(3, 1))]
    for model, count in zip(models, (3, 1, 3)):
        ax = plot_neuron_lines(model, X, y)
        assert len(ax.get_lines()) == count
        plt.close(ax.figure)


@pytest.mark.parametrize("labels", ["0/1", "-1/+1"])
def test_the_legend_names_the_classes_as_training_does(trained, labels):
    """Training (the hinge loss) uses y = -1/+1; the legend says the same, whatever y holds."""
    model, X, y, _ = trained
    y = y if labels == "0/1" else 2 * y - 1
    ax = plot_decision_boundary(model, X, y)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["y = −1", "y = +1"]
    plt.close(ax.figure)
