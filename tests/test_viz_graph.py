"""draw_dot: every number drawn is the engine's, big graphs are refused, options work."""

from __future__ import annotations

import html
import random
import re

import pytest
from conftest import require, require_program

from zdravkograd import Value
from zdravkograd.engine import topological_order
from zdravkograd.examples import tanh_neuron

graphviz = require("graphviz")
from zdravkograd.viz import draw_dot  # noqa: E402


def _neuron() -> tuple[Value, dict[str, Value]]:
    o = tanh_neuron(backward=True)
    return o, {v.label: v for v in topological_order(o)}


def test_svg_shows_every_label_data_and_grad_as_the_engine_prints_them():
    require_program("dot")
    o, nodes = _neuron()
    svg = html.unescape(draw_dot(o).pipe(format="svg", encoding="utf-8"))
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert len(nodes) == 10
    for label, v in nodes.items():
        assert label in texts
        assert f"data {v.data:.4f}" in texts, label
        assert f"grad {v.grad:.4f}" in texts, label
        # the hover text carries the engine's own repr, exact to the last digit
        assert f'title="{v!r}"' in svg, label
    # one op node per operation, with its symbol
    assert texts.count("tanh") == 1
    assert texts.count("×") == 2
    assert texts.count("+") == 2


def test_record_layout_and_separate_op_nodes():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    c = a * b
    c.label = "c"
    c.backward()
    src = draw_dot(c).source
    assert "{ c | data -6.0000 | grad 1.0000 }" in src
    assert "{ a | data 2.0000 | grad -3.0000 }" in src
    assert re.search(rf"v{c._id}op \[label=\"?×", src)
    assert f"v{a._id} -> v{c._id}op" in src and f"v{c._id}op -> v{c._id}" in src
    no_grad = draw_dot(c, show_grad=False).source
    assert "{ c | data -6.0000 }" in no_grad and "| grad" not in no_grad
    tb = draw_dot(c, rankdir="TB").source
    assert "c | data -6.0000 | grad 1.0000" in tb and "{ c |" not in tb


def test_labels_with_record_syntax_are_escaped():
    a = Value(1.0, "x{0}|<y>")
    src = draw_dot(a * 2).source
    assert r"x\{0\}\|\<y\>" in src


def test_max_nodes_raises_with_the_count_and_the_way_out():
    x = Value(1.0, "x")
    y = x
    for _ in range(30):
        y = y * 1.01 + 0.5
    n = len(topological_order(y))
    with pytest.raises(ValueError) as err:
        draw_dot(y, max_nodes=50)
    msg = str(err.value)
    assert f"{n} Values" in msg and "max_nodes=50" in msg and "max_nodes=None" in msg
    assert len(draw_dot(y, max_nodes=None).body) > n
    assert len(draw_dot(y, max_nodes=n).body) > n  # exactly at the limit is fine


def test_deep_graph_is_walked_without_recursion():
    x = Value(0.5, "x")
    y = x
    for _ in range(20_000):  # far deeper than Python's recursion limit
        y = y + 1.0
    dot = draw_dot(y, max_nodes=None)
    assert sum(1 for line in dot.body if "->" in line) == 3 * 20_000


def test_bad_arguments_are_reported():
    v = Value(1.0)
    with pytest.raises(ValueError, match="format"):
        draw_dot(v, format="jpeg2")
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(v, rankdir="XY")
    with pytest.raises(ValueError, match="color"):
        draw_dot(v, color="rainbow")
    with pytest.raises(TypeError, match="Value"):
        draw_dot(3.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="highlight"):
        draw_dot(v * 2, highlight=Value(3.0))


def _fills(src: str) -> dict[str, str]:
    return dict(re.findall(r"\t(v\d+) \[.*?fillcolor=\"(#[0-9a-f]{6})\"", src))


def test_colour_follows_gradient_sign_and_magnitude():
    a, b, c = Value(1.0, "a"), Value(2.0, "b"), Value(0.0, "c")
    out = a * 3.0 - b * 0.1 + c * 0.0
    out.backward()
    fills = _fills(draw_dot(out).source)
    fa, fb, fc = fills[f"v{a._id}"], fills[f"v{b._id}"], fills[f"v{c._id}"]

    def rgb(h: str) -> tuple[int, int, int]:
        return int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16)

    assert rgb(fa)[2] > rgb(fa)[0]  # positive: blue
    assert rgb(fb)[0] > rgb(fb)[2]  # negative: red
    assert len(set(rgb(fc))) == 1 or max(rgb(fc)) - min(rgb(fc)) < 10  # zero: grey
    # |grad a| = 3 > |grad b| = 0.1: a is the darker of the two
    assert sum(rgb(fa)) < sum(rgb(fb))
    mags = _fills(draw_dot(out, color="magnitude").source)
    assert sum(rgb(mags[f"v{a._id}"])) < sum(rgb(mags[f"v{b._id}"]))
    plain = _fills(draw_dot(out, color=None).source)
    assert set(plain.values()) == {"#ffffff"}


def test_highlight_marks_exactly_the_paths_from_the_leaf_to_the_root():
    o, nodes = _neuron()
    src = draw_dot(o, highlight=nodes["w1"]).source
    lit = set(re.findall(r"\t(v\d+) \[[^\]]*color=\"#e8590c\"", src))
    lit_values = {name for name, v in nodes.items() if f"v{v._id}" in lit}
    assert lit_values == {"w1", "x1*w1", "x1*w1 + x2*w2", "n", "o"}
    lit_edges = re.findall(r"\t(\S+) -> (\S+) \[[^\]]*#e8590c", src)
    assert (f"v{nodes['w1']._id}", f"v{nodes['x1*w1']._id}op") in lit_edges
    assert all(f"v{nodes['x1']._id}" != a for a, _ in lit_edges)  # x1 is not on the path


def test_collapse_draws_each_neuron_as_one_node():
    nn = require("zdravkograd.nn")
    model = nn.MLP(2, [4, 4, 1], rng=random.Random(0))
    x = [Value(0.5, "x0"), Value(-1.0, "x1")]
    out = model(x)
    out.backward()
    full = draw_dot(out, max_nodes=None).source
    small = draw_dot(out, collapse=True).source
    assert small.count("Σ w·x + b") == 4 + 4 + 1  # one node per neuron
    n_full = full.count("shape=record") + full.count("shape=Mrecord")
    n_small = small.count("shape=record") + small.count("shape=Mrecord")
    assert n_small < n_full / 2  # (each neuron is one node already; its leaves fold in)
    # the neuron nodes show the engine's numbers of the neuron's pre-activation sum
    first = model.layers[0].neurons[0]
    pre = first(x)._a if first.activation == "relu" else first(x)
    assert f"data {pre.data:.4f}" in small
    # the folded weights are listed in the node's hover text, exactly
    assert repr(first.w[0]).replace('"', "") in small.replace("\\n", "\n")
    # still above max_nodes when the collapsed graph is too big, with the count
    with pytest.raises(ValueError, match=r"has \d+ Values"):
        draw_dot(out, collapse=True, max_nodes=5)


def test_collapse_leaves_graphs_without_dot_products_alone():
    a, b, c = Value(2.0, "a"), Value(-3.0, "b"), Value(10.0, "c")
    d = a * b + c
    assert "Σ" not in draw_dot(d, collapse=True).source


def test_render_writes_svg_and_png(tmp_path):
    require_program("dot")
    o, _ = _neuron()
    svg_path = draw_dot(o).render(tmp_path / "g", cleanup=True)
    assert svg_path.endswith(".svg")
    assert "<svg" in (tmp_path / "g.svg").read_text()
    png_path = draw_dot(o, format="png").render(tmp_path / "g", cleanup=True)
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png_path
    # Jupyter displays the Digraph inline through its rich-display hook
    bundle = draw_dot(o)._repr_mimebundle_()
    assert "image/svg+xml" in bundle and "grad 1.0000" in bundle["image/svg+xml"]


def test_a_list_of_roots_draws_their_union():
    a = Value(1.0, "a")
    outs = [a * 2, a + 1]
    src = draw_dot(outs).source
    assert src.count(f"v{a._id} ->") == 2
