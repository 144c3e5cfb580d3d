"""Run the notebooks top to bottom and save them with their outputs: `make notebooks`.

    python scripts/run_notebooks.py [learning.ipynb moons.ipynb gpt.ipynb]

Each notebook runs in a fresh kernel started from *this* interpreter (so in the project's
venv, whatever other kernels Jupyter knows), with this checkout first on the path, in a
temporary working folder (the files a notebook writes, such as moons_backprop.html, are
not left in the repository). Cell timings are not recorded, the execution counts run
1, 2, 3, ..., a cell's printed lines are kept as one output (however the kernel happened
to send them) and object addresses (``<... at 0x7f...>``) are left out, so the committed
file changes only when an output does (or a printed timing).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbclient
import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ["learning.ipynb", "moons.ipynb", "gpt.ipynb"]
KERNEL = "zdravkograd-notebooks"


def _kernel_manager(folder: Path) -> KernelManager:
    """A kernel that is ``sys.executable -m ipykernel_launcher``, found nowhere else."""
    spec_dir = folder / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "zdravkograd notebooks",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    specs = KernelSpecManager(kernel_dirs=[str(folder / "kernels")], ensure_native_kernel=False)
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)


def execute(path: Path, folder: Path, timeout: int = 600) -> Any:
    """``path`` run top to bottom in ``folder/work``; returns the notebook with outputs."""
    nb = nbformat.read(path, as_version=4)
    kernelspec = nb.metadata.get("kernelspec")
    work = folder / "work"
    work.mkdir()
    client = nbclient.NotebookClient(
        nb,
        km=_kernel_manager(folder),
        timeout=timeout,
        iopub_timeout=60,
        raise_on_iopub_timeout=True,
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(work)}},
    )
    client.execute(cleanup_kc=True)
    if kernelspec is not None:
        nb.metadata["kernelspec"] = kernelspec  # the reader's python3, not our private name
    return nb


_ADDRESS = re.compile(r" at 0x[0-9a-f]+>")


def tidy(nb: Any) -> Any:
    """Merge each cell's consecutive prints into one output; drop object addresses."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged: list[Any] = []
        for out in cell.outputs:
            last = merged[-1] if merged else None
            if (
                out.output_type == "stream"
                and last is not None
                and last.output_type == "stream"
                and last.name == out.name
            ):
                last.text += out.text
                continue
            if "data" in out and "text/plain" in out.data:
                out.data["text/plain"] = _ADDRESS.sub(">", out.data["text/plain"])
            merged.append(out)
        cell.outputs = merged
    return nb


def main(argv: list[str]) -> int:
    names = argv or NOTEBOOKS
    # The kernel imports this checkout's zdravkograd, draws with a non-interactive
    # backend, and reads no user profile or Jupyter configuration.
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    os.environ["PYTHONPATH"] = path
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    os.environ["JUPYTER_PLATFORM_DIRS"] = "1"
    for name in names:
        target = ROOT / name
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["IPYTHONDIR"] = str(Path(tmp) / "ipython")
            os.environ["JUPYTER_CONFIG_DIR"] = str(Path(tmp) / "jupyter-config")
            os.environ["JUPYTER_RUNTIME_DIR"] = str(Path(tmp) / "jupyter-runtime")
            nb = execute(target, Path(tmp))
        tidy(nb)
        nbformat.validate(nb)
        nbformat.write(nb, target)
        size = target.stat().st_size
        print(f"wrote {name} with its outputs ({size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
