"""The training loop behind `zdravkograd moons` and the notebooks.

`fit` trains a binary classifier with the recipe of micrograd's moons demo (and, with
`loss='cross_entropy'` or `loss='mse'`, a multi-class classifier or a regressor; see
"Other tasks" below):

    L = 1/n · Σ_i max(0, 1 - y_i · s_i)  +  alpha · Σ_p p²

the SVM max-margin "hinge" loss on the scores `s_i` (labels `y_i` in {-1, 1}) plus L2
regularisation, minimised by SGD (or Adam) whose learning rate falls linearly from `lr` to
`0.1 * lr` over the run: step `k` of `steps` uses `lr * (1 - 0.9 * k / steps)`.

The same loss can be computed three ways (`mode`), which give the same numbers:

* `'scalar'`: one graph per sample, one `Value` per number, exactly as in micrograd
  (about 8,300 nodes per step on the moons demo). The slowest and the most literal.
* `'batched'`: one graph for the whole batch, each node holding a NumPy column of
  per-sample numbers (about 1,100 nodes, most of them the weights and the L2 term).
  Same losses to about 1e-15.
* `'compiled'`: the batched graph traced once by `zdravkograd.compile` and replayed
  as straight-line code, which also hands back the scores for the accuracy (see
  `_compiled_step`). The same numbers as `'batched'`, bit for bit, and the fastest.

Other tasks
-----------
`loss='cross_entropy'` trains a classifier with one output per class (labels `0..C-1`) by
softmax cross-entropy; `loss='mse'` a regressor with one output by the mean squared error.
Both add the same L2 term. `batch_size` makes each step use a random minibatch (a new
random order every epoch; the last `n % batch_size` rows of an order wait for the next),
and `validation=(X_val, y_val)` scores the whole validation split at every step, before
the update, with the same objective. The compiled mode then traces one step and takes the
batch (inputs and targets) as the program's arguments, so one program serves every batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import zdravkograd
from zdravkograd import losses, optim
from zdravkograd._checks import check_choice, check_int, check_number
from zdravkograd.engine import Value, no_grad
from zdravkograd.fastmode import fast

MODES: tuple[str, ...] = ("scalar", "batched", "compiled")
LOSSES: tuple[str, ...] = ("hinge", "cross_entropy", "mse")
"""The objectives `fit` knows: binary SVM hinge, softmax cross-entropy, squared error."""
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
    """The mode `mode='auto'` picks: `'compiled'`, the fastest, with the same numbers as
    `'batched'`."""
    return "compiled"


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
    loss: str = "hinge",
    batch_size: int | None = None,
    validation: tuple[Any, Any] | None = None,
    seed: int | None = None,
) -> History:
    """Train `model`; return the loss and accuracy (or R²) at every step, on both splits.

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
        callback: called as `callback(step, loss, accuracy)` after each step (for
            `loss='mse'` the third number is the R² of the step's batch).
        loss: `'hinge'` (binary, the moons recipe), `'cross_entropy'` (the model has one
            output per class; `y` holds class indices `0..C-1`) or `'mse'` (one output;
            `y` holds numbers).
        batch_size: rows per step; `None` uses the whole training set at every step.
        validation: `(X_val, y_val)`, scored at every step with the same objective.
        seed: an int seed for the minibatch order (only used with `batch_size`).

    Returns:
        `{'loss': [...], 'accuracy': [...], 'lr': [...]}`: for each step, the loss and the
        accuracy on that step's training batch (the whole training set without
        `batch_size`) of the model *before* that step's update, and the learning rate the
        update used. With `validation`, also `'val_loss'` and `'val_accuracy'`, the same
        two numbers on the whole validation split at the same moment. For `loss='mse'`
        the accuracy keys are `'r2'` and `'val_r2'`. `zdravkograd.viz.plot_history`
        draws it; `zdravkograd.viz.plot_learning_curves` adds the validation curves.

    Raises:
        TypeError: for an argument of the wrong type, before any weight changes.
        ValueError: for a bad value or bad data, before any weight changes.
        TrainingDiverged: when a step's loss is NaN or infinite, or more than
            `DIVERGENCE_GROWTH` (a million) times the loss at step 0. The learning rate is
            too large; the weights stay as they were before that step's update. The last
            update is checked as well, by one more forward and backward pass (its loss is
            step `steps`'s), so `fit` never returns weights that diverged.
    """
    check_choice("loss", loss, LOSSES)
    Xa, ya = _check_data(X, y) if loss == "hinge" else _check_task_data(X, y, loss)
    steps = check_int("steps", steps, minimum=0)
    if batch_size is not None:
        batch_size = min(check_int("batch_size", batch_size, minimum=1), len(Xa))
    check_choice("optimizer", optimizer, OPTIMIZERS)
    lr = check_number("lr", DEFAULT_LR[optimizer] if lr is None else lr, positive=True)
    alpha = check_number("alpha", alpha, minimum=0)
    mode = check_choice("mode", mode, (*MODES, "auto"))
    mode = best_mode() if mode == "auto" else mode
    params = list(model.parameters())
    if not params:
        raise ValueError("the model has no parameters to train")

    evaluate = None
    if validation is not None:
        evaluate = _make_evaluation(model, validation, Xa.shape[1], loss, alpha)
    if loss == "hinge" and batch_size is None:
        step_fn = _make_step(model, Xa, ya, alpha, mode)
    else:
        step_fn = _make_task_step(model, Xa, ya, loss, alpha, mode, batch_size, seed)
    opt = _make_optimizer(optimizer, params, lr)
    scheduler = optim.LinearLR(opt, 1.0, 0.1, steps) if schedule and steps > 0 else None
    metric = "r2" if loss == "mse" else "accuracy"
    history: History = {"loss": [], metric: [], "lr": []}
    if evaluate is not None:
        history.update({"val_loss": [], f"val_{metric}": []})
    limit = math.inf  # DIVERGENCE_GROWTH times the first loss
    before: list[Any] = []  # the weights the last update replaces
    # Overflow and NaN are checked on the loss below; NumPy need not warn about them.
    with fast(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k in range(steps):
            if evaluate is not None:  # before the update, like the training numbers
                val_loss, val_metric = evaluate()
            loss_k, accuracy = step_fn()  # forward + backward: sets every p.grad
            if not math.isfinite(loss_k) or loss_k > limit:
                raise TrainingDiverged(k, loss_k, history["loss"][0] if k else loss_k, lr)
            if k == 0 and loss_k > 0:
                limit = DIVERGENCE_GROWTH * loss_k
            if evaluate is not None:
                history["val_loss"].append(val_loss)
                history[f"val_{metric}"].append(val_metric)
            history["loss"].append(loss_k)
            history[metric].append(accuracy)
            history["lr"].append(opt.lr)
            if k == steps - 1:  # no later step checks the last update: keep what it replaces
                before = [
                    p.data.copy() if isinstance(p.data, np.ndarray) else p.data for p in params
                ]
            opt.step()
            if scheduler is not None:
                scheduler.step()
            if callback is not None:
                callback(k, loss_k, accuracy)
        if steps > 0:
            # The last update is checked too, by one more step without its update; the
            # gradients that step computes are dropped (p.grad keeps the last update's).
            grads = [p.grad for p in params]
            final_loss, _ = step_fn()
            for p, g in zip(params, grads):
                p.grad = g
            if not math.isfinite(final_loss) or final_loss > limit:
                for p, data in zip(params, before):
                    p.data = data
                raise TrainingDiverged(steps, final_loss, history["loss"][0], lr)
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
    check_choice("mode", mode, ("scalar", "batched"))
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


# ------------------------------------------------------------ multi-class and regression


def _check_task_data(X: Any, y: Any, loss: str) -> tuple[np.ndarray, np.ndarray]:
    """X as float (n, nin); y as int class indices (cross-entropy) or finite floats (mse)."""
    Xa = _check_inputs(X)
    ya = np.asarray(y)
    if ya.shape != (len(Xa),):
        raise ValueError(f"y must have shape ({len(Xa)},) to match X, got {ya.shape}")
    if loss == "mse":
        try:
            ya = ya.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError("y must hold numbers for loss='mse'") from None
        if not np.all(np.isfinite(ya)):
            raise ValueError("y contains NaN or infinity")
        return Xa, ya
    if ya.dtype.kind not in "iu" or (ya.size and ya.min() < 0):
        raise ValueError(
            "y must hold class indices 0, 1, ... (integers) for loss='cross_entropy', "
            f"got {ya.dtype} values"
            + (f" from {ya.min()} to {ya.max()}" if ya.dtype.kind in "iuf" else "")
        )
    return Xa, ya.astype(np.int64)


def _outputs(out: Any) -> list[Value]:
    """A model's outputs as a list of Values (one per output)."""
    if isinstance(out, Value):
        return [out]
    if isinstance(out, (list, tuple)) and all(isinstance(o, Value) for o in out):
        return list(out)
    raise ValueError(f"the model must return a Value or a list of Values, got {type(out)}")


def _target_columns(y: np.ndarray, loss: str, n_out: int) -> np.ndarray:
    """The targets as a 2-D array of columns: one-hot (n, C) or the values (n, 1)."""
    if loss == "cross_entropy":
        if n_out < 2:
            raise ValueError(
                "loss='cross_entropy' needs a model with one output per class (2 or more); "
                "this model has 1"
            )
        if y.size and y.max() >= n_out:
            raise ValueError(f"y holds class {int(y.max())} but the model has {n_out} outputs")
        return np.eye(n_out)[y]
    if n_out != 1:
        raise ValueError(f"loss={loss!r} needs a model with one output; this model has {n_out}")
    return (2.0 * (y > 0) - 1.0 if loss == "hinge" else y).reshape(-1, 1).astype(np.float64)


def _task_objective(
    model: Any, columns: Sequence[Any], targets: Sequence[Any], loss: str, alpha: float
) -> tuple[Value, list[Value]]:
    """The data loss (a Value, without the L2 term) and the model's outputs for one batch.

    `columns` are the batch's input columns and `targets` its target columns (one-hot
    for cross-entropy), both batched Values, so the compiled mode can pass them in.
    """
    out = _outputs(model(list(columns)))
    if loss == "cross_entropy":
        logp = losses.log_softmax(out)
        picked = targets[0] * logp[0]  # the one-hot columns pick each row's log-probability
        for t, lp in zip(targets[1:], logp[1:]):
            picked = picked + t * lp
        data_loss = -picked.mean()
    elif loss == "mse":
        data_loss = ((out[0] - targets[0]) ** 2).mean()
    else:
        data_loss = (1.0 - targets[0] * out[0]).relu().mean()
    return data_loss, out


def _task_metric(outputs: np.ndarray, targets: np.ndarray, loss: str) -> float:
    """Accuracy (classification) or R² (regression) from output and target columns."""
    if loss == "cross_entropy":
        return float(np.mean(outputs.argmax(axis=1) == targets.argmax(axis=1)))
    if loss == "hinge":
        return float(np.mean((outputs[:, 0] > 0) == (targets[:, 0] > 0)))
    from zdravkograd.metrics import r2

    return r2(targets[:, 0], outputs[:, 0])


def _data_matrix(outs: Sequence[Value], n: int) -> np.ndarray:
    return np.column_stack(
        [np.broadcast_to(np.asarray(o.data, dtype=np.float64), (n,)) for o in outs]
    )


def _n_outputs(model: Any, nin: int) -> int:
    with no_grad():
        return len(_outputs(model([Value(0.0) for _ in range(nin)])))


def _make_evaluation(
    model: Any, validation: Any, nin: int, loss: str, alpha: float
) -> Callable[[], tuple[float, float]]:
    """A function scoring the whole validation split: (loss, accuracy or R²)."""
    if not isinstance(validation, (tuple, list)) or len(validation) != 2:
        raise ValueError("validation must be a pair (X_val, y_val)")
    try:
        X_val, y_val = validation
        if loss == "hinge":
            Xv, yv = _check_data(X_val, y_val)
        else:
            Xv, yv = _check_task_data(X_val, y_val, loss)
    except ValueError as exc:
        raise ValueError(f"validation: {exc}") from None
    if Xv.shape[1] != nin:
        raise ValueError(f"validation: X_val has {Xv.shape[1]} columns but X has {nin}")
    T = _target_columns(yv, loss, _n_outputs(model, nin))
    columns = [Value(Xv[:, j]) for j in range(nin)]
    targets = [Value(T[:, c]) for c in range(T.shape[1])]

    params = list(model.parameters())

    def evaluate() -> tuple[float, float]:
        with no_grad():
            value, out = _task_objective(model, columns, targets, loss, alpha)
        l2 = alpha * sum(p.data * p.data for p in params)  # the L2 term, in plain floats
        return float(value.data) + l2, _task_metric(_data_matrix(out, len(Xv)), T, loss)

    return evaluate


def _make_task_step(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    loss: str,
    alpha: float,
    mode: str,
    batch_size: int | None,
    seed: int | None,
) -> Callable[[], tuple[float, float]]:
    """Forward + backward on the next batch; returns (loss, accuracy or R²) of that batch."""
    T = _target_columns(y, loss, _n_outputs(model, X.shape[1]))
    n = len(X)
    size = n if batch_size is None else batch_size
    rng = np.random.default_rng(seed)
    order: list[np.ndarray] = []  # the batches of the current epoch still to come

    def next_batch() -> tuple[np.ndarray, np.ndarray]:
        if size == n:
            return X, T
        if not order:
            perm = rng.permutation(n)
            order.extend(perm[i : i + size] for i in range(0, n - size + 1, size))
            order.reverse()  # pop() from the end gives them in order
        idx = order.pop()
        return X[idx], T[idx]

    params = list(model.parameters())

    def eager(batch: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[float, float]:
        Xb, Tb = batch if batch is not None else next_batch()
        if mode == "scalar":
            values, outs = [], []
            for row, t in zip(Xb.tolist(), Tb.tolist()):
                value, out = _task_objective(model, [Value(v) for v in row], t, loss, alpha)
                values.append(value)
                outs.append([o.data for o in out])
            total = sum(values, Value(0.0)) * (1.0 / len(values))
            total = total + losses.l2_regularization(model, alpha)
            out_matrix = np.array(outs, dtype=np.float64)
        else:
            cols = [Value(Xb[:, j]) for j in range(Xb.shape[1])]
            targets = [Value(Tb[:, c]) for c in range(Tb.shape[1])]
            total, out = _task_objective(model, cols, targets, loss, alpha)
            total = total + losses.l2_regularization(model, alpha)
            out_matrix = _data_matrix(out, len(Xb))
        for p in params:
            p.grad = 0.0
        total.backward()
        return float(total.data), _task_metric(out_matrix, Tb, loss)

    if mode != "compiled":
        return eager

    # The compiled step: the batch's inputs and targets are the program's arguments, and
    # zero "probe" columns added as `Σ_c Σ_i probe_ci · out_ci` hand back the outputs as
    # their gradients (the trick `_compiled_step` explains), for the accuracy.
    probes = [Value(np.zeros(size)) for _ in range(T.shape[1])]

    def objective(m: Any, cols: list[Value], targets: list[Value]) -> Value:
        value, out = _task_objective(m, cols, targets, loss, alpha)
        value = value + losses.l2_regularization(m, alpha)
        for probe, o in zip(probes, out):
            value = value + (probe * o).sum()
        return value

    example = next_batch()
    step = zdravkograd.compile_step(model, objective, *example)
    program = step.program
    position = {id(p): i for i, p in enumerate(program.parameters)}
    probe_at = [position[id(p)] for p in probes]
    param_at = [position.get(id(p)) for p in params]
    pending = [example]  # the traced batch is the first step's batch

    def compiled() -> tuple[float, float]:
        Xb, Tb = pending.pop() if pending else next_batch()
        value, _, grads = program.run(Xb, Tb)
        outs = np.column_stack([grads[i] for i in probe_at])
        weight_grads = [0.0 if i is None else grads[i] for i in param_at]
        finite = math.isfinite(value) and math.isfinite(sum(weight_grads))
        if not (finite and np.all(np.isfinite(outs))):
            return eager((Xb, Tb))  # diverged: redo the step without the shortcut
        for p, g in zip(params, weight_grads):
            p.grad = g
        return float(value), _task_metric(outs, Tb, loss)

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


__all__ = [
    "fit",
    "scores",
    "accuracy",
    "svm_loss",
    "best_mode",
    "MODES",
    "LOSSES",
    "OPTIMIZERS",
    "DEFAULT_LR",
    "DIVERGENCE_GROWTH",
    "History",
    "TrainingDiverged",
]
