"""Loss functions built from Value operations, so ``loss.backward()`` just works.

Every loss takes its scores in either of two shapes:

* a **list of Values**, one per sample (the seed's way: ``scores = list(map(model, inputs))``);
* a **batched Value**, whose ``data`` is a 1-D array holding one score per sample (what
  an MLP returns when fed a list of batched Values).

``targets`` is a sequence (or array) of numbers of the same length. ``reduction`` is
``'mean'`` (default), ``'sum'`` or ``'none'`` (the per-sample losses: a list of Values,
or one batched Value).

The log-sum-exp trick is used wherever an ``exp`` could overflow:

.. math:: \\log \\sum_i e^{z_i} = m + \\log \\sum_i e^{z_i - m},\\quad m = \\max_i z_i

``m`` is taken as a constant (its data only). That changes nothing in the value and
nothing in the gradient, which is exactly ``softmax(z)`` whatever ``m`` is, and keeps
every ``exp`` at or below ``e^0 = 1``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Union

import numpy as np

from zdravkograd import modes
from zdravkograd._checks import check_choice
from zdravkograd.engine import Value

Scores = Union[Value, Sequence[Value]]
REDUCTIONS = ("mean", "sum", "none")


# ----------------------------------------------------------------- helpers


def _check_reduction(reduction: str) -> None:
    check_choice("reduction", reduction, REDUCTIONS)


def _as_value(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x)


def _targets(targets: Any, n: int, what: str) -> np.ndarray:
    t = np.asarray(targets, dtype=np.float64)
    if t.ndim == 0:
        t = t.reshape(1)
    if t.ndim != 1:
        raise ValueError(f"{what}: targets must be 1-D, got shape {t.shape}")
    if len(t) != n:
        raise ValueError(f"{what}: {n} scores but {len(t)} targets")
    return t


def _is_batched(scores: Any) -> bool:
    return isinstance(scores, Value) and not isinstance(scores._data, float)


def _reduce(losses: Any, reduction: str) -> Any:
    """Reduce per-sample losses: a list of Values or one batched Value."""
    if reduction == "none":
        return losses
    if isinstance(losses, Value):  # batched
        return losses.sum() if reduction == "sum" else losses.mean()
    total = sum(losses)  # the seed's sum(losses) * (1.0 / len(losses)), node for node
    if not isinstance(total, Value):
        raise ValueError("a loss needs at least one sample, got none")
    return total if reduction == "sum" else total * (1.0 / len(losses))


def _scores(scores: Any, what: str) -> tuple[bool, Any, int]:
    """(batched?, scores, number of samples)."""
    if isinstance(scores, list) and len(scores) == 1 and _is_batched(scores[0]):
        scores = scores[0]  # what Linear(n, 1) returns on a batch: [one batched Value]
    if isinstance(scores, Value):
        if isinstance(scores._data, float):
            return False, [scores], 1
        return True, scores, len(scores._data)
    try:
        seq = list(scores)
    except TypeError:
        raise TypeError(
            f"{what}: scores must be a Value or a list of Values, got {type(scores).__name__}"
        ) from None
    return False, [_as_value(s) for s in seq], len(seq)


def shift_of(numbers: Sequence[Any]) -> Any:
    """The max-shift for these numbers (floats, or 1-D arrays element-wise): their maximum,
    with a non-finite maximum (an input of +inf or nan, or all -inf) replaced by 0, as
    ``log(sum(exp(z)))`` then needs no shift: inf stays inf, all -inf gives -inf."""
    if all(type(x) is float for x in numbers):
        m = max(numbers)
        return m if m - m == 0.0 else 0.0  # inf - inf and nan - nan are nan
    m = np.asarray(numbers[0], dtype=np.float64)
    for x in numbers[1:]:
        m = np.maximum(m, x)
    return np.where(np.isfinite(m), m, 0.0)


def _max_shift(zs: Sequence[Value]) -> Value:
    """The shift of the max trick: a leaf Value holding ``shift_of`` the data of ``zs``.

    It is a constant for the gradient (the shift cancels out of the value, so any shift
    gives the same gradient), read with ``_data``, which the compiler does not guard.
    While ``zdravkograd.compile`` traces, the leaf is reported to it as a number computed
    from ``zs`` (the tracing hook's ``derived``), so a program recomputes the shift from
    its inputs on every call instead of freezing the traced one.
    """
    shift = Value(shift_of([z._data for z in zs]))
    if modes.tracer is not None:
        modes.tracer.derived(shift, shift_of, zs)
    return shift


def _softplus(x: Value) -> Value:
    """``log(1 + e^x)``, stable for any x: ``c + log(e^-c + e^(x - c))`` with ``c = max(x, 0)``.

    ``c`` is ``relu(x)``, detached (a constant for the gradient, recomputed from ``x`` by
    a compiled program, as a detached Value is), so the derivative is ``sigmoid(x)``, exact
    for every x (including 0).
    """
    c = x.relu().detach()
    return ((x - c).exp() + (-c).exp()).log() + c


# ------------------------------------------------------------------ losses


def hinge_loss(scores: Scores, targets: Any, reduction: str = "mean") -> Any:
    """The SVM max-margin loss of the moons demo: ``mean_i max(0, 1 - y_i s_i)``.

    ``targets`` must be -1 or +1 (a 0/1 label is a common slip and raises ValueError).
    On a list of Values it builds the seed's graph exactly:
    ``(1 + -y_i * s_i).relu()``, summed, times ``1 / n``.
    """
    _check_reduction(reduction)
    batched, s, n = _scores(scores, "hinge_loss")
    y = _targets(targets, n, "hinge_loss")
    bad = y[(y != 1.0) & (y != -1.0)]
    if bad.size:
        raise ValueError(f"hinge_loss: targets must be -1 or +1, got {float(bad[0])!r}")
    if batched:
        return _reduce((1.0 + s * -y).relu(), reduction)
    return _reduce([(1 + -yi * si).relu() for yi, si in zip(y.tolist(), s)], reduction)


def mse_loss(predictions: Scores, targets: Any, reduction: str = "mean") -> Any:
    """Mean squared error ``mean_i (p_i - t_i)^2``, as ``torch.nn.functional.mse_loss``."""
    _check_reduction(reduction)
    batched, p, n = _scores(predictions, "mse_loss")
    t = _targets(targets, n, "mse_loss")
    if batched:
        return _reduce((p - t) ** 2, reduction)
    return _reduce([(pi - ti) ** 2 for pi, ti in zip(p, t.tolist())], reduction)


def binary_cross_entropy_with_logits(logits: Scores, targets: Any, reduction: str = "mean") -> Any:
    """``-[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))]`` from the logit ``x``.

    Computed as ``softplus(x) - t x``, which is finite for ``x = ±1000`` (where
    ``sigmoid`` itself rounds to 0 or 1), with the exact gradient ``sigmoid(x) - t``.
    Targets are probabilities in [0, 1].
    """
    _check_reduction(reduction)
    batched, x, n = _scores(logits, "binary_cross_entropy_with_logits")
    t = _targets(targets, n, "binary_cross_entropy_with_logits")
    if np.any((t < 0) | (t > 1)):
        raise ValueError("binary_cross_entropy_with_logits: targets must lie in [0, 1]")
    if batched:
        return _reduce(_softplus(x) - x * t, reduction)
    return _reduce([_softplus(xi) - xi * ti for xi, ti in zip(x, t.tolist())], reduction)


def logsumexp(values: Sequence[Value]) -> Value:
    """``log(sum_i exp(z_i))`` through the max-shift trick (see the module docstring)."""
    zs = [_as_value(z) for z in values]
    if not zs:
        raise ValueError("logsumexp of no values")
    m = _max_shift(zs)
    total = (zs[0] - m).exp()
    for z in zs[1:]:
        total = total + (z - m).exp()
    return total.log() + m


def log_softmax(values: Sequence[Value]) -> list[Value]:
    """``z_i - logsumexp(z)``: log-probabilities over classes. ``values`` are the class scores
    of one sample (floats), or one batched Value per class."""
    zs = [_as_value(z) for z in values]
    lse = logsumexp(zs)
    return [z - lse for z in zs]


def softmax(values: Sequence[Value]) -> list[Value]:
    """``exp(z_i) / sum_j exp(z_j)``, computed as ``exp(log_softmax(z)_i)``: no overflow."""
    return [v.exp() for v in log_softmax(values)]


def cross_entropy(logits: Any, target: Any, reduction: str = "mean") -> Any:
    """Multi-class cross-entropy ``-log softmax(z)[target]``, as ``F.cross_entropy``.

    ``logits`` is one of

    * a list of C Values (one sample) with ``target`` an int class index: a scalar loss;
    * a list of N lists of C Values (N samples) with ``target`` N class indices;
    * a list of C batched Values (what an MLP with C outputs returns on a batch), with
      ``target`` N class indices.
    """
    _check_reduction(reduction)
    if isinstance(logits, Value):
        raise TypeError("cross_entropy: logits must be a list of class scores, got one Value")
    rows = list(logits)
    if not rows:
        raise ValueError("cross_entropy: no logits")
    if all(isinstance(z, Value) for z in rows) and not isinstance(rows[0]._data, float):
        return _cross_entropy_batched(rows, target, reduction)
    if all(isinstance(z, (Value, int, float)) for z in rows):  # one sample
        idx = _class_index(target, len(rows))
        return log_softmax(rows)[idx] * -1.0
    idxs = list(np.asarray(target).reshape(-1)) if not np.isscalar(target) else [target]
    if len(idxs) != len(rows):
        raise ValueError(f"cross_entropy: {len(rows)} samples but {len(idxs)} targets")
    losses = []
    for row, t in zip(rows, idxs):
        row = list(row)
        losses.append(log_softmax(row)[_class_index(t, len(row))] * -1.0)
    return _reduce(losses, reduction)


def _class_index(t: Any, n_classes: int) -> int:
    if isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, np.integer)):
        raise TypeError(f"cross_entropy: a target must be a class index (int), got {t!r}")
    if not 0 <= t < n_classes:
        raise ValueError(f"cross_entropy: target {t} out of range for {n_classes} classes")
    return int(t)


def _cross_entropy_batched(zs: list[Value], target: Any, reduction: str) -> Any:
    n = np.size(zs[0]._data)
    t = np.asarray(target)
    if t.shape != (n,) or t.dtype.kind not in "iu":
        raise ValueError(f"cross_entropy: need {n} integer class indices, got shape {t.shape}")
    if t.size and (t.min() < 0 or t.max() >= len(zs)):
        raise ValueError(f"cross_entropy: targets must lie in [0, {len(zs)})")
    logp = log_softmax(zs)
    picked = logp[0] * (t == 0).astype(np.float64)  # one-hot selection, class by class
    for c in range(1, len(zs)):
        picked = picked + logp[c] * (t == c).astype(np.float64)
    return _reduce(picked * -1.0, reduction)


def l2_regularization(parameters: Any, alpha: float) -> Value:
    """``alpha * sum_p p^2``, the seed's ``1e-4 * sum(p*p for p in model.parameters())``.

    ``parameters`` is an iterable of Values or a Module (its ``parameters()`` are used).
    """
    if hasattr(parameters, "parameters") and callable(parameters.parameters):
        parameters = parameters.parameters()
    params: Iterable[Value] = parameters
    total = alpha * sum(p * p for p in params)
    return total if isinstance(total, Value) else Value(total)


__all__ = [
    "hinge_loss",
    "mse_loss",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "softmax",
    "log_softmax",
    "logsumexp",
    "l2_regularization",
]
