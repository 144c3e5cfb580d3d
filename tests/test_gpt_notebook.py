"""gpt.ipynb runs top to bottom (in CI within 60 s) and shows what its prose promises."""

from __future__ import annotations

import html
import json
import re
import time
from pathlib import Path

import pytest
from conftest import IN_CI, require, require_program
from test_notebooks import (
    _all,
    _assert_clean,
    _assert_committed_outputs_are_current,
    _execute,
    _text,
)

pytestmark = pytest.mark.notebook

nbformat = require("nbformat")


def test_gpt_notebook_is_committed_with_its_outputs() -> None:
    from test_notebooks import test_notebook_is_committed_with_its_outputs as check

    check("gpt.ipynb")


def test_gpt_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require("matplotlib")
    require("graphviz")
    require_program("dot")
    start = time.perf_counter()
    nb = _execute("gpt.ipynb", tmp_path, monkeypatch)
    seconds = time.perf_counter() - start
    if IN_CI:  # on a machine of its own; a shared developer machine may be far slower
        assert seconds <= 60, f"gpt.ipynb took {seconds:.0f} s; the budget is 60 s"
    _assert_clean(nb)
    _assert_committed_outputs_are_current("gpt.ipynb", nb)
    text = _text(nb)
    assert "32,033 names" in text and "vocabulary: 27 tokens" in text
    assert "4,192 parameters" in text
    ours = re.search(r"PyTorch: loss ([0-9.]+), ours ([0-9.]+)", text)
    if ours:  # torch installed (CI installs it)
        assert abs(float(ours.group(1)) - float(ours.group(2))) < 1e-12
    first, last = map(float, re.search(r"first step ([0-9.]+), last step ([0-9.]+)", text).groups())  # type: ignore[union-attr]
    assert last < first - 0.3, (first, last)
    assert re.search(r"samples: (\w+, ){9}\w+", text)
    (svg,) = [html.unescape(s) for s in _all(nb, "image/svg+xml")]
    assert "blocks.0.attn.step [1]" in svg and "blocks.0.mlp" in svg and "loss (" in svg
    assert len(_all(nb, "image/png")) >= 2  # the loss curve, the attention heads
    viewer = (tmp_path / "work" / "gpt_backprop.html").read_text()
    data = re.search(r'id="trace-data">(.*?)</script>', viewer, re.S)
    assert data is not None
    steps = json.loads(data.group(1).replace("<\\/", "</"))["steps"]
    assert 10 <= len(steps) <= 20  # one step per module call, not one per Value (~4,500)
    assert any('src="gpt_backprop.html"' in out for out in _all(nb, "text/html"))
