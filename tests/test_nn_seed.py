"""The seed's ``nn``: ``Module``, ``Neuron``, ``Layer``, ``MLP`` (issue 2, section 6)."""

from __future__ import annotations

import random

import pytest

from zdravkograd import Value
from zdravkograd.nn import MLP, Layer, Module, Neuron


def test_mlp_2_16_16_1_has_337_parameters() -> None:
    model = MLP(2, [16, 16, 1])
    params = model.parameters()
    assert len(params) == 337  # (2*16 + 16) + (16*16 + 16) + (16 + 1)
    assert len(set(params)) == 337 and all(isinstance(p, Value) for p in params)


def test_random_seed_reproduces_a_model() -> None:
    random.seed(1337)
    first = [p.data for p in MLP(2, [16, 16, 1]).parameters()]
    random.seed(1337)
    second = [p.data for p in MLP(2, [16, 16, 1]).parameters()]
    random.seed(1338)
    other = [p.data for p in MLP(2, [16, 16, 1]).parameters()]
    assert first == second and first != other


def test_neuron_weights_are_uniform_in_minus_one_one_and_bias_zero() -> None:
    random.seed(0)
    n = Neuron(500)
    random.seed(0)
    expected = [random.uniform(-1, 1) for _ in range(500)]
    assert [w.data for w in n.w] == expected
    assert n.b.data == 0.0 and n.parameters()[-1] is n.b


def test_neuron_computes_relu_or_linear() -> None:
    n = Neuron(2)
    n.w[0].data, n.w[1].data, n.b.data = 1.0, -2.0, 0.5
    assert n([3.0, 1.0]).data == 1.5
    assert n([1.0, 3.0]).data == 0.0  # relu
    lin = Neuron(2, nonlin=False)
    lin.w[0].data, lin.w[1].data = 1.0, -2.0
    assert lin([1.0, 3.0]).data == -5.0


def test_neuron_with_the_wrong_input_length_says_both_lengths() -> None:
    n = Neuron(3)
    with pytest.raises(ValueError, match=r"3 inputs, got 2"):
        n([1.0, 2.0])
    with pytest.raises(ValueError, match=r"3 inputs, got 4"):
        n([1.0, 2.0, 3.0, 4.0])


def test_layer_returns_one_value_when_nout_is_1_else_a_list() -> None:
    x = [Value(1.0), Value(-1.0)]
    single = Layer(2, 1)(x)
    assert isinstance(single, Value)
    several = Layer(2, 3)(x)
    assert isinstance(several, list) and len(several) == 3
    assert all(isinstance(v, Value) for v in several)


def test_mlp_hidden_layers_are_relu_and_the_last_is_linear() -> None:
    model = MLP(2, [4, 3, 1])
    kinds = [[n.nonlin for n in layer.neurons] for layer in model.layers]
    assert kinds == [[True] * 4, [True] * 3, [False]]


def test_zero_grad_resets_every_parameter() -> None:
    model = MLP(2, [3, 1])
    model([Value(1.0), Value(2.0)]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_module_base_has_no_parameters() -> None:
    assert Module().parameters() == []


def test_reprs_are_short_and_name_the_neurons() -> None:
    assert repr(Neuron(2)) == "ReLUNeuron(2)"
    assert repr(Neuron(16, nonlin=False)) == "LinearNeuron(16)"
    layer = repr(Layer(2, 3))
    assert "Layer" in layer and "ReLUNeuron(2)" in layer
    mlp = repr(MLP(2, [16, 16, 1]))
    assert mlp.startswith("MLP") and "ReLUNeuron(16)" in mlp and "LinearNeuron(16)" in mlp
    assert len(mlp) < 400


def test_the_seed_training_loop_lowers_the_loss() -> None:
    # micrograd's moons demo in miniature: SVM max-margin loss + L2, plain SGD
    random.seed(1337)
    X = [(-1.0, 0.5), (1.0, -0.5), (0.8, 0.9), (-0.6, -1.0), (0.1, 0.2), (-0.3, 0.7)]
    y = [1, -1, 1, -1, 1, 1]
    model = MLP(2, [8, 8, 1])

    def loss() -> Value:
        scores = [model(list(map(Value, x))) for x in X]
        losses = [(1 + -yi * s).relu() for yi, s in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        return data_loss + 1e-4 * sum(p * p for p in model.parameters())

    first = loss().data
    for _ in range(30):
        total = loss()
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= 0.05 * p.grad
    assert loss().data < first
