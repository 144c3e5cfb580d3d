"""The benchmark suite: ``python benchmarks/bench.py [--quick] [--rounds 5]`` (or ``make bench``).

A thin wrapper around :func:`zdravkograd.bench.main`, which does the work and
writes docs/benchmarks.md and docs/img/benchmarks.png; ``--help`` lists the options.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from zdravkograd.bench import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
