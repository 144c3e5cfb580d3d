"""Time ``zdravkograd digits`` with its defaults, each run in a fresh process.

    python benchmarks/digits.py [--runs 3] [-- extra digits flags]   (or: make bench-digits)

For every run: the wall-clock time of the whole command (Python start-up, imports, data,
training, pictures), the CPU time it used (user + system, from the OS), the training time
and the test accuracy it reports in ``metrics.json``. Then the median and the range of each.
The load average is printed too: on a shared machine the wall-clock time grows with it,
the CPU time much less.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_run(extra: list[str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "zdravkograd", "digits", "--quiet", "--out", out, *extra],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if result.returncode != 0:
            raise SystemExit(f"zdravkograd digits failed: {result.stderr.strip()}")
        metrics = json.loads((Path(out) / "metrics.json").read_text())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall s": wall,
        "cpu s": cpu,
        "training s": metrics["seconds"],
        "test accuracy %": 100 * metrics["test_accuracy"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh processes to time (3)")
    parser.add_argument("extra", nargs="*", help="flags for zdravkograd digits (after --)")
    args = parser.parse_args(argv)
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    runs = []
    for k in range(args.runs):
        runs.append(one_run(args.extra))
        print(f"run {k + 1}: " + ", ".join(f"{key} {v:.2f}" for key, v in runs[-1].items()))
    for key in runs[0]:
        values = [r[key] for r in runs]
        print(
            f"{key:>16}: median {statistics.median(values):.2f} "
            f"(min {min(values):.2f}, max {max(values):.2f})"
        )
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
