"""The benchmark suite: its quick mode runs every variant and checks their losses.

No timing is asserted here (the machine is shared and noisy); the suite itself
prints and records the times.
"""

from __future__ import annotations

import gc
import re
import subprocess
import sys
from pathlib import Path

from conftest import require

from zdravkograd import bench

ROOT = Path(__file__).resolve().parent.parent


def test_quick_suite_runs_and_every_variant_agrees_with_micrograd(tmp_path):
    require("micrograd")
    require("torch")
    md, png = tmp_path / "benchmarks.md", tmp_path / "img" / "benchmarks.png"
    code = bench.main(["--quick", "--no-scaling", "--markdown", str(md), "--png", str(png)])
    assert code == 0
    text = md.read_text()
    for label, _ in bench.VARIANTS.values():
        row = next(line for line in text.splitlines() if line.startswith(f"| {label} |"))
        assert row.endswith("| ok |"), row
        assert "x |" in row  # a speed-up was computed
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_check_losses_flags_a_disagreeing_variant():
    status = bench.check_losses({"micrograd": 0.5, "a": 0.5 + 1e-12, "b": 0.5 + 1e-6, "c": None})
    assert status["micrograd"] == "ok" and status["a"] == "ok"
    assert status["b"].startswith("wrong") and status["c"].startswith("wrong")
    assert bench.check_losses({"a": 1.0})["a"].startswith("unchecked")


def test_a_wrong_variant_is_reported_without_a_time():
    rows = [
        {"key": "micrograd", "label": "micrograd", "ms": 100.0, "loss10": 0.5, "status": "ok"},
        {"key": "x", "label": "broken", "loss10": 0.7, "status": "wrong (loss 0.7 vs 0.5)"},
    ]
    table = bench._table(rows, 100.0)
    broken = next(line for line in table if line.startswith("| broken |"))
    assert "| - | - |" in broken and "wrong" in broken


def test_every_variant_gives_the_same_first_losses_in_process():
    require("micrograd")
    require("torch")
    cfg = bench.Config(quick=True)
    X, y = bench.moons(cfg.n_samples, quick=True)
    W = bench.initial_weights(cfg.sizes)
    firsts = {}
    for key, (_, factory) in bench.VARIANTS.items():
        step = factory(cfg, X, y, W)
        firsts[key] = [step(0.5), step(0.5)]
    ref = firsts["micrograd"]
    for key, losses in firsts.items():
        assert all(abs(a - b) <= 1e-12 for a, b in zip(losses, ref)), (key, losses, ref)


def test_scaling_memory_per_node_is_at_most_half_of_micrograds():
    require("micrograd")
    assert gc.isenabled()
    ours = bench.scaling_worker("zdravkograd", 3000)
    assert gc.isenabled()  # the worker pauses the collector and must switch it back on
    theirs = bench.scaling_worker("micrograd", 3000)
    assert ours["n"] == theirs["n"] == 3199  # the same random graph
    assert ours["bytes"] <= 0.5 * theirs["bytes"], (ours, theirs)


def test_wrapper_script_shows_help():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and "--quick" in out.stdout


def test_micrograd_step_script_checks_the_loss_and_prints_the_ratio():
    require("micrograd")
    require("sklearn")
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "micrograd_step.py"), "--repeats", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr  # a loss mismatch exits with an error
    lines = out.stdout.splitlines()
    assert lines[0].startswith("zdravkograd") and "ms/step" in lines[0]
    assert lines[1].startswith("micrograd") and "ms/step" in lines[1]
    assert re.fullmatch(r"zdravkograd is \d+\.\dx faster than micrograd 0\.1\.0", lines[2])


def test_targets_judge_linear_scaling_from_the_cost_per_node():
    def row(n, ns):
        return {"engine": "zdravkograd", "n": n, "ns_per_node": ns, "bytes": None}

    linear = bench._targets([], None, [row(10**3, 400.0), row(10**6, 900.0)], None)
    quadratic = bench._targets([], None, [row(10**3, 400.0), row(10**4, 4000.0)], None)
    assert any("linear scaling" in line and "| 2.2x | yes |" in line for line in linear)
    assert any("linear scaling" in line and "| 10.0x | **no** |" in line for line in quadratic)
