"""zdravkograd.transformer: the GPT's building blocks against PyTorch (float64), finite
differences, and their own invariants (parameter count, KV cache, batches, save/load)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from conftest import require

from zdravkograd import nn
from zdravkograd.engine import Value
from zdravkograd.gpt_train import pad_batch
from zdravkograd.serialization import ModelFileError, dumps, loads
from zdravkograd.transformer import GPT, KVCache

torch = require("torch")
from zdravkograd.torch_bridge import from_torch, to_torch  # noqa: E402

BOS = 26
NAMES = [[BOS, 4, 12, 12, 0, BOS], [BOS, 11, 8, 0, 12, BOS], [BOS, 0, 21, 0, BOS]]


def _grads(model):
    return {k: p.grad for k, p in model.named_parameters()}


def _torch_grads(model, twin):
    """Our parameter names -> the twin's gradient for that entry."""
    from zdravkograd.torch_bridge import _torch_name

    tg = {k: v.grad for k, v in twin.named_parameters()}
    out = {}
    for name, _ in model.named_parameters():
        key, index = _torch_name(name)
        out[name] = float(tg[key][index])
    return out


def test_gpt_has_microgpts_architecture_and_parameter_count():
    model = GPT(27)
    assert len(model.parameters()) == 4192
    names = dict(model.named_parameters())
    assert "wte.weight.26.15" in names and "wpe.weight.15.15" in names
    assert "lm_head.26.15" in names and "blocks.0.mlp.fc1.63.15" in names
    assert not any("bias" in k for k in names)  # no biases
    assert model.wte.weight[0][0] is not model.lm_head[0][0]  # a separate lm_head
    bigger = GPT(30, n_embd=8, n_head=2, n_layer=2, block_size=5)
    assert len(bigger.parameters()) == 2 * 30 * 8 + 5 * 8 + 2 * 12 * 8 * 8


def test_init_is_normal_with_std_0_08_and_reproducible():
    w = np.array([p.data for p in GPT(27, rng=random.Random(1)).parameters()])
    assert abs(w.mean()) < 0.006 and 0.077 < w.std() < 0.083
    a = GPT(27, rng=random.Random(5)).state_dict()
    assert a == GPT(27, rng=random.Random(5)).state_dict()
    random.seed(3)
    b = GPT(27).state_dict()
    random.seed(3)
    assert b == GPT(27).state_dict() and a != b


@pytest.mark.parametrize("n_layer", [1, 2])
def test_gpt_logits_and_gradients_equal_torch(n_layer):
    model = GPT(27, n_embd=8, n_head=2, n_layer=n_layer, block_size=8, rng=random.Random(0))
    twin = to_torch(model)
    tokens = NAMES[0]
    loss = model.loss(tokens)
    loss.backward()
    logits = twin(torch.tensor(tokens[:-1]))
    tloss = torch.nn.functional.cross_entropy(logits, torch.tensor(tokens[1:]))
    tloss.backward()
    ours = np.array([[z.data for z in row] for row in model(tokens[:-1])])
    np.testing.assert_allclose(ours, logits.detach().numpy(), rtol=0, atol=1e-12)
    assert abs(loss.data - tloss.item()) < 1e-12
    g, tg = _grads(model), _torch_grads(model, twin)
    assert max(abs(g[k] - tg[k]) for k in g) < 1e-12
    assert sum(abs(v) for v in g.values()) > 1.0  # gradients reach the weights


def test_the_default_gpt_matches_torch_to_1e_9():
    model = GPT(27, rng=random.Random(7))
    twin = to_torch(model)
    tokens = [BOS] + [3, 7, 1, 19, 4, 13, 20, 22, 14, 0, 2, 11, 9, 5, 8] + [BOS]  # 16 positions
    loss = model.loss(tokens)
    loss.backward()
    tloss = torch.nn.functional.cross_entropy(
        twin(torch.tensor(tokens[:-1])), torch.tensor(tokens[1:])
    )
    tloss.backward()
    g, tg = _grads(model), _torch_grads(model, twin)
    assert abs(loss.data - tloss.item()) < 1e-9
    assert max(abs(g[k] - tg[k]) for k in g) < 1e-9


def test_batched_loss_and_gradients_are_the_mean_of_the_per_name_ones():
    model = GPT(27, rng=random.Random(2))
    per_name = []
    for doc in NAMES:
        model.zero_grad()
        loss = model.loss(doc)
        loss.backward()
        per_name.append((loss.data, _grads(model)))
    model.zero_grad()
    tokens, mask = pad_batch(NAMES, BOS)
    batch = model.loss(tokens, mask)
    batch.backward()
    assert isinstance(batch.data, float)
    assert abs(batch.data - np.mean([loss for loss, _ in per_name])) < 1e-12
    g = _grads(model)
    mean = {k: np.mean([grads[k] for _, grads in per_name]) for k in g}
    assert max(abs(g[k] - mean[k]) for k in g) < 1e-12
    assert max(abs(v) for v in g.values()) > 1e-3


def test_batched_logits_equal_torch_on_a_padded_batch():
    model = GPT(27, n_embd=8, n_head=2, rng=random.Random(4))
    tokens, _ = pad_batch(NAMES, BOS)
    ours = model([tokens[:, t] for t in range(tokens.shape[1])])
    theirs = to_torch(model)(torch.tensor(tokens)).detach().numpy()  # (B, T, V)
    B = len(NAMES)  # position 0 is BOS for every name: its Values are plain floats
    for t, row in enumerate(ours):
        got = np.stack([np.broadcast_to(z.data, (B,)) for z in row], 1)
        np.testing.assert_allclose(got, theirs[:, t], atol=1e-12)


def test_gradients_match_finite_differences():
    model = GPT(5, n_embd=4, n_head=2, block_size=4, rng=random.Random(3))
    doc = [4, 1, 2, 0, 4]
    model.loss(doc).backward()
    params = model.parameters()
    for p in random.Random(0).sample(params, 12):
        x, h = p.data, 1e-6
        p.data = x + h
        up = model.loss(doc).data
        p.data = x - h
        down = model.loss(doc).data
        p.data = x
        assert abs((up - down) / (2 * h) - p.grad) < 1e-7


def test_kv_cache_step_equals_the_full_forward():
    model = GPT(27, rng=random.Random(8))
    tokens = NAMES[1]
    full = model(tokens)
    cache = KVCache(1)
    for pos, tok in enumerate(tokens):
        row = model.step(tok, pos, cache)
        assert [z.data for z in row] == [z.data for z in full[pos]]
    assert len(cache) == len(tokens)


def test_generate_samples_with_the_cache_and_stops_at_bos():
    model = GPT(27, rng=random.Random(9))
    out = model.generate([BOS], 20, temperature=0.5, rng=random.Random(1), stop=BOS)
    assert 1 <= len(out) <= 16 and all(0 <= t < 27 for t in out)  # one per position
    assert out == model.generate([BOS], 20, temperature=0.5, rng=random.Random(1), stop=BOS)
    assert all(p.grad == 0.0 for p in model.parameters())
    with pytest.raises(ValueError, match="temperature"):
        model.generate([BOS], 3, temperature=0.0)


@pytest.mark.parametrize(
    "make,torch_make",
    [
        (lambda: nn.RMSNorm(5), lambda: torch.nn.RMSNorm(5, dtype=torch.float64)),
        (lambda: nn.RMSNorm(5, eps=1e-5, elementwise_affine=False), None),
        (lambda: nn.LayerNorm(5), lambda: torch.nn.LayerNorm(5, dtype=torch.float64)),
        (lambda: nn.LayerNorm(5, bias=False), None),
        (lambda: nn.LayerNorm(5, elementwise_affine=False), None),
    ],
)
def test_norms_equal_torch(make, torch_make):
    module = make()
    rng = random.Random(0)
    for p in module.parameters():
        p.data = rng.uniform(0.5, 1.5)
    twin = to_torch(module)
    if torch_make is not None:
        assert type(twin) is type(torch_make())
    xs = [rng.uniform(-2, 2) for _ in range(5)]
    cs = [rng.uniform(-1, 1) for _ in range(5)]
    x = [Value(v) for v in xs]
    out = module(x)
    sum(o * c for o, c in zip(out, cs)).backward()
    tx = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    tout = twin(tx)
    (tout * torch.tensor(cs, dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose([o.data for o in out], tout.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose([v.grad for v in x], tx.grad.numpy(), atol=1e-12)
    for name, p in module.named_parameters():
        key, i = name.rsplit(".", 1)
        assert abs(p.grad - float(getattr(twin, key).grad[int(i)])) < 1e-12
    back = from_torch(twin)
    assert type(back) is type(module) and back.state_dict() == module.state_dict()


def test_embedding_and_attention_equal_torch():
    emb = nn.Embedding(6, 3, rng=random.Random(0))
    assert emb(4) == emb.weight[4] and emb(4) is not emb.weight[4]
    twin = to_torch(emb)
    weights = torch.tensor([[v.data for v in r] for r in emb.weight], dtype=torch.float64)
    assert torch.equal(twin.weight.detach(), weights)
    assert from_torch(twin).state_dict() == emb.state_dict()
    batch = emb(np.array([1, 4, 1]))  # one id per sequence
    rows = np.stack([v.data for v in batch], 1)
    np.testing.assert_array_equal(rows, twin.weight.detach()[[1, 4, 1]])

    attn = nn.CausalSelfAttention(8, 2, rng=random.Random(1))
    attn.keep_attention = True
    rng = random.Random(2)
    xs = [[Value(rng.uniform(-1, 1)) for _ in range(8)] for _ in range(4)]
    out = attn(xs)
    t_attn = to_torch(attn)
    tx = torch.tensor([[v.data for v in x] for x in xs], dtype=torch.float64)[None]
    np.testing.assert_allclose(
        [[o.data for o in row] for row in out], t_attn(tx)[0].detach().numpy(), atol=1e-12
    )
    assert from_torch(t_attn).state_dict() == attn.state_dict()
    assert len(attn.last_attention) == 2 and len(attn.last_attention[0]) == 4  # heads x keys
    assert abs(sum(attn.last_attention[1]) - 1.0) < 1e-12


def test_from_torch_round_trip_of_a_gpt():
    model = GPT(27, n_embd=8, n_head=4, n_layer=2, block_size=6, rng=random.Random(3))
    back = from_torch(to_torch(model))
    assert isinstance(back, GPT) and back.state_dict() == model.state_dict()
    assert back._config() == model._config()


def test_save_and_load_a_gpt_and_its_modules(tmp_path):
    model = GPT(27, rng=random.Random(4))
    path = tmp_path / "gpt.json"
    model.save(path)
    loaded = nn.load(path)
    assert isinstance(loaded, GPT) and loaded.state_dict() == model.state_dict()
    for module in (
        nn.Embedding(4, 2),
        nn.RMSNorm(3),
        nn.RMSNorm(3, eps=1e-5, elementwise_affine=False),
        nn.LayerNorm(3, bias=False),
        nn.CausalSelfAttention(4, 2),
    ):
        back = loads(dumps(module))
        assert type(back) is type(module) and back._config() == module._config()
        assert back.state_dict() == module.state_dict()


def test_a_bad_gpt_file_is_refused_with_a_clear_message():
    text = dumps(GPT(5, n_embd=4, n_head=2, block_size=3))
    with pytest.raises(ModelFileError, match="n_embd=4 is not a multiple of n_head=3"):
        loads(text.replace('"n_head": 2', '"n_head": 3'))
    with pytest.raises(ModelFileError, match="block_size=1 is invalid"):
        loads(text.replace('"block_size": 3', '"block_size": 1'))
    with pytest.raises(ModelFileError, match="missing keys"):
        loads(text.replace('"wpe.weight.0.0"', '"wpe.weight.9.9"'))


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="multiple of n_head"):
        GPT(27, n_embd=10, n_head=4)
    with pytest.raises(ValueError, match="block_size must be at least 2"):
        GPT(27, block_size=1)
    model = GPT(5, n_embd=4, n_head=2, block_size=3)
    with pytest.raises(IndexError, match="token id 5 is out of range"):
        model([5])
    with pytest.raises(TypeError, match="must be an int"):
        model(["a"])
    with pytest.raises(ValueError, match="longer than block_size=3"):
        model([0, 1, 2, 3])
    with pytest.raises(ValueError, match="at least 2 tokens"):
        model.loss([1])
    with pytest.raises(ValueError, match="expects a vector of 4 Values, got 3"):
        nn.RMSNorm(4)([Value(1.0)] * 3)
    with pytest.raises(ValueError, match="eps must be"):
        nn.LayerNorm(3, eps=-1.0)


def test_a_one_hot_lookup_is_the_row_exactly_and_routes_the_gradient():
    emb = nn.Embedding(5, 3, rng=random.Random(6))
    one_hot = [Value(1.0 if i == 2 else 0.0) for i in range(5)]
    rows = emb(one_hot)
    assert [v.data for v in rows] == [w.data for w in emb.weight[2]]
    sum(rows[1:], rows[0]).backward()
    assert [w.grad for w in emb.weight[2]] == [1.0, 1.0, 1.0]
    assert all(w.grad == 0.0 for i, row in enumerate(emb.weight) if i != 2 for w in row)
    columns = [Value(np.array([1.0 if i == j else 0.0 for j in (4, 0, 4)])) for i in range(5)]
    batch = emb(columns)  # three sequences: ids 4, 0, 4
    np.testing.assert_array_equal(batch[1].data, [emb.weight[k][1].data for k in (4, 0, 4)])
    with pytest.raises(ValueError, match="needs 5 entries, got 2"):
        emb([Value(1.0), Value(0.0)])
