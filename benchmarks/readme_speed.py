"""The README's speed figures, measured the way a user gets them.

    python benchmarks/readme_speed.py [--processes 5] [--steps 100]

Each variant is the README's own code, run as a script in a *fresh* Python process:

* ``micrograd``: the seed example with its blanks filled in (README, "Training a neural
  network"), with its two zdravkograd imports (``Value``, ``MLP``) pointed at micrograd 0.1.0;
* ``scalar``: that example as the README has it;
* ``scalar-fast``: the same, with its training loop inside ``with zdravkograd.fast():``;
* ``batched``: the README's batched loop (after the same data loading).

Only the training loop is timed (imports and data loading are not), and a step's cost is
the loop's time divided by its number of steps: what the user waits for, collector pauses
included. Variants are interleaved (A, B, C, D, A, B, ...) and run ``--processes`` times
each; the report gives the median over the processes and the lowest and highest. Every
run's final loss is checked against micrograd's (1e-9, relative).

``--steps`` shortens the loop (the README's has 100 steps; the learning-rate schedule stays
the README's), for a quicker look; the full figures use 100.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TOLERANCE = 1e-9
FENCE = re.compile(r"^```python\n(.*?)^```", re.M | re.S)

VARIANTS = {
    "micrograd": "micrograd 0.1.0, the seed example",
    "scalar": "zdravkograd, the seed example",
    "scalar-fast": "zdravkograd, the seed example in fast()",
    "batched": "zdravkograd, the batched loop",
}


def readme_blocks(text: str) -> tuple[str, str]:
    """(the seed example with its blanks filled in, the batched loop) from the README."""
    blocks = FENCE.findall(text)
    seed = [b for b in blocks if "make_moons" in b and "scores = list(map(model, inputs))" in b]
    batched = [b for b in blocks if "losses.hinge_loss(model(batch)" in b]
    if len(seed) != 1 or len(batched) != 1:
        raise SystemExit("README.md: cannot find the seed example and the batched loop")
    return seed[0], batched[0]


def split_loop(code: str) -> tuple[str, str, str]:
    """(before, the ``for k in range(100):`` loop, after) of a block."""
    lines = code.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("for k in range(100):"))
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].strip() and not lines[i][0].isspace()),
        len(lines),
    )
    return "\n".join(lines[:start]), "\n".join(lines[start:end]), "\n".join(lines[end:])


def timed(before: str, loop: str, after: str, steps: int, loss: str, fast: bool) -> str:
    """A script: ``before``, then the loop (``steps`` long) timed, then ``after``, then one
    JSON line with the loop's seconds and the final loss (the expression ``loss``)."""
    loop = loop.replace("for k in range(100):", f"for k in range({steps}):", 1)
    if fast:
        loop = "import zdravkograd\nwith zdravkograd.fast():\n" + "\n".join(
            "    " + line if line.strip() else line for line in loop.splitlines()
        )
    return "\n".join(
        [
            before,
            "import time as _bench_time",
            "_bench_t0 = _bench_time.perf_counter()",
            loop,
            "_bench_seconds = _bench_time.perf_counter() - _bench_t0",
            after,
            "import json as _bench_json",
            f"print(_bench_json.dumps({{'seconds': _bench_seconds, 'loss': float({loss})}}))",
            "",
        ]
    )


def programs(text: str, steps: int) -> dict[str, str]:
    """The script of each variant, built from the README's text."""
    seed, batched = readme_blocks(text)
    before, loop, after = split_loop(seed)
    imports = {
        "from zdravkograd.engine import Value": "from micrograd.engine import Value",
        "from zdravkograd.nn import MLP": "from micrograd.nn import MLP",
    }
    mg_before = before
    for ours, theirs in imports.items():
        if ours not in mg_before:
            raise SystemExit(f"README.md: the seed example no longer says {ours!r}")
        mg_before = mg_before.replace(ours, theirs)
    b_before, b_loop, b_after = split_loop(batched)
    return {
        "micrograd": timed(mg_before, loop, after, steps, "total_loss.data", fast=False),
        "scalar": timed(before, loop, after, steps, "total_loss.data", fast=False),
        "scalar-fast": timed(before, loop, after, steps, "total_loss.data", fast=True),
        # the batched loop runs after the seed example's data loading, as in the README
        "batched": timed(before + "\n" + b_before, b_loop, b_after, steps, "loss.data", False),
    }


def run(script: Path, cwd: str) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["MPLBACKEND"] = "Agg"
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=cwd
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    return dict(json.loads(lines[-1]))


def measure(
    variants: list[str], processes: int, steps: int, log: Any = print
) -> dict[str, dict[str, Any]]:
    """Per variant: ``ms`` (per-process ms per step), ``loss`` (each run's), or ``error``."""
    scripts = programs(README.read_text(encoding="utf-8"), steps)
    results: dict[str, dict[str, Any]] = {v: {"ms": [], "loss": []} for v in variants}
    with tempfile.TemporaryDirectory(prefix="zdravkograd-readme-") as tmp:
        paths = {}
        for v in variants:
            paths[v] = Path(tmp) / f"readme_{v.replace('-', '_')}.py"  # never micrograd.py
            paths[v].write_text(scripts[v], encoding="utf-8")
        for r in range(processes):
            shift = r % len(variants)
            for v in [*variants[shift:], *variants[:shift]]:
                res = results[v]
                if "error" in res:
                    continue
                out = run(paths[v], tmp)
                if "error" in out:
                    res["error"] = out["error"]
                    continue
                res["ms"].append(out["seconds"] / steps * 1e3)
                res["loss"].append(out["loss"])
                log(f"process {r + 1}/{processes} {v:12s} {res['ms'][-1]:10.2f} ms/step")
    return results


def report(results: dict[str, dict[str, Any]], steps: int) -> tuple[list[str], list[dict]]:
    """A markdown table (and its rows): median ms per step, range, speed-up vs micrograd."""
    ref_losses = results.get("micrograd", {}).get("loss") or []
    base = results.get("micrograd", {}).get("ms") or []
    rows = []
    for v, res in results.items():
        row: dict[str, Any] = {"key": v, "label": VARIANTS[v]}
        # The seed example is checked against micrograd's run of it. The batched loop
        # trains another model (the README draws new weights for it): its runs must agree.
        ref = (res["loss"] or [None])[0] if v == "batched" else (ref_losses or [None])[0]
        if "error" in res or not res["ms"]:
            row["status"] = f"not run: {res.get('error', 'no result')}"
        elif ref is None:
            row["status"] = "unchecked (micrograd did not run)"
        elif any(abs(x - ref) > TOLERANCE * max(1.0, abs(ref)) for x in res["loss"]):
            row["status"] = f"wrong (loss {res['loss'][0]!r} vs {ref!r})"
        else:
            row["status"] = "ok" if v != "batched" else "ok (same loss in every process)"
        if res["ms"] and not row["status"].startswith(("wrong", "not run")):
            row["ms"] = statistics.median(res["ms"])
            row["low"], row["high"] = min(res["ms"]), max(res["ms"])
            row["n"] = len(res["ms"])
            if base:
                row["ratio"] = statistics.median(base) / row["ms"]
                row["ratio_low"], row["ratio_high"] = (
                    min(base) / row["high"],
                    max(base) / row["low"],
                )
        rows.append(row)
    lines = [
        "| variant | processes | ms / step (median) | lowest - highest | "
        "speed-up vs micrograd (median) | speed-up range | check |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        if "ms" not in row:
            lines.append(f"| {row['label']} | - | - | - | - | - | {row['status']} |")
            continue
        ratio = f"{row['ratio']:,.1f}x" if "ratio" in row else "-"
        span = f"{row['ratio_low']:,.1f}x - {row['ratio_high']:,.1f}x" if "ratio" in row else "-"
        lines.append(
            f"| {row['label']} | {row['n']} | {row['ms']:,.1f} | "
            f"{row['low']:,.1f} - {row['high']:,.1f} | {ratio} | {span} | {row['status']} |"
        )
    return lines, rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--processes", type=int, default=5, help="fresh processes per variant (5)")
    ap.add_argument("--steps", type=int, default=100, help="training steps per process (100)")
    ap.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    args = ap.parse_args(argv)
    if args.processes < 1 or not 1 <= args.steps <= 100:
        ap.error("--processes must be >= 1 and --steps between 1 and 100")
    variants = list(dict.fromkeys(["micrograd", *args.variants]))
    results = measure(variants, args.processes, args.steps)
    lines, rows = report(results, args.steps)
    print()
    print("\n".join(lines))
    return 1 if any(r["status"].startswith(("wrong", "not run")) for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
