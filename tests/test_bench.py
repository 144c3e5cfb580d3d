"""The benchmarks: ``zdravkograd bench`` (installed: zdravkograd's own modes) and the suite in
``benchmarks/`` (``make bench``: against micrograd, PyTorch and NumPy, and the README's loops).

No timing is asserted here (the machine is shared and noisy); the quick modes run every
variant and check that their numbers agree.
"""

from __future__ import annotations

import ast
import gc
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require

from zdravkograd import bench

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str):
    """A module of benchmarks/ (not a package: the suite is not installed)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location(
        f"_bench_{name}", ROOT / "benchmarks" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "zdravkograd", "bench", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


# ------------------------------------------------------------ zdravkograd bench


def test_installed_bench_times_its_own_modes_and_writes_nothing(tmp_path):
    result = _cli("--quick", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for label, _ in bench.VARIANTS.values():
        row = next(line for line in result.stdout.splitlines() if line.startswith(f"| {label} |"))
        assert row.endswith("| ok |"), row
        assert re.search(r"\| [\d.]+ - [\d.]+ \|", row), row  # the range over processes
    assert "micrograd" not in result.stdout and "PyTorch" not in result.stdout
    assert list(tmp_path.iterdir()) == []  # no file unless asked


def test_installed_bench_writes_markdown_only_where_asked(tmp_path):
    result = _cli("--quick", "--variants", "batched", "--markdown", "out.md", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["out.md"]
    text = (tmp_path / "out.md").read_text()
    assert "| batched Values |" in text and "| scalar (one graph per sample) |" in text


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--rounds", "0"), "--rounds: expected a positive integer, got '0'"),
        (("--rounds", "-2"), "--rounds: expected a positive integer"),
        (("--budget", "-1"), "--budget: expected a number of seconds > 0, got '-1'"),
        (("--budget", "0"), "--budget: expected a number of seconds > 0"),
        (("--budget", "inf"), "--budget: expected a number of seconds > 0"),
        (("--variants", "micrograd"), "--variants: invalid choice: 'micrograd'"),
        (("--markdown", "no/such/dir/x.md"), "--markdown: no folder"),
    ],
)
def test_installed_bench_rejects_bad_values_with_a_usage_error(args, needle, tmp_path):
    result = _cli(*args, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], lines
    assert lines[0].startswith("zdravkograd bench: error:")
    assert result.stdout == "" and list(tmp_path.iterdir()) == []


def test_installed_bench_imports_nothing_beyond_numpy():
    """It must work after a plain install: no micrograd, torch, scikit-learn or matplotlib
    (tests/test_packaging.py also runs it in a venv holding only NumPy)."""
    tree = ast.parse((ROOT / "zdravkograd" / "bench.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"micrograd", "torch", "sklearn", "matplotlib", "autograd"}, imported


def test_check_losses_flags_a_disagreeing_variant():
    status = bench.check_losses(
        {"micrograd": 0.5, "a": 0.5 + 1e-12, "b": 0.5 + 1e-6, "c": None}, "micrograd"
    )
    assert status["micrograd"] == "ok" and status["a"] == "ok"
    assert status["b"].startswith("wrong") and status["c"].startswith("wrong")
    assert bench.check_losses({"a": 1.0}, "micrograd")["a"].startswith("unchecked")


def test_a_wrong_variant_is_reported_without_a_time():
    results = {
        "scalar": {"medians": [100.0, 90.0, 120.0], "loss10": 0.5},
        "x": {"medians": [1.0], "loss10": 0.7},
        "y": {"medians": [], "error": "boom"},
    }
    rows = bench.summarise(results, {"scalar": "scalar", "x": "broken", "y": "failed"}, "scalar")
    assert (rows[0]["ms"], rows[0]["low"], rows[0]["high"]) == (100.0, 90.0, 120.0)
    table = bench.table(rows, "scalar", "scalar")
    broken = next(line for line in table if line.startswith("| broken |"))
    assert "| - | - | - |" in broken and "wrong" in broken
    assert "not run: boom" in next(line for line in table if line.startswith("| failed |"))


def test_every_mode_gives_the_same_first_losses_in_process():
    cfg = bench.Config(quick=True)
    X, y = bench.moons(cfg.n_samples)
    W = bench.initial_weights(cfg.sizes)
    firsts = {
        key: [s(0.5), s(0.5)] for key, (_, f) in bench.VARIANTS.items() for s in [f(cfg, X, y, W)]
    }
    ref = firsts["scalar"]
    for key, losses in firsts.items():
        assert all(abs(a - b) <= 1e-12 for a, b in zip(losses, ref)), (key, losses, ref)


# ------------------------------------------------------------ the suite, benchmarks/


def test_quick_suite_runs_and_every_variant_agrees_with_micrograd(tmp_path):
    require("micrograd")
    require("torch")
    suite = _load("bench")
    md, png = tmp_path / "benchmarks.md", tmp_path / "img" / "benchmarks.png"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench.py"),
            "--quick",
            "--no-scaling",
            "--markdown",
            str(md),
            "--png",
            str(png),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    text = md.read_text()
    for label, _ in suite.VARIANTS.values():
        row = next(line for line in text.splitlines() if line.startswith(f"| {label} |"))
        assert row.endswith("| ok |"), row
        assert "x |" in row  # a speed-up was computed
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_suite_variant_gives_the_same_first_losses_in_process():
    require("micrograd")
    require("torch")
    suite = _load("bench")
    cfg = bench.Config(quick=True)
    X, y = suite.moons(cfg.n_samples, quick=True)
    W = bench.initial_weights(cfg.sizes)
    firsts = {}
    for key, (_, factory) in suite.VARIANTS.items():
        step = factory(cfg, X, y, W)
        firsts[key] = [step(0.5), step(0.5)]
    ref = firsts["micrograd"]
    for key, losses in firsts.items():
        assert all(abs(a - b) <= 1e-12 for a, b in zip(losses, ref)), (key, losses, ref)


def test_scaling_memory_per_node_is_at_most_half_of_micrograds():
    require("micrograd")
    suite = _load("bench")
    assert gc.isenabled()
    ours = suite.scaling_worker("zdravkograd", 3000)
    assert gc.isenabled()  # the worker pauses the collector and must switch it back on
    theirs = suite.scaling_worker("micrograd", 3000)
    assert ours["n"] == theirs["n"] == 3199  # the same random graph
    assert ours["bytes"] <= 0.5 * theirs["bytes"], (ours, theirs)


def test_suite_script_shows_help():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and "--quick" in out.stdout and "--readme-processes" in out.stdout


def test_make_bench_runs_the_suite():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^bench:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe and "benchmarks/bench.py" in recipe.group(1)


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
    suite = _load("bench")

    def row(n, ns):
        return {"engine": "zdravkograd", "n": n, "ns_per_node": ns, "bytes": None}

    linear = suite._targets([], None, [row(10**3, 400.0), row(10**6, 900.0)], None)
    quadratic = suite._targets([], None, [row(10**3, 400.0), row(10**4, 4000.0)], None)
    assert any("linear scaling" in line and "| 2.2x | yes |" in line for line in linear)
    assert any("linear scaling" in line and "| 10.0x | **no** |" in line for line in quadratic)


def test_targets_judge_the_readme_seed_example_against_10x():
    suite = _load("bench")
    seed = {"key": "scalar", "ratio": 8.0, "ratio_low": 7.5, "ratio_high": 8.5}
    lines = suite._targets([], None, [], None, [seed])
    assert any(
        "README's seed example" in ln and "8.0x (7.5x - 8.5x) | **no** |" in ln for ln in lines
    )
    seed.update(ratio=11.0)
    assert any("| yes |" in ln for ln in suite._targets([], None, [], None, [seed]))


# ------------------------------------------------------------ the README's loops


def test_readme_loops_are_the_readmes_own_code():
    speed = _load("readme_speed")
    readme = (ROOT / "README.md").read_text()
    scripts = speed.programs(readme, steps=100)
    seed, batched = speed.readme_blocks(readme)
    before, loop, after = speed.split_loop(seed)
    assert loop.startswith("for k in range(100):") and "total_loss.backward()" in loop
    assert "print(" in after and "make_moons" in before
    for key in ("scalar", "scalar-fast"):  # the README's lines, all of them
        assert all(line in scripts[key] for line in seed.splitlines()), key
    # the batched loop, after the seed example's data loading
    assert all(line in scripts["batched"] for line in (before + "\n" + batched).splitlines())
    mg = scripts["micrograd"]
    assert "from micrograd.engine import Value" in mg and "from micrograd.nn import MLP" in mg
    assert (
        mg.replace("micrograd.engine", "zdravkograd.engine").replace(
            "micrograd.nn", "zdravkograd.nn"
        )
        == scripts["scalar"]
    )
    assert "with zdravkograd.fast():\n    for k in range(100):" in scripts["scalar-fast"]
    assert (
        speed.timed("a = 1", "for k in range(100):\n    a += k", "", 3, "a", False).count(
            "range(3)"
        )
        == 1
    )


def test_readme_loops_run_in_fresh_processes_and_agree():
    require("micrograd")
    require("sklearn")
    speed = _load("readme_speed")
    results = speed.measure(list(speed.VARIANTS), processes=1, steps=2, log=lambda s: None)
    lines, rows = speed.report(results, steps=2)
    status = {r["key"]: r["status"] for r in rows}
    assert status == {
        "micrograd": "ok",
        "scalar": "ok",
        "scalar-fast": "ok",
        "batched": "ok (same loss in every process)",
    }, status
    assert all(r["n"] == 1 and r["low"] == r["ms"] == r["high"] for r in rows)
    assert rows[0]["ratio"] == 1.0 and len(lines) == 2 + len(rows)


def test_readme_report_flags_a_loss_that_differs_from_micrograds():
    speed = _load("readme_speed")
    results = {
        "micrograd": {"ms": [1000.0, 1100.0, 900.0], "loss": [0.5, 0.5, 0.5]},
        "scalar": {"ms": [100.0, 120.0, 80.0], "loss": [0.5, 0.5, 0.5]},
        "scalar-fast": {"ms": [50.0], "loss": [0.6]},
        "batched": {"ms": [2.0, 3.0], "loss": [0.1, 0.2]},
    }
    _, rows = speed.report(results, steps=100)
    by = {r["key"]: r for r in rows}
    assert by["scalar"]["ratio"] == 10.0
    assert (by["scalar"]["ratio_low"], by["scalar"]["ratio_high"]) == (900 / 120, 1100 / 80)
    assert by["scalar-fast"]["status"].startswith("wrong") and "ms" not in by["scalar-fast"]
    assert by["batched"]["status"].startswith("wrong")
