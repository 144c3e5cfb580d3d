"""The benchmark suite: one training step of micrograd's moons demo, nine ways.

The workload is the one of micrograd's demo: ``make_moons(n_samples=100, noise=0.1)``,
``MLP(2, [16, 16, 1])``, SVM max-margin loss plus ``1e-4`` L2, SGD with the demo's
learning rate ``1 - 0.9 k / 100``. Every variant starts from the same weights.

How it measures (``python -m zdravkograd.bench``, ``make bench``, ``zdravkograd bench``):

* each variant runs in a fresh Python process (imports and garbage differ per library),
  the processes are interleaved (variant A, B, C, ..., A, B, C, ...), and several such
  rounds are made; a process times steps for about a second, the table shows medians;
* the first round also checks correctness: each variant's loss after 10 steps must equal
  micrograd's to 1e-9 (relative). A variant that disagrees is reported as *wrong* and its
  time is not shown;
* scaling: the cost per node of building and back-propagating random graphs of 10^3 to
  10^6 nodes, and the peak memory per node (``tracemalloc``), zdravkograd vs micrograd.

Results go to ``docs/benchmarks.md`` and ``docs/img/benchmarks.png``. ``--quick`` is a
small, fast version (fewer samples, smaller model, one round) used by the tests.
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

__all__ = ["main", "VARIANTS", "check_losses", "run_worker"]

TOLERANCE = 1e-9
CHECK_STEPS = 10


# ------------------------------------------------------------------ the workload


class Config:
    """Problem size: the full demo, or a small one for ``--quick``.

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


def moons(n: int, quick: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The demo's data: (X of shape (n, 2), y in {-1, 1} as floats).

    ``quick`` draws similar points with NumPy alone, sparing each process the import of
    scikit-learn (the tests' quick mode spawns many).
    """
    if quick:
        rng = np.random.default_rng(1337)
        t = rng.uniform(0, np.pi, n)
        upper = np.arange(n) % 2 == 0
        half = np.where(
            upper[:, None], np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)]
        )
        return half + 0.1 * rng.standard_normal((n, 2)), np.where(upper, 1.0, -1.0)
    data: Any
    try:
        from sklearn.datasets import make_moons  # the demo's own source of data
    except ImportError:  # pragma: no cover - sklearn is in the dev extras
        from zdravkograd.data import make_moons as zd_moons

        data = zd_moons(n_samples=n, noise=0.1, seed=1337)
    else:
        data = make_moons(n_samples=n, noise=0.1, random_state=1337)
    X, y = data
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64) * 2 - 1


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


def _set_mlp(model: Any, weights: list[np.ndarray]) -> None:
    """Copy the weight matrices into a micrograd-style MLP (layers -> neurons -> w, b)."""
    for layer, W in zip(model.layers, weights):
        for j, neuron in enumerate(layer.neurons):
            neuron.b.data = float(W[0, j])
            for i, w in enumerate(neuron.w):
                w.data = float(W[i + 1, j])


def _sgd(params: Sequence[Any], lr: float) -> None:
    for p in params:
        p.data -= lr * p.grad


def make_micrograd(cfg: Config, X: np.ndarray, y: np.ndarray, W: list[np.ndarray]) -> Step:
    from micrograd.engine import Value
    from micrograd.nn import MLP

    model = MLP(2, cfg.sizes)
    _set_mlp(model, W)
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
        _sgd(model.parameters(), lr)
        return float(total.data)

    return step


def _zd_model(cfg: Config, W: list[np.ndarray]) -> Any:
    from zdravkograd.nn import MLP

    model = MLP(2, cfg.sizes)
    _set_mlp(model, W)
    return model


def _scalar_loss(model: Any, rows: Any, ys: Any, alpha: Any) -> Any:
    """The per-sample scalar graph: one model call per sample, as in micrograd."""
    scores = [model(row) for row in rows]
    losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    return data_loss + alpha * sum(p * p for p in model.parameters())


def _batched_loss(model: Any, columns: Any, y: Any, alpha: Any) -> Any:
    """The batched graph: the same scalar graph, each node a column of 100 numbers."""
    score = model(columns)
    data_loss = (1 + -y * score).relu().mean()
    return data_loss + alpha * sum(p * p for p in model.parameters())


def make_zd_scalar(cfg: Config, X: np.ndarray, y: np.ndarray, W: list[np.ndarray]) -> Step:
    from zdravkograd import Value

    model = _zd_model(cfg, W)
    params = model.parameters()
    rows, ys = X.tolist(), y.tolist()

    def step(lr: float) -> float:
        inputs = [list(map(Value, row)) for row in rows]
        total = _scalar_loss(model, inputs, ys, cfg.alpha)
        model.zero_grad()
        total.backward()
        _sgd(params, lr)
        return float(total.data)

    return step


def make_zd_scalar_fast(cfg: Config, X: np.ndarray, y: np.ndarray, W: list[np.ndarray]) -> Step:
    import zdravkograd

    inner = make_zd_scalar(cfg, X, y, W)

    def step(lr: float) -> float:
        with zdravkograd.fast():
            return inner(lr)

    return step


def make_zd_batched(cfg: Config, X: np.ndarray, y: np.ndarray, W: list[np.ndarray]) -> Step:
    from zdravkograd import Value

    model = _zd_model(cfg, W)
    params = model.parameters()

    def step(lr: float) -> float:
        columns = [Value(X[:, 0]), Value(X[:, 1])]
        total = _batched_loss(model, columns, y, cfg.alpha)
        model.zero_grad()
        total.backward()
        _sgd(params, lr)
        return float(total.data)

    return step


def make_zd_compiled_scalar(cfg: Config, X: np.ndarray, y: np.ndarray, W: list[np.ndarray]) -> Step:
    import zdravkograd

    model = _zd_model(cfg, W)
    params = model.parameters()
    rows, ys = X.tolist(), y.tolist()
    compiled = zdravkograd.compile_step(model, _scalar_loss, rows, ys, cfg.alpha)

    def step(lr: float) -> float:
        loss = compiled(rows, ys, cfg.alpha)
        _sgd(params, lr)
        return loss

    return step


def make_zd_compiled_batched(
    cfg: Config, X: np.ndarray, y: np.ndarray, W: list[np.ndarray]
) -> Step:
    import zdravkograd

    model = _zd_model(cfg, W)
    params = model.parameters()
    compiled = zdravkograd.compile_step(model, _batched_loss, X, y, cfg.alpha)

    def step(lr: float) -> float:
        loss = compiled(X, y, cfg.alpha)
        _sgd(params, lr)
        return loss

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


VARIANTS: dict[str, tuple[str, Callable[..., Step]]] = {
    "micrograd": ("micrograd 0.1.0 (scalar)", make_micrograd),
    "zd-scalar": ("zdravkograd scalar", make_zd_scalar),
    "zd-scalar-fast": ("zdravkograd scalar, in fast()", make_zd_scalar_fast),
    "zd-batched": ("zdravkograd batched", make_zd_batched),
    "zd-compiled-scalar": ("zdravkograd compiled scalar", make_zd_compiled_scalar),
    "zd-compiled-batched": ("zdravkograd compiled batched", make_zd_compiled_batched),
    "torch-scalar": ("PyTorch, 0-d tensors (scalar)", make_torch_scalar),
    "torch-batched": ("PyTorch, batched tensors", make_torch_batched),
    "numpy": ("NumPy by hand", make_numpy),
}
"""key -> (label for the table, factory(cfg, X, y, weights) -> step(lr) -> loss)."""

REQUIRES = {"micrograd": "micrograd", "torch-scalar": "torch", "torch-batched": "torch"}


# ------------------------------------------------------------------- one worker


def run_worker(variant: str, cfg: Config, check: bool, budget: float) -> dict[str, Any]:
    """Set up one variant, optionally run the 10-step check, then time steps for ``budget`` s."""
    X, y = moons(cfg.n_samples, cfg.quick)
    W = initial_weights(cfg.sizes)
    t0 = time.perf_counter()
    step = VARIANTS[variant][1](cfg, X, y, W)
    result: dict[str, Any] = {"variant": variant, "setup_s": time.perf_counter() - t0}
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


def _spawn(args: list[str]) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "zdravkograd.bench", *args]
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    return dict(json.loads(lines[-1]))


def available(variant: str) -> bool:
    module = REQUIRES.get(variant)
    if module is None:
        return True
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def check_losses(losses: dict[str, float | None], reference: str = "micrograd") -> dict[str, str]:
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


# ----------------------------------------------------------------------- report


def _fmt_ms(ms: float) -> str:
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 100 else f"{ms:.0f}"


def _table(rows: list[dict[str, Any]], base_ms: float | None) -> list[str]:
    out = [
        "| variant | ms / step (median) | speed-up vs micrograd | loss after 10 steps | check |",
        "|---|---:|---:|---:|---|",
    ]
    for r in rows:
        ms = r.get("ms")
        loss = r.get("loss10")
        loss_s = f"{loss:.12f}" if isinstance(loss, float) else "-"
        if ms is None:
            out.append(f"| {r['label']} | - | - | {loss_s} | {r['status']} |")
            continue
        ratio = f"{base_ms / ms:,.1f}x" if base_ms else "-"
        out.append(f"| {r['label']} | {_fmt_ms(ms)} | {ratio} | {loss_s} | {r['status']} |")
    return out


def _plot(rows: list[dict[str, Any]], base_ms: float | None, path: Path) -> None:
    from zdravkograd._optional import require_extra

    matplotlib = require_extra("matplotlib", "viz", "the benchmark chart")
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
        label = f" {_fmt_ms(v)} ms" + (f"  ({base_ms / v:,.0f}x)" if base_ms else "")
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
) -> list[str]:
    """The speed targets of the project (issue 6), each with the measured figure."""
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
) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m zdravkograd.bench`); do not edit by hand.",
        f"Machine: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        f"One training step of micrograd's moons demo: {cfg.n_samples} samples, "
        f"`MLP(2, {cfg.sizes})`, SVM max-margin loss + 1e-4 L2, SGD. Each variant runs in its "
        f"own process, interleaved with the others, {rounds} round(s); the time is the median "
        "over all timed steps. Each variant's loss after 10 steps is checked against "
        "micrograd's to 1e-9 (relative); a variant that disagrees is reported as wrong and "
        "not timed. The garbage collector is left alone except in the `fast()` row.",
        "",
        *_table(rows, base_ms),
        "",
    ]
    if png_name:
        lines += [f"![milliseconds per step]({png_name})", ""]
    if not cfg.quick:  # the targets are about the full problem
        lines += _targets(rows, base_ms, scaling, boundary)
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
        for s in scaling:
            if "error" in s:
                lines.append(f"| {s.get('engine', '?')} | - | error: {s['error']} | - |")
                continue
            mem = f"{s['bytes']:.0f}" if s.get("bytes") else "-"
            lines.append(f"| {s['engine']} | {s['n']:,} | {s['ns_per_node']:.0f} | {mem} |")
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite; print the table; write the markdown page and the chart. Returns 0 or 1."""
    ap = argparse.ArgumentParser(
        prog="zdravkograd bench", description=__doc__.splitlines()[0] if __doc__ else None
    )
    ap.add_argument("--quick", action="store_true", help="small and fast (for tests)")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 5)")
    ap.add_argument("--budget", type=float, default=None, help="seconds of timing per process")
    ap.add_argument("--variants", nargs="*", default=None, choices=list(VARIANTS))
    ap.add_argument("--no-scaling", action="store_true", help="skip the random-graph scaling")
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
            res = run_worker(args.worker, cfg, args.check, args.budget or 1.0)
        elif args.scale:
            res = scaling_worker(args.scale[0], int(args.scale[1]))
        else:
            res = boundary_worker()
        print(json.dumps(res))
        return 0

    rounds = args.rounds or (1 if args.quick else 5)
    budget = args.budget or (0.05 if args.quick else 1.5)
    variants = args.variants or list(VARIANTS)
    if "micrograd" not in variants:
        variants = ["micrograd", *variants]
    results: dict[str, dict[str, Any]] = {
        v: {"key": v, "label": VARIANTS[v][0], "times": []} for v in variants
    }
    for v in variants:
        if not available(v):
            results[v]["error"] = f"{REQUIRES[v]} is not installed"
    for r in range(rounds):
        order = variants[r % len(variants) :] + variants[: r % len(variants)]
        for v in order:
            res = results[v]
            if "error" in res:
                continue
            extra = ["--check"] if r == 0 else []
            out = _spawn(["--worker", v, "--budget", str(budget), *extra, *cfg.as_args()])
            if "error" in out:
                res["error"] = out["error"]
                continue
            if "loss10" in out:
                res["loss10"] = out["loss10"]
            res["times"].extend(out["step_ms"])
            print(
                f"round {r + 1}/{rounds} {v:22s} {statistics.median(out['step_ms']):10.3f} ms",
                flush=True,
            )
    status = check_losses(
        {v: results[v].get("loss10") for v in variants if "error" not in results[v]}
    )
    rows = []
    for v in variants:
        res = results[v]
        row = {"key": v, "label": res["label"], "loss10": res.get("loss10")}
        if "error" in res:
            row["status"] = f"not run: {res['error']}"
        else:
            row["status"] = status[v]
            if status[v] == "ok":
                row["ms"] = statistics.median(res["times"])
        rows.append(row)
    base = next((r.get("ms") for r in rows if r["key"] == "micrograd"), None)

    scaling: list[dict[str, Any]] = []
    if not args.no_scaling:
        sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000, 1_000_000]
        for n in sizes:
            for engine in ("zdravkograd", "micrograd"):
                if engine == "micrograd" and (n > 100_000 or not available("micrograd")):
                    continue
                out = _spawn(["--scale", engine, str(n)])
                out.setdefault("engine", engine)
                scaling.append(out)
    boundary = None if args.quick else _spawn(["--boundary"])

    text = _markdown(
        cfg, rows, base, scaling, boundary, rounds, "img/benchmarks.png" if args.png else None
    )
    print()
    print("\n".join(_table(rows, base)))
    for s in scaling:
        if "error" not in s:
            mem = f"{s['bytes']:.0f} B/node" if s.get("bytes") else ""
            print(
                f"scaling {s['engine']:12s} {s['n']:>9,} nodes "
                f"{s['ns_per_node']:8.0f} ns/node {mem}"
            )
    if boundary is not None:
        print("plot_decision_boundary 200x200:", boundary)
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(text)
    if args.png and any(r.get("ms") for r in rows):
        _plot(rows, base, Path(args.png))
    wrong = [r for r in rows if r["status"].startswith("wrong")]
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
