"""The seed notebook's moons training, unchanged, reaches 100% training accuracy;
so does the same training written with zdravkograd's losses, optimiser and scheduler."""

from __future__ import annotations

import random

import numpy as np
import pytest
from conftest import require

from zdravkograd import losses, optim
from zdravkograd.engine import Value
from zdravkograd.nn import MLP

datasets = require("sklearn.datasets")


def seed_notebook(steps=100):
    """The seed's moons.ipynb loop, as written there (micrograd's demo)."""
    np.random.seed(1337)
    random.seed(1337)
    X, y = datasets.make_moons(n_samples=100, noise=0.1)
    y = y * 2 - 1  # make y be -1 or 1
    model = MLP(2, [16, 16, 1])  # 2-layer neural network

    def loss(batch_size=None):
        Xb, yb = X, y
        inputs = [list(map(Value, xrow)) for xrow in Xb]
        # forward the model to get scores
        scores = list(map(model, inputs))
        # svm "max-margin" loss
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(yb, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        # L2 regularization
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        # also get accuracy
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    history = []
    for k in range(steps):
        # forward
        total_loss, acc = loss()
        # backward
        model.zero_grad()
        total_loss.backward()
        # update (sgd)
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        history.append((total_loss.data, acc))
    return model, X, y, history


def library_version(steps=100, batched=True):
    """The same training with zdravkograd.losses, optim.SGD and optim.LinearLR."""
    np.random.seed(1337)
    random.seed(1337)
    X, y = datasets.make_moons(n_samples=100, noise=0.1)
    y = y * 2 - 1
    model = MLP(2, [16, 16, 1])
    opt = optim.SGD(model.parameters(), lr=1.0)
    sched = optim.LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=100)
    history = []
    for _ in range(steps):
        if batched:  # one Value per input column, holding all 100 samples
            scores = model([Value(X[:, 0]), Value(X[:, 1])])
            acc = float(np.mean((scores.data > 0) == (y > 0)))
        else:
            scores = [model(list(map(Value, row))) for row in X]
            acc = float(np.mean([(s.data > 0) == (yi > 0) for s, yi in zip(scores, y)]))
        loss = losses.hinge_loss(scores, y) + losses.l2_regularization(model.parameters(), 1e-4)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        history.append((loss.data, acc))
    return model, X, y, history


def _final_accuracy(model, X, y):
    scores = [model(list(map(Value, row))) for row in X]
    return np.mean([(s.data > 0) == (yi > 0) for s, yi in zip(scores, y)])


@pytest.mark.slow
def test_seed_notebook_loop_reaches_100_percent():
    model, X, y, history = seed_notebook()
    assert history[0][1] < 0.9  # it starts far from perfect
    assert history[-1][1] == 1.0
    assert history[-1][0] < 0.02
    assert _final_accuracy(model, X, y) == 1.0
    # the batched library version follows the same trajectory, step by step
    lib = library_version(batched=True)[3]
    np.testing.assert_allclose([h[0] for h in lib], [h[0] for h in history], rtol=1e-12)
    assert [h[1] for h in lib] == [h[1] for h in history]


def test_library_scalar_version_is_the_seed_loop_bit_for_bit():
    """hinge_loss + l2_regularization + SGD + LinearLR build the seed's graph and update."""
    seed = seed_notebook(steps=3)
    lib = library_version(steps=3, batched=False)
    assert lib[3] == seed[3]
    assert [p.data for p in lib[0].parameters()] == [p.data for p in seed[0].parameters()]


def test_library_batched_version_reaches_100_percent():
    model, X, y, history = library_version(batched=True)
    assert history[-1][1] == 1.0 and history[-1][0] < 0.02
    assert _final_accuracy(model, X, y) == 1.0
    # its first steps equal the scalar (seed) computation to rounding
    scalar = library_version(steps=2, batched=False)[3]
    np.testing.assert_allclose([h[0] for h in history[:2]], [h[0] for h in scalar], rtol=1e-14)
