"""Train a ``GPT`` on documents (such as names), microgpt's recipe, in three modes.

The recipe: Adam with betas (0.85, 0.99), eps 1e-8 and a learning rate of 0.01 falling
linearly to 0 over the run (``LinearLR``); one backward per step; the loss of a document is
its mean next-token cross-entropy.

* ``'scalar'``: one document per step, one graph of float Values (microgpt's way); step ``i``
  trains on ``docs[i % len(docs)]``.
* ``'compiled'``: the scalar mode's steps, replayed by ``zdravkograd.compile_step``
  programs instead of building a graph each step. A program is traced for a length, so the
  token ids go in as program inputs (``compiler.Indices``): the embedding lookup and the
  pick of the target's logit are recorded as lookups, which the program replays with the
  ids of each name. Each position has a weight (``1/n`` for the name's ``n`` predictions,
  0 for padding). A name is padded to the next multiple of 4 positions: at most four
  programs, traced on first use, never again.
* ``'batched'``: ``batch_size`` documents per step, padded with BOS to one length; every Value
  holds one number per document, a mask drops the padded predictions, and the loss is the
  mean of the documents' losses (so are its gradients). Step ``i`` trains on documents
  ``i * batch_size`` to ``(i + 1) * batch_size - 1``, wrapping around. With
  ``compiled=True`` these steps are compiled too (one program per padded length), and the
  compiler computes each layer's weighted sums for the whole batch in a few NumPy calls.

All run inside ``fast()`` (the engine makes no reference cycles; see ``docs/speed.md``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from zdravkograd import fast  # the function (its module is renamed by the op-table work)
from zdravkograd.engine import Value
from zdravkograd.losses import logsumexp
from zdravkograd.optim import Adam, LinearLR
from zdravkograd.transformer import GPT, KVCache, dot

MODES = ("scalar", "compiled", "batched")
"""The training modes ``train_gpt`` accepts."""


def pad_batch(docs: Sequence[Sequence[int]], pad: int) -> tuple[np.ndarray, np.ndarray]:
    """``(tokens, mask)`` for token lists of different lengths.

    ``tokens`` is a ``(B, T)`` int array, each row a document followed by ``pad`` ids;
    ``mask[b, t]`` is 1 where position ``t`` predicts a real token of document ``b``
    (``t < len(docs[b]) - 1``), else 0.
    """
    T = max(len(d) for d in docs)
    tokens = np.full((len(docs), T), pad, dtype=np.int64)
    mask = np.zeros((len(docs), T - 1))
    for b, d in enumerate(docs):
        tokens[b, : len(d)] = d
        mask[b, : len(d) - 1] = 1.0
    return tokens, mask


def train_gpt(
    model: GPT,
    docs: Sequence[Sequence[int]],
    steps: int,
    *,
    mode: str = "scalar",
    batch_size: int = 16,
    lr: float = 0.01,
    betas: tuple[float, float] = (0.85, 0.99),
    eps: float = 1e-8,
    compiled: bool | None = None,
    programs: Programs | None = None,
    callback: Callable[[int, float], Any] | None = None,
) -> list[float]:
    """Train ``model`` for ``steps`` steps on ``docs`` (token lists, each ``[BOS, ..., BOS]``);
    return the loss of every step. ``callback(step, loss)`` runs after each step.
    ``compiled`` (default: only in ``'compiled'`` mode) replays compiled programs, from
    ``programs`` when given (a ``Programs`` of this model: traced programs are reused)."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    if not docs:
        raise ValueError("train_gpt needs at least one document")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    if steps == 0:
        return []
    compiled = mode == "compiled" if compiled is None else compiled
    params = model.parameters()
    optimizer = _ArrayAdam(params, lr=lr, betas=betas, eps=eps)
    schedule = LinearLR(optimizer, start_factor=1.0, end_factor=0.0, total_iters=steps)
    pad = docs[0][0]  # the BOS id
    if compiled and programs is None:
        programs = Programs(model)
    elif not compiled:
        programs = None
    losses: list[float] = []
    with fast():
        for step in range(steps):
            if mode == "batched":
                start = step * batch_size
                batch = [docs[(start + j) % len(docs)] for j in range(batch_size)]
            else:
                batch = [docs[step % len(docs)]]
            if programs is not None:
                loss = programs.step(batch, batched=mode == "batched")
            else:
                if mode == "batched":
                    value = model.loss(*pad_batch(batch, pad))
                else:
                    value = model.loss(batch[0])
                for p in params:
                    p.grad = 0.0
                value.backward()
                loss = float(value.data)
            if programs is not None:  # the gradients the program computed, as one array
                optimizer.step(programs.last_grads)
            else:
                optimizer.step()
            schedule.step()
            losses.append(loss)
            if callback is not None:
                callback(step, losses[-1])
    return losses


class _ArrayAdam(Adam):
    """``optim.Adam`` (no weight decay) with its loop over the parameters done by NumPy.

    Why: a compiled step of this model takes about 15 ms, and ``Adam.step``'s Python loop
    over 4,192 parameters takes 10 ms more. Here the same arithmetic runs on arrays, element
    by element in the same order (IEEE ``+ - * /`` and ``sqrt`` round the same way in
    NumPy), so the weights come out bit for bit as ``Adam.step`` leaves them (a test checks).
    """

    def __init__(self, params: Sequence[Any], **kwargs: Any) -> None:
        super().__init__(params, **kwargs)
        self._m = np.zeros(len(self.params))
        self._v = np.zeros(len(self.params))

    def step(self, grads: np.ndarray | None = None) -> None:
        """One update; ``grads`` (optional) are the parameters' ``grad``s as one array."""
        self.steps += 1
        t, b1, b2, n = self.steps, self.betas[0], self.betas[1], len(self.params)
        step_size = self.lr / (1.0 - b1**t)
        sqrt_bc2 = math.sqrt(1.0 - b2**t)
        if grads is not None and len(grads) == n:
            g = grads
        else:
            g = np.fromiter((float(p.grad) for p in self.params), np.float64, n)
        data = np.fromiter((p._data for p in self.params), np.float64, n)
        self._m += (g - self._m) * (1.0 - b1)
        self._v = self._v * b2 + (1.0 - b2) * g * g
        data -= step_size * (self._m / (np.sqrt(self._v) / sqrt_bc2 + self.eps))
        for p, x in zip(self.params, data.tolist()):  # Python floats: what Value.data's setter
            p._data = x  # would store, without its check per parameter


# --------------------------------------------------------------- compiled steps


def one_hot_loss(model: GPT, inputs: Any, targets: Any, weights: Any) -> Value:
    """``sum_t weights[t] * (cross-entropy at position t)``, with one-hot token ids.

    ``inputs[t]`` and ``targets[t]`` are one-hot vectors (lists of Values, or columns of a
    batch), ``weights[t]`` a Value. This is the loss compiled batches trace: the ids are
    data, so one program serves every batch of its length (a one-name program traces
    ``ids_loss``, whose lookups are cheaper than a sum over the vocabulary).
    """
    cache = KVCache(len(model.blocks))
    total: Value | None = None
    for t, (x, y, w) in enumerate(zip(inputs, targets, weights)):
        logits = model.step(x, t, cache)
        term = (logsumexp(logits) - dot(logits, y)) * w  # dot(logits, y): the target's logit
        total = term if total is None else total + term
    assert total is not None
    return total.sum()  # a batch's total; a float Value is returned as is


def ids_loss(model: GPT, inputs: Any, targets: Any, weights: Any) -> Value:
    """``sum_t weights[t] * (cross-entropy at position t)``, with traced token ids.

    ``inputs[t]`` and ``targets[t]`` are ``compiler.TracedId``s (from ``Indices``),
    ``weights[t]`` a Value: ``model.wte`` takes the input's row, ``targets[t].take(logits)``
    the target's logit. This is the loss a one-name compiled program traces.
    """
    cache = KVCache(len(model.blocks))
    total: Value | None = None
    for t, (x, y, w) in enumerate(zip(inputs, targets, weights)):
        logits = model.step(x, t, cache)
        term = (logsumexp(logits) - y.take(logits)) * w
        total = term if total is None else total + term
    assert total is not None
    return total


class Programs:
    """The compiled training steps of a GPT, one per padded length, traced on first use."""

    def __init__(self, model: GPT) -> None:
        self.model = model
        self._steps: dict[tuple[bool, int, int], Any] = {}
        self._eye = np.eye(model.vocab_size)
        self.last_grads: np.ndarray | None = None  # the last step's, in parameters() order

    def step(self, batch: Sequence[Sequence[int]], batched: bool) -> float:
        """Set every parameter's ``grad`` for ``batch`` (one name unless ``batched``) and
        return the loss: the mean over the names of each name's mean next-token loss."""
        from zdravkograd import compile_step
        from zdravkograd.compiler import Indices

        tokens, mask = pad_batch(batch, batch[0][0])
        n = min(tokens.shape[1] - 1, self.model.block_size)
        length = n if batched else min(-(-n // 4) * 4, self.model.block_size)
        if length > tokens.shape[1] - 1:  # pad to the program's length
            extra = np.full((len(batch), length + 1 - tokens.shape[1]), batch[0][0])
            tokens = np.concatenate([tokens, extra], axis=1)
            mask = np.concatenate([mask, np.zeros((len(batch), extra.shape[1]))], axis=1)
        mask = mask[:, :length]
        share = mask / mask.sum(axis=1, keepdims=True) / len(batch)  # each name's mean
        if batched:  # one-hot columns: a batch's ids differ from name to name
            ins = [self._eye[tokens[:, t]] for t in range(length)]
            outs = [self._eye[tokens[:, t + 1]] for t in range(length)]
            args: tuple[Any, ...] = (ins, outs, [share[:, t] for t in range(length)])
        else:
            ids = tokens[0].tolist()
            args = (Indices(ids[:length]), Indices(ids[1 : length + 1]), share[0].tolist())
        key = (batched, len(batch), length)
        if key not in self._steps:
            loss = one_hot_loss if batched else ids_loss
            self._steps[key] = compile_step(self.model, loss, *args)
        step = self._steps[key]
        loss_value = float(step(*args))
        self.last_grads = step.last_grads
        return loss_value


__all__ = ["MODES", "train_gpt", "pad_batch", "one_hot_loss", "ids_loss", "Programs"]
