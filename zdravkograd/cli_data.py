"""The real-data commands: ``zdravkograd digits``, ``zdravkograd train FILE.csv`` and
``zdravkograd predict --csv``.

* ``digits`` trains an MLP with softmax cross-entropy and Adam on scikit-learn's 8x8
  digits (a stratified train/test split, pixels scaled from 0..16 to 0..1) and writes
  ``confusion.png``, ``mistakes.png``, ``loss.png``, ``model.json`` and ``metrics.json``.
* ``train`` does the same for a CSV file of your own: the numeric columns other than the
  target are the features, standardised with the training split's statistics; the task
  (classify or regress) is inferred from the target unless ``--task`` says it.
* ``predict --model M --csv NEW.csv`` writes one ``prediction`` column, in row order.

Each run checks its input completely before it creates anything, and writes its files as
a set (``zdravkograd.cli._Outputs``: a temporary folder, then moved into place together):
a failed run leaves earlier outputs as they were. Every problem with a
file is one line naming the file, the row and the column (``zdravkograd.table``).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from zdravkograd.cli import (
    ACTIVATIONS,
    DEFAULT_OUT,
    CLIError,
    _diverged,
    _finite,
    _load_model,
    _Outputs,
    _positive,
    _positive_int,
    _print,
    _seed,
    _usage_error,
)

DIGITS_DEFAULTS: dict[str, Any] = {
    "steps": 400,
    "hidden": 32,
    "batch_size": 128,
    "lr": 0.02,
    "activation": "tanh",
    "test_fraction": 0.25,
}
"""The defaults of ``zdravkograd digits``: 97.8% test accuracy (seed 0; 96.7% at worst, over
seeds 0..7) in about 9 s of CPU time for the whole command."""

TRAIN_DEFAULTS: dict[str, Any] = {
    "steps": 300,
    "hidden": [16, 16],
    "batch_size": 128,
    "lr": 0.01,
    "activation": "relu",
    "test_fraction": 0.2,
}
"""The defaults of ``zdravkograd train``."""

MAX_TARGET = 1e150
"""The largest regression target ``train`` accepts (in size): the MSE squares errors, and
a square of more than about 1e308 is infinite."""


# ------------------------------------------------------------------------ parsers


def _fraction(text: str) -> float:
    x = _finite(text)
    if not 0.0 < x < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {text!r}")
    return x


def _common(p: argparse.ArgumentParser, defaults: dict[str, Any], out: str) -> None:
    p.add_argument(
        "--steps",
        type=_positive_int,
        default=defaults["steps"],
        help=f"training steps ({defaults['steps']})",
    )
    p.add_argument(
        "--batch-size",
        type=_positive_int,
        default=defaults["batch_size"],
        metavar="N",
        help=f"rows per step ({defaults['batch_size']}; larger than the data means all rows)",
    )
    p.add_argument(
        "--lr",
        type=_positive,
        default=defaults["lr"],
        help=f"Adam's learning rate ({defaults['lr']})",
    )
    p.add_argument(
        "--activation",
        choices=ACTIVATIONS,
        default=defaults["activation"],
        help=f"hidden activation ({defaults['activation']})",
    )
    p.add_argument(
        "--test-fraction",
        type=_fraction,
        default=defaults["test_fraction"],
        metavar="F",
        help=f"share of the rows held out for the test ({defaults['test_fraction']})",
    )
    p.add_argument("--seed", type=_seed, default=0, help="seed for the split and the weights (0)")
    p.add_argument(
        "--mode",
        choices=("batched", "compiled"),
        default=None,
        help="engine path: 'batched' (one graph of NumPy columns per step) or 'compiled' "
        "(a traced tape replayed; the default, same numbers, faster)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path(DEFAULT_OUT) / out,
        help=f"output folder (./{DEFAULT_OUT}/{out}/)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_commands(sub: Any) -> None:
    """Register ``digits`` and ``train`` on the ``zdravkograd`` subparsers."""
    digits = sub.add_parser(
        "digits",
        help="train an MLP on scikit-learn's 8x8 handwritten digits; report test accuracy",
        description="Train MLP(64, [HIDDEN, 10]) with softmax cross-entropy and Adam on the "
        "1,797 8x8 digit images shipped with scikit-learn (stratified train/test split, "
        "pixels scaled to 0..1), then write confusion.png, mistakes.png, loss.png, "
        "model.json and metrics.json into --out.",
    )
    digits.add_argument(
        "--hidden",
        type=_positive_int,
        nargs="+",
        default=[DIGITS_DEFAULTS["hidden"]],
        metavar="N",
        help=f"hidden layer sizes ({DIGITS_DEFAULTS['hidden']})",
    )
    _common(digits, DIGITS_DEFAULTS, "digits")
    digits.set_defaults(func=cmd_digits)

    train = sub.add_parser(
        "train",
        help="train on your own CSV file: classify or regress one column from the others",
        description="Train an MLP to predict --target from the other numeric columns of "
        "FILE.csv (a header line, then one row per sample). Features are standardised with "
        "the training split's statistics; the task is inferred unless --task is given. "
        "Writes model.json, metrics.json and loss.png (and confusion.png or "
        "predictions.png) into --out.",
    )
    train.add_argument("file", type=Path, metavar="FILE.csv", help="the data, with a header line")
    train.add_argument("--target", required=True, metavar="COLUMN", help="the column to predict")
    train.add_argument(
        "--task",
        choices=("classify", "regress"),
        default=None,
        help="classify (labels) or regress (numbers); default: inferred from the target",
    )
    train.add_argument(
        "--hidden",
        type=_positive_int,
        nargs="+",
        default=TRAIN_DEFAULTS["hidden"],
        metavar="N",
        help="hidden layer sizes (16 16)",
    )
    _common(train, TRAIN_DEFAULTS, "train")
    train.set_defaults(func=cmd_train)


def add_predict_arguments(predict: argparse.ArgumentParser) -> None:
    """The ``--csv`` and ``--output`` options of ``zdravkograd predict``."""
    predict.add_argument(
        "--csv", type=Path, default=None, metavar="NEW.csv", help="predict every row of a CSV file"
    )
    predict.add_argument(
        "--output",
        type=Path,
        default=None,
        metavar="FILE",
        help="with --csv: write the predictions here (default: print them)",
    )


# ------------------------------------------------------------------------ outputs


def _save_figure(fig: Any, path: Path) -> None:
    fig.savefig(path, dpi=100, bbox_inches="tight")


def _write_json(doc: Any, path: Path) -> None:
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------- training


def _extras(quiet: bool) -> Any:
    """Check the extras a training run needs before any work; return tqdm."""
    from zdravkograd._optional import require_extra

    tqdm = require_extra("tqdm", "cli", "The progress bar").tqdm
    require_extra("matplotlib.figure", "viz", "Plotting")
    return tqdm


def _fit(
    args: argparse.Namespace, model: Any, X: Any, y: Any, val: Any, loss: str, tqdm: Any
) -> Any:
    from zdravkograd.train import TrainingDiverged, best_mode, fit

    mode = args.mode or best_mode()
    with tqdm(total=args.steps, desc="training", unit="step", disable=args.quiet) as bar:

        def progress(step: int, loss_k: float, metric: float) -> None:
            bar.set_postfix(loss=f"{loss_k:.4f}", refresh=False)
            bar.update()

        start = time.perf_counter()
        try:
            history = fit(
                model,
                X,
                y,
                steps=args.steps,
                optimizer="adam",
                lr=args.lr,
                mode=mode,
                loss=loss,
                batch_size=args.batch_size,
                validation=val,
                seed=args.seed,
                callback=progress,
            )
        except TrainingDiverged as exc:
            bar.leave = False  # the error line replaces the progress bar
            raise _diverged(exc) from None
        seconds = time.perf_counter() - start
    return history, seconds, mode


def _outputs(model: Any, X: np.ndarray) -> np.ndarray:
    """The network's outputs for every row, shape (n, outputs), without a graph."""
    from zdravkograd.engine import Value, no_grad

    with no_grad():
        out = model([Value(X[:, j]) for j in range(X.shape[1])])
    outs = out if isinstance(out, list) else [out]
    return np.column_stack([np.broadcast_to(np.asarray(o.data, float), (len(X),)) for o in outs])


def _mlp(nin: int, hidden: list[int], nout: int, activation: str, seed: int) -> Any:
    from zdravkograd import nn

    init = "kaiming" if activation == "relu" else "xavier"
    return nn.MLP(nin, [*hidden, nout], activation=activation, init=init, rng=random.Random(seed))


def cmd_digits(args: argparse.Namespace) -> int:
    """``zdravkograd digits``: train on the 8x8 digits, report and draw the test results."""
    started = time.perf_counter()
    tqdm = _extras(args.quiet)
    from zdravkograd import data, metrics, viz
    from zdravkograd.table import Preprocessing, save_model

    outputs = _Outputs(args.out, DIGITS_OUTPUTS)  # checks the folder, creates nothing yet
    X, y = data.load_digits()
    X_tr, X_te, y_tr, y_te = data.train_test_split(
        X, y, test_size=args.test_fraction, seed=args.seed, stratify=y
    )
    scaler = data.Standardizer(np.zeros(64), np.full(64, 16.0))  # pixels 0..16 -> 0..1
    S_tr, S_te = scaler.transform(X_tr), scaler.transform(X_te)
    model = _mlp(64, args.hidden, 10, args.activation, args.seed)
    _print(
        f"training MLP(64, {[*args.hidden, 10]}, activation={args.activation!r}) on "
        f"{len(X_tr)} digits, testing on {len(X_te)}, for {args.steps} steps "
        f"(Adam, lr {args.lr}, batches of {min(args.batch_size, len(X_tr))})"
    )
    history, seconds, mode = _fit(args, model, S_tr, y_tr, (S_te, y_te), "cross_entropy", tqdm)
    pred_tr = _outputs(model, S_tr).argmax(axis=1)
    pred_te = _outputs(model, S_te).argmax(axis=1)
    train_acc, test_acc = metrics.accuracy(y_tr, pred_tr), metrics.accuracy(y_te, pred_te)
    confusion = metrics.confusion_matrix(y_te, pred_te, labels=list(range(10)))
    wrong = np.flatnonzero(pred_te != y_te)
    _print(
        f"test accuracy: {test_acc:.2%} ({len(y_te) - len(wrong)}/{len(y_te)}), "
        f"train accuracy: {train_acc:.2%}; trained in {seconds:.1f} s (mode {mode})"
    )
    labels = list(range(10))
    prep = Preprocessing(
        [f"pixel_{r}_{c}" for r in range(8) for c in range(8)],
        scaler,
        "classify",
        "digit",
        labels=labels,
    )
    doc = {
        "task": "classify",
        "test_accuracy": test_acc,
        "train_accuracy": train_acc,
        "seconds": seconds,
        "mode": mode,
        "steps": args.steps,
        "train_rows": len(y_tr),
        "test_rows": len(y_te),
        "labels": labels,
        "confusion_matrix": confusion.tolist(),
        "history": history,
    }
    Figure = _figure_class()
    with outputs:  # written into a temporary folder, then moved into --out together
        place = outputs.staged
        fig = Figure(figsize=(6, 5))
        viz.plot_confusion_matrix(confusion, labels, ax=fig.add_subplot(), title="test digits")
        _save_figure(fig, place("confusion.png"))
        shown = wrong[:32]
        captions = [f"true {y_te[i]}, said {pred_te[i]}" for i in shown]
        fig = viz.plot_images(
            X_te[shown].reshape(-1, 8, 8),
            captions,
            title=f"{len(wrong)} of {len(y_te)} test digits misclassified"
            + (f" (the first {len(shown)})" if len(wrong) > len(shown) else ""),
        )
        _save_figure(fig, place("mistakes.png"))
        _save_figure(viz.plot_learning_curves(history, val_label="test"), place("loss.png"))
        save_model(model, prep, place("model.json"))
        doc["total_seconds"] = time.perf_counter() - started
        _write_json(doc, place("metrics.json"))
        outputs.commit()
    return 0


DIGITS_OUTPUTS = ("confusion.png", "mistakes.png", "loss.png", "model.json", "metrics.json")
"""The files ``zdravkograd digits`` writes into ``--out``, in the order it writes them."""


def _figure_class() -> Any:
    from zdravkograd._optional import require_extra

    return require_extra("matplotlib.figure", "viz", "Plotting").Figure


def cmd_train(args: argparse.Namespace) -> int:
    """``zdravkograd train FILE.csv --target COLUMN``."""
    from zdravkograd import data, metrics, table, viz

    tqdm = _extras(args.quiet)
    try:
        tab = table.read_csv(args.file)
        tab.index(args.target)
        task, reason = (
            (args.task, "as --task says") if args.task else table.infer_task(tab, args.target)
        )
        features = [c for c in tab.columns if c != args.target and tab.is_numeric(c)]
        ignored = [c for c in tab.columns if c != args.target and c not in features]
        if not features:
            raise table.DataFileError(
                f"{tab.path} has no numeric column besides the target {args.target!r} to "
                "use as a feature"
            )
        X = tab.matrix(features)
        if task == "classify":
            table.check_labels(tab, args.target)
            labels, y = table.labels_of(tab.cells(args.target))
            if len(labels) < 2:
                raise table.DataFileError(
                    f"{tab.path}: the target {args.target!r} holds a single class "
                    f"({labels[0]!r}); classification needs at least 2"
                )
            _check_classes(tab, args, y, labels)
        else:
            y = tab.numbers(args.target, what="the target")
            if np.abs(y).max() > MAX_TARGET:  # its squared errors would overflow to inf
                i = int(np.argmax(np.abs(y)))
                raise table.DataFileError(
                    f"{tab.where(i, args.target)} holds {tab.rows[i][tab.index(args.target)]!r:.40}"
                    f": regression targets must be at most {MAX_TARGET:g} in size, so that "
                    "squared errors stay finite; rescale the column"
                )
            labels = []
            n_test = int(np.ceil(args.test_fraction * len(y)))
            if min(n_test, len(y) - n_test) < 2:
                raise table.DataFileError(
                    f"{tab.path} has {len(y)} rows: too few to hold out --test-fraction "
                    f"{args.test_fraction} and keep 2 rows in each split"
                )
        X_tr, X_te, y_tr, y_te = data.train_test_split(
            X,
            y,
            test_size=args.test_fraction,
            seed=args.seed,
            stratify=y if task == "classify" else None,
        )
    except (table.DataFileError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    picture = "confusion.png" if task == "classify" else "predictions.png"
    outputs = _Outputs(args.out, ("model.json", "metrics.json", "loss.png", picture))
    _print(f"task: {task} ({reason})")
    if ignored:
        _print(f"ignoring non-numeric column(s): {', '.join(ignored)}")
    scaler = data.Standardizer().fit(X_tr)
    S_tr, S_te = scaler.transform(X_tr), scaler.transform(X_te)
    nout = len(labels) if task == "classify" else 1
    model = _mlp(len(features), args.hidden, nout, args.activation, args.seed)
    target_scaler = None
    if task == "regress":
        target_scaler = data.Standardizer().fit(y_tr.reshape(-1, 1))
        t_tr = target_scaler.transform(y_tr.reshape(-1, 1))[:, 0]
        t_te = target_scaler.transform(y_te.reshape(-1, 1))[:, 0]
    else:
        t_tr, t_te = y_tr, y_te
    what = f"{len(labels)} classes" if task == "classify" else "a number"
    _print(
        f"training MLP({len(features)}, {[*args.hidden, nout]}) to predict {args.target!r} "
        f"({what}) from {len(features)} feature(s) on {len(y_tr)} rows, testing on "
        f"{len(y_te)}, for {args.steps} steps"
    )
    loss = "cross_entropy" if task == "classify" else "mse"
    history, seconds, mode = _fit(args, model, S_tr, t_tr, (S_te, t_te), loss, tqdm)
    prep = table.Preprocessing(
        features, scaler, task, args.target, labels=labels, target_scaler=target_scaler
    )
    out_tr, out_te = _outputs(model, S_tr), _outputs(model, S_te)
    doc: dict[str, Any] = {"task": task, "target": args.target, "features": features}
    Figure = _figure_class()
    with outputs:  # written into a temporary folder, then moved into --out together
        place = outputs.staged
        if task == "classify":
            p_tr, p_te = out_tr.argmax(axis=1), out_te.argmax(axis=1)
            test_acc = metrics.accuracy(y_te, p_te)
            train_acc = metrics.accuracy(y_tr, p_tr)
            confusion = metrics.confusion_matrix(y_te, p_te, labels=list(range(len(labels))))
            doc.update(test_accuracy=test_acc, train_accuracy=train_acc, labels=labels)
            doc["confusion_matrix"] = confusion.tolist()
            _print(f"test accuracy: {test_acc:.2%}, train accuracy: {train_acc:.2%}")
            fig = Figure(figsize=(6, 5))
            viz.plot_confusion_matrix(confusion, labels, ax=fig.add_subplot(), title="test rows")
            _save_figure(fig, place("confusion.png"))
        else:
            assert target_scaler is not None
            v_tr = target_scaler.inverse_transform(out_tr[:, :1])[:, 0]
            v_te = target_scaler.inverse_transform(out_te[:, :1])[:, 0]
            doc.update(
                test_mse=metrics.mse(y_te, v_te),
                test_r2=metrics.r2(y_te, v_te),
                train_mse=metrics.mse(y_tr, v_tr),
                train_r2=metrics.r2(y_tr, v_tr),
            )
            _print(f"test R²: {doc['test_r2']:.4f}, test MSE: {doc['test_mse']:.6g}")
            fig = Figure(figsize=(5.2, 5))
            viz.plot_predictions(
                y_te, v_te, ax=fig.add_subplot(), title=f"{args.target}: test rows"
            )
            _save_figure(fig, place("predictions.png"))
        doc.update(seconds=seconds, mode=mode, steps=args.steps, history=history)
        doc.update(train_rows=len(y_tr), test_rows=len(y_te))
        table.save_model(model, prep, place("model.json"))
        _save_figure(viz.plot_learning_curves(history, val_label="test"), place("loss.png"))
        _write_json(doc, place("metrics.json"))
        _print(f"trained in {seconds:.1f} s (mode {mode})")
        outputs.commit()
    return 0


def _check_classes(tab: Any, args: argparse.Namespace, y: np.ndarray, labels: list[Any]) -> None:
    """Refuse, naming the file, a class or a test split too small for a stratified split."""
    from zdravkograd.table import DataFileError

    counts = np.bincount(y, minlength=len(labels))
    if counts.min() < 2:
        lonely = labels[int(np.argmin(counts))]
        row = int(np.flatnonzero(y == int(np.argmin(counts)))[0])
        raise DataFileError(
            f"{tab.where(row, args.target)}: the class {lonely!r} has only this 1 row; every "
            "class needs 2 or more (one for training, one for the test)"
        )
    n_test = int(np.ceil(args.test_fraction * len(y)))
    if n_test < len(labels) or len(y) - n_test < len(labels):
        which = "test" if n_test < len(labels) else "training"
        size = n_test if which == "test" else len(y) - n_test
        raise DataFileError(
            f"{tab.path}: the {which} split ({size} of {len(y)} rows at --test-fraction "
            f"{args.test_fraction}) is too small to hold each of the {len(labels)} classes; "
            "change --test-fraction or add rows"
        )


# ---------------------------------------------------------------------- predict


def cmd_predict(args: argparse.Namespace) -> int | None:
    """``zdravkograd predict`` for files saved by ``train`` or ``digits``, and ``--csv``.

    Returns None when the model file has no preprocessing and no ``--csv`` is given: the
    caller then prints the moons-style score.
    """
    from zdravkograd import table

    if args.csv is None and args.output is not None:
        _usage_error("predict", "--output goes with --csv")
    if args.csv is not None and args.input:
        _usage_error("predict", "give either --csv FILE or the input numbers, not both")
    if args.csv is None and not args.input:
        _usage_error("predict", "give the input numbers X ..., or --csv FILE")
    model = _load_model(args.model)  # refuses NaN and infinite weights too
    try:
        prep = table.read_preprocessing(args.model, model)
    except ValueError as exc:
        raise CLIError(f"cannot load the model '{args.model}': {exc}") from None
    if args.csv is None:
        if prep is None:
            return None
        if len(args.input) != len(prep.features):
            _usage_error(
                "predict",
                f"the model reads {len(prep.features)} numbers ({', '.join(prep.features[:8])}"
                f"{', ...' if len(prep.features) > 8 else ''}), got {len(args.input)}",
            )
        X = prep.scaler.transform(np.array([args.input], dtype=float))
        _print(_text(prep.decode(_outputs(model, X))[0], prep))
        return 0
    if prep is None:
        prep = _bare_preprocessing(model, args.model)
    try:
        tab = table.read_csv(args.csv)
        X = prep.inputs(tab)
    except table.DataFileError as exc:
        raise CLIError(str(exc)) from None
    answers = [_text(v, prep) for v in prep.decode(_outputs(model, X))]
    text = "prediction\n" + "".join(_csv_cell(a) + "\n" for a in answers)
    if args.output is None:
        _print(text.rstrip("\n"))
        return 0
    outputs = _Outputs(args.output.parent, (args.output.name,))
    with outputs:
        outputs.staged(args.output.name).write_text(text, encoding="utf-8")
        outputs.commit()
    return 0


def _bare_preprocessing(model: Any, path: Path) -> Any:
    """A model without preprocessing (e.g. moons) reads columns x1, x2, ... and gives its
    score (a regression-like number, unscaled)."""
    from zdravkograd.data import Standardizer
    from zdravkograd.table import Preprocessing, _sizes

    nin, nout = _sizes(model)
    if nin is None or nout != 1:
        raise CLIError(
            f"the model '{path}' has no saved feature columns (it was not made by "
            "'zdravkograd train'); --csv needs one"
        )
    names = [f"x{i + 1}" for i in range(nin)]
    one = Standardizer(np.zeros(1), np.ones(1))
    return Preprocessing(
        names, Standardizer(np.zeros(nin), np.ones(nin)), "regress", "score", target_scaler=one
    )


def _text(value: Any, prep: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _csv_cell(text: str) -> str:
    if any(ch in text for ch in ',"\n\r') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text
