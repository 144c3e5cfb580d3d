"""The training loop behind `zdravkograd moons` and the notebooks.

`fit` trains a binary classifier with the recipe of micrograd's moons demo:

    L = 1/n · Σ_i max(0, 1 - y_i · s_i)  +  alpha · Σ_p p²

the SVM max-margin "hinge" loss on the scores `s_i` (labels `y_i` in {-1, 1}) plus L2
regularisation, minimised by SGD (or Adam) whose learning rate falls linearly from `lr` to
`0.1 * lr` over the run: step `k` of `steps` uses `lr * (1 - 0.9 * k / steps)`.

The same loss can be computed three ways (`mode`), which give the same numbers:

* `'scalar'`: one graph per sample, one `Value` per number, exactly as in micrograd
  (about 66,000 nodes per step on the moons demo). The slowest and the most literal.
* `'batched'`: one graph for the whole batch, each node holding a NumPy column of
  per-sample numbers (about 1,700 nodes, most of them the weights and the L2 term).
  Same losses to about 1e-15.
* `'compiled'`: the batched graph traced once by `zdravkograd.compile` and replayed
  as straight-line code, which also hands back the scores for the accuracy (see
  `_compiled_step`). The same numbers as `'batched'`, bit for bit, and the fastest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import zdravkograd
from zdravkograd import losses, optim
from zdravkograd.engine import Value, no_grad
from zdravkograd.fast import fast

MODES: tuple[str, ...] = ("scalar", "batched", "compiled")
OPTIMIZERS: tuple[str, ...] = ("sgd", "adam")
DEFAULT_LR: dict[str, float] = {"sgd": 1.0, "adam": 0.05}
"""The learning rate `fit` and the CLI use when none is given, per optimiser."""

History = dict[str, list[float]]
Callback = Callable[[int, float, float], Any]

DIVERGENCE_GROWTH = 1e6
"""`fit` stops when the loss grows this many times above its value at step 0."""


class TrainingDiverged(FloatingPointError):
    """`fit` stopped because the loss became NaN or infinite, or grew a million-fold.

    Attributes: `step` (the step whose loss gave up), `loss` (that loss), `first_loss` (the
    loss at step 0), `lr` (the initial learning rate) and `reason` (what happened, in
    words). The weights are left as they were before that step's update.
    """

    def __init__(self, step: int, loss: float, first_loss: float, lr: float) -> None:
        self.step, self.loss, self.first_loss, self.lr = step, loss, first_loss, lr
        if math.isfinite(loss):
            self.reason = f"the loss grew from {first_loss:.4g} at step 0 to {loss:.4g}"
        else:
            self.reason = f"the loss became {loss}"
        super().__init__(
            f"training diverged at step {step}: {self.reason}; "
            f"try a smaller lr (this run used {lr:g})"
        )


def best_mode() -> str:
    """The fastest exact mode this installation offers: `'compiled'` if available."""
    return "compiled" if hasattr(zdravkograd, "compile_step") else "batched"


def fit(
    model: Any,
    X: Any,
    y: Any,
    *,
    steps: int = 100,
    optimizer: str = "sgd",
    lr: float | None = None,
    alpha: float = 1e-4,
    schedule: bool = True,
    mode: str = "auto",
    callback: Callback | None = None,
) -> History:
    """Train `model` as a binary classifier; return the loss and accuracy at every step.

    Args:
        model: a callable taking a list of `nin` inputs and returning one `Value`
            (e.g. `MLP(2, [16, 16, 1])`), with `parameters()` and `zero_grad()`.
        X: the inputs, shape `(n, nin)` (array or nested lists of numbers).
        y: the labels, `n` of them, in `{0, 1}` or in `{-1, 1}`.
        steps: the number of full-batch gradient steps.
        optimizer: `'sgd'` (plain SGD, as in micrograd) or `'adam'`.
        lr: the initial learning rate; `None` picks `DEFAULT_LR[optimizer]`.
        alpha: the L2 regularisation strength.
        schedule: if true, the learning rate falls linearly to `0.1 * lr`
            (`LinearLR(start_factor=1.0, end_factor=0.1, total_iters=steps)`).
        mode: `'scalar'`, `'batched'`, `'compiled'`, or `'auto'` for
            `best_mode`.
        callback: called as `callback(step, loss, accuracy)` after each step.

    Returns:
        `{'loss': [...], 'accuracy': [...], 'lr': [...]}`: for each step, the loss and the
        training accuracy of the model *before* that step's update, and the learning rate the
        update used. `zdravkograd.viz.plot_history` draws it.

    Raises:
        ValueError: for a bad argument, before any weight changes.
        TrainingDiverged: when a step's loss is NaN or infinite, or more than
            `DIVERGENCE_GROWTH` (a million) times the loss at step 0. The learning rate is
            too large; the weights stay as they were before that step's update.
    """
    Xa, ya = _check_data(X, y)
    steps = _check_int("steps", steps, minimum=0)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    lr = DEFAULT_LR[optimizer] if lr is None else lr
    _check_float("lr", lr, positive=True)
    _check_float("alpha", alpha, positive=False)
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha!r}")
    mode = best_mode() if mode == "auto" else mode
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES} or 'auto', got {mode!r}")
    params = list(model.parameters())
    if not params:
        raise ValueError("the model has no parameters to train")

    step_fn = _make_step(model, Xa, ya, alpha, mode)
    opt = _make_optimizer(optimizer, params, lr)
    scheduler = optim.LinearLR(opt, 1.0, 0.1, steps) if schedule and steps > 0 else None
    history: History = {"loss": [], "accuracy": [], "lr": []}
    limit = math.inf  # DIVERGENCE_GROWTH times the first loss
    # Overflow and NaN are checked on the loss below; NumPy need not warn about them.
    with fast(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k in range(steps):
            loss, accuracy = step_fn()  # forward + backward: sets every p.grad
            if not math.isfinite(loss) or loss > limit:
                raise TrainingDiverged(k, loss, history["loss"][0] if k else loss, lr)
            if k == 0 and loss > 0:
                limit = DIVERGENCE_GROWTH * loss
            history["loss"].append(loss)
            history["accuracy"].append(accuracy)
            history["lr"].append(opt.lr)
            opt.step()
            if scheduler is not None:
                scheduler.step()
            if callback is not None:
                callback(k, loss, accuracy)
    return history


def scores(model: Any, X: Any) -> np.ndarray:
    """The model's score for every row of `X`, as a float array (no graph is built)."""
    Xa = _check_inputs(X)
    with no_grad():
        out = model([Value(Xa[:, j]) for j in range(Xa.shape[1])])
    out = _single_output(out)
    return np.broadcast_to(np.asarray(out.data, dtype=np.float64), (len(Xa),)).copy()


def accuracy(model: Any, X: Any, y: Any) -> float:
    """The fraction of rows whose score has the sign of the label (0 counts as -1)."""
    Xa, ya = _check_data(X, y)
    return float(np.mean((scores(model, Xa) > 0) == (ya > 0)))


def svm_loss(model: Any, X: Any, y: Any, alpha: float = 1e-4, mode: str = "batched") -> Value:
    """The training objective of `fit` as a `Value` you can `backward()`.

    `mode='scalar'` builds one graph per sample (micrograd's way); `'batched'` builds
    one graph whose nodes hold a column per sample. Both give the same number.
    """
    Xa, ya = _check_data(X, y)
    if mode not in ("scalar", "batched"):
        raise ValueError(f"svm_loss mode must be 'scalar' or 'batched', got {mode!r}")
    return _objective(model, Xa, ya, alpha, mode)[0]


# --------------------------------------------------------------------------- internals


def _objective(
    model: Any, X: np.ndarray, y: np.ndarray, alpha: float, mode: str
) -> tuple[Value, np.ndarray]:
    """The loss Value and the float scores, for the scalar or the batched graph."""
    if mode == "scalar":
        score_list = [_single_output(model([Value(v) for v in row])) for row in X.tolist()]
        data_loss = losses.hinge_loss(score_list, y)
        s = np.array([si.data for si in score_list])
    else:
        score = _single_output(model([Value(X[:, j]) for j in range(X.shape[1])]))
        data_loss = losses.hinge_loss(score, y)
        s = np.broadcast_to(np.asarray(score.data, dtype=np.float64), y.shape)
    return data_loss + losses.l2_regularization(model, alpha), s


def _make_step(
    model: Any, X: np.ndarray, y: np.ndarray, alpha: float, mode: str
) -> Callable[[], tuple[float, float]]:
    """A function doing forward + backward once, returning (loss, accuracy)."""
    params = list(model.parameters())
    positive = y > 0

    if mode == "compiled":
        return _compiled_step(
            model, X, y, alpha, fallback=_make_step(model, X, y, alpha, "batched")
        )

    def eager() -> tuple[float, float]:
        loss, s = _objective(model, X, y, alpha, mode)
        for p in params:
            p.grad = 0.0
        loss.backward()
        return float(loss.data), float(np.mean((s > 0) == positive))

    return eager


def _compiled_step(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    alpha: float,
    fallback: Callable[[], tuple[float, float]],
) -> Callable[[], tuple[float, float]]:
    """The batched objective, traced once by `zdravkograd.compile` and replayed each step.

    The accuracy needs the scores, which the loss alone does not give. Instead of a second
    forward pass per step, the traced function adds `Σ_i t_i · s_i` for an argument `t` that
    is always zero. That adds exactly 0 to the loss and to every parameter's gradient, and
    its gradient with respect to `t` is the score vector: `∂/∂t_i Σ_j t_j s_j = s_i`. So one
    replay gives the loss, the gradients and the scores, all as the batched mode has them.

    Only an infinity breaks this (`0 · inf` is NaN): if the loss or a gradient comes out
    infinite or NaN, the step is redone by `fallback`, the eager batched step.
    """
    positive = y > 0
    columns = [X[:, j].copy() for j in range(X.shape[1])]
    zeros = np.zeros(len(X))

    def objective(t: Value) -> Value:
        score = _single_output(model([Value(c) for c in columns]))
        loss = losses.hinge_loss(score, y) + losses.l2_regularization(model, alpha)
        return loss + (t * score).sum()  # + 0, to read the scores off t's gradient

    program = zdravkograd.compile(objective, zeros)
    traced = program.parameters  # the model's parameters the objective used
    seen = set(traced)
    untouched = [p for p in model.parameters() if p not in seen]

    def compiled() -> tuple[float, float]:
        loss, (s,), grads = program.run(zeros)
        if not (math.isfinite(loss) and math.isfinite(sum(grads))):  # diverged: no shortcut
            return fallback()
        for p, g in zip(traced, grads):
            p.grad = g
        for p in untouched:
            p.grad = 0.0
        s = np.broadcast_to(s, y.shape)
        return float(loss), float(np.mean((s > 0) == positive))

    return compiled


def _make_optimizer(kind: str, params: Sequence[Value], lr: float) -> optim.Optimizer:
    if kind == "adam":
        return optim.Adam(params, lr=lr)
    return optim.SGD(params, lr=lr)


def _single_output(out: Any) -> Value:
    if isinstance(out, Value):
        return out
    if isinstance(out, (list, tuple)) and len(out) == 1 and isinstance(out[0], Value):
        return out[0]
    raise ValueError(
        "fit trains a binary classifier: the model must return one Value per input, "
        f"got {type(out).__name__}" + (f" of length {len(out)}" if hasattr(out, "__len__") else "")
    )


def _check_inputs(X: Any) -> np.ndarray:
    try:
        Xa = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"X must be a 2-D array of numbers: {exc}") from None
    if Xa.ndim != 2 or Xa.shape[0] == 0 or Xa.shape[1] == 0:
        raise ValueError(f"X must be a non-empty 2-D array (n, nin), got shape {Xa.shape}")
    if not np.all(np.isfinite(Xa)):
        raise ValueError("X contains NaN or infinity")
    return Xa


def _check_data(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """X as float (n, nin); y as floats in {-1, 1} (from {0, 1} or {-1, 1})."""
    Xa = _check_inputs(X)
    try:
        ya = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"y must be a 1-D array of labels: {exc}") from None
    if ya.shape != (len(Xa),):
        raise ValueError(f"y must have shape ({len(Xa)},) to match X, got {ya.shape}")
    labels = set(np.unique(ya).tolist())
    if labels <= {0.0, 1.0}:
        ya = 2.0 * ya - 1.0
    elif not labels <= {-1.0, 1.0}:
        raise ValueError(f"y must hold labels in {{0, 1}} or {{-1, 1}}, got {sorted(labels)}")
    return Xa, ya


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_float(name: str, value: Any, positive: bool) -> None:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or (positive and value <= 0):
        what = "a finite number > 0" if positive else "a finite number"
        raise ValueError(f"{name} must be {what}, got {value!r}")


__all__ = [
    "fit",
    "scores",
    "accuracy",
    "svm_loss",
    "best_mode",
    "MODES",
    "OPTIMIZERS",
    "DEFAULT_LR",
    "DIVERGENCE_GROWTH",
    "History",
    "TrainingDiverged",
]
