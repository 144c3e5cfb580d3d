"""Every ```python block in docs/**/*.md and README.md runs, as written.

Each page's blocks run in order, in one namespace, in a fresh temporary working
directory (so files they write land there). A failing block is reported with its page
and line number.

One block may opt out, and only with a reason on the line before its fence:
``<!-- docs-test: skip (reason) -->``. The only such block allowed is the seed README's
training fragment, whose ``# ... (data loading logic) ...`` placeholders leave ``inputs``
and ``total_loss`` undefined. It is kept byte-for-byte as the seed wrote it, and the block
right after it is the runnable version: the same lines, in the same order, with the
placeholders filled in. Both facts are checked here.
"""

from __future__ import annotations

import json
import os
import pkgutil
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
FENCE = re.compile(
    r"(?:^<!-- docs-test: skip \((?P<reason>[^)]*)\) -->\n)?"  # the opt-out marker
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[^\n]*\n(?P<code>.*?)^[ \t]*```[ \t]*$",
    re.M | re.S,
)
PYTHON = {"python", "py", "python3"}

# The seed README's second example, verbatim (also compared with the seed when present).
SEED_FRAGMENT = """\
from zdravkograd.nn import MLP

# Initialize a network: 2 input neurons, two hidden layers of 16, 1 output
model = MLP(2, [16, 16, 1])

# ... (data loading logic) ...

# Training Loop
for k in range(100):
    
    # Forward pass
    scores = list(map(model, inputs))
    
    # Calculate Loss (SVM Max-Margin + L2 Regularization)
    # ... (loss calculation logic) ...
    
    # Backward pass
    model.zero_grad()
    total_loss.backward()
    
    # Update weights (Stochastic Gradient Descent)
    learning_rate = 1.0 - 0.9*k/100
    for p in model.parameters():
        p.data -= learning_rate * p.grad
"""  # noqa: W293 (the seed's blank lines carry four spaces)
PLACEHOLDER = re.compile(r"^\s*# \.\.\. \(.*\) \.\.\.$")


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    code: str
    skip_reason: str | None


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    out = []
    for m in FENCE.finditer(text):
        line = text.count("\n", 0, m.start("code"))  # 1-based line of the first code line
        code = textwrap.dedent(m["code"]) if m["indent"] else m["code"]  # in a list item
        out.append(Block(page, line + 1, m["lang"], code, m["reason"]))
    return out


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


# Runs the blocks in a fresh interpreter, as a reader pasting them would (and away from
# the test worker's imports, which slow the cycle collector down on big scalar graphs).
RUNNER = """
import json, sys, traceback
namespace = {"__name__": "__main__"}
for where, code in json.load(open(sys.argv[1])):
    try:
        exec(compile(code, where, "exec"), namespace)
    except BaseException as exc:
        traceback.print_exc()
        print(f"the python block at {where} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
"""


# What some pages promise their blocks print: each line must appear in the output, so that
# a claim in the prose ("it reaches 100% training accuracy") is checked, not just run.
EXPECTED_OUTPUT = {
    "README.md": [
        "L.data=-8.0",  # the seed's first example
        "a.grad=6.0",
        "b.grad=-4.0",
        "step 99: loss 0.0110, accuracy 100%",  # the seed's moons demo, filled in
    ],
    "docs/nn.md": ["L0.n3.w1", "L2.n0.Σ L2.n0.b"],  # node names: the score is its sum node
}


def runnable(page: Path) -> list[Block]:
    return [b for b in blocks(page) if b.lang in PYTHON and b.skip_reason is None]


@pytest.mark.parametrize("page", [p for p in PAGES if runnable(p)], ids=page_id)
def test_python_blocks_run(page, tmp_path):
    script = tmp_path / "blocks.json"
    code = [(f"{page_id(page)}:{b.line}", b.code) for b in runnable(page)]
    script.write_text(json.dumps(code))
    env = {**os.environ, "MPLBACKEND": "Agg"}  # pages may use pyplot; never open a window
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        pytest.fail(proc.stderr[-4000:], pytrace=False)
    printed = proc.stdout.splitlines()
    for line in EXPECTED_OUTPUT.get(page_id(page), []):
        assert line in printed, f"{page_id(page)} should print {line!r}; it printed {printed}"


def test_only_the_seed_fragment_opts_out():
    skipped = [b for page in PAGES for b in blocks(page) if b.skip_reason is not None]
    assert [(b.page.name, b.code) for b in skipped] == [("README.md", SEED_FRAGMENT)]


def test_readme_runnable_version_fills_in_the_seed_fragment():
    """The block after the fragment contains every fragment line, in order, unchanged."""
    readme = blocks(ROOT / "README.md")
    i = next(i for i, b in enumerate(readme) if b.skip_reason is not None)
    fragment, full = readme[i], readme[i + 1]
    assert full.lang == "python" and full.skip_reason is None
    wanted = [ln for ln in fragment.code.splitlines() if not PLACEHOLDER.match(ln)]
    assert len(wanted) == len(fragment.code.splitlines()) - 2  # two placeholders
    lines = iter(full.code.splitlines())
    for line in wanted:
        assert any(candidate == line for candidate in lines), f"missing or out of order: {line!r}"


def test_seed_fragment_constant_matches_the_seed_readme():
    seed = ROOT.parent / "shared" / "seed" / "ZdravkoGrad-README.md"
    if not seed.exists():
        pytest.skip("the seed README is not beside this checkout")
    text = seed.read_text(encoding="utf-8")
    assert f"```python\n{SEED_FRAGMENT}```" in text


def test_every_page_is_in_the_nav():
    """mkdocs.yml lists every page (an unlisted page builds but nobody finds it)."""
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in (ROOT / "docs").rglob("*.md"):
        assert str(page.relative_to(ROOT / "docs")) in nav, page


def _public_modules() -> list[str]:
    """zdravkograd's public modules and subpackages: every one not named with a leading _."""
    import zdravkograd

    return sorted(
        f"zdravkograd.{m.name}"
        for m in pkgutil.iter_modules(zdravkograd.__path__)
        if not m.name.startswith("_")
    )


def test_every_public_module_has_an_api_page():
    """The API reference promises every public name: each public module is rendered by a
    ``::: module`` directive on a page of docs/api/ that the overview links to."""
    rendered = {}
    for page in (ROOT / "docs" / "api").glob("*.md"):
        for name in re.findall(r"^::: (\S+)\s*$", page.read_text(encoding="utf-8"), re.M):
            rendered[name] = page.name
    overview = (ROOT / "docs" / "api" / "index.md").read_text(encoding="utf-8")
    modules = _public_modules()
    assert {"zdravkograd.engine", "zdravkograd.serialization", "zdravkograd.operators"} <= set(
        modules
    )
    missing = [m for m in modules if m not in rendered]
    assert not missing, f"public modules without an API page in docs/api/: {missing}"
    unlisted = [m for m in modules if f"]({rendered[m]})" not in overview]
    assert not unlisted, f"modules whose page docs/api/index.md does not link: {unlisted}"
    stale = [m for m in rendered if m.split(".")[1] not in {x.split(".")[1] for x in modules}]
    assert not stale, f"API pages render modules that do not exist: {stale}"


def test_readme_opens_with_the_two_commands_and_the_makefile_backs_them():
    readme = blocks(ROOT / "README.md")
    first = readme[0]
    assert first.lang == "bash"
    assert [ln.split("#")[0].strip() for ln in first.code.splitlines()] == [
        "make demo",
        "make test",
    ]
    assert (ROOT / "README.md").read_text().split("\n")[:3] == ["# zdravkograd", "", "```bash"]
    makefile = (ROOT / "Makefile").read_text()
    demo = re.search(r"^demo:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert demo and "$(VENV)/bin/zdravkograd moons" in demo.group(1)
    test = re.search(r"^test:(.*)$", makefile, re.M)
    assert test and "docs" in test.group(1).split()
    docs = re.search(r"^docs:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert docs and "mkdocs build --strict" in docs.group(1)


def test_make_demo_ends_by_saying_how_to_run_the_command_again(tmp_path):
    """The command lives in the venv, not on PATH: `make demo` says so last, the README too."""
    import shutil

    if shutil.which("make") is None:
        pytest.fail("GNU make is needed (the Makefile is how the project is set up)")
    dry = subprocess.run(
        ["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    run_at = max(i for i, ln in enumerate(lines) if ln.endswith("/bin/zdravkograd moons"))
    after = "\n".join(lines[run_at + 1 :])
    assert "source .venv/bin/activate" in after and ".venv/bin/zdravkograd moons --help" in after
    # The commands it prints work: with this test's venv as VENV, run the first one.
    venv = Path(sys.executable).parent.parent
    hint = subprocess.run(
        ["make", "-s", "how-to-run", f"VENV={venv}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    shown = [ln.strip() for ln in hint.stdout.splitlines() if ln.startswith("    ")]
    assert shown[0] == f"{venv}/bin/zdravkograd moons --help"
    assert shown[1] == f"source {venv}/bin/activate"
    assert Path(f"{venv}/bin/activate").is_file()
    result = subprocess.run(shown[0].split(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "--steps" in result.stdout, result.stderr
    readme = (ROOT / "README.md").read_text()
    assert ".venv/bin/zdravkograd moons" in readme and "source .venv/bin/activate" in readme


def test_every_code_block_says_its_language():
    """An untagged (or ```pycon) block would silently escape the run above."""
    allowed = PYTHON | {"bash", "sh", "console", "text", "json", "toml", "yaml", "html"}
    for page in PAGES:
        for b in blocks(page):
            assert b.lang in allowed, f"{page_id(page)}:{b.line}: fence language {b.lang!r}"


def test_readme_links_resolve():
    """Every relative link and picture in the README points at a file in the checkout."""
    text = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#\s]+)[^)]*\)", text) + re.findall(r'src="([^"]+)"', text)
    local = [t for t in targets if not t.startswith(("http://", "https://", "mailto:"))]
    assert len(local) >= 8, local
    for target in local:
        assert (ROOT / target).exists(), target


def test_readme_has_what_issue_5_asks_for():
    """Pictures, the feature table, the benchmark headline and the links, in that order."""
    text = (ROOT / "README.md").read_text()
    order = [
        "make demo",
        "docs/img/moons_decision_boundary.png",  # the decision boundary
        "docs/img/neuron_graph.svg",  # a graph
        "](docs/benchmarks.md)",  # the headline, linked to the full table
        "### 1. Basic autograd",
        "### 2. Training a neural network",
        "| | micrograd 0.1.0 | zdravkograd |",  # the feature table
        "](learning.ipynb)",
        "](moons.ipynb)",
        "](docs/index.md)",
    ]
    positions = [text.find(needle) for needle in order]
    assert -1 not in positions, [n for n, p in zip(order, positions) if p == -1]
    assert positions == sorted(positions), order


def _readme_loop_row(table: str, label: str) -> tuple[float, float, float]:
    """(speed-up, lowest, highest) of a row of the README-loops table of docs/benchmarks.md."""
    number = r"([\d.,]+)x"
    row = re.search(
        rf"^\| {re.escape(label)} \| \d+ \| [^|]+ \| [^|]+ \| {number} \| {number} - {number} \|",
        table,
        re.M,
    )
    assert row, f"no row {label!r} in the README-loops table of docs/benchmarks.md"
    return tuple(float(g.replace(",", "")) for g in row.groups())  # type: ignore[return-value]


def _ratio(x: float) -> str:
    """How the README writes a speed-up: one decimal below 20, whole numbers above."""
    return f"{x:.1f}" if x < 20 else f"{x:,.0f}"


def test_readme_speed_headline_matches_the_benchmark_table():
    """The headline's figures are the README-loops table's, each with its range (re-ran
    `make bench`? update both)."""
    table = (ROOT / "docs" / "benchmarks.md").read_text()
    readme = (ROOT / "README.md").read_text()
    headline = re.search(r"\*\*Speed\*\*(.*?)\[The full benchmark table\]", readme, re.S)
    assert headline, "no **Speed** paragraph in the README"
    said = re.findall(r"\*\*([\d.,]+)×[^*]*\*\* \(([\d.,]+)–([\d.,]+)×\)", headline.group(1))
    labels = [
        "zdravkograd, the seed example",
        "zdravkograd, the seed example in fast()",
        "zdravkograd, the batched loop",
    ]
    expected = [tuple(map(_ratio, _readme_loop_row(table, label))) for label in labels]
    assert said == expected, (said, expected)


def _about(n: int) -> str:
    """How the docs round a count: two significant figures, with thousands commas."""
    digits = max(len(str(n)) - 2, 0)
    return f"{round(n, -digits):,}"


def test_the_graph_sizes_the_docs_cite_are_the_engines():
    """Each place that says how many Values a graph has says what the engine builds now
    (one `dot` node per neuron: no products, no running sums), to two significant figures."""
    import random

    from zdravkograd import Value, nn
    from zdravkograd.data import CharTokenizer, load_names, make_moons
    from zdravkograd.losses import logsumexp
    from zdravkograd.train import svm_loss
    from zdravkograd.viz.graph import collect_nodes

    X, y = make_moons(n_samples=100, noise=0.1, seed=1337)
    model = nn.MLP(2, [16, 16, 1], rng=random.Random(1337))
    scalar = len(collect_nodes(svm_loss(model, X, y * 2 - 1, mode="scalar")))
    batched = len(collect_nodes(svm_loss(model, X, y * 2 - 1, mode="batched")))
    score = len(collect_nodes(model([Value(0.5), Value(-0.2)])))
    points = [[Value(0.1 * i), Value(-0.05 * i)] for i in range(30)]  # docs/speed.md's step
    thirty = len(collect_nodes(sum((1 - model(x)).relu() for x in points)))
    tok = CharTokenizer.from_documents(load_names())
    gpt = nn.GPT(tok.vocab_size, n_embd=16, n_head=4, n_layer=1, block_size=16,
                 rng=random.Random(42))  # fmt: skip
    tokens = tok.encode_document("emma")
    logits = gpt(tokens[:2])
    position = len(collect_nodes(logsumexp(logits[1]) - logits[1][tokens[2]]))
    s, b, p = _about(scalar), _about(batched), _about(position)
    cited = {
        "README.md": [f"100 steps of a {s}-node graph"],
        "docs/cli.md": [
            f"about {s} Values per step",
            f"about {b} Values per step",
            f"whose score is {score} Values",
        ],
        "docs/getting-started.md": [f"about {s} Values per step", f"about {b} Values per step"],
        "docs/nn.md": [f"about {s} nodes per step"],
        "docs/speed.md": [f"builds about {s} Values", f"about {_about(thirty)} Values"],
        "docs/gpt.md": [f"about {p} Values"],
        "docs/notebooks.md": [f"some {p} Values"],
        "zdravkograd/train.py": [f"about {s} nodes per step", f"about {b} nodes"],
        "zdravkograd/fastmode.py": [f"~{s} Values"],
        "zdravkograd/viz/modules.py": [f"about {p} Values"],
    }
    wrong = []
    for name, phrases in cited.items():
        text = " ".join((ROOT / name).read_text(encoding="utf-8").split())  # across line breaks
        wrong += [f"{name}: {phrase!r}" for phrase in phrases if phrase not in text]
    assert not wrong, f"measured {scalar=} {batched=} {score=} {thirty=} {position=}: {wrong}"


def test_no_page_or_docstring_names_the_nodes_a_neuron_no_longer_makes():
    """A neuron's weighted sum is one node (`L0.n3.Σ`): the products `w0x0` and the running
    sums `Σ0`, `Σ14` of the old chain are named nowhere, in the docs, the README, the code's
    docstrings and comments, or the viewer's assets."""
    stale = re.compile(r"\bw\d+x\d+\b|Σ\d|running sums?\b(?! of)")
    files = [*PAGES, *(ROOT / "zdravkograd").rglob("*.py")]
    files += [*(ROOT / "zdravkograd").rglob("*.js"), *(ROOT / "zdravkograd").rglob("*.html")]
    found = [
        f"{f.relative_to(ROOT)}:{n}: {line.strip()}"
        for f in files
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
        if stale.search(line)
    ]
    assert not found, found
