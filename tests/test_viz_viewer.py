"""backprop_html without a browser: one self-contained file whose steps are the engine's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import require, require_program

from zdravkograd import Value, trace_backward
from zdravkograd.engine import topological_order
from zdravkograd.examples import seed_expression

require("graphviz")
require_program("dot")
from zdravkograd.viz import backprop_html  # noqa: E402


def _page_data(text: str) -> dict:
    raw = re.search(r'<script type="application/json" id="trace-data">(.*?)</script>', text, re.S)
    assert raw is not None
    return json.loads(raw.group(1).replace("<\\/", "</"))


def _example():
    L, nodes = seed_expression()
    a, b = nodes["a"], nodes["b"]
    return L, a, b


def test_the_page_is_one_self_contained_file(tmp_path):
    L, *_ = _example()
    path = backprop_html(L, tmp_path / "page.html")
    text = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert path == str(tmp_path / "page.html")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "<svg" in text and text.count("<svg") == 1
    # nothing is fetched: no external scripts, styles, images, fonts or frames
    assert not re.search(r"<(script|img|iframe|link)[^>]*\s(src|href)=", text, re.I)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text)
    assert "@import" not in text
    for m in re.finditer(r"(?:src|href)=\"([^\"]*)\"", text):
        assert m.group(1).startswith("#"), m.group(1)
    for word in ("Next", "Back", "Play", "Reset"):
        assert f">{word}" in text or f"{word} ▶" in text or f"▶ {word}" in text


def test_the_steps_are_the_trace_in_the_engines_order(tmp_path):
    L, a, b = _example()
    backprop_html(L, tmp_path / "page.html")
    assert a.grad == 0.0 and L.grad == 0.0  # a dry run
    data = _page_data((tmp_path / "page.html").read_text(encoding="utf-8"))
    trace = trace_backward(L, apply=False)
    steps = data["steps"]
    assert steps[0]["kind"] == "seed" and steps[0]["node"] == L._id
    assert [s["node"] for s in steps[1:]] == [s.node._id for s in trace.steps]
    assert [n for n in topological_order(L) if n._prev][0] is L
    formulas = [u["formula"] for s in steps for u in s["updates"] if u["formula"]]
    assert "a.grad += b.data × e.grad = -3.0 × -2.0 = 6.0" in formulas
    assert "d.grad += f.data × L.grad = -2.0 × 1.0 = -2.0" in formulas
    # the last update of each node carries its final gradient, exactly as the engine has it
    L.backward()
    last = {u["to"]: u["grad"] for s in steps for u in s["updates"]}
    for v in topological_order(L):
        assert float(last[v._id]["exact"]) == v.grad
        assert last[v._id]["four"] == f"{v.grad:.4f}"


def test_accumulation_is_spelled_out(tmp_path):
    x = Value(3.0, "x")
    y = x * x
    y.label = "y"
    backprop_html(y, tmp_path / "sq.html")
    data = _page_data((tmp_path / "sq.html").read_text(encoding="utf-8"))
    (step,) = [s for s in data["steps"] if s["kind"] == "node"]
    first, second = step["updates"]
    assert first["formula"] == "x.grad += x.data × y.grad = 3.0 × 1.0 = 3.0"
    assert second["accumulate"] == "x.grad was 3.0, now 6.0 (gradients add up)"


def test_too_big_and_bad_input(tmp_path):
    x = Value(1.0)
    y = x
    for _ in range(200):
        y = y * 1.001
    with pytest.raises(ValueError, match="max_nodes"):
        backprop_html(y, tmp_path / "big.html")
    assert not (tmp_path / "big.html").exists()
    with pytest.raises(TypeError, match="Value"):
        backprop_html(2.0, tmp_path / "x.html")  # type: ignore[arg-type]


def test_collapsed_neurons_are_one_step_each(tmp_path):
    import random

    nn = require("zdravkograd.nn")
    model = nn.MLP(2, [3, 1], rng=random.Random(2))
    for i, p in enumerate(model.parameters()):
        p.label = f"p{i}"
    x0, x1 = Value(0.5, "x0"), Value(-1.0, "x1")
    score = model([x0, x1])
    score.label = "score"
    backprop_html(score, tmp_path / "mlp.html", collapse=True)
    data = _page_data((tmp_path / "mlp.html").read_text(encoding="utf-8"))
    kinds = [s["title"] for s in data["steps"][1:]]
    assert len(kinds) == 4 + 3  # 4 neurons, 3 ReLUs
    assert sum("a neuron with 2 inputs" in t for t in kinds) == 3
    formulas = [u["formula"] for s in data["steps"] for u in s["updates"]]
    # p0 is the first neuron's weight for x0: it gets x0.data × (the neuron's gradient),
    # written with the neuron's name, the node drawn, not a hidden node inside it
    neurons = [n["name"] for n in data["nodes"] if n["op"] == "Σ"]
    (p0,) = [f for f in formulas if f.startswith("p0.grad += ")]
    assert p0.startswith("p0.grad += x0.data × ")
    assert p0.split(" × ")[1].split(".grad")[0] in neurons  # e.g. L0.n0.Σ
    assert any(f.startswith("x0.grad += p0.data × ") for f in formulas)
    score.backward()
    last = {u["to"]: u["grad"] for s in data["steps"] for u in s["updates"]}
    for p in model.parameters():
        assert float(last[p._id]["exact"]) == p.grad
    assert float(last[x0._id]["exact"]) == x0.grad and float(last[x1._id]["exact"]) == x1.grad
    shown = {n["id"] for n in data["nodes"]}
    assert {p._id for p in model.parameters()} <= shown
    assert sum(n["param"] for n in data["nodes"]) == len(model.parameters())


def test_the_pages_html_css_and_javascript_are_package_files(tmp_path):
    """The page is assets/viewer.html with viewer.css and viewer.js pasted in, and the
    Python module holds none of them as a string."""
    from importlib import resources

    from zdravkograd.viz import viewer

    assets = resources.files("zdravkograd.viz") / "assets"
    css = (assets / "viewer.css").read_text(encoding="utf-8")
    js = (assets / "viewer.js").read_text(encoding="utf-8")
    shell = (assets / "viewer.html").read_text(encoding="utf-8")
    assert "--current:" in css and "JSON.parse" in js and "<main>" in shell
    L, *_ = _example()
    text = Path(backprop_html(L, tmp_path / "p.html")).read_text(encoding="utf-8")
    assert css in text and js in text
    head, tail = shell.split("__CSS__")
    assert text.startswith(head.split("__TITLE__")[0])
    assert text.endswith(tail.split("__DATA__")[-1].split("__JS__")[-1])
    source = open(viewer.__file__, encoding="utf-8").read()
    assert "<style" not in source and "addEventListener" not in source and len(source) < 12_000


def test_a_title_that_looks_like_a_slot_stays_as_written(tmp_path):
    L, *_ = _example()
    title = "Not the __SVG__ nor the __DATA__ </script> & <b>"
    text = Path(backprop_html(L, tmp_path / "t.html", title=title)).read_text(encoding="utf-8")
    assert text.count("<svg") == 1
    assert "<h1>Not the __SVG__ nor the __DATA__ &lt;/script&gt; &amp; &lt;b&gt;</h1>" in text
    assert _page_data(text)["rootName"] == "L"
