"""zdravkograd.torch_bridge: the same model, the same weights, the same training in PyTorch."""

from __future__ import annotations

import random

import numpy as np
import pytest
from conftest import require

from zdravkograd import losses, optim
from zdravkograd.data import make_moons
from zdravkograd.engine import Value
from zdravkograd.nn import MLP, Layer, Linear, ReLU, Sequential, Sigmoid, Tanh
from zdravkograd.torch_bridge import from_torch, to_torch

torch = require("torch")
require("sklearn")
pytestmark = pytest.mark.torch


def _zd_outputs(model, X):
    cols = [Value(X[:, i]) for i in range(X.shape[1])]
    out = model(cols)
    out = out if isinstance(out, list) else [out]
    return np.stack([v.data for v in out], axis=1)


@pytest.mark.parametrize(
    "make",
    [
        lambda: MLP(2, [16, 16, 1], rng=random.Random(0)),
        lambda: MLP(3, [5, 4, 2], activation="tanh", rng=random.Random(1)),
        lambda: MLP(3, [4, 2], activation="sigmoid", init="xavier", rng=random.Random(2)),
        lambda: Sequential(Linear(3, 4, rng=random.Random(3)), ReLU(), Linear(4, 2), Tanh()),
        lambda: Layer(3, 2, activation="tanh", rng=random.Random(4)),
    ],
)
def test_to_torch_computes_the_same_function(make):
    model = make()
    nin = next(len(m.w) for m in model.modules() if hasattr(m, "w"))
    X = np.random.default_rng(0).normal(size=(9, nin))
    seq = to_torch(model)
    assert isinstance(seq, torch.nn.Sequential)
    assert all(p.dtype == torch.float64 for p in seq.parameters())
    assert sum(p.numel() for p in seq.parameters()) == len(model.parameters())
    with torch.no_grad():
        theirs = seq(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(_zd_outputs(model, X), theirs, rtol=1e-13, atol=1e-14)


def test_weight_layout_matches_torch_linear():
    mlp = MLP(2, [3, 1], rng=random.Random(0))
    seq = to_torch(mlp)
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    n = mlp.layers[0].neurons[2]
    assert seq[0].weight[2, 1].item() == n.w[1].data
    assert seq[0].bias[2].item() == n.b.data


def test_round_trip_through_torch():
    mlp = MLP(2, [4, 4, 1], activation="tanh", rng=random.Random(0))
    back = from_torch(to_torch(mlp))
    assert isinstance(back, MLP) and repr(back) == repr(mlp)
    assert back.state_dict() == mlp.state_dict()
    seq = Sequential(Linear(2, 3, rng=random.Random(1)), Sigmoid(), Linear(3, 2), ReLU())
    back = from_torch(to_torch(seq))
    assert isinstance(back, Sequential) and repr(back) == repr(seq)
    assert back.state_dict() == seq.state_dict()


def test_from_torch_converts_a_torch_made_model_and_keeps_global_random():
    torch.manual_seed(0)
    seq = torch.nn.Sequential(
        torch.nn.Linear(2, 5), torch.nn.ReLU(), torch.nn.Linear(5, 1)
    ).double()
    state = random.getstate()
    model = from_torch(seq)
    assert random.getstate() == state
    assert isinstance(model, MLP) and [layer.nout for layer in model.layers] == [5, 1]
    X = np.array([[0.5, -1.0], [2.0, 0.25]])
    with torch.no_grad():
        theirs = seq(torch.from_numpy(X)).numpy()[:, 0]
    np.testing.assert_allclose(_zd_outputs(model, X)[:, 0], theirs, rtol=1e-13)


@pytest.mark.parametrize(
    "layers, message",
    [
        (lambda: [torch.nn.Linear(2, 3), torch.nn.GELU()], "layer 1 is GELU"),
        (lambda: [torch.nn.Linear(2, 3, bias=False)], "without bias"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.Linear(4, 1)], "3 outputs feeds one with 4"),
        (lambda: [], "empty"),
        (lambda: [torch.nn.LazyLinear(3)], "LazyLinear not yet initialised"),
        (lambda: [torch.nn.Linear(2, 3, device="meta")], "'meta' device"),
        pytest.param(
            lambda: [torch.nn.Linear(0, 3)],
            "Linear\\(0, 3\\); a neuron needs at least one input",
            marks=pytest.mark.filterwarnings("ignore:Initializing zero-element tensors"),
        ),
        (lambda: [torch.nn.Sequential(torch.nn.Linear(2, 2))], "layer 0 is Sequential"),
    ],
)
def test_from_torch_refuses_other_shapes(layers, message):
    with pytest.raises(TypeError, match=message):
        from_torch(torch.nn.Sequential(*layers()))
    with pytest.raises(TypeError, match="takes a torch.nn.Sequential"):
        from_torch(torch.nn.Linear(2, 2))


def test_to_torch_refuses_unknown_modules():
    from zdravkograd.nn import Module

    class Odd(Module):
        pass

    with pytest.raises(TypeError, match="cannot convert layer 0: Odd"):
        to_torch(Sequential(Odd()))
    with pytest.raises(TypeError, match="to_torch takes"):
        to_torch(Odd())


def _torch_loss(seq, Xt, yt, alpha):
    scores = seq(Xt)[:, 0]
    data_loss = torch.relu(1 - yt * scores).mean()
    return data_loss + alpha * sum((p * p).sum() for p in seq.parameters())


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "scalar"])
def test_twenty_training_steps_match_pytorch(batched):
    """Same start, same loss (hinge + L2), same optimiser: equal losses at every step."""
    X, y = make_moons(n_samples=100 if batched else 30, noise=0.1, seed=3)
    y = y * 2 - 1
    model = MLP(2, [16, 16, 1], rng=random.Random(7))
    seq = to_torch(model)
    if batched:
        opt = optim.Adam(model.parameters(), lr=0.01)
        topt = torch.optim.Adam(seq.parameters(), lr=0.01, foreach=False)
    else:
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        topt = torch.optim.SGD(seq.parameters(), lr=0.1, momentum=0.9)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y).double()
    ours, theirs = [], []
    for _ in range(20):
        if batched:
            scores = model([Value(X[:, 0]), Value(X[:, 1])])
        else:
            scores = [model(list(map(Value, row))) for row in X]
        loss = losses.hinge_loss(scores, y) + losses.l2_regularization(model, 1e-4)
        opt.zero_grad()
        loss.backward()
        opt.step()
        ours.append(loss.data)
        tloss = _torch_loss(seq, Xt, yt, 1e-4)
        topt.zero_grad()
        tloss.backward()
        topt.step()
        theirs.append(tloss.item())
    assert ours[-1] < ours[0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)
    # and the trained weights still agree
    back = from_torch(seq)
    np.testing.assert_allclose(
        list(back.state_dict().values()), list(model.state_dict().values()), rtol=1e-12, atol=1e-15
    )
