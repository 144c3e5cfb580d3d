"""Train a ``GPT`` on documents (such as names), microgpt's recipe, in two modes.

The recipe: Adam with betas (0.85, 0.99), eps 1e-8 and a learning rate of 0.01 falling
linearly to 0 over the run (``LinearLR``); one backward per step; the loss of a document is
its mean next-token cross-entropy.

* ``'scalar'``: one document per step, one graph of float Values (microgpt's way); step ``i``
  trains on ``docs[i % len(docs)]``.
* ``'batched'``: ``batch_size`` documents per step, padded with BOS to one length; every Value
  holds one number per document, a mask drops the padded predictions, and the loss is the
  mean of the documents' losses (so are its gradients). Step ``i`` trains on documents
  ``i * batch_size`` to ``(i + 1) * batch_size - 1``, wrapping around.

Both run inside ``fast()`` (the engine makes no reference cycles; see ``docs/speed.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from zdravkograd.fast import fast
from zdravkograd.optim import Adam, LinearLR
from zdravkograd.transformer import GPT

MODES = ("scalar", "batched")
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
    callback: Callable[[int, float], Any] | None = None,
) -> list[float]:
    """Train ``model`` for ``steps`` steps on ``docs`` (token lists, each ``[BOS, ..., BOS]``);
    return the loss of every step. ``callback(step, loss)`` runs after each step."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    if not docs:
        raise ValueError("train_gpt needs at least one document")
    params = model.parameters()
    optimizer = Adam(params, lr=lr, betas=betas, eps=eps)
    schedule = LinearLR(optimizer, start_factor=1.0, end_factor=0.0, total_iters=steps)
    pad = docs[0][0]  # the BOS id
    losses: list[float] = []
    with fast():
        for step in range(steps):
            if mode == "scalar":
                loss = model.loss(docs[step % len(docs)])
            else:
                start = step * batch_size
                batch = [docs[(start + j) % len(docs)] for j in range(batch_size)]
                loss = model.loss(*pad_batch(batch, pad))
            for p in params:
                p.grad = 0.0
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(float(loss.data))
            if callback is not None:
                callback(step, losses[-1])
    return losses


__all__ = ["MODES", "train_gpt", "pad_batch"]
