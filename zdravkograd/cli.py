"""The ``zdravkograd`` command line (also ``python -m zdravkograd``).

Commands:

* ``zdravkograd moons``: train ``MLP(2, [16, 16, 1])`` on the moons data set with the recipe of
  micrograd's demo; write the decision boundary, the loss curve, the model and a backprop
  viewer into ``--out``.
* ``zdravkograd graph``: draw a computation graph (the tanh-neuron example, or a saved model
  for one input) as SVG or PNG.
* ``zdravkograd predict --model model.json X1 X2``: print a saved model's score (or, for a
  model from ``train``/``digits``, its answer); ``--csv NEW.csv`` predicts every row.
* ``zdravkograd digits`` and ``zdravkograd train FILE.csv --target COLUMN``: real data
  (``zdravkograd.cli_data``).
* ``zdravkograd lab``: the lab, a local web page that trains a network live
  (``zdravkograd.lab``).
* ``zdravkograd bench``: time zdravkograd's own modes on one training step
  (``zdravkograd.bench``; the comparison with other libraries is ``make bench``).
* ``zdravkograd names`` / ``zdravkograd sample``: train a character-level GPT on names and
  sample from it (``zdravkograd.cli_gpt``).

Exit codes: 0 on success, 2 for a bad flag or value (one line on stderr), 1 for anything else
that went wrong (an unreadable model, an unwritable folder, a missing extra, a training run
that diverged), again with a one-line message and no traceback. ``ZDRAVKOGRAD_DEBUG=1`` shows
the traceback of an unexpected error.

A run's files are written as a set: into a hidden temporary folder first, then moved into
place one by one; if a move fails, the files already moved are put back, so either every
output of the run is replaced or none is. A reader that closes the pipe early
(``zdravkograd moons | head -1``) is not an error: the rest of the output is dropped quietly.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import math
import os
import random
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import zdravkograd
from zdravkograd._argtypes import Parser as _Parser
from zdravkograd._argtypes import positive_int as _positive_int
from zdravkograd._optional import require_extra
from zdravkograd.engine import Value
from zdravkograd.examples import tanh_neuron
from zdravkograd.nn import ACTIVATION_MODULES

DEFAULT_OUT = "zdravkograd-out"
ACTIVATIONS = tuple(ACTIVATION_MODULES)  # the hidden activations: nn's, all but 'linear'


# A negative number, in any notation float() reads: argparse alone takes -1e3 for an option.
NEGATIVE_NUMBER = re.compile(
    r"^-(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$|^-(?:inf|infinity|nan)$", re.IGNORECASE
)
MAX_SEED = 2**32 - 1  # NumPy's (and so scikit-learn's) seeds are 32-bit


class CLIError(Exception):
    """Something went wrong that is not a usage error: exit status 1, one-line message."""


# ------------------------------------------------------------------ argument types
# (_Parser, the one-line usage error, and _positive_int come from zdravkograd._argtypes)


def _seed(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 0 <= n <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to {MAX_SEED}, got {text!r}")
    return n


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
        "--seed",
        type=_seed,
        default=1337,
        help=f"seed for the data and the weights, 0 to {MAX_SEED} (1337)",
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
    _accept_negative_numbers(graph)

    predict = sub.add_parser(
        "predict",
        help="print a saved model's score for one input",
        description="Print the score of a saved model (model.json) for one input. With the "
        "moons model, a score > 0 means class +1 (y = +1), < 0 class -1.",
    )
    predict.add_argument("--model", type=Path, required=True, help="a model.json saved by moons")
    predict.add_argument("input", type=_finite, nargs="*", metavar="X", help="the input numbers")
    predict.set_defaults(func=cmd_predict)
    _accept_negative_numbers(predict)

    from zdravkograd.cli_gpt import add_commands as add_gpt_commands

    add_gpt_commands(sub)  # names, sample

    from zdravkograd import cli_data

    cli_data.add_predict_arguments(predict)
    cli_data.add_commands(sub)

    from zdravkograd.lab.cli import add_parser as add_lab_parser

    add_lab_parser(sub)

    sub.add_parser(
        "bench",
        help="time zdravkograd's modes on one training step (see 'zdravkograd bench --help')",
        add_help=False,
    )
    return parser


# ---------------------------------------------------------------------- commands


def cmd_moons(args: argparse.Namespace) -> int:
    """``zdravkograd moons``: train, report, write the four files (as a set)."""
    from zdravkograd.train import TrainingDiverged, accuracy, best_mode, fit

    if args.samples < 2:
        _usage_error("moons", "argument --samples: need at least 2 points (one per class)")
    # Everything the run needs is checked before any work, so it cannot fail at the end.
    tqdm = require_extra("tqdm", "cli", "The progress bar of 'zdravkograd moons'").tqdm
    require_extra("sklearn", "data", "The moons data set")
    Figure = require_extra("matplotlib.figure", "viz", "Plotting").Figure
    require_extra("graphviz", "viz", "The backprop viewer")
    _require_dot()
    outputs = _Outputs(args.out, MOONS_OUTPUTS)  # checks the folder, creates nothing yet
    mode = args.mode or best_mode()
    from zdravkograd import data, nn, viz

    X, y = data.make_moons(n_samples=args.samples, noise=args.noise, seed=args.seed)
    if not all(math.isfinite(v) for v in X.flat):  # a noise near 1e308 overflows
        _usage_error(
            "moons",
            f"argument --noise: {args.noise:g} makes points that are not finite numbers; "
            "expected a smaller noise (the default is 0.1)",
        )
    nouts = [*args.hidden, 1]
    model = nn.MLP(2, nouts, activation=args.activation, rng=random.Random(args.seed))
    _print(
        f"training MLP(2, {nouts}, activation={args.activation!r}) on {len(X)} moons points "
        f"for {args.steps} steps ({args.optimizer}, mode {mode})"
    )
    with tqdm(total=args.steps, desc="training", unit="step", disable=args.quiet) as bar:

        def progress(step: int, loss: float, acc: float) -> None:
            bar.set_postfix(loss=f"{loss:.4f}", accuracy=f"{acc:.0%}", refresh=False)
            bar.update()

        try:
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
        except TrainingDiverged as exc:
            bar.leave = False  # the error line replaces the progress bar
            raise _diverged(exc) from None
    final = accuracy(model, X, y)
    _print(f"final accuracy: {final:.1%} ({round(final * len(X))}/{len(X)} points)")

    with outputs:  # written into a temporary folder, then moved into --out together
        model.save(outputs.staged("model.json"))
        fig = Figure(figsize=(6, 5))
        viz.plot_decision_boundary(model, X, y, ax=fig.add_subplot())
        fig.savefig(outputs.staged("decision_boundary.png"), dpi=100, bbox_inches="tight")
        fig = Figure(figsize=(8, 3.5))
        viz.plot_history(history, ax=fig.add_subplot())
        fig.savefig(outputs.staged("loss.png"), dpi=100, bbox_inches="tight")
        # The viewer shows how the trained model's score for the first point depends on
        # every weight: d score / d w (the hinge loss is flat, 0, once a point is learnt).
        # Every node carries the name nn gives it (L0.n3.w1, L0.n3.Σ, L0.n3.relu), so the
        # page says which weight is which. Each neuron's weighted sum is one node and one
        # step (66 steps for 16-16-1); collapse=True also draws its weights inside its box
        # instead of as boxes of their own: the page stays readable, and every weight still
        # gets its gradient, in numbers.
        model.zero_grad()  # the replay starts from zero, not from the last training step
        # The inputs count from 0, as the weights do: L0.n3.w0 multiplies x0.
        x = [Value(float(v), label=f"x{i}") for i, v in enumerate(X[0])]
        score = model(x)
        score.label = "score"
        point = ", ".join(f"{v:.3f}" for v in X[0])
        title = f"Backpropagation of the score for the first training point ({point})"
        viz.backprop_html(
            score, outputs.staged("backprop.html"), title=title, max_nodes=None, collapse=True
        )
        outputs.commit()
    return 0


MOONS_OUTPUTS = ("model.json", "decision_boundary.png", "loss.png", "backprop.html")
"""The files ``zdravkograd moons`` writes into ``--out``, in the order it writes them."""


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
    outputs = _Outputs(path.parent, (path.name,))
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
    with outputs:
        outputs.staged(path.name).write_bytes(data)
        outputs.commit()
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """``zdravkograd predict``: print the score (a float) of a saved model for one input."""
    from zdravkograd import cli_data

    handled = cli_data.cmd_predict(args)  # --csv, and models saved with their preprocessing
    if handled is not None:
        return handled
    model = _load_model(args.model)
    score = float(_score(model, args.input, "predict").data)
    if not math.isfinite(score):  # finite weights and inputs, but the arithmetic overflowed
        raise CLIError(
            f"the model's score for this input is {score}, not a finite number: the "
            "arithmetic overflowed (are the input numbers, or the weights, far too large?)"
        )
    _print(repr(score))
    return 0


def cmd_bench(argv: Sequence[str]) -> int:
    """``zdravkograd bench ARGS``: hand ARGS to ``zdravkograd.bench.main`` (its own parser,
    with the same one-line usage errors)."""
    from zdravkograd import bench

    return int(bench.main(list(argv)) or 0)


# ---------------------------------------------------------------------- helpers


def _usage_error(command: str, message: str) -> NoReturn:
    raise SystemExit(_usage(command, message))


def _usage(command: str, message: str) -> int:
    print(
        f"zdravkograd {command}: error: {message} (see 'zdravkograd {command} --help')",
        file=sys.stderr,
    )
    return 2


def _unknown_arguments(command: str, unknown: list[str]) -> NoReturn:
    """argparse's 'unrecognized arguments', as a usage error of the subcommand, with a hint."""
    message = f"unrecognized arguments: {' '.join(unknown)}"
    if command == "graph" and all(_is_number(a) for a in unknown):
        message += "; the model's input numbers go right after --input (e.g. --input -1e3 2)"
    _usage_error(command, message)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _accept_negative_numbers(parser: argparse.ArgumentParser) -> None:
    """Let ``parser`` read ``-1e3`` as a number, not an option (it has no such options).

    argparse decides with its (private) ``_negative_number_matcher``, which knows ``-1000``
    and ``-0.5`` but not ``-1e3``; this widens it to what ``float()`` reads.
    """
    parser._negative_number_matcher = NEGATIVE_NUMBER


def _drop_separator_after_input(argv: list[str]) -> list[str]:
    """``graph --input -- -1e3 2``: the ``--`` some users put first (as for predict) is fine."""
    if argv[:1] == ["graph"] and "--input" in argv:
        i = argv.index("--input")
        if argv[i + 1 : i + 2] == ["--"]:
            return argv[: i + 1] + argv[i + 2 :]
    return argv


def _print(text: str) -> None:
    """Print a line to stdout now; if the reader has gone away, drop the output quietly."""
    try:
        print(text, flush=True)
    except BrokenPipeError:  # e.g. `zdravkograd moons | head -1`: the work itself goes on
        _silence_stdout()


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that later prints and the final flush cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    with contextlib.suppress(OSError, ValueError):  # ValueError/OSError: not a real file
        os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


class _Outputs:
    """The files one run writes into ``folder``, replaced as a set: all of them or none.

    Creating it checks, before any work, that ``folder`` can be created and written and
    that no output name is taken by a folder; it creates nothing. Inside ``with outputs:``
    the files are written to ``staged(name)``, in a hidden temporary folder inside
    ``folder`` (or, if ``folder`` does not exist yet, inside its nearest existing parent,
    so on the same disk). ``commit()`` then moves them into ``folder`` one by one, each
    old file set aside first and each "wrote" line printed as its file lands. If a move
    fails, the files moved so far are taken out again and the old ones put back, so a
    failed run replaces nothing. Leaving the ``with`` removes the temporary folder.
    """

    def __init__(self, folder: Path, names: Sequence[str]) -> None:
        self.folder = folder
        self.names = tuple(names)
        self._stage: Path | None = None
        self._current = ""  # the file being written, for the error message
        try:
            if folder.exists() and not folder.is_dir():
                raise CLIError(f"cannot write into '{folder}': it exists and is not a folder")
            missing = folder  # the folders to create: none may be a link to nowhere
            while not missing.exists() and missing != missing.parent:
                if missing.is_symlink():
                    raise CLIError(
                        f"cannot write into '{folder}': '{missing}' is a symbolic link to "
                        f"'{os.readlink(missing)}', which does not exist"
                    )
                missing = missing.parent
            for name in self.names:
                if (folder / name).is_dir():
                    raise CLIError(f"cannot replace '{folder / name}': it is a folder")
            with tempfile.NamedTemporaryFile(dir=self._base(), prefix=".zdravkograd-test-"):
                pass
        except OSError as exc:
            raise CLIError(f"cannot write into the folder '{folder}': {_reason(exc)}") from None

    def _base(self) -> Path:
        """``folder`` if it exists, else its nearest existing parent."""
        base = Path(os.path.abspath(self.folder))
        while not base.exists():
            base = base.parent
        if not base.is_dir():
            raise CLIError(f"cannot write into the folder '{self.folder}': '{base}' is a file")
        return base

    def __enter__(self) -> _Outputs:
        try:
            self._stage = Path(tempfile.mkdtemp(prefix=".zdravkograd-", dir=self._base()))
        except OSError as exc:
            raise CLIError(
                f"cannot write into the folder '{self.folder}': {_reason(exc)}"
            ) from None
        return self

    def staged(self, name: str) -> Path:
        """Where to write the output ``name`` for now."""
        assert self._stage is not None, "staged() is for inside `with outputs:`"
        self._current = name
        return self._stage / name

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if self._stage is not None:
            shutil.rmtree(self._stage, ignore_errors=True)
            self._stage = None
        if isinstance(exc, OSError):  # writing into the temporary folder failed
            path = self.folder / self._current
            raise CLIError(
                f"cannot write '{path}': {_reason(exc)}; no output was replaced"
            ) from None

    def commit(self) -> None:
        """Move every staged file into ``folder``: all of them, or (on an error) none."""
        assert self._stage is not None, "commit() is for inside `with outputs:`"
        made: list[Path] = []  # folders created for --out, removed again on failure
        moved: list[tuple[Path, Path | None]] = []  # (output, where its old file went)
        old = self._stage / ".old"
        path = self.folder
        try:
            missing = []
            folder = self.folder
            while not folder.exists():
                missing.append(folder)
                folder = folder.parent
            for folder in reversed(missing):
                folder.mkdir()
                made.append(folder)
            old.mkdir()
            for name in self.names:
                path = self.folder / name
                if path.is_dir() and not path.is_symlink():
                    raise IsADirectoryError(errno.EISDIR, "it is a folder")
                backup = None
                if path.exists() or path.is_symlink():
                    backup = old / name
                    os.replace(path, backup)
                moved.append((path, backup))
                os.replace(self._stage / name, path)
                _print(f"wrote {path}")
        except BaseException as exc:
            lost = False  # an old file that could not be put back
            for path_done, backup in reversed(moved):
                try:
                    if backup is None:
                        path_done.unlink(missing_ok=True)
                    else:
                        os.replace(backup, path_done)
                except OSError:
                    lost = lost or backup is not None
            for folder in reversed(made):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            if lost:  # keep the temporary folder: it holds the old files
                kept, self._stage = old, None
                raise CLIError(
                    f"cannot write '{path}': {_reason(exc) if isinstance(exc, OSError) else exc}"
                    f"; the previous outputs could not all be put back: they are in '{kept}'"
                ) from None
            if isinstance(exc, OSError):
                undone = " (the files already written were taken back)" if moved else ""
                raise CLIError(
                    f"cannot write '{path}': {_reason(exc)}; no output was replaced{undone}"
                ) from None
            raise


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


NO_DOT = (
    "drawing needs Graphviz's 'dot' program, which is not on PATH: install it, e.g. "
    "'apt-get install graphviz' (Debian/Ubuntu) or 'brew install graphviz' (macOS)"
)


def _require_dot() -> None:
    if shutil.which("dot") is None:
        raise CLIError(NO_DOT)


def _diverged(exc: Any) -> CLIError:
    """The one line a diverged training run (a ``TrainingDiverged``) ends with: moons, digits,
    train."""
    return CLIError(
        f"training diverged at step {exc.step}: {exc.reason}; try a smaller --lr "
        f"(this run used {exc.lr:g}); no output was written"
    )


def _load_model(path: Path) -> Any:
    from zdravkograd import nn

    try:
        model = nn.load(path)
    except Exception as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CLIError(f"cannot load the model '{path}': {reason}") from None
    # nn.load accepts NaN and infinite weights (a diverged run can be inspected in Python),
    # but every score such a model gives is meaningless: the command refuses it.
    for name, p in model.named_parameters():
        if not math.isfinite(p.data):
            raise CLIError(
                f"cannot use the model '{path}': its weight {name} is {p.data}, not a finite "
                "number (was it saved from a run that diverged?)"
            )
    return model


def _score(model: Any, inputs: Sequence[float], command: str) -> Value:
    """The model's output for one input, as one Value; a wrong input count is a usage error."""
    # The inputs count from 0, as the weights do: L0.n3.w0 multiplies x0.
    x = [Value(v, label=f"x{i}") for i, v in enumerate(inputs)]
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
    argv = _drop_separator_after_input(list(sys.argv[1:] if argv is None else argv))
    try:
        if argv[:1] == ["bench"]:
            return cmd_bench(argv[1:])
        parser = build_parser()
        args, unknown = parser.parse_known_args(argv)
        if unknown:
            _unknown_arguments(args.command, unknown)
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
    except BrokenPipeError:  # a reader that went away (stderr's): quiet, as if killed by SIGPIPE
        _silence_stdout()
        return 141
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
