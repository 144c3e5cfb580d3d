"""The two notebooks run top to bottom, and show what their prose promises.

Each notebook is executed with nbclient in a fresh kernel, in a temporary working
directory, and the test then reads the executed notebook's outputs: the printed
accuracy, the SVG from ``draw_dot``, the plots, the HTML viewer file.

The kernel is started from a kernelspec written into the test's temporary directory,
whose command is *this* interpreter (``sys.executable``). So the notebooks always run
in the venv that runs pytest, whatever kernels (or none) Jupyter finds elsewhere on the
machine: a user-wide ``python3`` kernel pointing at another Python cannot hijack the test.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import require, require_program

pytestmark = pytest.mark.notebook

nbformat = require("nbformat")
nbclient = require("nbclient")
require("ipykernel")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ["learning.ipynb", "moons.ipynb"]
KERNEL = "zdravkograd-test"
CELL_TIMEOUT = 300  # seconds per cell; moons.ipynb as a whole takes well under 2 minutes


def _kernel_manager(tmp_path: Path) -> Any:
    """A KernelManager that launches ``sys.executable -m ipykernel_launcher``."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    kernels = tmp_path / "kernels"
    spec_dir = kernels / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "zdravkograd test kernel",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    specs = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)


def _execute(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run the notebook ``name`` top to bottom in ``tmp_path/work``; return it with outputs."""
    nb = nbformat.read(ROOT / name, as_version=4)
    work = tmp_path / "work"
    work.mkdir()
    # The kernel imports this checkout's zdravkograd even if it is not pip-installed,
    # draws with a non-interactive backend, and finds nothing from the developer's setup.
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    # No user profile, startup script or Jupyter config can change what the kernel does.
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "jupyter-config"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter-runtime"))
    client = nbclient.NotebookClient(
        nb,
        km=_kernel_manager(tmp_path),
        timeout=CELL_TIMEOUT,
        # On a loaded 2-core machine a cell's printed output can arrive after its reply;
        # wait for it (the default, 4 s, can drop it), and fail loudly if it never comes.
        iopub_timeout=60,
        raise_on_iopub_timeout=True,
        allow_errors=False,  # any exception in a cell fails the test, naming the cell
        resources={"metadata": {"path": str(work)}},
    )
    # We passed our own kernel manager, so nbclient would leave the kernel running:
    # cleanup_kc=True shuts it down (and closes its channels), even when a cell fails.
    client.execute(cleanup_kc=True)
    return nb


def _outputs(nb: Any) -> list[dict[str, Any]]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def _text(nb: Any) -> str:
    """Everything the notebook printed (stdout) or showed as plain text."""
    parts = []
    for out in _outputs(nb):
        if out["output_type"] == "stream":
            parts.append(out["text"])
        elif "data" in out and "text/plain" in out["data"]:
            parts.append(out["data"]["text/plain"])
    return "\n".join(parts)


def _all(nb: Any, mime: str) -> list[str]:
    return [out["data"][mime] for out in _outputs(nb) if mime in out.get("data", {})]


def _assert_clean(nb: Any) -> None:
    errors = [out for out in _outputs(nb) if out["output_type"] == "error"]
    assert not errors, errors
    stderr = "".join(
        out["text"]
        for out in _outputs(nb)
        if out["output_type"] == "stream" and out["name"] == "stderr"
    )
    assert "Traceback" not in stderr and "Warning" not in stderr, stderr


# ---------------------------------------------------------------- committed form


def _runner() -> Any:
    """scripts/run_notebooks.py, what `make notebooks` runs, as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "run_notebooks", ROOT / "scripts" / "run_notebooks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_with_its_outputs(name: str) -> None:
    """A reader on GitHub sees the plots: every cell ran, in order, and none failed."""
    nb = nbformat.read(ROOT / name, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert len(code) >= 8
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    assert sum(1 for cell in code if cell.outputs) >= len(code) // 2
    assert _all(nb, "image/png"), f"{name}: no plot in the committed outputs"
    _assert_clean(nb)
    for cell in code:
        assert "execution" not in cell.metadata, f"{name}: cell timings were committed"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    text = json.dumps(nb.dict())
    assert str(ROOT) not in text and "/tmp" not in text  # no machine's paths


# Timings printed by the notebooks ("263 ms per step", "in 1.27 s") differ from run to run.
# The padding before a timing goes with it: "   12 ms" and "    9 ms" are the same line.
_TIMING = re.compile(r" *\d+(?:\.\d+)?\s*(?:ms|s)\b")


def _assert_committed_outputs_are_current(name: str, executed: Any) -> None:
    """The committed outputs are what the notebook prints and shows now: `make notebooks`."""
    committed = nbformat.read(ROOT / name, as_version=4)
    fresh = _runner().tidy(executed)
    pairs = zip(
        [c for c in committed.cells if c.cell_type == "code"],
        [c for c in fresh.cells if c.cell_type == "code"],
    )
    for i, (old, new) in enumerate(pairs):
        where = f"{name}, code cell {i + 1}: re-run `make notebooks`"
        assert [o.output_type for o in old.outputs] == [o.output_type for o in new.outputs], where
        assert [sorted(o.get("data", {})) for o in old.outputs] == [
            sorted(o.get("data", {})) for o in new.outputs
        ], where
        old_text = [_TIMING.sub(" T", o.get("text", "")) for o in old.outputs]
        new_text = [_TIMING.sub(" T", o.get("text", "")) for o in new.outputs]
        assert old_text == new_text, where


def test_pytorch_cell_still_runs_without_pytorch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Part 5 of learning.ipynb explains itself and carries on when torch is missing."""
    nb = nbformat.read(ROOT / "learning.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and "import torch" in c.source]
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(cell.source, {"math": math})
    assert "PyTorch is not installed" in printed.getvalue()
    assert 'pip install "zdravkograd[torch]"' in printed.getvalue()
    assert "torch==2.13.0" in printed.getvalue()  # the project's pin, never an unpinned torch
    assert "pip install torch" not in printed.getvalue()


# ---------------------------------------------------------------- executed


def test_learning_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require("matplotlib")
    require("graphviz")
    require_program("dot")
    nb = _execute("learning.ipynb", tmp_path, monkeypatch)
    _assert_clean(nb)
    _assert_committed_outputs_are_current("learning.ipynb", nb)
    text = _text(nb)

    # part 1: the numerical derivative converges to f'(3) = 14
    assert re.search(r"1e-06\s+14\.0000030", text), text[:2000]
    # part 2: hand-written gradients, checked numerically
    assert "dL/da: by hand   6.0" in text and "dL/db: by hand  -4.0" in text
    # part 3: draw_dot before and after backward, both real SVG with the neuron's labels
    svgs = [html.unescape(svg) for svg in _all(nb, "image/svg+xml")]  # '&#45;' is '-'
    assert len(svgs) >= 2 and all(svg.lstrip().startswith("<?xml") for svg in svgs)
    for label in ("x1", "w1", "x2", "w2", "tanh"):
        assert label in svgs[0] and label in svgs[1], label
    assert "-1.5000" in svgs[1] and "-1.5000" not in svgs[0]  # x1.grad appears after backward
    assert "The library's gradients equal the ones we computed by hand." in text
    # part 4: the += bug, then its fix
    assert "a.grad = 1.0    (it should be 2.0)" in text
    assert "a + a:     a.grad = 2.0" in text
    # part 5: PyTorch agrees (when installed; CI installs it)
    try:
        import torch  # noqa: F401
    except ImportError:
        assert "PyTorch is not installed" in text
    else:
        assert "PyTorch agrees with our engine." in text
    # part 6: the hand-written MLP learns its four examples
    final = float(re.search(r"final loss: ([0-9.]+)", text).group(1))  # type: ignore[union-attr]
    assert final < 0.05, final
    # part 7: the differences, demonstrated
    assert "teaching Value: dropped graph freed at once? False" in text
    assert "library Value:  dropped graph freed at once? True" in text
    assert "teaching Value: RecursionError" in text
    assert "library  tanh(400): 1.0" in text
    assert "f''(3) = 6.0" in text
    batched = re.search(r"batched: (w1\.grad = \S+ +w2\.grad = \S+)", text)
    looped = re.search(r"looped: +(w1\.grad = \S+ +w2\.grad = \S+)", text)
    assert batched and looped and batched.group(1) == looped.group(1), (batched, looped)
    assert "gradients (x1, x2, w1, w2, b): [-1.5, 0.5, 1.0, 0.0, 0.5]" in text  # compiled
    # plots: f(x), the error curves, tanh, the loss curve, all rendered as PNG
    assert len(_all(nb, "image/png")) >= 4


def test_moons_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require("matplotlib")
    require("graphviz")
    require("sklearn")
    require_program("dot")
    nb = _execute("moons.ipynb", tmp_path, monkeypatch)
    _assert_clean(nb)
    _assert_committed_outputs_are_current("moons.ipynb", nb)
    text = _text(nb)

    accuracy = float(re.search(r"final accuracy: ([0-9.]+)", text).group(1))  # type: ignore[union-attr]
    assert accuracy >= 0.95, accuracy
    # the batched loss equals the per-sample loss of the seed's loop (checked in the notebook)
    assert "batched and per-sample losses agree" in text
    # the data, the decision boundary and the loss curve
    assert len(_all(nb, "image/png")) >= 3
    # the one-point graph drawn with each neuron collapsed into one box
    (svg,) = [html.unescape(svg) for svg in _all(nb, "image/svg+xml")]
    assert svg.count("relu") >= 32 and "score" in svg and "grad 1.0000" in svg
    # the backprop viewer: one self-contained HTML file, shown in an IFrame
    written = sorted(p.name for p in (tmp_path / "work").iterdir())
    assert written == ["moons_backprop.html"], written
    viewer = (tmp_path / "work" / "moons_backprop.html").read_text()
    assert "<svg" in viewer and "L0.n3.w1" in viewer and "L1.n15.relu" in viewer  # named nodes
    assert "a weight's name: L0.n3.w1" in text
    # collapsed: one step per neuron (the seed, 33 neurons, 32 ReLUs), not ~640 tiny ones
    data = re.search(r'id="trace-data">(.*?)</script>', viewer, re.S)
    assert data is not None
    steps = json.loads(data.group(1).replace("<\\/", "</"))["steps"]
    assert len(steps) == 1 + 33 + 32, len(steps)
    assert sum("a neuron with" in step["title"] for step in steps) == 33
    assert not re.search(r'(src|href)="(https?:)?//', viewer)  # loads nothing from the network
    assert any('src="moons_backprop.html"' in out for out in _all(nb, "text/html"))
