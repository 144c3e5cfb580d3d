"""PyTorch twins of ``zdravkograd.transformer``'s GPT (needs the ``torch`` extra).

``zdravkograd.torch_bridge.to_torch(gpt)`` builds these, in float64, with the same weights;
``from_torch`` reads them back. The computation is the textbook tensor one: the whole
sequence at once, with a causal mask, where the Values go one position at a time with a
KV cache; the two agree to rounding (a test checks logits and gradients to 1e-9).

Parameter names follow PyTorch: the zdravkograd matrix ``blocks.0.attn.wq`` (a list of
rows) is ``blocks.0.attn.wq.weight`` here, a ``torch.nn.Linear(bias=False)``.
"""

from __future__ import annotations

import math
from typing import Any

from zdravkograd._optional import require_extra

try:
    import torch
    from torch import nn
    from torch.nn import functional as F
except ImportError:  # say which extra installs it
    require_extra("torch", "torch", "zdravkograd.torch_gpt")
    raise


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention without biases; ``x`` is ``(B, T, C)``."""

    def __init__(self, n_embd: int, n_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        kw: dict[str, Any] = {"bias": False, "dtype": torch.float64}
        self.wq = nn.Linear(n_embd, n_embd, **kw)
        self.wk = nn.Linear(n_embd, n_embd, **kw)
        self.wv = nn.Linear(n_embd, n_embd, **kw)
        self.wo = nn.Linear(n_embd, n_embd, **kw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        hd = C // self.n_head

        def heads(t: torch.Tensor) -> torch.Tensor:  # (B, T, C) -> (B, heads, T, hd)
            return t.view(B, T, self.n_head, hd).transpose(1, 2)

        q, k, v = heads(self.wq(x)), heads(self.wk(x)), heads(self.wv(x))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        weights = F.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1)
        y = (weights @ v).transpose(1, 2).reshape(B, T, C)
        return self.wo(y)


class FeedForward(nn.Module):
    def __init__(self, n_embd: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(n_embd, hidden, bias=False, dtype=torch.float64)
        self.fc2 = nn.Linear(hidden, n_embd, bias=False, dtype=torch.float64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.relu(self.fc1(x)))


def _rmsnorm(n_embd: int) -> nn.RMSNorm:
    return nn.RMSNorm(n_embd, eps=1e-5, elementwise_affine=False, dtype=torch.float64)


class Block(nn.Module):
    def __init__(self, n_embd: int, n_head: int) -> None:
        super().__init__()
        self.ln_1 = _rmsnorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head)
        self.ln_2 = _rmsnorm(n_embd)
        self.mlp = FeedForward(n_embd, 4 * n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """microgpt's transformer in PyTorch; ``forward(idx)`` takes ``(B, T)`` or ``(T,)`` ids and
    returns the logits, ``(B, T, vocab)`` or ``(T, vocab)``."""

    def __init__(
        self, vocab_size: int, n_embd: int, n_head: int, n_layer: int, block_size: int
    ) -> None:
        super().__init__()
        self.config = {
            "vocab_size": vocab_size,
            "n_embd": n_embd,
            "n_head": n_head,
            "n_layer": n_layer,
            "block_size": block_size,
        }
        self.wte = nn.Embedding(vocab_size, n_embd, dtype=torch.float64)
        self.wpe = nn.Embedding(block_size, n_embd, dtype=torch.float64)
        self.ln_0 = _rmsnorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False, dtype=torch.float64)
        self.blocks = nn.ModuleList([Block(n_embd, n_head) for _ in range(n_layer)])

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        single = idx.dim() == 1
        idx = idx.unsqueeze(0) if single else idx
        pos = torch.arange(idx.shape[1])
        x = self.ln_0(self.wte(idx) + self.wpe(pos))
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(x)
        return logits[0] if single else logits
