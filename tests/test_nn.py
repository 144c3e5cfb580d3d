"""zdravkograd.nn: registration, names, modes, state dicts, repr, activations, init."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zdravkograd import ops
from zdravkograd.engine import Value
from zdravkograd.nn import (
    MLP,
    Layer,
    Linear,
    LoadResult,
    Module,
    Neuron,
    ReLU,
    Sequential,
    Sigmoid,
    StateDictError,
    Tanh,
)

# ---------------------------------------------------------------- seed API


def test_seed_mlp_has_337_parameters_and_trains_by_hand():
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    params = model.parameters()
    assert len(params) == 337
    x = [Value(0.5), Value(-1.5)]
    out = model(x)
    assert isinstance(out, Value)
    model.zero_grad()
    out.backward()
    before = [p.data for p in params]
    for p in model.parameters():
        p.data -= 0.1 * p.grad
    assert any(p.data != b for p, b in zip(params, before))
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_random_seed_reproduces_the_seed_weights():
    """Default init is the seed's: random.uniform(-1, 1) per weight, bias 0, neuron by neuron."""
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    random.seed(1337)
    expected = []
    for nin, nout in [(2, 16), (16, 16), (16, 1)]:
        for _ in range(nout):
            expected += [random.uniform(-1, 1) for _ in range(nin)] + [0.0]
    assert [p.data for p in model.parameters()] == expected


def test_neuron_nonlin_flag_still_works():
    n = Neuron(3, nonlin=False)
    assert n.activation == "linear" and not n.nonlin
    assert Neuron(3, nonlin=True).activation == "relu"
    assert Neuron(3).nonlin
    n.w = [Value(1.0), Value(-2.0), Value(0.5)]
    assert n([1.0, 1.0, 1.0]).data == pytest.approx(-0.5, rel=1e-15)  # linear: no ReLU clamp


def test_neuron_builds_one_weighted_sum_node_with_the_seed_chains_numbers():
    """b + w0*x0 + w1*x1: one 'dot' node (operands b, w0, x0, w1, x1), then relu; its
    value and gradients are those of the seed's chain of '+' and '*' nodes, bit for bit."""
    n = Neuron(2, rng=random.Random(3))
    x = [Value(1.25), Value(-2.5)]
    out = n(x)
    assert out._op.name == "relu"
    s = out._prev[0]
    assert s._op is ops.dot and s._prev == (n.b, n.w[0], x[0], n.w[1], x[1])
    assert s._local == (1.0, x[0].data, n.w[0].data, x[1].data, n.w[1].data)
    n.b.data = 0.5
    out = n(x)
    out.backward()
    xs = [Value(v.data) for v in x]
    ws = [Value(w.data) for w in n.w]
    b = Value(n.b.data)
    chain = (b + ws[0] * xs[0] + ws[1] * xs[1]).relu()  # the seed's graph
    chain.backward()
    assert out.data == chain.data
    got = [v.grad for v in (n.b, *n.w, *x)]
    assert got == [v.grad for v in (b, *ws, *xs)]


def test_wrong_input_length_names_the_module_and_both_lengths():
    with pytest.raises(ValueError, match=r"^Neuron expects 3 inputs, got 2$"):
        Neuron(3)([1.0, 2.0])
    with pytest.raises(ValueError, match=r"^MLP expects 2 inputs, got 3$"):
        MLP(2, [4, 1])([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"^Layer expects 2 inputs, got 1$"):
        Layer(2, 3)([1.0])
    with pytest.raises(ValueError, match=r"^Linear expects 4 inputs, got 2$"):
        Linear(4, 1)([1.0, 2.0])
    with pytest.raises(ValueError, match=r"^Sequential expects 2 inputs, got 3$"):
        Sequential(Linear(2, 3), ReLU(), Linear(3, 1))([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"^Linear expects 4 inputs, got 3$"):  # the inner one
        Sequential(Linear(2, 3), Linear(4, 1))([1.0, 2.0])
    assert len(Sequential(ReLU())([Value(-1.0), Value(2.0)])) == 2  # no width to check


def _labels(root: Value) -> dict[str, Value]:
    from zdravkograd.engine import topological_order

    nodes = topological_order(root)
    found = {v.label: v for v in nodes}
    assert len(found) == len(nodes), "every node has its own label"
    return found


def test_every_node_of_an_mlp_graph_has_a_name_that_maps_to_the_model():
    """L{i}.n{j}: layers.i.neurons.j; Σ and relu: the nodes of its forward pass."""
    m = MLP(2, [3, 1], rng=random.Random(0))
    x = [Value(0.5, label="x1"), Value(-2.0, label="x2")]
    nodes = _labels(m(x))
    assert "" not in nodes
    # Parameters: the short form of their state-dict names.
    for name, p in m.named_parameters():
        short = name.replace("layers.", "L").replace("neurons.", "n").replace("w.", "w")
        assert p.label == short and nodes[short] is p
    # The nodes of neuron 2 of layer 0, computed by hand.
    n = m.layers[0].neurons[2]
    total = nodes["L0.n2.Σ"]
    assert total._prev == (n.b, n.w[0], x[0], n.w[1], x[1])
    assert total.data == n.b.data + n.w[0].data * 0.5 + n.w[1].data * -2.0
    relu = nodes["L0.n2.relu"]
    assert relu._op.name == "relu" and relu._prev == (nodes["L0.n2.Σ"],)
    # The output neuron is linear: its last node is its sum, and it reads L0's activations.
    out = nodes["L1.n0.Σ"]
    assert out is m(x) or out.data == m(x).data
    assert out._prev[6] is nodes["L0.n2.relu"]  # b, w0, x0, w1, x1, w2, x2
    expected = {f"L0.n{j}.{s}" for j in range(3) for s in ("w0", "w1", "b", "Σ", "relu")}
    expected |= {f"L1.n0.{s}" for s in ("w0", "w1", "w2", "b", "Σ")}
    assert set(nodes) == expected | {"x1", "x2"}


def test_node_names_of_other_modules():
    n = Neuron(2, activation="tanh")
    x = [Value(1.0, label="x0"), Value(2.0, label="x1")]
    assert set(_labels(n(x))) == {"x0", "x1", "w0", "w1", "b", "Σ", "tanh"}
    seq = Sequential(Linear(2, 2), ReLU(), Linear(2, 1))
    names = set(_labels(seq([Value(1.0, label="a"), Value(2.0, label="c")])[0]))
    assert {"L0.n1.Σ", "L1.relu0", "L1.relu1", "L2.n0.Σ"} <= names
    # Batched inputs get the same names; a model rebuilt by load has them too.
    m = MLP(2, [2, 1], activation="sigmoid", rng=random.Random(1))
    col = m([Value(np.array([1.0, 2.0]), "a"), Value(np.array([0.0, 1.0]), "c")])
    assert {"L0.n1.sigmoid", "L1.n0.Σ"} <= set(_labels(col))

    # Putting modules together by hand: name_nodes gives the new prefix.
    class Two(Module):
        def __init__(self) -> None:
            self.enc = Layer(2, 2)
            self.heads = [Neuron(2, activation="linear")]
            self.name_nodes()

        def __call__(self, x):
            return self.heads[0](self.enc(x))

    assert {"enc.n0.relu", "heads0.Σ", "heads0.w1"} <= set(_labels(Two()(x)))


def test_layer_returns_single_value_when_nout_is_1():
    assert isinstance(Layer(3, 1)([1.0, 2.0, 3.0]), Value)
    out = Layer(3, 2)([1.0, 2.0, 3.0])
    assert isinstance(out, list) and len(out) == 2


def test_linear_always_returns_a_list():
    out = Linear(3, 1)([1.0, 2.0, 3.0])
    assert isinstance(out, list) and len(out) == 1


# ------------------------------------------------------------ registration


def test_named_parameters_are_dotted_paths():
    model = MLP(2, [16, 16, 1])
    names = [n for n, _ in model.named_parameters()]
    assert names[0] == "layers.0.neurons.0.w.0"
    assert names[2] == "layers.0.neurons.0.b"
    assert "layers.0.neurons.3.w.1" in names
    assert names[-1] == "layers.2.neurons.0.b"
    assert len(set(names)) == 337
    named = dict(model.named_parameters())
    assert named["layers.0.neurons.3.w.1"] is model.layers[0].neurons[3].w[1]


class Custom(Module):
    """A user-defined module: registration through attributes, lists, tuples."""

    def __init__(self) -> None:
        self.scale = Value(2.0)
        self.blocks = [Linear(2, 2, rng=random.Random(1)), ReLU()]
        self.extra = (Value(1.0), Value(3.0))
        self.head = Linear(2, 1, rng=random.Random(2))
        self._hidden = Value(99.0)  # private: not a parameter
        self.note = "not a parameter"
        self.numbers = [1, 2, 3]

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return self.head(x)[0] * self.scale


def test_custom_module_registers_attributes_lists_and_tuples():
    m = Custom()
    names = [n for n, _ in m.named_parameters()]
    # as in PyTorch: a module's own parameters first, then each child's, depth first
    assert names[:3] == ["scale", "extra.0", "extra.1"]
    assert names[3:6] == [
        "blocks.0.neurons.0.w.0",
        "blocks.0.neurons.0.w.1",
        "blocks.0.neurons.0.b",
    ]
    assert "head.neurons.0.b" == names[-1]
    assert all(p is not m._hidden for p in m.parameters())
    assert len(m.parameters()) == 1 + 6 + 2 + 3
    assert [n for n, _ in m.named_children()] == ["blocks.0", "blocks.1", "head"]
    assert list(m.children()) == [m.blocks[0], m.blocks[1], m.head]
    mods = list(m.modules())
    assert mods[0] is m and len(mods) == 1 + 1 + 2 + 1 + 1 + 1  # self, blocks(+2 neurons), head
    out = m([Value(1.0), Value(2.0)])  # Module.__call__ -> forward
    out.backward()
    assert m.scale.grad != 0.0


def test_shared_parameter_is_listed_once():
    m = Custom()
    m.head.neurons[0].w[0] = m.scale
    assert len(m.parameters()) == len(set(map(id, m.parameters())))


def test_module_without_forward_raises_clearly():
    with pytest.raises(NotImplementedError, match="Module defines neither forward"):
        Module()(1.0)


def test_train_and_eval_set_the_flag_recursively():
    m = MLP(2, [3, 1])
    assert m.training and m.layers[0].neurons[0].training
    assert m.eval() is m
    assert all(not mod.training for mod in m.modules())
    m.layers[1].train()
    assert m.layers[1].neurons[0].training and not m.training
    m.train()
    assert all(mod.training for mod in m.modules())
    with pytest.raises(TypeError):
        m.train("yes")  # type: ignore[arg-type]


# ------------------------------------------------------------- state dict


def test_state_dict_round_trip():
    a, b = MLP(2, [4, 1], rng=random.Random(1)), MLP(2, [4, 1], rng=random.Random(2))
    sd = a.state_dict()
    assert list(sd) == [n for n, _ in a.named_parameters()]
    assert all(type(v) is float for v in sd.values())
    result = b.load_state_dict(sd)
    assert result == LoadResult([], [])
    assert [p.data for p in b.parameters()] == [p.data for p in a.parameters()]


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda sd: sd.pop("layers.0.neurons.1.b"), "missing keys"),
        (lambda sd: sd.__setitem__("layers.9.w", 1.0), "unexpected keys"),
        (lambda sd: sd.__setitem__("layers.1.neurons.0.b", "0.5"), "real number"),
        (lambda sd: sd.__setitem__("layers.1.neurons.0.b", None), "real number"),
        (lambda sd: sd.__setitem__("layers.1.neurons.0.b", True), "real number"),
        (lambda sd: sd.__setitem__("layers.1.neurons.0.b", [1.0]), "real number"),
        (lambda sd: sd.__setitem__("layers.1.neurons.0.b", 10**400), "too large for a float"),
    ],
)
def test_failed_load_changes_no_weight(mutate, message):
    src = MLP(2, [4, 1], rng=random.Random(1))
    dst = MLP(2, [4, 1], rng=random.Random(2))
    sd = src.state_dict()
    mutate(sd)
    before = [p.data for p in dst.parameters()]
    with pytest.raises(StateDictError, match=message):
        dst.load_state_dict(sd)
    assert [p.data for p in dst.parameters()] == before


def test_non_strict_load_reports_and_skips():
    src = MLP(2, [4, 1], rng=random.Random(1))
    dst = MLP(2, [4, 1], rng=random.Random(2))
    sd = src.state_dict()
    sd.pop("layers.1.neurons.0.b")
    sd["bogus"] = 3.0
    res = dst.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["layers.1.neurons.0.b"]
    assert res.unexpected_keys == ["bogus"]
    assert dst.layers[0].neurons[0].w[0].data == src.layers[0].neurons[0].w[0].data
    assert dst.layers[1].neurons[0].b.data == 0.0  # untouched
    with pytest.raises(StateDictError, match="real number"):  # values still checked
        dst.load_state_dict({"layers.1.neurons.0.b": "x"}, strict=False)


def test_load_state_dict_rejects_non_mapping():
    with pytest.raises(StateDictError, match="mapping"):
        MLP(2, [1]).load_state_dict([("a", 1.0)])  # type: ignore[arg-type]


def test_load_state_dict_accepts_numpy_numbers():
    m = MLP(1, [1], rng=random.Random(0))
    m.load_state_dict({"layers.0.neurons.0.w.0": np.float64(0.25), "layers.0.neurons.0.b": 1})
    assert m.parameters()[0].data == 0.25 and type(m.parameters()[1].data) is float


# ------------------------------------------------------------------- repr


def test_repr_is_pytorch_style_and_collapses_repeats():
    text = repr(MLP(2, [16, 16, 1]))
    assert text == (
        "MLP(\n"
        "  (layers.0): Layer(\n"
        "    (neurons.0-15): 16 x ReLUNeuron(2)\n"
        "  )\n"
        "  (layers.1): Layer(\n"
        "    (neurons.0-15): 16 x ReLUNeuron(16)\n"
        "  )\n"
        "  (layers.2): Layer(\n"
        "    (neurons.0): LinearNeuron(16)\n"
        "  )\n"
        ")"
    )
    seq = Sequential(Linear(2, 3), Tanh(), Linear(3, 1))
    assert repr(seq) == (
        "Sequential(\n"
        "  (layers.0): Linear(in_features=2, out_features=3)\n"
        "  (layers.1): Tanh()\n"
        "  (layers.2): Linear(in_features=3, out_features=1)\n"
        ")"
    )
    assert repr(Neuron(3, activation="sigmoid")) == "SigmoidNeuron(3)"


# ------------------------------------------------------ activations, init


@pytest.mark.parametrize(
    "activation, f",
    [
        ("relu", lambda z: max(z, 0.0)),
        ("tanh", math.tanh),
        ("sigmoid", lambda z: 1 / (1 + math.exp(-z))),
        ("linear", lambda z: z),
    ],
)
def test_neuron_activations(activation, f):
    n = Neuron(2, activation=activation)
    n.w[0].data, n.w[1].data, n.b.data = 0.5, -2.0, 0.25
    for x in ([1.0, 1.0], [3.0, -1.0]):
        z = 0.25 + 0.5 * x[0] - 2.0 * x[1]
        assert n(x).data == pytest.approx(f(z), rel=1e-15)


def test_mlp_activation_keeps_last_layer_linear():
    m = MLP(3, [4, 4, 2], activation="tanh")
    assert [layer.activation for layer in m.layers] == ["tanh", "tanh", "linear"]


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="activation must be one of 'relu', .*; got 'gelu'"):
        MLP(2, [3, 1], activation="gelu")
    with pytest.raises(ValueError, match="init must be one of 'uniform', .*; got 'zeros'"):
        Neuron(2, init="zeros")
    with pytest.raises(TypeError, match="activation must be a string"):
        Neuron(2, activation=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="rng must be a random.Random"):
        MLP(2, [1], rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="nouts must be a non-empty list"):
        MLP(2, 16)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="nouts\\[1\\] must be at least 1"):
        MLP(2, [3, 0])
    with pytest.raises(TypeError, match="nin must be an int, got float: 2.5"):
        Neuron(2.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="nout must be an int, got bool"):
        Layer(2, True)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="mode must be a bool, got int"):
        MLP(2, [1]).train(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="argument 1 is int"):
        Sequential(ReLU(), 3)  # type: ignore[arg-type]


def test_rng_gives_reproducible_models_without_touching_global_random():
    random.seed(5)
    state = random.getstate()
    a = MLP(2, [8, 1], rng=random.Random(42))
    b = MLP(2, [8, 1], rng=random.Random(42))
    assert random.getstate() == state
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    c = MLP(2, [8, 1], rng=random.Random(43))
    assert [p.data for p in a.parameters()] != [p.data for p in c.parameters()]


@pytest.mark.parametrize("init", ["kaiming", "xavier"])
def test_kaiming_and_xavier_bounds_and_spread(init):
    m = MLP(50, [40, 1], init=init, rng=random.Random(0))
    w = np.array([wi.data for n in m.layers[0].neurons for wi in n.w])
    bound = math.sqrt(6 / 50) if init == "kaiming" else math.sqrt(6 / (50 + 40))
    assert np.abs(w).max() <= bound
    assert np.std(w) == pytest.approx(bound / math.sqrt(3), rel=0.05)  # U(-a, a): a / sqrt(3)
    assert all(n.b.data == 0.0 for n in m.layers[0].neurons)


# ----------------------------------------------------------- batched input


def test_mlp_on_batched_values_equals_row_by_row():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, 3))
    m = MLP(3, [5, 4, 2], activation="tanh", rng=random.Random(3))
    batched = m([Value(X[:, 0]), Value(X[:, 1]), Value(X[:, 2])])
    for i, row in enumerate(X):
        single = m(list(map(Value, row)))
        for j in range(2):
            assert batched[j].data[i] == pytest.approx(single[j].data, rel=1e-14, abs=1e-15)
    # gradients: sum over the batch equals the sum of per-row gradients
    m.zero_grad()
    (batched[0].sum() + batched[1].sum()).backward()
    g_batch = [p.grad for p in m.parameters()]
    m.zero_grad()
    for row in X:
        out = m(list(map(Value, row)))
        (out[0] + out[1]).backward()
    g_rows = [p.grad for p in m.parameters()]
    np.testing.assert_allclose(g_batch, g_rows, rtol=1e-12, atol=1e-13)


def test_sequential_matches_an_mlp_with_the_same_weights():
    mlp = MLP(2, [3, 1], activation="sigmoid", rng=random.Random(4))
    seq = Sequential(Linear(2, 3), Sigmoid(), Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[1], Sigmoid) and list(seq)[2] is seq[2]
    params = [p.data for p in mlp.parameters()]
    for p, v in zip(seq.parameters(), params):
        p.data = v
    x = [0.3, -0.7]
    assert seq(x)[0].data == mlp(x).data


def test_activation_modules_take_values_or_lists():
    assert ReLU()(Value(-2.0)).data == 0.0
    assert [v.data for v in Tanh()([Value(0.0), Value(100.0)])] == [0.0, 1.0]


def test_parameters_is_named_parameters_without_names():
    shared = Custom()
    shared.head.neurons[0].w[0] = shared.scale
    shared.again = shared.blocks[0]  # a module reachable twice
    models = [MLP(2, [16, 16, 1]), Custom(), shared, Sequential(Linear(2, 2), ReLU())]
    for m in models:
        assert m.parameters() == [p for _, p in m.named_parameters()]


@given(
    drop=st.sets(st.integers(0, 12), max_size=3),
    extra=st.lists(st.text(min_size=1, max_size=5), max_size=2),
    poison=st.one_of(st.none(), st.integers(0, 12)),
    bad=st.sampled_from(["x", None, True, [1.0], {"a": 1}]),
    strict=st.booleans(),
)
def test_load_state_dict_is_all_or_nothing(drop, extra, poison, bad, strict):
    """Whatever is wrong with a state dict, a failed load changes no weight,
    and a successful one sets exactly the keys it was given."""
    dst = MLP(2, [3, 1], rng=random.Random(2))
    src = MLP(2, [3, 1], rng=random.Random(1))
    names = list(src.state_dict())
    state = {k: v for i, (k, v) in enumerate(src.state_dict().items()) if i not in drop}
    for e in extra:
        state["extra." + e] = 1.0
    if poison is not None and names[poison] in state:
        state[names[poison]] = bad
    before = dst.state_dict()
    try:
        dst.load_state_dict(state, strict=strict)
    except StateDictError:
        assert dst.state_dict() == before
    else:
        after = dst.state_dict()
        for k in names:
            assert after[k] == (state[k] if k in state else before[k])


def test_mlp_with_a_width_one_hidden_layer_passes_a_list_on():
    """A width-1 layer returns one Value; the next layer still gets a list (micrograd fails)."""
    import random as _random

    from zdravkograd.nn import MLP

    model = MLP(2, [1, 1], rng=_random.Random(0))
    hidden, last = model.layers[0].neurons[0], model.layers[1].neurons[0]
    out = model([0.5, -2.0])
    h = max(0.0, hidden.b.data + hidden.w[0].data * 0.5 + hidden.w[1].data * -2.0)
    assert out.data == pytest.approx(last.b.data + last.w[0].data * h, rel=1e-12)
    wide = MLP(2, [1, 3], rng=_random.Random(0))([0.5, -2.0])
    assert isinstance(wide, list) and len(wide) == 3
