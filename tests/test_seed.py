"""The seed README's example must run exactly as written, forever."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_seed_example_prints_the_documented_numbers():
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "basic_autograd.py")],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert out.splitlines() == ["L.data=-8.0", "a.grad=6.0", "b.grad=-4.0"]


def test_readme_carries_the_seed_example_verbatim():
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / "examples" / "basic_autograd.py").read_text().strip()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert any(block.strip() == example for block in blocks)
