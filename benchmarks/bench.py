"""The benchmark suite: ``make bench`` (``python benchmarks/bench.py [--quick] [--rounds 5]``).

It compares zdravkograd with micrograd 0.1.0, PyTorch and NumPy, and is not part of the
installed package (``zdravkograd bench`` times zdravkograd's own modes only). It needs the
dev extras: micrograd, torch, scikit-learn, matplotlib.

1. **The README's loops** (``benchmarks/readme_speed.py``): the seed example and the batched
   loop exactly as the README has them, each in fresh processes, medians over several
   processes with the lowest and highest. These are the README's headline figures.
2. **One training step, nine ways**: micrograd's moons demo step (100 samples,
   ``MLP(2, [16, 16, 1])``, SVM max-margin loss + 1e-4 L2, SGD) in every variant. Each
   variant runs in fresh processes, interleaved (A, B, C, ..., A, B, C, ...), ``--rounds``
   processes each, every process timing steps for ``--budget`` seconds after a warm-up; the
   table gives the median over the processes of each process's median step, and the lowest
   and highest. The first round checks each variant's loss after 10 steps against
   micrograd's to 1e-9 (relative); a variant that disagrees is reported as wrong.
3. **Scaling**: the cost per node of building and back-propagating random graphs of 10^3 to
   10^6 nodes, and the peak memory per node (``tracemalloc``), zdravkograd vs micrograd.

Results go to ``docs/benchmarks.md`` and ``docs/img/benchmarks.png`` (``--markdown ''`` and
``--png ''`` only print). ``--quick`` is a small, fast version used by the tests.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's zdravkograd, also in the worker processes
sys.path.insert(0, str(ROOT / "benchmarks"))

import readme_speed  # noqa: E402

from zdravkograd import bench as zd_bench  # noqa: E402
from zdravkograd.bench import (  # noqa: E402
    Config,
    Step,
    fmt_ms,
    machine,
    positive_int,
    positive_seconds,
    run_rounds,
    run_worker,
    set_mlp,
    sgd,
    spawn,
    summarise,
    table,
)


def moons(n: int, quick: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The demo's data, scikit-learn's ``make_moons(n, noise=0.1, random_state=1337)`` with
    labels -1/+1; ``quick`` draws similar points with NumPy alone (no scikit-learn import in
    each of the many processes of the tests)."""
    if quick:
        return zd_bench.moons(n)
    from sklearn.datasets import make_moons  # the demo's own source of data

    X, y = make_moons(n_samples=n, noise=0.1, random_state=1337)
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64) * 2 - 1


def make_micrograd(cfg: Config, X: np.ndarray, y: np.ndarray, W: list[np.ndarray]) -> Step:
    from micrograd.engine import Value
    from micrograd.nn import MLP

    model = MLP(2, cfg.sizes)
    set_mlp(model, W)
    rows, ys = X.tolist(), y.tolist()

    def step(lr: float) -> float:
        inputs = [list(map(Value, row)) for row in rows]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = cfg.alpha * sum(p * p for p in model.parameters())
        total = data_loss + reg_loss
        model.zero_grad()
        total.backward()
        sgd(model.parameters(), lr)
        return float(total.data)

    return step


def make_torch_scalar(cfg: Config, X: np.ndarray, y: np.ndarray, W: list[np.ndarray]) -> Step:
    """PyTorch at scalar granularity: one 0-d float64 tensor per number, the same graph."""
    import torch

    torch.set_num_threads(1)  # tiny tensors: threads only add overhead on a busy box

    layers = []  # per layer, per neuron: (weights, bias) as 0-d tensors
    for Wl in W:
        neurons = []
        for j in range(Wl.shape[1]):
            w = [
                torch.tensor(float(Wl[i + 1, j]), dtype=torch.float64, requires_grad=True)
                for i in range(Wl.shape[0] - 1)
            ]
            b = torch.tensor(float(Wl[0, j]), dtype=torch.float64, requires_grad=True)
            neurons.append((w, b))
        layers.append(neurons)
    params = [p for neurons in layers for w, b in neurons for p in (*w, b)]
    rows, ys = X.tolist(), y.tolist()
    last = len(layers) - 1

    def model(x: list[Any]) -> Any:
        for li, neurons in enumerate(layers):
            out = []
            for w, b in neurons:
                act = b
                for wi, xi in zip(w, x):
                    act = act + wi * xi
                out.append(act if li == last else torch.relu(act))
            x = out
        return x[0]

    def step(lr: float) -> float:
        inputs = [[torch.tensor(v, dtype=torch.float64) for v in row] for row in rows]
        scores = [model(row) for row in inputs]
        losses = [torch.relu(1 + -yi * si) for yi, si in zip(ys, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        total: Any = data_loss + cfg.alpha * sum(p * p for p in params)
        return _torch_sgd_step(total, params, lr)

    return step


def _torch_sgd_step(total: Any, params: list[Any], lr: float) -> float:
    """Back-propagate a PyTorch loss and take a plain SGD step (both torch variants)."""
    import torch

    for p in params:
        p.grad = None
    total.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
    return float(total.item())


def make_torch_batched(cfg: Config, X: np.ndarray, y: np.ndarray, W: list[np.ndarray]) -> Step:
    """PyTorch as it is meant to be used: matrices, one op per layer."""
    import torch

    torch.set_num_threads(1)  # tiny tensors: threads only add overhead on a busy box

    weights = [torch.tensor(Wl[1:], dtype=torch.float64, requires_grad=True) for Wl in W]
    biases = [torch.tensor(Wl[0], dtype=torch.float64, requires_grad=True) for Wl in W]
    params = weights + biases
    Xt = torch.tensor(X, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64)

    def step(lr: float) -> float:
        h = Xt
        for i, (Wl, bl) in enumerate(zip(weights, biases)):
            h = h @ Wl + bl
            if i < len(weights) - 1:
                h = torch.relu(h)
        data_loss = torch.relu(1 - yt * h[:, 0]).mean()
        total: Any = data_loss + cfg.alpha * sum((p * p).sum() for p in params)
        return _torch_sgd_step(total, params, lr)

    return step


def make_numpy(cfg: Config, X: np.ndarray, y: np.ndarray, W: list[np.ndarray]) -> Step:
    """Hand-written NumPy forward and backward: the practical limit in Python."""
    weights = [Wl[1:].copy() for Wl in W]
    biases = [Wl[0].copy() for Wl in W]
    n = len(X)

    def step(lr: float) -> float:
        acts, pre = [X], []
        h = X
        for i, (Wl, bl) in enumerate(zip(weights, biases)):
            z = h @ Wl + bl
            pre.append(z)
            h = np.maximum(z, 0.0) if i < len(weights) - 1 else z
            acts.append(h)
        margin = 1.0 - y * h[:, 0]
        data_loss = np.maximum(margin, 0.0).mean()
        reg = sum(float((Wl * Wl).sum() + (bl * bl).sum()) for Wl, bl in zip(weights, biases))
        total = data_loss + cfg.alpha * reg
        # backward
        dh = np.where(margin > 0.0, -y / n, 0.0)[:, None]
        for i in range(len(weights) - 1, -1, -1):
            dz = dh if i == len(weights) - 1 else dh * (pre[i] > 0.0)
            gW = acts[i].T @ dz + 2 * cfg.alpha * weights[i]
            gb = dz.sum(axis=0) + 2 * cfg.alpha * biases[i]
            dh = dz @ weights[i].T
            weights[i] -= lr * gW
            biases[i] -= lr * gb
        return float(total)

    return step


VARIANTS: dict[str, tuple[str, Any]] = {
    "micrograd": ("micrograd 0.1.0 (scalar)", make_micrograd),
    "zd-scalar": ("zdravkograd scalar", zd_bench.make_scalar),
    "zd-scalar-fast": ("zdravkograd scalar, in fast()", zd_bench.make_scalar_fast),
    "zd-batched": ("zdravkograd batched", zd_bench.make_batched),
    "zd-compiled-scalar": ("zdravkograd compiled scalar", zd_bench.make_compiled_scalar),
    "zd-compiled-batched": ("zdravkograd compiled batched", zd_bench.make_compiled_batched),
    "torch-scalar": ("PyTorch, 0-d tensors (scalar)", make_torch_scalar),
    "torch-batched": ("PyTorch, batched tensors", make_torch_batched),
    "numpy": ("NumPy by hand", make_numpy),
}
"""key -> (label for the table, factory(cfg, X, y, weights) -> step(lr) -> loss)."""

REQUIRES = {"micrograd": "micrograd", "torch-scalar": "torch", "torch-batched": "torch"}


def available(variant: str) -> bool:
    module = REQUIRES.get(variant)
    if module is None:
        return True
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def worker_command(variant: str, check: bool, budget: float, cfg: Config) -> list[str]:
    extra = ["--check"] if check else []
    script = str(Path(__file__).resolve())
    return [
        sys.executable,
        script,
        "--worker",
        variant,
        "--budget",
        str(budget),
        *extra,
        *cfg.as_args(),
    ]


# ---------------------------------------------------------------------- scaling


def random_graph_ops(n: int, seed: int = 0) -> tuple[list[int], list[int], list[int]]:
    """A random DAG recipe of n nodes after 100 leaves: op codes and operand indices."""
    rng = np.random.default_rng(seed)
    total = n + 100
    ops = rng.integers(0, 3, size=n).tolist()  # 0: +, 1: *, 2: relu
    hi = np.arange(100, total)
    a = (rng.random(n) * hi).astype(np.int64).tolist()  # uniform over the earlier nodes
    b = (rng.random(n) * hi).astype(np.int64).tolist()
    return ops, a, b


def build_and_backward(Value: Any, recipe: tuple[list[int], list[int], list[int]]) -> Any:
    ops, a, b = recipe
    rng = random.Random(0)
    nodes = [Value(rng.uniform(0.5, 1.5) * rng.choice((-1, 1))) for _ in range(100)]
    append = nodes.append
    for op, i, j in zip(ops, a, b):
        if op == 0:
            append(nodes[i] + nodes[j])
        elif op == 1:
            append(nodes[i] * nodes[j % 100])  # times a leaf: no underflow to subnormals
        else:
            append(nodes[i].relu())
    root = nodes[-1]
    for v in nodes[-100:-1]:
        root = root + v
    root.backward()
    return nodes


# How much the cost per node may vary between 10^3 and 10^6 nodes and still count as
# linear growth: a quadratic step would multiply it by ~1000, cache misses on a large
# graph (and the n log n sort of the topological order) by about 2-3.
LINEAR_SLACK = 4.0


def scaling_worker(engine: str, n: int) -> dict[str, Any]:
    """Time per node of build + backward, and peak traced memory per node, for one size."""
    import gc
    import tracemalloc

    if engine == "micrograd":
        from micrograd.engine import Value
    else:
        from zdravkograd import Value
    recipe = random_graph_ops(n)
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()  # measure the engines, not the cycle collector (see docs/speed.md)
    try:
        elapsed = math.inf
        for _ in range(max(1, min(10, 300_000 // n))):  # small graphs: the best of a few runs
            t = time.perf_counter()
            nodes = build_and_backward(Value, recipe)
            elapsed = min(elapsed, time.perf_counter() - t)
            count = len(nodes) + 99  # and the 99 additions that sum up the last nodes
            del nodes
        gc.collect()
        mem = None
        if n <= 100_000:
            tracemalloc.start()
            nodes = build_and_backward(Value, recipe)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            del nodes
            mem = peak / count
    finally:  # this also runs inside other processes (the tests): leave the collector as found
        if was_enabled:
            gc.enable()
    return {"engine": engine, "n": count, "ns_per_node": elapsed / count * 1e9, "bytes": mem}


def boundary_worker() -> dict[str, Any]:
    """Time ``plot_decision_boundary`` on a 200 x 200 grid, if the viz module has it."""
    import matplotlib

    from zdravkograd.nn import MLP
    from zdravkograd.viz import plot_decision_boundary

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = moons(100)
    model = MLP(2, [16, 16, 1])
    span = max(X[:, 0].max() - X[:, 0].min(), X[:, 1].max() - X[:, 1].min()) + 2.0
    h = span / 200  # about 200 x 200 grid points (with the usual margin of 1 on each side)
    fig, ax = plt.subplots()
    t = time.perf_counter()
    out = plot_decision_boundary(model, X, y, ax=ax, h=h)
    elapsed = time.perf_counter() - t
    plt.close(fig)
    if out is None and not ax.collections and not ax.images:
        return {"error": "plot_decision_boundary drew nothing (not implemented yet?)"}
    return {"seconds": elapsed, "h": h}


def _plot(rows: list[dict[str, Any]], base_ms: float | None, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    timed = [r for r in rows if r.get("ms")]
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(timed) + 1.4))
    names = [r["label"] for r in timed][::-1]
    values = [r["ms"] for r in timed][::-1]
    colours = [
        "#c0392b"
        if r["key"] == "micrograd"
        else "#2471a3"
        if r["key"].startswith("zd")
        else "#7f8c8d"
        for r in timed
    ][::-1]
    ax.barh(names, values, color=colours)
    ax.set_xscale("log")
    ax.set_xlabel("milliseconds per training step (log scale, lower is better)")
    ax.set_title("One training step of micrograd's moons demo", fontsize=11)
    for i, v in enumerate(values):
        label = f" {fmt_ms(v)} ms" + (f"  ({base_ms / v:,.0f}x)" if base_ms else "")
        ax.text(v, i, label, va="center", fontsize=8)
    ax.set_xlim(min(values) / 2, max(values) * 30)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _targets(
    rows: list[dict[str, Any]],
    base_ms: float | None,
    scaling: list[dict[str, Any]],
    boundary: dict[str, Any] | None,
    readme: list[dict[str, Any]] | None = None,
) -> list[str]:
    """The speed targets of the project (issues 6 and 13), each with the measured figure."""
    ms = {r["key"]: r.get("ms") for r in rows}
    out = ["## Targets", "", "| target | measured | met |", "|---|---:|---|"]

    def add(target: str, value: float | None, text: str, ok: bool) -> None:
        out.append(
            f"| {target} | {text if value is not None else '-'} | "
            f"{('yes' if ok else '**no**') if value is not None else '-'} |"
        )

    def speedup(key: str) -> float | None:
        t = ms.get(key)
        return base_ms / t if base_ms and t else None

    seed = next((r for r in readme or [] if r["key"] == "scalar" and "ratio" in r), None)
    if seed is not None:
        add(
            "the README's seed example, fresh processes: >= 10x micrograd (gc untouched)",
            seed["ratio"],
            f"{seed['ratio']:,.1f}x ({seed['ratio_low']:,.1f}x - {seed['ratio_high']:,.1f}x)",
            seed["ratio"] >= 10,
        )
    for key, target, need in (
        ("zd-scalar", "scalar step >= 8x micrograd (gc untouched)", 8),
        ("zd-scalar-fast", "scalar step >= 20x micrograd inside fast()", 20),
        ("zd-batched", "batched step >= 300x micrograd", 300),
        ("zd-compiled-batched", "compiled batched step >= 1000x micrograd", 1000),
    ):
        x = speedup(key)
        add(target, x, f"{x:,.1f}x" if x else "", bool(x and x >= need))
    fast, torch_ms = ms.get("zd-scalar-fast"), ms.get("torch-scalar")
    if fast and torch_ms:
        add(
            "scalar step (fast()) faster than PyTorch scalar",
            1.0,
            f"{fast:.0f} vs {torch_ms:.0f} ms",
            fast < torch_ms,
        )
    comp, hand = ms.get("zd-compiled-batched"), ms.get("numpy")
    if comp and hand:
        add(
            "compiled batched within 10x of NumPy by hand",
            1.0,
            f"{comp / hand:.1f}x",
            comp <= 10 * hand,
        )
    per_node = [s["ns_per_node"] for s in scaling if s.get("engine") == "zdravkograd"]
    per_node = [t for t in per_node if t and math.isfinite(t)]
    if len(per_node) >= 2:  # linear growth: the cost per node stays (nearly) constant
        r = max(per_node) / min(per_node)
        add(
            f"linear scaling: cost per node within {LINEAR_SLACK:g}x over all graph sizes",
            r,
            f"{r:.1f}x",
            r <= LINEAR_SLACK,
        )
    mem = {s["engine"]: s["bytes"] for s in scaling if s.get("bytes")}
    if "zdravkograd" in mem and "micrograd" in mem:
        r = mem["zdravkograd"] / mem["micrograd"]
        add("memory per node <= half of micrograd's", r, f"{r:.2f} of micrograd's", r <= 0.5)
    if boundary and "seconds" in boundary:
        t = boundary["seconds"]
        add("plot_decision_boundary 200 x 200 < 1 s", t, f"{t:.2f} s", t < 1)
    return [*out, ""]


def _markdown(
    cfg: Config,
    rows: list[dict[str, Any]],
    base_ms: float | None,
    scaling: list[dict[str, Any]],
    boundary: dict[str, Any] | None,
    rounds: int,
    png_name: str | None,
    readme: tuple[list[str], list[dict[str, Any]], int, int] | None,
    load: tuple[float, float] | None = None,
) -> str:
    busy = ""
    if load is not None:
        busy = (
            f" Load average (1 minute) when the run started and ended: {load[0]:.1f} and "
            f"{load[1]:.1f}; on an idle machine it is near 0, and each unit above the number "
            "of CPUs is a job waiting for one."
        )
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python benchmarks/bench.py`); do not edit by hand.",
        f"Machine: {machine()}.{busy} Other jobs' load moves every figure, which is why "
        "each comes with the lowest and highest of its processes.",
        "",
    ]
    if readme is not None:
        table_lines, _, processes, steps = readme
        lines += [
            "## The README's loops, as a user runs them",
            "",
            "The README's own code, each variant a script run in a fresh Python process "
            f"({processes} processes per variant, interleaved; {steps} training steps each, "
            "the README has 100): the seed example with its blanks filled in (for micrograd "
            "with its `Value` and `MLP` imported from micrograd 0.1.0), the same inside "
            "`zdravkograd.fast()`, and the batched loop. Only the training loop is timed; "
            "a step is the loop's time over its steps, collector pauses included. The "
            "speed-up is the ratio of the medians; its range pairs the slowest and fastest "
            "processes. The seed example's final loss must equal micrograd's to 1e-9; the "
            "batched loop trains another model (new weights), and must give the same loss "
            "in every process. See [speed](speed.md) for why the process matters.",
            "",
            *table_lines,
            "",
        ]
    lines += [
        "## One training step, nine ways",
        "",
        f"One training step of micrograd's moons demo: {cfg.n_samples} samples, "
        f"`MLP(2, {cfg.sizes})`, SVM max-margin loss + 1e-4 L2, SGD, all variants from the "
        f"same weights. Each variant runs in {rounds} fresh process(es), interleaved with the "
        "others; a process times steps for a while after a warm-up; the table gives the "
        "median over the processes of each one's median step, and the lowest and highest. "
        "Each variant's loss after 10 steps is checked against micrograd's to 1e-9 "
        "(relative); a variant that disagrees is reported as wrong and not timed. The "
        "garbage collector is left alone except in the `fast()` row.",
        "",
        *table(rows, "micrograd", "micrograd"),
        "",
    ]
    if png_name:
        lines += [f"![milliseconds per step]({png_name})", ""]
    if not cfg.quick:  # the targets are about the full problem
        lines += _targets(rows, base_ms, scaling, boundary, readme[1] if readme else None)
    if scaling:
        lines += [
            "## Scaling",
            "",
            "Random graphs (`+`, `*`, `relu`, operands drawn uniformly from the earlier "
            "nodes; `*` multiplies by one of the 100 leaves), built and back-propagated with "
            "the cycle collector paused for both engines. A constant time per node means "
            "linear growth; random access over a large graph adds cache misses.",
            "",
            "| engine | nodes | ns per node (build + backward) | peak bytes per node |",
            "|---|---:|---:|---:|",
        ]
        for sc in scaling:
            if "error" in sc:
                lines.append(f"| {sc.get('engine', '?')} | - | error: {sc['error']} | - |")
                continue
            mem = f"{sc['bytes']:.0f}" if sc.get("bytes") else "-"
            lines.append(f"| {sc['engine']} | {sc['n']:,} | {sc['ns_per_node']:.0f} | {mem} |")
        lines.append("")
    if boundary is not None:
        lines += ["## Decision boundary", ""]
        if "seconds" in boundary:
            lines.append(
                f"`plot_decision_boundary` on a 200 x 200 grid: {boundary['seconds']:.3f} s."
            )
        else:
            lines.append(f"`plot_decision_boundary`: not measured ({boundary.get('error')}).")
        lines.append("")
    return "\n".join(lines)


def _load_average() -> float | None:
    """The 1-minute load average, or None where the system does not report one."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def main(argv: list[str] | None = None) -> int:
    """Run the suite; print the tables; write the markdown page and the chart. 0 or 1."""
    ap = argparse.ArgumentParser(
        prog="benchmarks/bench.py", description=__doc__.splitlines()[0] if __doc__ else None
    )
    ap.add_argument("--quick", action="store_true", help="small and fast (for the tests)")
    ap.add_argument("--rounds", type=positive_int, default=None, help="processes per variant (5)")
    ap.add_argument("--budget", type=positive_seconds, default=None, help="seconds per process")
    ap.add_argument("--variants", nargs="+", default=None, choices=list(VARIANTS))
    ap.add_argument("--no-scaling", action="store_true", help="skip the random-graph scaling")
    ap.add_argument(
        "--readme-processes",
        type=int,
        default=None,
        help="fresh processes per README loop (5; 0 skips them, the default with --quick)",
    )
    ap.add_argument(
        "--readme-steps", type=positive_int, default=100, help="steps per README loop (100)"
    )
    ap.add_argument("--markdown", default="docs/benchmarks.md", help="'' to skip writing")
    ap.add_argument("--png", default="docs/img/benchmarks.png", help="'' to skip the chart")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--scale", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--boundary", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    cfg = Config(args.quick)

    if args.worker or args.scale or args.boundary:  # inside a child process
        if args.worker:
            data = moons(cfg.n_samples, cfg.quick)
            factory = VARIANTS[args.worker][1]
            res = run_worker(factory, cfg, args.check, args.budget or 1.0, data)
        elif args.scale:
            res = scaling_worker(args.scale[0], int(args.scale[1]))
        else:
            res = boundary_worker()
        print(json.dumps(res))
        return 0

    load_start = _load_average()
    readme = None
    processes = args.readme_processes
    processes = (0 if args.quick else 5) if processes is None else processes
    if processes > 0:
        print(f"The README's loops: {processes} fresh processes each, {args.readme_steps} steps")
        results = readme_speed.measure(list(readme_speed.VARIANTS), processes, args.readme_steps)
        lines, readme_rows = readme_speed.report(results, args.readme_steps)
        readme = (lines, readme_rows, processes, args.readme_steps)

    rounds = args.rounds or (1 if args.quick else 5)
    budget = args.budget or (0.05 if args.quick else 1.5)
    variants = list(dict.fromkeys(["micrograd", *(args.variants or VARIANTS)]))
    missing = {v: f"{REQUIRES[v]} is not installed" for v in variants if not available(v)}
    runnable = [v for v in variants if v not in missing]
    print(f"One training step: {len(runnable)} variants x {rounds} fresh processes")
    results = run_rounds(runnable, lambda v, check: worker_command(v, check, budget, cfg), rounds)
    results.update({v: {"medians": [], "error": e} for v, e in missing.items()})
    results = {v: results[v] for v in variants}
    rows = summarise(results, {v: VARIANTS[v][0] for v in variants}, "micrograd")
    base = next((r.get("ms") for r in rows if r["key"] == "micrograd"), None)

    scaling: list[dict[str, Any]] = []
    if not args.no_scaling:
        sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000, 1_000_000]
        for n in sizes:
            for engine in ("zdravkograd", "micrograd"):
                if engine == "micrograd" and (n > 100_000 or not available("micrograd")):
                    continue
                script = str(Path(__file__).resolve())
                out = spawn([sys.executable, script, "--scale", engine, str(n)])
                out.setdefault("engine", engine)
                scaling.append(out)
    boundary = None
    if not args.quick:
        boundary = spawn([sys.executable, str(Path(__file__).resolve()), "--boundary"])

    png = "img/benchmarks.png" if args.png else None
    load = None if load_start is None else (load_start, _load_average() or 0.0)
    text = _markdown(cfg, rows, base, scaling, boundary, rounds, png, readme, load)
    print()
    print("\n".join(table(rows, "micrograd", "micrograd")))
    for sc in scaling:
        if "error" not in sc:
            mem = f"{sc['bytes']:.0f} B/node" if sc.get("bytes") else ""
            print(
                f"scaling {sc['engine']:12s} {sc['n']:>9,} nodes "
                f"{sc['ns_per_node']:8.0f} ns/node {mem}"
            )
    if boundary is not None:
        print("plot_decision_boundary 200x200:", boundary)
    if readme is not None:  # last, so that the headline figures end the output
        print()
        print("The README's loops, each in fresh processes (speed-up: ratio of the medians):")
        print("\n".join(readme[0]))
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(text)
    if args.png and any(r.get("ms") for r in rows):
        _plot(rows, base, Path(args.png))
    bad = [r for r in rows if r["status"].startswith("wrong")]
    bad += [r for r in (readme[1] if readme else []) if r["status"].startswith("wrong")]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
