"""A GPT made of Values: embeddings, normalisation, causal self-attention, and the model.

The architecture is microgpt's (itself GPT-2's, simplified), with PyTorch's names:

* ``Embedding``: a table of vectors; token ``i`` is row ``i`` of ``weight``;
* ``RMSNorm`` and ``LayerNorm``: rescale a vector, as ``torch.nn.RMSNorm`` / ``LayerNorm``;
* ``CausalSelfAttention``: each position mixes the value vectors of itself and the positions
  before it, weighted by how well its query matches their keys, in ``n_head`` heads;
* ``FeedForward``: ``fc2(relu(fc1(x)))``, 4 times wider in the middle;
* ``Block``: ``x + attn(norm(x))``, then ``x + mlp(norm(x))``;
* ``GPT``: token + position embedding, a norm, the blocks, and ``lm_head`` giving one score
  (logit) per token of the vocabulary for the next token.

A vector is a plain list of Values, a weight matrix a list of rows (``W[i][j]``, shape
``(out, in)`` as in PyTorch). Each weighted sum is one node, ``dot`` (the op table's
``ops.dot``), whose numbers are those of one multiply and one add per weight, bit for bit;
every weight is a Value you can inspect, and ``loss.backward()`` reaches every weight
through the engine's chain rule and nothing else.

A sequence is processed one position at a time, as microgpt does: the keys and values of the
positions seen so far sit in a ``KVCache``, and the new position attends to them. Running
``forward`` over a whole sequence is the same computation as PyTorch's masked attention.

**Batches.** A token id may also be a 1-D integer array (one id per sequence): every Value
then holds one number per sequence (see ``docs/speed.md``), and the whole batch goes through
the graph at once. ``GPT.loss`` takes padded sequences with a mask.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

import numpy as np

from zdravkograd import ops, serialization
from zdravkograd._checks import check_int, check_number, check_rng
from zdravkograd.engine import Value, no_grad
from zdravkograd.losses import logsumexp, softmax
from zdravkograd.nn import Module

Vector = list[Value]
Matrix = list[list[Value]]

INIT_STD = 0.08
"""microgpt's initialisation: every weight drawn from N(0, 0.08^2)."""


# --------------------------------------------------------------------- helpers


def _matrix(rows: int, cols: int, std: float, rng: Any) -> Matrix:
    """A ``rows x cols`` matrix of Values drawn from N(0, std^2), row by row."""
    return [[Value(rng.gauss(0.0, std)) for _ in range(cols)] for _ in range(rows)]


def dot(w: Sequence[Value], x: Sequence[Any]) -> Value:
    """``w[0] x[0] + w[1] x[1] + ...``: one node of the op table's row ``ops.dot``.

    Its constant term is -0.0, the identity of IEEE addition (-0.0 + t is t, also for
    t = ±0.0), so the numbers are those of the chain ``w[0] * x[0] + w[1] * x[1] + ...``.
    """
    if len(w) != len(x):
        raise ValueError(f"dot: {len(w)} weights for {len(x)} inputs")
    operands: list[Any] = [Value(-0.0)] * (2 * len(w) + 1)
    operands[1::2], operands[2::2] = w, x
    return ops.dot(*operands)


def matvec(W: Matrix, x: Sequence[Any]) -> Vector:
    """``W x`` for a matrix given as a list of rows: a bias-free ``torch.nn.Linear``."""
    return [dot(row, x) for row in W]


def _check_eps(eps: Any) -> float:
    return check_number("eps", eps, minimum=0.0)


def _check_std(std: Any) -> float:
    return check_number("std", std, minimum=0.0)


def _check_length(name: str, x: Sequence[Any], n: int) -> None:
    if len(x) != n:
        raise ValueError(f"{name} expects a vector of {n} Values, got {len(x)}")


# ------------------------------------------------------------------- Embedding


class Embedding(Module):
    """A lookup table: ``emb(i)`` is row ``i`` of ``weight`` (``num_embeddings`` rows of
    ``embedding_dim`` Values), as ``torch.nn.Embedding``.

    ``i`` is an int; or a 1-D integer array holding one id per sequence of a batch, and then
    each output Value holds one number per sequence; or a one-hot vector (a list of
    ``num_embeddings`` Values, 1 at the id), the form compiled batches use; or a traced id
    (``zdravkograd.compiler.TracedId``, while ``compile`` traces with ``Indices``), whose
    lookup the program records and replays with the id it is called with. Weights are drawn
    from N(0, std^2) (PyTorch's default std is 1).
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        *,
        std: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        check_int("num_embeddings", num_embeddings, 1)
        check_int("embedding_dim", embedding_dim, 1)
        self.weight = _matrix(num_embeddings, embedding_dim, _check_std(std), check_rng(rng))

    @property
    def num_embeddings(self) -> int:
        return len(self.weight)

    @property
    def embedding_dim(self) -> int:
        return len(self.weight[0])

    def forward(self, index: Any) -> Vector:
        if isinstance(index, np.ndarray) and index.ndim == 1:
            return self._gather(index)
        if isinstance(index, (list, tuple)):
            return self._one_hot(index)
        take = getattr(index, "take", None)
        if take is not None and not isinstance(index, np.generic):  # a traced id
            return list(take(self.weight))
        i = _check_index(index, self.num_embeddings)
        return list(self.weight[i])

    def _one_hot(self, one_hot: Sequence[Any]) -> Vector:
        """Rows selected by a one-hot vector (Values holding 1 at the id, 0 elsewhere; or
        columns of them for a batch): ``sum_i weight[i] * one_hot[i]``.

        The id is then data, not Python control flow, so ``zdravkograd.compile`` records
        the lookup as operations and one program serves every token. Exact: the sum is
        one weight times 1 plus zeros.
        """
        if len(one_hot) != self.num_embeddings:
            raise ValueError(
                f"Embedding: a one-hot vector needs {self.num_embeddings} entries, "
                f"got {len(one_hot)}"
            )
        return [dot(column, one_hot) for column in zip(*self.weight)]

    def _gather(self, index: np.ndarray) -> Vector:
        """Rows for a batch of ids: ``sum_i weight[i] * (index == i)`` over the ids present.

        Each sequence's number is one weight times 1 plus zeros, so it equals the weight
        exactly, and each weight's gradient is the sum over the sequences that used it.
        """
        if index.dtype.kind not in "iu":
            raise TypeError(f"Embedding: a batch of ids must be integers, got dtype {index.dtype}")
        if index.size and (index.min() < 0 or index.max() >= self.num_embeddings):
            raise IndexError(f"Embedding: ids must lie in [0, {self.num_embeddings})")
        present = np.unique(index).tolist()
        if len(present) == 1:  # every sequence has the same id: the plain row
            return list(self.weight[present[0]])
        masks = [(index == i).astype(np.float64) for i in present]
        out = []
        for j in range(self.embedding_dim):
            total = self.weight[present[0]][j] * masks[0]
            for i, mask in zip(present[1:], masks[1:]):
                total = total + self.weight[i][j] * mask
            out.append(total)
        return out

    def _config(self) -> dict[str, Any]:
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim}

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


def _check_index(i: Any, n: int) -> int:
    if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
        raise TypeError(f"a token id must be an int, got {type(i).__name__}: {i!r:.40}")
    if not 0 <= i < n:
        raise IndexError(f"token id {i} is out of range: the table has {n} rows (0 to {n - 1})")
    return int(i)


# --------------------------------------------------------------- normalisation


class RMSNorm(Module):
    """``x / sqrt(mean(x^2) + eps)``, times a learnt ``weight`` (ones at first) when
    ``elementwise_affine``: ``torch.nn.RMSNorm``. ``eps=None`` means the float64 machine
    epsilon, PyTorch's default. microgpt uses ``eps=1e-5`` and no weight."""

    def __init__(
        self, normalized_shape: int, eps: float | None = None, elementwise_affine: bool = True
    ) -> None:
        self.normalized_shape = check_int("normalized_shape", normalized_shape, 1)
        self.eps = None if eps is None else _check_eps(eps)
        self.elementwise_affine = bool(elementwise_affine)
        if elementwise_affine:
            self.weight = [Value(1.0) for _ in range(normalized_shape)]

    def forward(self, x: Sequence[Value]) -> Vector:
        _check_length("RMSNorm", x, self.normalized_shape)
        eps = np.finfo(np.float64).eps if self.eps is None else self.eps
        mean_square = dot(x, x) * (1.0 / len(x))
        scale = (mean_square + float(eps)) ** -0.5
        if self.elementwise_affine:
            return [xi * scale * wi for xi, wi in zip(x, self.weight)]
        return [xi * scale for xi in x]

    def _config(self) -> dict[str, Any]:
        return {
            "normalized_shape": self.normalized_shape,
            "eps": self.eps,
            "elementwise_affine": self.elementwise_affine,
        }

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, affine={self.elementwise_affine}"


class LayerNorm(Module):
    """``(x - mean(x)) / sqrt(var(x) + eps) * weight + bias`` (``var`` is the biased
    variance), as ``torch.nn.LayerNorm``. ``weight`` starts at ones, ``bias`` at zeros."""

    def __init__(
        self,
        normalized_shape: int,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
    ) -> None:
        self.normalized_shape = check_int("normalized_shape", normalized_shape, 1)
        self.eps = _check_eps(eps)
        self.elementwise_affine = bool(elementwise_affine)
        self.has_bias = bool(bias) and self.elementwise_affine
        if self.elementwise_affine:
            self.weight = [Value(1.0) for _ in range(normalized_shape)]
        if self.has_bias:
            self.bias = [Value(0.0) for _ in range(normalized_shape)]

    def forward(self, x: Sequence[Value]) -> Vector:
        _check_length("LayerNorm", x, self.normalized_shape)
        n = 1.0 / len(x)
        mean = sum(x[1:], x[0]) * n
        centred = [xi - mean for xi in x]
        scale = (dot(centred, centred) * n + self.eps) ** -0.5
        out = [c * scale for c in centred]
        if self.elementwise_affine:
            out = [o * w for o, w in zip(out, self.weight)]
        if self.has_bias:
            out = [o + b for o, b in zip(out, self.bias)]
        return out

    def _config(self) -> dict[str, Any]:
        return {
            "normalized_shape": self.normalized_shape,
            "eps": self.eps,
            "elementwise_affine": self.elementwise_affine,
            "bias": self.has_bias,
        }

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, affine={self.elementwise_affine}"


# ------------------------------------------------------------------- attention


class KVCache:
    """The keys and values of the positions seen so far, one list per layer.

    ``keys[layer][pos]`` is the key vector of position ``pos``. Sampling fills it one
    position at a time, so each new token costs one position's work, not the whole prefix's.
    """

    def __init__(self, n_layer: int) -> None:
        self.keys: list[list[Vector]] = [[] for _ in range(n_layer)]
        self.values: list[list[Vector]] = [[] for _ in range(n_layer)]

    def __len__(self) -> int:
        """The number of positions cached."""
        return len(self.keys[0])


class CausalSelfAttention(Module):
    """Multi-head causal self-attention without biases (``wq``, ``wk``, ``wv``, ``wo``).

    For a position with input ``x``: ``q = wq x``, ``k = wk x``, ``v = wv x``; the head ``h``
    takes its slice of ``head_dim = n_embd / n_head`` numbers and computes
    ``a_s = softmax_s(q_h . k_h[s] / sqrt(head_dim))`` over the positions ``s`` so far, then
    ``sum_s a_s v_h[s]``. The heads' outputs, side by side, go through ``wo``.
    """

    def __init__(
        self,
        n_embd: int,
        n_head: int,
        *,
        std: float = INIT_STD,
        rng: random.Random | None = None,
    ) -> None:
        check_int("n_embd", n_embd, 1)
        check_int("n_head", n_head, 1)
        if n_embd % n_head:
            raise ValueError(f"n_embd ({n_embd}) must be a multiple of n_head ({n_head})")
        gen, std = check_rng(rng), _check_std(std)
        self.n_head = n_head
        self.wq = _matrix(n_embd, n_embd, std, gen)
        self.wk = _matrix(n_embd, n_embd, std, gen)
        self.wv = _matrix(n_embd, n_embd, std, gen)
        self.wo = _matrix(n_embd, n_embd, std, gen)
        self.keep_attention = False  # keep each step's weights for last_attention
        self._weights: list[Vector] = []  # per head, the attention weights of the last step

    @property
    def n_embd(self) -> int:
        return len(self.wq)

    @property
    def last_attention(self) -> list[list[float]]:
        """Per head, the attention weights of the last position, one per position attended
        to (for a batch, the first sequence's). Set ``keep_attention = True`` first: kept
        only on request, as the weights hold on to that position's graph."""
        return [[_first(w.data) for w in weights] for weights in self._weights]

    def forward(self, xs: Sequence[Sequence[Value]]) -> list[Vector]:
        """A whole sequence (a list of vectors), each position attending to those before it."""
        keys: list[Vector] = []
        values: list[Vector] = []
        return [self.step(x, keys, values) for x in xs]

    def step(self, x: Sequence[Value], keys: list[Vector], values: list[Vector]) -> Vector:
        """One new position: append its key and value to ``keys``/``values``, attend to all."""
        _check_length("CausalSelfAttention", x, self.n_embd)
        q = matvec(self.wq, x)
        keys.append(matvec(self.wk, x))
        values.append(matvec(self.wv, x))
        hd = self.n_embd // self.n_head
        scale = 1.0 / math.sqrt(hd)
        out: Vector = []
        kept = []
        for h in range(0, self.n_embd, hd):
            qh = q[h : h + hd]
            scores = [dot(qh, k[h : h + hd]) * scale for k in keys]
            weights = softmax(scores)
            kept.append(weights)
            for j in range(h, h + hd):
                out.append(dot(weights, [v[j] for v in values]))
        if self.keep_attention:  # the Values (their graph too) until the next step
            self._weights = kept
        return matvec(self.wo, out)

    def _config(self) -> dict[str, Any]:
        return {"n_embd": self.n_embd, "n_head": self.n_head}

    def extra_repr(self) -> str:
        return f"n_embd={self.n_embd}, n_head={self.n_head}"


def _first(x: Any) -> float:
    """A float, or the first sequence's number of a batch (for the attention picture)."""
    return float(x) if type(x) is float else float(x[0])


class FeedForward(Module):
    """``fc2(relu(fc1(x)))``, bias-free, ``hidden`` wide (4 n_embd in a GPT)."""

    def __init__(
        self,
        n_embd: int,
        hidden: int,
        *,
        std: float = INIT_STD,
        rng: random.Random | None = None,
    ) -> None:
        check_int("n_embd", n_embd, 1)
        check_int("hidden", hidden, 1)
        gen, std = check_rng(rng), _check_std(std)
        self.fc1 = _matrix(hidden, n_embd, std, gen)
        self.fc2 = _matrix(n_embd, hidden, std, gen)

    def forward(self, x: Sequence[Value]) -> Vector:
        return matvec(self.fc2, [h.relu() for h in matvec(self.fc1, x)])

    def extra_repr(self) -> str:
        return f"n_embd={len(self.fc2)}, hidden={len(self.fc1)}"


class Block(Module):
    """One transformer block, pre-norm: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(
        self, n_embd: int, n_head: int, *, std: float = INIT_STD, rng: random.Random | None = None
    ) -> None:
        self.ln_1 = RMSNorm(n_embd, eps=1e-5, elementwise_affine=False)
        self.attn = CausalSelfAttention(n_embd, n_head, std=std, rng=rng)
        self.ln_2 = RMSNorm(n_embd, eps=1e-5, elementwise_affine=False)
        self.mlp = FeedForward(n_embd, 4 * n_embd, std=std, rng=rng)

    def step(self, x: Vector, keys: list[Vector], values: list[Vector]) -> Vector:
        """One position through the block (its key and value join ``keys``/``values``)."""
        a = self.attn.step(self.ln_1(x), keys, values)
        x = [xi + ai for xi, ai in zip(x, a)]
        m = self.mlp(self.ln_2(x))
        return [xi + mi for xi, mi in zip(x, m)]


# ------------------------------------------------------------------------- GPT


class GPT(Module):
    """microgpt's transformer: ``GPT(vocab_size, n_embd=16, n_head=4, n_layer=1, block_size=16)``.

    Token and position embeddings (``wte``, ``wpe``), summed and RMS-normalised; ``n_layer``
    pre-norm ``Block``s; a separate ``lm_head`` (no weight tying) giving ``vocab_size`` logits.
    No biases; every weight starts from N(0, 0.08^2), drawn from ``rng`` (a
    ``random.Random``) or the global ``random``.

    >>> len(GPT(27).parameters())
    4192
    """

    def __init__(
        self,
        vocab_size: int,
        n_embd: int = 16,
        n_head: int = 4,
        n_layer: int = 1,
        block_size: int = 16,
        *,
        std: float = INIT_STD,
        rng: random.Random | None = None,
    ) -> None:
        check_int("vocab_size", vocab_size, 2)
        check_int("n_embd", n_embd, 1)
        check_int("n_head", n_head, 1)
        check_int("n_layer", n_layer, 1)
        check_int("block_size", block_size, 2)
        if n_embd % n_head:
            raise ValueError(f"n_embd ({n_embd}) must be a multiple of n_head ({n_head})")
        gen, std = check_rng(rng), _check_std(std)
        self.block_size = block_size
        self.wte = Embedding(vocab_size, n_embd, std=std, rng=rng)
        self.wpe = Embedding(block_size, n_embd, std=std, rng=rng)
        self.ln_0 = RMSNorm(n_embd, eps=1e-5, elementwise_affine=False)
        self.lm_head = _matrix(vocab_size, n_embd, std, gen)
        self.blocks = [Block(n_embd, n_head, std=std, rng=rng) for _ in range(n_layer)]

    @property
    def vocab_size(self) -> int:
        return len(self.lm_head)

    @property
    def n_embd(self) -> int:
        return len(self.lm_head[0])

    def step(self, token: Any, pos: int, cache: KVCache) -> Vector:
        """The logits for the token after ``token`` at position ``pos``, given the cache of
        the positions before (which this call extends by one)."""
        if not 0 <= pos < self.block_size:
            raise IndexError(f"position {pos} is beyond the block size {self.block_size}")
        tok, at = self.wte(token), self.wpe(pos)
        x = self.ln_0([t + p for t, p in zip(tok, at)])
        for block, keys, values in zip(self.blocks, cache.keys, cache.values):
            x = block.step(x, keys, values)
        return matvec(self.lm_head, x)

    def forward(self, idx: Any) -> list[Vector]:
        """The logits at every position of a sequence of token ids (a list of ints, or a list
        of 1-D int arrays for a batch: one array per position, one id per sequence)."""
        idx = _positions(idx)
        if len(idx) > self.block_size:
            raise ValueError(
                f"a sequence of {len(idx)} tokens is longer than block_size={self.block_size}"
            )
        cache = KVCache(len(self.blocks))
        return [self.step(token, pos, cache) for pos, token in enumerate(idx)]

    def loss(self, tokens: Any, mask: Any = None) -> Value:
        """Next-token cross-entropy: position ``t`` predicts ``tokens[t + 1]``.

        ``tokens`` is one sequence of ids (at most ``block_size + 1``): the loss is the mean
        over its positions, microgpt's loss. For a batch, ``tokens`` is a 2-D int array
        ``(B, T)`` of sequences padded to one length and ``mask`` a ``(B, T - 1)`` array of
        0/1 saying which predictions count (a padded name's tail does not): the loss is the
        mean over sequences of each sequence's mean, so its gradient is the mean of the
        per-sequence gradients.
        """
        if isinstance(tokens, np.ndarray) and tokens.ndim == 2:
            return self._batch_loss(tokens, mask)
        ids = [_check_index(t, self.vocab_size) for t in tokens]
        if len(ids) < 2:
            raise ValueError("a sequence needs at least 2 tokens to predict one")
        inputs, targets = ids[:-1][: self.block_size], ids[1:][: self.block_size]
        nll = [logsumexp(z) - z[t] for z, t in zip(self.forward(inputs), targets)]
        return sum(nll[1:], nll[0]) * (1.0 / len(nll))

    def _batch_loss(self, tokens: np.ndarray, mask: Any) -> Value:
        if tokens.dtype.kind not in "iu" or tokens.shape[1] < 2:
            raise ValueError(f"a batch must be integer ids of shape (B, T >= 2), got {tokens}")
        T = min(tokens.shape[1] - 1, self.block_size)
        m = np.ones((len(tokens), T)) if mask is None else np.asarray(mask, np.float64)[:, :T]
        if m.shape != (len(tokens), T):
            raise ValueError(f"mask must have shape {(len(tokens), T)}, got {m.shape}")
        counts = m.sum(axis=1)
        if np.any(counts == 0):
            raise ValueError("every sequence of a batch needs at least one prediction")
        logits = self.forward([tokens[:, t] for t in range(T)])
        total: Value | None = None
        for t in range(T):
            nll = logsumexp(logits[t]) - _pick(logits[t], tokens[:, t + 1])
            term = nll * (m[:, t] / counts)  # this position's share of each sequence's mean
            total = term if total is None else total + term
        assert total is not None
        return total.mean()

    @no_grad()
    def generate(
        self,
        prefix: Sequence[int],
        max_new_tokens: int,
        temperature: float = 1.0,
        rng: random.Random | None = None,
        stop: int | None = None,
    ) -> list[int]:
        """Sample up to ``max_new_tokens`` ids after ``prefix`` (stopping after ``stop``),
        at ``temperature``, with the KV cache: each new token costs one position."""
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}")
        gen = check_rng(rng)
        ids = [_check_index(t, self.vocab_size) for t in prefix]
        if not ids:
            raise ValueError("generate needs a prefix of at least one token")
        cache = KVCache(len(self.blocks))
        for pos, token in enumerate(ids[:-1]):  # fill the cache with the prefix
            self.step(token, pos, cache)
        out: list[int] = []
        while len(out) < max_new_tokens and len(cache) < self.block_size:
            logits = self.step(ids[-1], len(cache), cache)
            probs = softmax([z * (1.0 / temperature) for z in logits])
            token = gen.choices(range(len(probs)), weights=[p.data for p in probs])[0]
            ids.append(token)
            out.append(token)
            if token == stop:
                break
        return out

    def _config(self) -> dict[str, Any]:
        return {
            "vocab_size": self.vocab_size,
            "n_embd": self.n_embd,
            "n_head": self.blocks[0].attn.n_head,
            "n_layer": len(self.blocks),
            "block_size": self.block_size,
        }

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self._config().items())


def _positions(idx: Any) -> list[Any]:
    if isinstance(idx, np.ndarray):
        if idx.ndim == 2:
            return [idx[:, t] for t in range(idx.shape[1])]
        return idx.tolist()
    return list(idx)


def _pick(logits: Vector, targets: np.ndarray) -> Value:
    """``logits[targets[b]]`` for each sequence ``b`` of a batch, by one-hot masks (exact)."""
    present = np.unique(targets).tolist()
    total = logits[present[0]] * (targets == present[0]).astype(np.float64)
    for c in present[1:]:
        total = total + logits[c] * (targets == c).astype(np.float64)
    return total


# ------------------------------------------------------------------ model files
# What a model file may say about these classes, and how many parameters that makes.


def _width(v: Any, low: int = 1) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


def _flag(v: Any) -> bool:
    return isinstance(v, bool)


def _eps_or_none(v: Any) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0)


def _heads_divide(args: dict[str, Any]) -> None:
    if args["n_embd"] % args["n_head"]:
        raise serialization.ModelFileError(
            f"n_embd={args['n_embd']} is not a multiple of n_head={args['n_head']}"
        )


def _gpt_size(args: dict[str, Any]) -> int:
    _heads_divide(args)
    v, d, b, n = args["vocab_size"], args["n_embd"], args["block_size"], args["n_layer"]
    return int(2 * v * d + b * d + 12 * n * d * d)  # wte and lm_head, wpe; 12 d^2 a block


def _attention_size(args: dict[str, Any]) -> int:
    _heads_divide(args)
    return int(4 * args["n_embd"] ** 2)


def _norm_size(args: dict[str, Any]) -> int:
    affine = args["elementwise_affine"]
    return int(args["normalized_shape"] * (affine + (affine and args.get("bias", False))))


_GPT_ARGS = {
    "vocab_size": lambda v: _width(v, 2),
    "n_embd": _width,
    "n_head": _width,
    "n_layer": _width,
    "block_size": lambda v: _width(v, 2),
}
serialization.register(GPT, _GPT_ARGS, _gpt_size)
serialization.register(CausalSelfAttention, {"n_embd": _width, "n_head": _width}, _attention_size)
serialization.register(
    Embedding,
    {"num_embeddings": _width, "embedding_dim": _width},
    lambda a: int(a["num_embeddings"] * a["embedding_dim"]),
)
_NORM_ARGS = {"normalized_shape": _width, "eps": _eps_or_none, "elementwise_affine": _flag}
serialization.register(RMSNorm, _NORM_ARGS, _norm_size, seeded=False)
serialization.register(LayerNorm, {**_NORM_ARGS, "bias": _flag}, _norm_size, seeded=False)


__all__ = [
    "Embedding",
    "RMSNorm",
    "LayerNorm",
    "KVCache",
    "CausalSelfAttention",
    "FeedForward",
    "Block",
    "GPT",
    "dot",
    "matvec",
    "INIT_STD",
]
