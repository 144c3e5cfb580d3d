"""``zdravkograd bench``: how fast zdravkograd's own modes run one training step, here.

The workload is micrograd's moons demo: 100 points, ``MLP(2, [16, 16, 1])``, the SVM
max-margin loss plus ``1e-4`` L2, SGD with the learning rate ``1 - 0.9 k / 100``. It is
run five ways, all with the same weights and the same numbers:

* ``scalar``: one graph of float Values per sample, as in micrograd and the README;
* ``scalar-fast``: the same, inside ``zdravkograd.fast()`` (the cycle collector paused);
* ``batched``: one graph whose Values hold a column of 100 numbers;
* ``compiled-scalar`` and ``compiled-batched``: those graphs replayed by ``compile_step``.

Each variant runs in a fresh Python process (how long a step takes depends on what the
process holds, see ``docs/speed.md``), the processes are interleaved (A, B, C, ..., A, B,
C, ...), and ``--rounds`` processes run per variant. The table gives the median over the
processes of each process's median step, with the lowest and highest of them. The first
round also checks the numbers: every variant's loss after 10 steps must equal the scalar
one's to 1e-9 (relative), or it is reported as wrong and not timed.

This needs only zdravkograd and NumPy (the data are drawn with NumPy). It prints a table
and writes a file only when asked (``--markdown FILE``). The comparison with micrograd,
PyTorch and NumPy is not part of the package: it lives in the source tree's
``benchmarks/`` folder (``make bench``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zdravkograd._argtypes import Parser as _Parser
from zdravkograd._argtypes import positive_int

__all__ = ["main", "VARIANTS", "check_losses", "run_worker", "Config", "spread"]

TOLERANCE = 1e-9
CHECK_STEPS = 10


# ------------------------------------------------------------------ the workload


class Config:
    """Problem size: the demo's, or a small one for ``--quick``.

    The quick model has 8 units per layer: with 4, a hidden unit can sit exactly at a
    ReLU kink, where micrograd's result depends on the iteration order of its ``set``
    of operands (that is, on memory addresses) and changes from one run to the next.
    """

    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.n_samples = 20 if quick else 100
        self.sizes = [8, 8, 1] if quick else [16, 16, 1]
        self.alpha = 1e-4

    def as_args(self) -> list[str]:
        return ["--quick"] if self.quick else []


def moons(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two noisy interleaving half circles drawn with NumPy alone: X (n, 2), y in {-1, 1}."""
    rng = np.random.default_rng(1337)
    t = rng.uniform(0, np.pi, n)
    upper = np.arange(n) % 2 == 0
    half = np.where(
        upper[:, None], np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)]
    )
    return half + 0.1 * rng.standard_normal((n, 2)), np.where(upper, 1.0, -1.0)


def initial_weights(sizes: Sequence[int], nin: int = 2) -> list[np.ndarray]:
    """The same starting weights for all: per layer a matrix (nin+1, nout), bias in row 0."""
    rng = random.Random(1337)
    layers, fan_in = [], nin
    for nout in sizes:
        W = np.zeros((fan_in + 1, nout))
        for j in range(nout):
            for i in range(fan_in):
                W[i + 1, j] = rng.uniform(-1, 1)
        layers.append(W)
        fan_in = nout
    return layers


def learning_rate(k: int) -> float:
    return 1.0 - 0.9 * k / 100


Step = Callable[[float], float]  # step(lr) -> the loss before the update
Factory = Callable[["Config", np.ndarray, np.ndarray, list[np.ndarray]], Step]


def set_mlp(model: Any, weights: list[np.ndarray]) -> None:
    """Copy the weight matrices into a micrograd-style MLP (layers -> neurons -> w, b)."""
    for layer, W in zip(model.layers, weights):
        for j, neuron in enumerate(layer.neurons):
            neuron.b.data = float(W[0, j])
            for i, w in enumerate(neuron.w):
                w.data = float(W[i + 1, j])


def sgd(params: Sequence[Any], lr: float) -> None:
    for p in params:
        p.data -= lr * p.grad


def _model(cfg: Config, W: list[np.ndarray]) -> Any:
    from zdravkograd.nn import MLP

    model = MLP(2, cfg.sizes)
    set_mlp(model, W)
    return model


def scalar_loss(model: Any, rows: Any, ys: Any, alpha: Any) -> Any:
    """The per-sample scalar graph: one model call per sample, as in micrograd."""
    scores = [model(row) for row in rows]
    losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    return data_loss + alpha * sum(p * p for p in model.parameters())


def batched_loss(model: Any, columns: Any, y: Any, alpha: Any) -> Any:
    """The batched graph: the same scalar graph, each node a column of numbers."""
    score = model(columns)
    data_loss = (1 + -y * score).relu().mean()
    return data_loss + alpha * sum(p * p for p in model.parameters())


def make_scalar(cfg: Config, X: np.ndarray, y: np.ndarray, W: list[np.ndarray]) -> Step:
    from zdravkograd import Value

    model = _model(cfg, W)
    params = model.parameters()
    rows, ys = X.tolist(), y.tolist()

    def step(lr: float) -> float:
        inputs = [list(map(Value, row)) for row in rows]
        total = scalar_loss(model, inputs, ys, cfg.alpha)
        model.zero_grad()
        total.backward()
        sgd(params, lr)
        return float(total.data)

    return step


def make_scalar_fast(cfg: Config, X: np.ndarray, y: np.ndarray, W: list[np.ndarray]) -> Step:
    import zdravkograd

    inner = make_scalar(cfg, X, y, W)

    def step(lr: float) -> float:
        with zdravkograd.fast():
            return inner(lr)

    return step


def make_batched(cfg: Config, X: np.ndarray, y: np.ndarray, W: list[np.ndarray]) -> Step:
    from zdravkograd import Value

    model = _model(cfg, W)
    params = model.parameters()

    def step(lr: float) -> float:
        columns = [Value(X[:, 0]), Value(X[:, 1])]
        total = batched_loss(model, columns, y, cfg.alpha)
        model.zero_grad()
        total.backward()
        sgd(params, lr)
        return float(total.data)

    return step


def make_compiled_scalar(cfg: Config, X: np.ndarray, y: np.ndarray, W: list[np.ndarray]) -> Step:
    import zdravkograd

    model = _model(cfg, W)
    params = model.parameters()
    rows, ys = X.tolist(), y.tolist()
    compiled = zdravkograd.compile_step(model, scalar_loss, rows, ys, cfg.alpha)

    def step(lr: float) -> float:
        loss = compiled(rows, ys, cfg.alpha)
        sgd(params, lr)
        return loss

    return step


def make_compiled_batched(cfg: Config, X: np.ndarray, y: np.ndarray, W: list[np.ndarray]) -> Step:
    import zdravkograd

    model = _model(cfg, W)
    params = model.parameters()
    compiled = zdravkograd.compile_step(model, batched_loss, X, y, cfg.alpha)

    def step(lr: float) -> float:
        loss = compiled(X, y, cfg.alpha)
        sgd(params, lr)
        return loss

    return step


VARIANTS: dict[str, tuple[str, Factory]] = {
    "scalar": ("scalar (one graph per sample)", make_scalar),
    "scalar-fast": ("scalar, in fast()", make_scalar_fast),
    "batched": ("batched Values", make_batched),
    "compiled-scalar": ("compiled scalar (compile_step)", make_compiled_scalar),
    "compiled-batched": ("compiled batched (compile_step)", make_compiled_batched),
}
"""key -> (label for the table, factory(cfg, X, y, weights) -> step(lr) -> loss)."""


# ------------------------------------------------------------------- one worker


def run_worker(
    factory: Factory, cfg: Config, check: bool, budget: float, data: Any = None
) -> dict[str, Any]:
    """Set up one variant, optionally run the 10-step check, then time steps for ``budget`` s.

    ``data`` is ``(X, y)``; by default the NumPy moons of ``cfg.n_samples`` points.
    """
    X, y = data if data is not None else moons(cfg.n_samples)
    W = initial_weights(cfg.sizes)
    t0 = time.perf_counter()
    step = factory(cfg, X, y, W)
    result: dict[str, Any] = {"setup_s": time.perf_counter() - t0}
    k = 0
    if check:
        for k in range(CHECK_STEPS):
            step(learning_rate(k))
        result["loss10"] = step(learning_rate(CHECK_STEPS))  # the loss after 10 updates
        k = CHECK_STEPS + 1
    else:
        step(learning_rate(k))  # warm-up
        k = 1
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget and len(times) < 500):
        t = time.perf_counter()
        step(learning_rate(k % 100))
        times.append(time.perf_counter() - t)
        k += 1
    result["step_ms"] = [t * 1e3 for t in times]
    return result


def spawn(command: list[str]) -> dict[str, Any]:
    """Run a worker process; return the JSON object it printed last, or ``{"error": ...}``.

    The worker imports the same zdravkograd as this process (not one in its working folder).
    """
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = here + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    try:
        return dict(json.loads(lines[-1]))
    except ValueError:
        return {"error": f"unexpected output: {lines[-1][:80]}"}


def check_losses(losses: dict[str, float | None], reference: str) -> dict[str, str]:
    """'ok' or 'wrong (...)' per variant: its loss after 10 steps vs the reference's, to 1e-9."""
    ref = losses.get(reference)
    status = {}
    for name, loss in losses.items():
        if ref is None:
            status[name] = "unchecked (no reference loss)"
        elif loss is None or not math.isfinite(loss):
            status[name] = f"wrong (loss {loss})"
        elif abs(loss - ref) <= TOLERANCE * max(1.0, abs(ref)):
            status[name] = "ok"
        else:
            status[name] = f"wrong (loss {loss!r} vs {ref!r})"
    return status


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """(median, lowest, highest) of some measurements."""
    return statistics.median(values), min(values), max(values)


def fmt_ms(ms: float) -> str:
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 100 else f"{ms:.0f}"


def run_rounds(
    variants: Sequence[str],
    command: Callable[[str, bool], list[str]],
    rounds: int,
    log: Callable[[str], None] = print,
) -> dict[str, dict[str, Any]]:
    """Run ``rounds`` fresh processes per variant, interleaved; the first one checks.

    ``command(variant, check)`` is the worker's command line. Returns per variant
    ``{"loss10": ..., "medians": [per-process median ms], "error": ...}``.
    """
    results: dict[str, dict[str, Any]] = {v: {"medians": []} for v in variants}
    for r in range(rounds):
        shift = r % len(variants)
        for v in [*variants[shift:], *variants[:shift]]:
            res = results[v]
            if "error" in res:
                continue
            out = spawn(command(v, r == 0))
            if "error" in out:
                res["error"] = out["error"]
                continue
            if "loss10" in out:
                res["loss10"] = out["loss10"]
            res["medians"].append(statistics.median(out["step_ms"]))
            log(f"round {r + 1}/{rounds} {v:22s} {res['medians'][-1]:10.3f} ms")
    return results


# ----------------------------------------------------------------------- report


def table(rows: list[dict[str, Any]], base: str, base_label: str) -> list[str]:
    """A markdown table: per variant the median ms per step, the range, and the speed-up."""
    ref = next((r for r in rows if r["key"] == base and r.get("ms")), None)
    out = [
        f"| variant | ms / step (median) | lowest - highest | vs {base_label} "
        "| loss after 10 steps | check |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        loss = r.get("loss10")
        loss_s = f"{loss:.12f}" if isinstance(loss, float) else "-"
        if not r.get("ms"):
            out.append(f"| {r['label']} | - | - | - | {loss_s} | {r['status']} |")
            continue
        ratio = f"{ref['ms'] / r['ms']:,.1f}x" if ref else "-"
        span = f"{fmt_ms(r['low'])} - {fmt_ms(r['high'])}"
        out.append(
            f"| {r['label']} | {fmt_ms(r['ms'])} | {span} | {ratio} | {loss_s} | {r['status']} |"
        )
    return out


def summarise(
    results: dict[str, dict[str, Any]], labels: dict[str, str], reference: str
) -> list[dict[str, Any]]:
    """One row per variant: label, status (checked against ``reference``), ms, low, high."""
    ok = {v: r.get("loss10") for v, r in results.items() if "error" not in r}
    status = check_losses(ok, reference)
    rows = []
    for v, res in results.items():
        row: dict[str, Any] = {"key": v, "label": labels[v], "loss10": res.get("loss10")}
        if "error" in res:
            row["status"] = f"not run: {res['error']}"
        else:
            row["status"] = status[v]
            if status[v] == "ok" and res["medians"]:
                row["ms"], row["low"], row["high"] = spread(res["medians"])
        rows.append(row)
    return rows


def machine() -> str:
    return (
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )


# ------------------------------------------------------------------ command line


def positive_seconds(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (math.isfinite(x) and x > 0):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return x


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the table (and write it with ``--markdown``). 0, 1 or 2."""
    ap = _Parser(
        prog="zdravkograd bench",
        description="Time one training step of micrograd's moons demo in each of "
        "zdravkograd's modes, each in fresh processes; print medians and their range.",
    )
    ap.add_argument(
        "--rounds", type=positive_int, default=None, help="processes per variant (default 3)"
    )
    ap.add_argument(
        "--budget",
        type=positive_seconds,
        default=None,
        help="seconds of timing per process (default 1.0)",
    )
    ap.add_argument(
        "--variants", nargs="+", default=None, choices=list(VARIANTS), metavar="VARIANT"
    )
    ap.add_argument("--quick", action="store_true", help="a small problem, one short round")
    ap.add_argument("--markdown", type=Path, default=None, metavar="FILE", help="also write here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    cfg = Config(args.quick)

    if args.worker:  # inside a child process
        if args.worker not in VARIANTS:
            ap.error(f"unknown variant {args.worker!r}")
        res = run_worker(VARIANTS[args.worker][1], cfg, args.check, args.budget or 1.0)
        print(json.dumps(res))
        return 0

    if args.markdown is not None:  # fail now, not after minutes of timing
        folder = args.markdown.resolve().parent
        if not folder.is_dir():
            ap.error(f"argument --markdown: no folder {str(folder)!r} to write into")
    rounds = args.rounds or (1 if args.quick else 3)
    budget = args.budget or (0.05 if args.quick else 1.0)
    variants = list(dict.fromkeys(args.variants or VARIANTS))
    if "scalar" not in variants:
        variants.insert(0, "scalar")  # the reference for the check and the ratios

    def command(v: str, check: bool) -> list[str]:
        extra = ["--check"] if check else []
        worker = [sys.executable, "-m", "zdravkograd.bench", "--worker", v]
        return [*worker, "--budget", str(budget), *extra, *cfg.as_args()]

    print(f"{len(variants)} variants x {rounds} fresh processes, about {budget:g} s each")
    results = run_rounds(variants, command, rounds)
    rows = summarise(results, {v: VARIANTS[v][0] for v in variants}, "scalar")
    lines = table(rows, "scalar", "scalar")
    print()
    print("\n".join(lines))
    if args.markdown is not None:
        text = [
            "# zdravkograd bench",
            "",
            f"Machine: {machine()}.",
            "",
            f"One training step of micrograd's moons demo ({cfg.n_samples} points, "
            f"`MLP(2, {cfg.sizes})`), {rounds} fresh process(es) per variant, interleaved; "
            "median over the processes of each one's median step, and the lowest and "
            "highest of them.",
            "",
            *lines,
            "",
        ]
        try:
            args.markdown.write_text("\n".join(text), encoding="utf-8")
        except OSError as exc:
            reason = exc.strerror or exc
            print(
                f"zdravkograd bench: error: cannot write {str(args.markdown)!r}: {reason}",
                file=sys.stderr,
            )
            return 1
        print(f"wrote {args.markdown}")
    return 1 if any(r["status"].startswith("wrong") or "ms" not in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
