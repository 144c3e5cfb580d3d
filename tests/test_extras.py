"""The core needs only NumPy; each optional feature names the extra that installs it.

Here the optional packages are hidden with an import blocker in a subprocess, which is fast
and runs everywhere. tests/test_packaging.py proves the same in a real fresh venv with
nothing but the wheel and NumPy installed, running the same PROBE script.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPTIONAL = (
    "matplotlib",
    "graphviz",
    "sklearn",
    "torch",
    "tqdm",
    "starlette",
    "uvicorn",
    "websockets",
)
MODULES = (
    "zdravkograd",
    "zdravkograd.engine",
    "zdravkograd.autodiff",
    "zdravkograd.nn",
    "zdravkograd.losses",
    "zdravkograd.optim",
    "zdravkograd.data",
    "zdravkograd.train",
    "zdravkograd.viz",
    "zdravkograd.compiler",
    "zdravkograd.fastmode",
    "zdravkograd.torch_bridge",
    "zdravkograd.cli",
    "zdravkograd.lab",
    "zdravkograd.lab.session",
    "zdravkograd.lab.server",
    "zdravkograd.lab.cli",
)

# Prints one JSON object: which optional packages got imported, and for each feature
# either "ok" or the ImportError message it raised.
PROBE = textwrap.dedent(
    """
    import importlib, json, subprocess, sys
    MODULES = %r
    OPTIONAL = %r
    result = {}
    for name in MODULES:
        importlib.import_module(name)
    result["imported_optional"] = sorted(m for m in OPTIONAL if m in sys.modules)

    import numpy as np
    from zdravkograd import Value
    from zdravkograd.nn import MLP
    import random

    def attempt(name, fn):
        try:
            fn()
            result[name] = "ok"
        except ImportError as exc:
            result[name] = str(exc)

    def core():
        m = MLP(2, [4, 1], rng=random.Random(0))
        from zdravkograd.train import fit
        X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
        h = fit(m, X, [0, 1, 1, 0], steps=3)
        assert len(h["loss"]) == 3
        x = Value(2.0); y = x * x + x.tanh(); y.backward()
        assert x.grad > 4

    def draw():
        from zdravkograd.viz import draw_dot
        draw_dot(Value(1.0) * 2)

    def plot():
        from zdravkograd.viz import plot_history
        plot_history({"loss": [1.0, 0.5], "accuracy": [0.5, 1.0]})

    def moons():
        from zdravkograd.data import make_moons
        make_moons(10)

    def bridge():
        from zdravkograd.torch_bridge import to_torch
        to_torch(MLP(2, [2, 1], rng=random.Random(0)))

    attempt("core", core)
    attempt("draw_dot", draw)
    attempt("plot_history", plot)
    attempt("make_moons", moons)
    def lab():
        from zdravkograd.lab import create_app
        create_app()

    attempt("to_torch", bridge)
    attempt("lab", lab)
    cli = subprocess.run([sys.executable, "-m", "zdravkograd", "moons", "--out", "probe-out"],
                         capture_output=True, text=True)
    result["cli_moons"] = [cli.returncode, cli.stderr.strip()]
    cli = subprocess.run([sys.executable, "-m", "zdravkograd", "lab", "--no-browser",
                          "--port", "0"], capture_output=True, text=True, timeout=60)
    result["cli_lab"] = [cli.returncode, cli.stderr.strip()]
    cli = subprocess.run([sys.executable, "-m", "zdravkograd", "--help"],
                         capture_output=True, text=True)
    result["cli_help"] = [cli.returncode, cli.stdout]
    print(json.dumps(result))
    """
) % (MODULES, OPTIONAL)

# Hides the optional packages, as if they were not installed (also in child processes,
# through sitecustomize on PYTHONPATH).
BLOCKER = textwrap.dedent(
    """
    import sys
    from importlib.abc import MetaPathFinder

    class HideOptional(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in %r:
                raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)")
            return None

    sys.meta_path.insert(0, HideOptional())
    """
) % (OPTIONAL,)

EXPECTED_EXTRA = {
    "draw_dot": "viz",
    "plot_history": "viz",
    "make_moons": "data",
    "to_torch": "torch",
    "lab": "lab",
}


def check_probe(result: dict) -> None:
    """The assertions shared with tests/test_packaging.py."""
    assert result["imported_optional"] == []
    assert result["core"] == "ok"
    for feature, extra in EXPECTED_EXTRA.items():
        message = result[feature]
        assert f'pip install "zdravkograd[{extra}]"' in message, (feature, message)
    code, err = result["cli_moons"]
    assert code == 1
    assert err.startswith("zdravkograd: error:") and "\n" not in err
    assert 'pip install "zdravkograd[' in err and "Traceback" not in err
    code, err = result["cli_lab"]
    assert code == 1 and "\n" not in err and "Traceback" not in err
    assert err.startswith("zdravkograd: error:") and 'pip install "zdravkograd[lab]"' in err
    code, out = result["cli_help"]
    assert code == 0 and "moons" in out


def test_core_works_and_features_name_their_extra_when_optional_packages_are_missing(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    env = {"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert proc.returncode == 0, proc.stderr
    check_probe(json.loads(proc.stdout))


def test_importing_every_module_imports_no_optional_package():
    """Even when the optional packages are installed, `import` leaves them alone."""
    code = (
        f"import importlib, sys\nfor m in {MODULES!r}: importlib.import_module(m)\n"
        f"print(sorted(m for m in {OPTIONAL!r} if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_pyproject_declares_the_extras():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["requires-python"] == ">=3.11"  # tomllib (here and in the tools) is 3.11+
    assert [d.split(">")[0].split("=")[0] for d in meta["dependencies"]] == ["numpy"]
    extras = meta["optional-dependencies"]
    names = {k: {d.split(">")[0].split("=")[0].split("[")[0] for d in v} for k, v in extras.items()}
    assert {"matplotlib", "graphviz"} <= names["viz"]
    assert "scikit-learn" in names["data"]
    assert "torch" in names["torch"]
    assert "tqdm" in names["cli"]
    assert {"starlette", "uvicorn", "websockets"} <= names["lab"]
    assert "zdravkograd[viz,data,cli,lab]" in extras["all"]
    assert meta["scripts"]["zdravkograd"] == "zdravkograd.cli:main"
