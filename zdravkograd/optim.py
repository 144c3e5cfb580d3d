"""Optimisers and learning-rate schedulers with PyTorch's formulas and meaning.

An optimiser holds a list of parameters (Values) and updates their ``data`` from their
``grad`` in ``step()``. The seed's hand-written update ::

    for p in model.parameters():
        p.data -= learning_rate * p.grad

is ``SGD(model.parameters(), lr=learning_rate).step()``.

Each update follows the algorithm box of the matching ``torch.optim`` class, so that
100 steps agree with PyTorch to about 1e-12 in float64 (the tests check this).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from zdravkograd._checks import check_int, check_number
from zdravkograd.engine import Value


def _params(params: Any) -> list[Value]:
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()  # a Module is accepted too
    out = list(params)
    for i, p in enumerate(out):
        if not isinstance(p, Value):
            raise TypeError(f"parameter {i} is a {type(p).__name__}, not a Value")
    if not out:
        raise ValueError("optimizer got an empty parameter list")
    return out


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _same_kind(v: Any, like: Any) -> bool:
    """Is ``v`` (from a state dict) the same kind of hyper-parameter as ``like``?"""
    if isinstance(like, bool):
        return isinstance(v, bool)
    if isinstance(like, (list, tuple)):
        return isinstance(v, (list, tuple)) and len(v) == len(like) and all(map(_is_number, v))
    return _is_number(v)


class Optimizer:
    """Base class: ``params``, a learning rate ``lr``, ``step()`` and ``zero_grad()``."""

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        self.params = _params(params)
        self.lr = check_number("lr", lr, minimum=0)
        self.initial_lr = self.lr  # what schedulers scale
        self.steps = 0  # how many times step() ran

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        raise NotImplementedError

    def _hyper(self) -> dict[str, Any]:
        return {"lr": self.lr, "initial_lr": self.initial_lr}

    def _buffers(self) -> dict[str, list[float]]:
        return {}

    def state_dict(self) -> dict[str, Any]:
        """Hyper-parameters, step count and per-parameter buffers (plain numbers, JSON-safe)."""
        return {
            "type": type(self).__name__,
            "hyper": self._hyper(),
            "steps": self.steps,
            "buffers": {k: list(v) for k, v in self._buffers().items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()`` output. Checks everything before changing anything."""
        if not isinstance(state, dict) or state.get("type") != type(self).__name__:
            got = state.get("type") if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"state is for {got!r}, not {type(self).__name__}")
        hyper, buffers, steps = state.get("hyper"), state.get("buffers"), state.get("steps")
        mine = self._hyper()
        if not isinstance(hyper, dict) or set(hyper) != set(mine):
            raise ValueError(f"state 'hyper' must have keys {sorted(mine)}")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"state 'steps' must be an int >= 0, got {steps!r}")
        own = self._buffers()
        if not isinstance(buffers, dict) or set(buffers) != set(own):
            raise ValueError(f"state 'buffers' must have keys {sorted(own)}")
        for k, v in buffers.items():
            if not isinstance(v, list) or len(v) != len(self.params):
                raise ValueError(f"buffer {k!r} must list {len(self.params)} numbers")
        for k, v in hyper.items():
            if not _same_kind(v, mine[k]):
                raise ValueError(f"state entry {k!r} is not a {type(mine[k]).__name__}: {v!r}")
        for k, b in buffers.items():
            if not all(_is_number(x) for x in b):
                raise ValueError(f"buffer {k!r} holds something that is not a number")
        for k, v in hyper.items():  # all checked: now apply
            setattr(self, k, tuple(v) if isinstance(v, list) else v)
        self.steps = steps
        for k, v in buffers.items():
            getattr(self, k)[:] = [float(x) for x in v]

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v}" for k, v in self._hyper().items() if k != "initial_lr")
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov and weight decay.

    As ``torch.optim.SGD``: ``g = grad + weight_decay * p``; with momentum,
    ``b = g`` at the first step and ``b = momentum * b + (1 - dampening) * g`` after,
    then ``g = g + momentum * b`` (Nesterov) or ``g = b``; finally ``p = p - lr * g``.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        dampening: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = check_number("momentum", momentum, minimum=0)
        self.weight_decay = check_number("weight_decay", weight_decay, minimum=0)
        self.dampening = check_number("dampening", dampening, minimum=0)
        if nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0")
        self.nesterov = bool(nesterov)
        self.momentum_buffer = [0.0] * len(self.params)

    def step(self) -> None:
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        if mu == 0.0 and wd == 0.0:  # plain SGD: the seed's update
            for p in self.params:
                p.data -= lr * p.grad
            self.steps += 1
            return
        buf = self.momentum_buffer
        first = self.steps == 0
        for i, p in enumerate(self.params):
            g = float(p.grad)
            if wd != 0.0:
                g = g + wd * float(p.data)
            if mu != 0.0:
                buf[i] = g if first else mu * buf[i] + (1.0 - self.dampening) * g
                g = g + mu * buf[i] if self.nesterov else buf[i]
            p.data -= lr * g
        self.steps += 1

    def _hyper(self) -> dict[str, Any]:
        return {
            **super()._hyper(),
            "momentum": self.momentum,
            "weight_decay": self.weight_decay,
            "dampening": self.dampening,
            "nesterov": self.nesterov,
        }

    def _buffers(self) -> dict[str, list[float]]:
        return {"momentum_buffer": self.momentum_buffer}


class Adam(Optimizer):
    """Adam (Kingma & Ba), as ``torch.optim.Adam``.

    At step t: ``g = grad + weight_decay * p``; ``m = b1 m + (1 - b1) g``;
    ``v = b2 v + (1 - b2) g^2``; ``p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``.
    """

    _decoupled = False

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = check_number("eps", eps, minimum=0)
        self.weight_decay = check_number("weight_decay", weight_decay, minimum=0)
        self.exp_avg = [0.0] * len(self.params)
        self.exp_avg_sq = [0.0] * len(self.params)

    def step(self) -> None:
        self.steps += 1
        t, lr, wd, eps = self.steps, self.lr, self.weight_decay, self.eps
        b1, b2 = self.betas
        step_size = lr / (1.0 - b1**t)
        sqrt_bc2 = math.sqrt(1.0 - b2**t)
        m, v = self.exp_avg, self.exp_avg_sq
        for i, p in enumerate(self.params):
            g = float(p.grad)
            if self._decoupled:
                p.data *= 1.0 - lr * wd  # AdamW: decay the weight itself
            elif wd != 0.0:
                g = g + wd * float(p.data)
            m[i] += (g - m[i]) * (1.0 - b1)  # = b1 m + (1 - b1) g, as torch's lerp
            v[i] = v[i] * b2 + (1.0 - b2) * g * g
            p.data -= step_size * (m[i] / (math.sqrt(v[i]) / sqrt_bc2 + eps))

    def _hyper(self) -> dict[str, Any]:
        return {
            **super()._hyper(),
            "betas": list(self.betas),
            "eps": self.eps,
            "weight_decay": self.weight_decay,
        }

    def _buffers(self) -> dict[str, list[float]]:
        return {"exp_avg": self.exp_avg, "exp_avg_sq": self.exp_avg_sq}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as ``torch.optim.AdamW``:
    each step first shrinks ``p`` by ``p = p (1 - lr weight_decay)``, then takes an Adam
    step without decay in the gradient. Default ``weight_decay=0.01`` as in PyTorch."""

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


# -------------------------------------------------------------- schedulers


class LRScheduler:
    """Sets ``optimizer.lr`` from the epoch count, PyTorch's way.

    Creating a scheduler sets the learning rate for epoch 0; each ``step()`` (call it
    once per epoch, after ``optimizer.step()``) moves to the next epoch. The rate is
    computed from a closed formula of ``initial_lr`` and the epoch.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"scheduler needs a zdravkograd optimizer, got {type(optimizer)}")
        self.optimizer = optimizer
        self.base_lr = optimizer.initial_lr
        self.last_epoch = 0
        optimizer.lr = self.lr_at(0)

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and update ``optimizer.lr``."""
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def get_last_lr(self) -> list[float]:
        """The current learning rate, in a list as PyTorch returns it."""
        return [self.optimizer.lr]

    def state_dict(self) -> dict[str, Any]:
        return {"last_epoch": self.last_epoch, "base_lr": self.base_lr}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()`` output (checked first) and set ``optimizer.lr`` from it."""
        if not isinstance(state, dict):
            raise ValueError(
                f"scheduler state must be a dict with 'last_epoch' and 'base_lr', "
                f"got {type(state).__name__}"
            )
        epoch, base = state.get("last_epoch"), state.get("base_lr")
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"last_epoch must be an int >= 0, got {epoch!r}")
        if isinstance(base, bool) or not isinstance(base, (int, float)):
            raise ValueError(f"base_lr must be a number, got {base!r}")
        self.last_epoch, self.base_lr = epoch, float(base)
        self.optimizer.lr = self.lr_at(epoch)


class LinearLR(LRScheduler):
    """Scale ``lr`` linearly from ``start_factor`` to ``end_factor`` over ``total_iters``
    epochs, then hold: ``lr_k = lr_0 (s + (e - s) min(k, T) / T)``.

    The moons demo's ``1.0 - 0.9*k/100`` is ``LinearLR(opt, 1.0, 0.1, 100)`` with ``lr=1.0``.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ) -> None:
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError("start_factor must be in (0, 1] and end_factor in [0, 1]")
        check_int("total_iters", total_iters, minimum=1)
        self.start_factor, self.end_factor, self.total_iters = (
            float(start_factor),
            float(end_factor),
            total_iters,
        )
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        s, e, T = self.start_factor, self.end_factor, self.total_iters
        return self.base_lr * (s + (e - s) * min(epoch, T) / T)


class StepLR(LRScheduler):
    """Multiply ``lr`` by ``gamma`` every ``step_size`` epochs: ``lr_0 gamma^(k // step_size)``."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        check_int("step_size", step_size, minimum=1)
        self.step_size, self.gamma = step_size, float(gamma)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """``eta_min + (lr_0 - eta_min) (1 + cos(pi k / T_max)) / 2``: half a cosine over
    ``T_max`` epochs (SGDR without restarts)."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        check_int("T_max", T_max, minimum=1)
        self.T_max, self.eta_min = T_max, float(eta_min)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        lo = self.eta_min
        return lo + (self.base_lr - lo) * (1.0 + math.cos(math.pi * epoch / self.T_max)) / 2.0


def clip_grad_norm_(params: Any, max_norm: float, norm_type: float = 2.0) -> float:
    """Scale all gradients in place so that their joint norm is at most ``max_norm``.

    As ``torch.nn.utils.clip_grad_norm_``: ``total = ||(g_1, g_2, ...)||_p``; when
    ``total > max_norm`` every gradient is multiplied by ``max_norm / (total + 1e-6)``.
    ``norm_type`` may be any p >= 1 or ``math.inf``. Returns the norm before clipping.
    """
    ps = _params(params)
    if not norm_type >= 1:
        raise ValueError(f"norm_type must be >= 1 or inf, got {norm_type!r}")
    grads = [abs(float(p.grad)) for p in ps]
    if norm_type == math.inf:
        total = max(grads)
    else:
        total = math.fsum(g**norm_type for g in grads) ** (1.0 / norm_type)
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for p in ps:
            p.grad = p.grad * coef
    return total


__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "LRScheduler",
    "LinearLR",
    "StepLR",
    "CosineAnnealingLR",
    "clip_grad_norm_",
]
