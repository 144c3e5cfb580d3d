"""`python -m build` makes a complete sdist and wheel; the wheel works in a bare venv.

The fresh venv has no system site-packages: pip installs the wheel and pulls NumPy (the
only runtime dependency) from the package index or pip's cache. Everything runs outside
the source tree, so nothing can be imported from the checkout by accident.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from test_extras import PROBE, check_probe

import zdravkograd

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
VERSION = zdravkograd.__version__
ASSETS = [f"zdravkograd/viz/assets/viewer.{ext}" for ext in ("html", "css", "js")]


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    from conftest import require

    require("build")
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def test_sdist_carries_the_sources_tests_docs_and_licence(dist):
    sdist = dist / f"zdravkograd-{VERSION}.tar.gz"
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for required in (
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "CHANGELOG.md",
        "Makefile",
        "mkdocs.yml",
        "zdravkograd/__init__.py",
        "zdravkograd/engine.py",
        "zdravkograd/cli.py",
        "zdravkograd/py.typed",
        "zdravkograd/viz/__init__.py",
        *ASSETS,
        "tests/conftest.py",
        "tests/test_seed.py",
        "docs/index.md",
        "examples/basic_autograd.py",
        "scripts/run_notebooks.py",  # tests/test_notebooks.py uses it
    ):
        assert required in names, required
    # Every package module in the checkout is in the sdist; no caches are.
    for path in (ROOT / "zdravkograd").rglob("*.py"):
        assert str(path.relative_to(ROOT)) in names, path
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def test_wheel_holds_the_whole_package_and_its_metadata(dist):
    wheel = dist / f"zdravkograd-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = zf.read(f"zdravkograd-{VERSION}.dist-info/METADATA").decode()
        entry_points = zf.read(f"zdravkograd-{VERSION}.dist-info/entry_points.txt").decode()
    for path in (ROOT / "zdravkograd").rglob("*.py"):
        assert str(path.relative_to(ROOT)) in names, path
    assert "zdravkograd/py.typed" in names
    # the names data set ships inside the package, with its provenance note
    assert {"zdravkograd/datasets/names.txt", "zdravkograd/datasets/README.md"} <= names
    for asset in ASSETS:  # the viewer's page, style sheet and script are package data
        assert asset in names, asset
    for asset in ("index.html", "lab.js", "lab.css"):  # the lab's page, as package data
        assert f"zdravkograd/lab/assets/{asset}" in names, asset
    assert not any(n.startswith(("tests/", "docs/")) for n in names)
    assert "zdravkograd = zdravkograd.cli:main" in entry_points
    requires = [line for line in meta.splitlines() if line.startswith("Requires-Dist:")]
    core = [r for r in requires if "extra ==" not in r]
    assert len(core) == 1 and "numpy" in core[0], core
    for extra in ("viz", "data", "cli", "torch", "lab"):
        assert f"Provides-Extra: {extra}" in meta
    # The MIT licence: declared, and its text shipped inside the wheel.
    assert "License-Expression: MIT" in meta
    licence = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    assert len(licence) == 1, sorted(names)
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read(licence[0]).decode().startswith("MIT License")


def test_changelog_has_a_section_for_this_version():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[{re.escape(VERSION)}\]", text, re.M), VERSION


def test_wheel_in_a_bare_venv_needs_only_numpy(dist, tmp_path):
    wheel = dist / f"zdravkograd-{VERSION}-py3-none-any.whl"
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    # Without PYTHONPATH: when it points at a checkout, the zdravkograd.egg-info that
    # building leaves there makes pip think zdravkograd is installed already.
    clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
        env=clean_env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    work = tmp_path / "elsewhere"  # not the source tree
    work.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            cwd=work,
            timeout=300,
            env={"PATH": "/usr/bin:/bin"},
        )

    installed = json.loads(run(str(py), "-m", "pip", "list", "--format=json").stdout)
    names = {p["name"].lower() for p in installed} - {"pip", "setuptools"}
    assert names == {"numpy", "zdravkograd"}, names

    proc = run(
        str(py), "-c", "import zdravkograd; print(zdravkograd.__version__, zdravkograd.__file__)"
    )
    assert proc.returncode == 0, proc.stderr
    version, location = proc.stdout.split()
    assert version == VERSION
    assert Path(location).is_relative_to(venv) and not Path(location).is_relative_to(ROOT)

    proc = run(str(venv / "bin" / "zdravkograd"), "--help")
    assert proc.returncode == 0, proc.stderr
    assert "moons" in proc.stdout and "predict" in proc.stdout

    # `zdravkograd bench` times zdravkograd's own modes with nothing but NumPy, and writes
    # no file unless asked.
    proc = run(str(venv / "bin" / "zdravkograd"), "bench", "--quick", "--variants", "batched")
    assert proc.returncode == 0, proc.stderr
    assert "| batched Values |" in proc.stdout and "| ok |" in proc.stdout
    assert list(work.iterdir()) == []

    # The installed package reads the viewer's files from itself (no graphviz needed here).
    page = (
        "from zdravkograd.viz.viewer import _render_page\n"
        "print(_render_page(title='T', svg='<svg></svg>', data='{}'))"
    )
    proc = run(str(py), "-c", page)
    assert proc.returncode == 0, proc.stderr
    assert "<title>T</title>" in proc.stdout and "JSON.parse" in proc.stdout
    assert "--current:" in proc.stdout and "__CSS__" not in proc.stdout

    proc = run(str(py), "-c", PROBE)
    assert proc.returncode == 0, proc.stderr
    check_probe(json.loads(proc.stdout))
