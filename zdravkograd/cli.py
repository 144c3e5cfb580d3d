"""The ``zdravkograd`` command line (also ``python -m zdravkograd``).

Commands:

* ``zdravkograd moons``: train ``MLP(2, [16, 16, 1])`` on the moons data set with the recipe of
  micrograd's demo; write the decision boundary, the loss curve, the model and a backprop
  viewer into ``--out``.
* ``zdravkograd graph``: draw a computation graph (the tanh-neuron example, or a saved model
  for one input) as SVG or PNG.
* ``zdravkograd predict --model model.json X1 X2``: print a saved model's score.
* ``zdravkograd bench``: the benchmark suite (``zdravkograd.bench``).
* ``zdravkograd names`` / ``zdravkograd sample``: train a character-level GPT on names and
  sample from it (``zdravkograd.cli_gpt``).

Exit codes: 0 on success, 2 for a bad flag or value (one line on stderr), 1 for anything else
that went wrong (an unreadable model, an unwritable folder, a missing extra), again with a
one-line message and no traceback. ``ZDRAVKOGRAD_DEBUG=1`` shows the traceback of an
unexpected error.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import zdravkograd
from zdravkograd._optional import require_extra
from zdravkograd.engine import Value
from zdravkograd.examples import TANH_NEURON, tanh_neuron

DEFAULT_OUT = "zdravkograd-out"
ACTIVATIONS = ("relu", "tanh", "sigmoid")
NEURON_EXAMPLE = TANH_NEURON
"""The tanh neuron of ``zdravkograd graph`` (micrograd's lecture example): o = tanh(x·w + b)."""


class CLIError(Exception):
    """Something went wrong that is not a usage error: exit status 1, one-line message."""


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error (exit 2) instead of the full usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# ------------------------------------------------------------------ argument types


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return n


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _finite(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return x


def _positive(text: str) -> float:
    x = _finite(text)
    if x <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return x


def _non_negative(text: str) -> float:
    x = _finite(text)
    if x < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return x


# ------------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``zdravkograd`` command."""
    from zdravkograd.train import MODES, OPTIMIZERS

    parser = _Parser(
        prog="zdravkograd",
        description="A scalar-valued autograd engine you can see backpropagate.",
        epilog="Run 'zdravkograd COMMAND --help' for a command's options.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {zdravkograd.__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    moons = sub.add_parser(
        "moons",
        help="train an MLP on the moons data set and write pictures, the model and a viewer",
        description="Train MLP(2, [16, 16, 1]) on moons with micrograd's recipe (SVM hinge "
        "loss + 1e-4 L2, SGD with a learning rate falling linearly from 1.0 to 0.1), then "
        "write decision_boundary.png, loss.png, model.json and backprop.html into --out.",
    )
    moons.add_argument("--steps", type=_positive_int, default=100, help="training steps (100)")
    moons.add_argument(
        "--hidden",
        type=_positive_int,
        nargs="+",
        default=[16, 16],
        metavar="N",
        help="hidden layer sizes (16 16)",
    )
    moons.add_argument(
        "--activation", choices=ACTIVATIONS, default="relu", help="hidden activation (relu)"
    )
    moons.add_argument(
        "--lr", type=_positive, default=None, help="initial learning rate (sgd 1.0, adam 0.05)"
    )
    moons.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd", help="optimiser (sgd)")
    moons.add_argument(
        "--seed", type=_int, default=1337, help="seed for the data and the weights (1337)"
    )
    moons.add_argument(
        "--samples", type=_positive_int, default=100, help="number of data points (100)"
    )
    moons.add_argument("--noise", type=_non_negative, default=0.1, help="data noise (0.1)")
    moons.add_argument(
        "--out", type=Path, default=Path(DEFAULT_OUT), help=f"output folder (./{DEFAULT_OUT}/)"
    )
    moons.add_argument(
        "--mode",
        choices=MODES,
        default=None,
        help="engine path: 'scalar' builds one graph per sample (micrograd's way), "
        "'batched' one graph of NumPy columns, 'compiled' replays a traced tape "
        "(default: the fastest available; all give the same numbers)",
    )
    moons.add_argument("--quiet", action="store_true", help="no progress bar")
    moons.set_defaults(func=cmd_moons)

    graph = sub.add_parser(
        "graph",
        help="draw a computation graph as SVG or PNG",
        description="Draw the tanh-neuron example (x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432) "
        "after backward, or with --model and --input a saved model's graph for one input, "
        "collapsed per neuron.",
    )
    graph.add_argument(
        "--format", choices=("svg", "png"), default=None, help="svg (default) or png"
    )
    graph.add_argument(
        "--out", type=Path, default=None, help=f"output file (./{DEFAULT_OUT}/graph.FORMAT)"
    )
    graph.add_argument("--model", type=Path, default=None, help="a model.json saved by moons")
    graph.add_argument(
        "--input", type=_finite, nargs="+", default=None, metavar="X", help="the model's input"
    )
    graph.add_argument("--rankdir", choices=("LR", "TB"), default="LR", help="layout direction")
    graph.set_defaults(func=cmd_graph)

    predict = sub.add_parser(
        "predict",
        help="print a saved model's score for one input",
        description="Print the score of a saved model (model.json) for one input. With the "
        "moons model, a score > 0 means class 1.",
    )
    predict.add_argument("--model", type=Path, required=True, help="a model.json saved by moons")
    predict.add_argument("input", type=_finite, nargs="+", metavar="X", help="the input numbers")
    predict.set_defaults(func=cmd_predict)

    from zdravkograd.cli_gpt import add_commands as add_gpt_commands

    add_gpt_commands(sub)  # names, sample

    sub.add_parser(
        "bench",
        help="run the benchmark suite (see 'zdravkograd bench --help')",
        add_help=False,
    )
    return parser


# ---------------------------------------------------------------------- commands


def cmd_moons(args: argparse.Namespace) -> int:
    """``zdravkograd moons``: train, report, write the four files."""
    from zdravkograd.train import accuracy, best_mode, fit

    if args.samples < 2:
        _usage_error("moons", "argument --samples: need at least 2 points (one per class)")
    # Everything the run needs is checked before any work, so it cannot fail at the end.
    tqdm = require_extra("tqdm", "cli", "The progress bar of 'zdravkograd moons'").tqdm
    require_extra("sklearn", "data", "The moons data set")
    Figure = require_extra("matplotlib.figure", "viz", "Plotting").Figure
    require_extra("graphviz", "viz", "The backprop viewer")
    _require_dot()
    out = _prepare_out_dir(args.out)
    mode = args.mode or best_mode()
    from zdravkograd import data, nn, viz

    X, y = data.make_moons(n_samples=args.samples, noise=args.noise, seed=args.seed)
    nouts = [*args.hidden, 1]
    model = nn.MLP(2, nouts, activation=args.activation, rng=random.Random(args.seed))
    print(
        f"training MLP(2, {nouts}, activation={args.activation!r}) on {len(X)} moons points "
        f"for {args.steps} steps ({args.optimizer}, mode {mode})",
        flush=True,
    )
    with tqdm(total=args.steps, desc="training", unit="step", disable=args.quiet) as bar:

        def progress(step: int, loss: float, acc: float) -> None:
            bar.set_postfix(loss=f"{loss:.4f}", accuracy=f"{acc:.0%}", refresh=False)
            bar.update()

        history = fit(
            model,
            X,
            y,
            steps=args.steps,
            optimizer=args.optimizer,
            lr=args.lr,
            mode=mode,
            callback=progress,
        )
    final = accuracy(model, X, y)
    print(f"final accuracy: {final:.1%} ({round(final * len(X))}/{len(X)} points)")

    written = []
    path = out / "model.json"
    _write(path, lambda: model.save(path))
    written.append(path)
    fig = Figure(figsize=(6, 5))
    viz.plot_decision_boundary(model, X, y, ax=fig.add_subplot())
    path = out / "decision_boundary.png"
    _write(path, lambda: fig.savefig(path, dpi=100, bbox_inches="tight"))
    written.append(path)
    fig = Figure(figsize=(8, 3.5))
    viz.plot_history(history, ax=fig.add_subplot())
    path = out / "loss.png"
    _write(path, lambda: fig.savefig(path, dpi=100, bbox_inches="tight"))
    written.append(path)
    # The viewer shows how the trained model's score for the first point depends on
    # every weight: d score / d w (the hinge loss is flat, 0, once a point is learnt).
    # Parameters are labelled with their names so the viewer can say which is which.
    # Each neuron is one node and one step (66 steps instead of 641 for 16-16-1): the
    # page stays readable, and every weight still gets its gradient, in numbers.
    for name, p in model.named_parameters():
        p.label = p.label or name
    model.zero_grad()  # the replay starts from zero, not from the last training step
    x = [Value(float(v), label=f"x{i + 1}") for i, v in enumerate(X[0])]
    score = model(x)
    score.label = "score"
    path = out / "backprop.html"
    point = ", ".join(f"{v:.3f}" for v in X[0])
    title = f"Backpropagation of the score for the first training point ({point})"
    _write(
        path,
        lambda: viz.backprop_html(score, path, title=title, max_nodes=None, collapse=True),
    )
    written.append(path)
    for path in written:
        print(f"wrote {path}")
    return 0


def neuron_example() -> Value:
    """The tanh neuron ``o = tanh(x1*w1 + x2*w2 + b)`` of ``zdravkograd graph``, after backward."""
    return tanh_neuron(backward=True)


def cmd_graph(args: argparse.Namespace) -> int:
    """``zdravkograd graph``: the neuron example, or a saved model for one input."""
    if (args.model is None) != (args.input is None):
        _usage_error("graph", "--model and --input go together")
    suffix = args.out.suffix[1:].lower() if args.out is not None else ""
    fmt = args.format or (suffix if args.out is not None else "svg")
    if fmt not in ("svg", "png"):
        _usage_error("graph", f"cannot tell the format from --out {str(args.out)!r}; use --format")
    if suffix in ("svg", "png") and suffix != fmt:
        _usage_error("graph", f"--format {fmt} does not match --out {str(args.out)!r}")
    path = args.out if args.out is not None else Path(DEFAULT_OUT) / f"graph.{fmt}"
    require_extra("graphviz", "viz", "zdravkograd graph")
    _require_dot()
    _prepare_out_dir(path.parent)
    from zdravkograd import viz

    if args.model is None:
        root, collapse = neuron_example(), False
    else:
        model = _load_model(args.model)
        root = _score(model, args.input, "graph")
        root.backward()
        collapse = True
    dot = viz.draw_dot(root, format=fmt, rankdir=args.rankdir, collapse=collapse)
    data = dot.pipe(format=fmt)
    _write(path, lambda: path.write_bytes(data))
    print(f"wrote {path}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """``zdravkograd predict``: print the score (a float) of a saved model for one input."""
    model = _load_model(args.model)
    print(repr(float(_score(model, args.input, "predict").data)))
    return 0


def cmd_bench(argv: Sequence[str]) -> int:
    """``zdravkograd bench ARGS``: hand ARGS to ``zdravkograd.bench.main``."""
    from zdravkograd import bench

    # bench.main has its own argparse parser: give its usage errors our one-line form too.
    original = argparse.ArgumentParser.error
    setattr(argparse.ArgumentParser, "error", _Parser.error)  # noqa: B010 (mypy: a method)
    try:
        return int(bench.main(list(argv)) or 0)
    finally:
        setattr(argparse.ArgumentParser, "error", original)  # noqa: B010


# ---------------------------------------------------------------------- helpers


def _usage_error(command: str, message: str) -> NoReturn:
    raise SystemExit(_usage(command, message))


def _usage(command: str, message: str) -> int:
    print(
        f"zdravkograd {command}: error: {message} (see 'zdravkograd {command} --help')",
        file=sys.stderr,
    )
    return 2


def _unknown_arguments(parser: argparse.ArgumentParser, command: str, unknown: list[str]) -> None:
    """argparse's 'unrecognized arguments', with a hint when they are negative numbers."""
    message = f"unrecognized arguments: {' '.join(unknown)}"
    if all(_is_number(a) for a in unknown):  # e.g. -1e3, which argparse takes for an option
        fix = (
            "put -- before the numbers" if command == "predict" else "write it without the exponent"
        )
        _usage_error(
            command, f"{message}: a negative number with an exponent looks like an option; {fix}"
        )
    parser.error(message)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _prepare_out_dir(path: Path) -> Path:
    """Create ``path`` if needed and prove it is writable, before any work is done."""
    if path.exists() and not path.is_dir():
        raise CLIError(f"cannot write into '{path}': it exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".zdravkograd-write-test-"):
            pass
    except OSError as exc:
        raise CLIError(f"cannot write into the folder '{path}': {exc.strerror or exc}") from None
    return path


def _write(path: Path, action: Any) -> None:
    try:
        action()
    except OSError as exc:
        raise CLIError(f"cannot write '{path}': {exc.strerror or exc}") from None


NO_DOT = (
    "drawing needs Graphviz's 'dot' program, which is not on PATH: install it, e.g. "
    "'apt-get install graphviz' (Debian/Ubuntu) or 'brew install graphviz' (macOS)"
)


def _require_dot() -> None:
    if shutil.which("dot") is None:
        raise CLIError(NO_DOT)


def _load_model(path: Path) -> Any:
    from zdravkograd import nn

    try:
        return nn.load(path)
    except Exception as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CLIError(f"cannot load the model '{path}': {reason}") from None


def _score(model: Any, inputs: Sequence[float], command: str) -> Value:
    """The model's output for one input, as one Value; a wrong input count is a usage error."""
    x = [Value(v, label=f"x{i + 1}") for i, v in enumerate(inputs)]
    try:
        out = model(x)
    except ValueError as exc:
        _usage_error(command, f"the model does not take this input: {exc}")
    if isinstance(out, list):
        if len(out) != 1:
            raise CLIError(f"the model returns {len(out)} outputs; expected a single score")
        out = out[0]
    out.label = "score"
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["bench"]:
            return cmd_bench(argv[1:])
        parser = build_parser()
        args, unknown = parser.parse_known_args(argv)
        if unknown:
            _unknown_arguments(parser, args.command, unknown)
        return int(args.func(args))
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except CLIError as exc:
        print(f"zdravkograd: error: {exc}", file=sys.stderr)
    except ImportError as exc:  # a missing extra: the message names the pip install
        print(f"zdravkograd: error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("zdravkograd: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("ZDRAVKOGRAD_DEBUG"):
            raise
        print(
            f"zdravkograd: internal error: {type(exc).__name__}: {exc} "
            "(set ZDRAVKOGRAD_DEBUG=1 to see the traceback)",
            file=sys.stderr,
        )
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
