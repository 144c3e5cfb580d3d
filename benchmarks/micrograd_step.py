"""One training step of micrograd's moons demo, in zdravkograd and in micrograd 0.1.0.

Same data, same weights, same graph (about 65,000 nodes). Checks that both give
the same loss to 1e-12, then prints the median time of each and the ratio.
The garbage collector's settings are left exactly as Python ships them.

    python benchmarks/micrograd_step.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from importlib import metadata  # noqa: E402

try:
    _MICROGRAD = metadata.version("micrograd")
except metadata.PackageNotFoundError:
    sys.exit('micrograd is not installed: pip install "micrograd==0.1.0" (or make test)')
if _MICROGRAD != "0.1.0":
    sys.exit(f'micrograd {_MICROGRAD} is installed; the baseline is pip install "micrograd==0.1.0"')

import micrograd.engine as mg_engine  # noqa: E402
import micrograd.nn as mg_nn  # noqa: E402
from sklearn.datasets import make_moons  # noqa: E402

import zdravkograd.engine as zd_engine  # noqa: E402
import zdravkograd.nn as zd_nn  # noqa: E402


def moons_step(Value, model, X, y, lr=0.1):
    """micrograd's demo step: SVM max-margin loss + 1e-4 L2, backward, SGD."""
    inputs = [list(map(Value, row)) for row in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    total = data_loss + reg_loss
    model.zero_grad()
    total.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
    return total.data


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args(argv)
    X, y = make_moons(n_samples=100, noise=0.1, random_state=1337)
    y = y * 2 - 1
    random.seed(1337)
    zd = zd_nn.MLP(2, [16, 16, 1])
    mg = mg_nn.MLP(2, [16, 16, 1])
    for p, q in zip(zd.parameters(), mg.parameters()):
        q.data = p.data  # the same weights in both
    times = {"zdravkograd": [], "micrograd": []}
    for _ in range(args.repeats):  # interleaved, so that noise hits both alike
        t = time.perf_counter()
        a = moons_step(zd_engine.Value, zd, X, y)
        times["zdravkograd"].append(time.perf_counter() - t)
        t = time.perf_counter()
        b = moons_step(mg_engine.Value, mg, X, y)
        times["micrograd"].append(time.perf_counter() - t)
        if abs(a - b) > 1e-12 * max(1.0, abs(b)):
            sys.exit(f"losses differ: zdravkograd {a!r}, micrograd {b!r}")
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"{k:12s} {v * 1e3:8.1f} ms/step (median of {args.repeats})")
    ratio = med["micrograd"] / med["zdravkograd"]
    print(f"zdravkograd is {ratio:.1f}x faster than micrograd 0.1.0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
