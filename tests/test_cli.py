"""The `zdravkograd` command, run as a real subprocess: outputs, exit codes, messages."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from zdravkograd.engine import Value

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "zdravkograd"  # the console script of the venv
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(*args: str, cwd: Path | None = None, script: bool = False) -> subprocess.CompletedProcess:
    cmd = [str(SCRIPT)] if script else [sys.executable, "-m", "zdravkograd"]
    return subprocess.run(
        [*cmd, *args], capture_output=True, text=True, cwd=cwd or ROOT, timeout=300
    )


def assert_clean_failure(result: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    """Exit ``code``, one line on stderr containing every needle, and no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory) -> Path:
    """A small trained-looking model saved with the nn save format (fast to make)."""
    from zdravkograd.nn import MLP

    path = tmp_path_factory.mktemp("model") / "model.json"
    MLP(2, [4, 4, 1], rng=random.Random(3)).save(path)
    return path


def test_moons_defaults_end_to_end(tmp_path):
    """`zdravkograd moons` with every default (the console script, from a fresh folder)."""
    from conftest import require, require_program

    for module in ("tqdm", "matplotlib", "sklearn", "graphviz"):
        require(module)
    require_program("dot")
    result = run("moons", cwd=tmp_path, script=True)
    out = tmp_path / "zdravkograd-out"
    assert result.returncode == 0, result.stderr
    assert "final accuracy: 100.0% (100/100 points)" in result.stdout
    assert "MLP(2, [16, 16, 1]" in result.stdout
    for name in ("decision_boundary.png", "loss.png", "model.json", "backprop.html"):
        assert (out / name).is_file(), name
        assert f"wrote {Path('zdravkograd-out') / name}" in result.stdout
    # The progress bar (stderr) shows loss and accuracy, and reaches 100 steps.
    assert "100/100" in result.stderr and "loss=" in result.stderr and "accuracy=" in result.stderr

    # The pictures are real PNGs with content, not blank canvases.
    from matplotlib import image

    for name in ("decision_boundary.png", "loss.png"):
        assert (out / name).read_bytes().startswith(PNG_MAGIC), name
        pixels = image.imread(out / name)
        assert pixels.shape[0] > 200 and pixels.shape[1] > 200
        assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 20, name

    # The README's picture is this run's picture (`make images` copies it), pixel for pixel
    # up to font rendering: a picture of other data or other weights differs in thousands.
    ours = image.imread(out / "decision_boundary.png")
    readme = image.imread(ROOT / "docs" / "img" / "moons_decision_boundary.png")
    assert ours.shape == readme.shape
    differ = np.abs(ours - readme).max(axis=-1) > 0.1
    assert differ.mean() < 0.002, f"{differ.sum()} pixels differ: re-run `make images`"

    # model.json is the nn save format; the reloaded model classifies the data perfectly.
    from sklearn.datasets import make_moons

    from zdravkograd import nn

    assert isinstance(json.loads((out / "model.json").read_text()), dict)
    model = nn.load(out / "model.json")
    assert len(model.parameters()) == 337
    X, y = make_moons(n_samples=100, noise=0.1, random_state=1337)
    s = np.array([float(model([Value(a), Value(b)]).data) for a, b in X])
    assert np.mean((s > 0) == (y == 1)) == 1.0

    # The viewer is one self-contained page about the first point's score.
    page = (out / "backprop.html").read_text()
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "<svg" in page and "score" in page
    assert "https://" not in page and "http://" not in page.replace("http://www.w3.org", "")
    check_viewer_replays_the_score(page, model, X[0])

    # predict reads the file moons wrote.
    result = run("predict", "--model", str(out / "model.json"), "0.5", "-0.2")
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.strip()) == float(model([Value(0.5), Value(-0.2)]).data)


def viewer_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="trace-data">(.*?)</script>', page, re.S)
    assert found, "no trace data in the page"
    return json.loads(found.group(1))


def check_viewer_replays_the_score(page: str, model, point) -> None:
    """One step per neuron (and per activation), and every weight ends with d score / d w."""
    data = viewer_data(page)
    neurons = sum(len(layer.neurons) for layer in model.layers)
    activations = neurons - 1  # the output neuron is linear
    assert len(data["steps"]) == 1 + neurons + activations  # the seed, then one step each
    params = {n["id"]: n["name"] for n in data["nodes"] if n["param"]}
    shown: dict[str, float] = {}  # each weight's gradient after the replay
    for step in data["steps"]:
        for update in step["updates"]:
            if update["to"] in params:  # a weight is used once: one update, from zero
                name = params[update["to"]]
                assert name not in shown and not update["accumulate"], update
                shown[name] = float(update["grad"]["exact"])
    model.zero_grad()  # the oracle: backward on the reloaded model
    score = model([Value(float(v)) for v in point])
    score.backward()
    # Each weight goes by its node name (L0.n3.w1 for layers.0.neurons.3.w.1).
    expected = {short(name): p.grad for name, p in model.named_parameters()}
    assert shown == expected
    # Every node shown has a name a learner can map to the model: no v418.
    names = {n["name"] for n in data["nodes"]}
    assert names >= {"x0", "x1", "score", "L0.n0.relu", "L0.n0.Σ", "L0.n0.w1", "L1.n15.relu"}
    assert not [n for n in names if re.fullmatch(r"v\d+", n)], names
    # The inputs count from 0 as the weights do: L0.nJ.wI's gradient is xI.data × ... .
    formulas = [u["formula"] for step in data["steps"] for u in step["updates"]]
    for i in range(len(point)):
        for j in range(len(model.layers[0].neurons)):
            weight = f"L0.n{j}.w{i}.grad += "
            (formula,) = [f for f in formulas if f.startswith(weight)]
            assert formula.startswith(f"{weight}x{i}.data × L0.n{j}.Σ.grad"), formula


def short(state_dict_name: str) -> str:
    """layers.0.neurons.3.w.1 -> L0.n3.w1: the documented label of a parameter."""
    parts = state_dict_name.split(".")
    out = []
    i = 0
    while i < len(parts):
        head = {"layers": "L", "neurons": "n"}.get(parts[i], parts[i])
        if i + 1 < len(parts) and parts[i + 1].isdigit():
            out.append(head + parts[i + 1])
            i += 2
        else:
            out.append(head)
            i += 1
    return ".".join(out)


def test_predict_prints_the_saved_models_score(saved_model):
    from zdravkograd import nn

    model = nn.load(saved_model)
    for x in (("0.5", "-0.2"), ("-1000.5", "2"), ("--", "-1e3", "2e-3")):
        expected = float(model([Value(float(v)) for v in x if v != "--"]).data)
        result = run("predict", "--model", str(saved_model), *x)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == repr(expected)


def test_graph_of_a_saved_model_is_collapsed_per_neuron(saved_model, tmp_path):
    from conftest import require, require_program

    require("graphviz")
    require_program("dot")
    target = tmp_path / "model.svg"
    result = run(
        "graph", "--model", str(saved_model), "--input", "0.5", "-0.2", "--out", str(target)
    )
    assert result.returncode == 0, result.stderr
    svg = target.read_text()
    assert svg.lstrip().startswith(("<?xml", "<svg", "<!DOCTYPE"))
    assert "score" in svg and ">x0</text>" in svg and ">x1</text>" in svg  # as w0, w1 count
    assert ">x2</text>" not in svg
    # Collapsed per neuron: one node per neuron instead of its ~5 + 2 nin Values.
    from zdravkograd import nn
    from zdravkograd.engine import topological_order

    model = nn.load(saved_model)
    full = len(topological_order(model([Value(0.5), Value(-0.2)])))
    assert 0 < svg.count('class="node"') < full // 2


def test_graph_draws_the_tanh_neuron_example(tmp_path):
    from conftest import require, require_program

    require("graphviz")
    require_program("dot")
    result = run("graph", "--out", str(tmp_path / "neuron.svg"))
    assert result.returncode == 0, result.stderr
    svg = (tmp_path / "neuron.svg").read_text().replace("&#45;", "-")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    # Each Value's record: label, data, grad (o = tanh(0.8814) = 1/sqrt(2); after backward
    # do/dn = 1 - o^2 = 0.5, do/dw1 = x1 * 0.5 = 1, do/dx1 = w1 * 0.5 = -1.5).
    for label, data, grad in [
        ("o", "0.7071", "1.0000"),
        ("n", "0.8814", "0.5000"),
        ("b", "6.8814", "0.5000"),
        ("x1", "2.0000", "-1.5000"),
        ("w1", "-3.0000", "1.0000"),
        ("x2", "0.0000", "0.5000"),
        ("w2", "1.0000", "0.0000"),
    ]:
        i = texts.index(label)
        assert texts[i + 1 : i + 3] == [f"data {data}", f"grad {grad}"], label


def test_graph_png_format(tmp_path):
    from conftest import require, require_program

    require("graphviz")
    require_program("dot")
    result = run("graph", "--format", "png", "--out", str(tmp_path / "neuron.png"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "neuron.png").read_bytes().startswith(PNG_MAGIC)
    # The format also follows from the file name.
    result = run("graph", "--out", str(tmp_path / "again.png"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "again.png").read_bytes().startswith(PNG_MAGIC)


def test_moons_options_scalar_mode_small_run(tmp_path):
    from conftest import require, require_program

    require("tqdm")
    require("sklearn")
    require_program("dot")
    result = run(
        "moons",
        "--mode", "scalar",
        "--steps", "3",
        "--samples", "20",
        "--hidden", "4",
        "--activation", "tanh",
        "--optimizer", "adam",
        "--lr", "0.1",
        "--seed", "7",
        "--noise", "0.2",
        "--quiet",
        "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (
        "MLP(2, [4, 1], activation='tanh') on 20 moons points for 3 steps (adam, mode scalar)"
        in (result.stdout)
    )
    assert result.stderr == ""  # --quiet: no progress bar
    saved = json.loads((tmp_path / "o" / "model.json").read_text())
    assert "tanh" in json.dumps(saved)


def test_python_m_and_console_script_show_help():
    for script in (False, True):
        result = run("--help", script=script)
        assert result.returncode == 0
        for command in ("moons", "graph", "predict", "bench"):
            assert command in result.stdout
    result = run("moons", "--help")
    for option in ("--steps", "--hidden", "--activation", "--lr", "--optimizer", "--seed",
                   "--samples", "--noise", "--out", "--mode"):  # fmt: skip
        assert option in result.stdout


def test_version():
    import zdravkograd

    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"zdravkograd {zdravkograd.__version__}"


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        ((), ["the following arguments are required: COMMAND"]),
        (("fly",), ["invalid choice: 'fly'"]),
        (("moons", "--bogus"), ["unrecognized arguments: --bogus"]),
        (("moons", "--steps", "abc"), ["--steps", "expected a positive integer, got 'abc'"]),
        (("moons", "--steps", "0"), ["--steps", "positive integer"]),
        (("moons", "--hidden"), ["--hidden", "expected at least one argument"]),
        (("moons", "--hidden", "16", "-3"), ["--hidden", "positive integer"]),
        (("moons", "--activation", "swish"), ["--activation", "invalid choice"]),
        (("moons", "--lr", "-1"), ["--lr", "expected a number > 0"]),
        (("moons", "--lr", "nan"), ["--lr", "finite"]),
        (("moons", "--noise", "x"), ["--noise", "expected a number"]),
        (("moons", "--noise", "1e308"), ["--noise", "not finite numbers", "smaller noise"]),
        (("moons", "--optimizer", "lbfgs"), ["--optimizer", "invalid choice"]),
        (("moons", "--mode", "gpu"), ["--mode", "invalid choice"]),
        (("moons", "--seed", "1.5"), ["--seed", "expected an integer"]),
        (("moons", "--seed", "-1"), ["--seed", "from 0 to 4294967295, got '-1'"]),
        (("moons", "--seed", "99999999999"), ["--seed", "from 0 to 4294967295"]),
        (("moons", "--samples", "1"), ["--samples", "at least 2"]),
        (("predict", "0.5"), ["--model"]),
        (("predict", "--model", "m.json"), ["give the input numbers X ..., or --csv FILE"]),
        (("predict", "--model", "m.json", "zero"), ["expected a number, got 'zero'"]),
        (("graph", "--format", "pdf"), ["--format", "invalid choice"]),
        (("graph", "--input", "1", "2"), ["--model and --input go together"]),
        (("graph", "--out", "g.jpg"), ["cannot tell the format", "--format"]),
        (("graph", "--format", "png", "--out", "g.svg"), ["--format png does not match", "g.svg"]),
        (("graph", "--model", "m.json", "1", "-2e-3"), ["graph", "1 -2e-3", "after --input"]),
        (("graph", "--model", "m.json", "--input", "-inf"), ["--input", "finite", "'-inf'"]),
        (("bench", "--bogus"), ["zdravkograd bench: error", "unrecognized arguments: --bogus"]),
        (("bench", "--rounds", "x"), ["zdravkograd bench: error", "--rounds"]),
    ],
)
def test_bad_flags_and_values_exit_2_with_one_line(args, needles, tmp_path):
    result = run(*args, cwd=tmp_path)
    line = assert_clean_failure(result, 2, *needles)
    assert line.startswith("zdravkograd")
    assert "--help" in line
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing created (no empty --out folder)


@pytest.mark.parametrize(
    "args", [("moons",), ("graph",), ("predict", "--model", "m.json", "1", "2")]
)
def test_an_unknown_flag_points_to_the_subcommands_help(args, tmp_path):
    command = args[0]
    result = run(*args, "--bogus", cwd=tmp_path)
    line = assert_clean_failure(result, 2, "unrecognized arguments: --bogus")
    assert line.startswith(f"zdravkograd {command}: error:")
    assert line.endswith(f"(see 'zdravkograd {command} --help')")


def test_wrong_number_of_inputs_for_the_model_exits_2(saved_model):
    result = run("predict", "--model", str(saved_model), "1", "2", "3")
    assert_clean_failure(result, 2, "predict", "MLP expects 2 inputs, got 3")


@pytest.mark.parametrize(
    "numbers", [("-1e3", "2"), ("--", "-1e3", "2"), ("-1E+3", "-.5"), ("-1000", "-2e-3")]
)
def test_graph_and_predict_take_negative_numbers_in_any_notation(numbers, saved_model, tmp_path):
    """`--input -1e3 2` and `--input -- -1e3 2` work, as `predict -1e3 2` and `-- -1e3 2` do."""
    from conftest import require, require_program

    require("graphviz")
    require_program("dot")
    from zdravkograd import nn

    values = [float(v) for v in numbers if v != "--"]
    model = nn.load(saved_model)
    expected = float(model([Value(v) for v in values]).data)
    result = run("predict", "--model", str(saved_model), *numbers)
    assert result.returncode == 0, result.stderr
    assert float(result.stdout) == expected
    target = tmp_path / "g.svg"
    result = run("graph", "--model", str(saved_model), "--input", *numbers, "--out", str(target))
    assert result.returncode == 0, result.stderr
    svg = target.read_text().replace("&#45;", "-")
    assert f"data {values[0]:.4f}" in svg and f"data {expected:.4f}" in svg


def test_predict_refuses_a_model_whose_weights_are_not_finite(saved_model, tmp_path):
    """nn.load accepts the file (inspection in Python); the command does not use it."""
    from zdravkograd import nn

    doc = json.loads(saved_model.read_text())
    name = next(iter(doc["weights"]))
    for bad in (float("nan"), float("inf")):
        doc["weights"][name] = bad
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(doc))  # JSON's NaN / Infinity
        assert not np.isfinite(nn.load(path).state_dict()[name])  # Python may load it
        for args in (("predict", "--model", str(path), "0.5", "-0.2"),
                     ("graph", "--model", str(path), "--input", "0.5", "-0.2",
                      "--out", str(tmp_path / "g.svg"))):  # fmt: skip
            result = run(*args)
            assert_clean_failure(result, 1, "bad.json", name, str(bad), "not a finite number")
            assert result.stdout == ""
        assert not (tmp_path / "g.svg").exists()


def test_predict_refuses_a_score_that_overflowed(saved_model, tmp_path):
    """Finite weights and inputs, but no finite score: exit 1 and say why, not `nan`."""
    doc = json.loads(saved_model.read_text())
    for weight, numbers in ((1e300, ("1", "-1")), (1.0, ("1e308", "1e308"))):
        doc["weights"] = {name: weight for name in doc["weights"]}
        path = tmp_path / "m.json"
        path.write_text(json.dumps(doc))
        result = run("predict", "--model", str(path), *numbers)
        assert_clean_failure(result, 1, "score for this input is", "overflowed")
        assert result.stdout == ""


def test_missing_model_exits_1(tmp_path):
    result = run("predict", "--model", str(tmp_path / "nope.json"), "0.5", "-0.2")
    assert_clean_failure(result, 1, "cannot load the model", "nope.json")


@pytest.mark.parametrize(
    "content",
    ['{"format": "zdravkograd', "[1, 2, 3]", "not json at all", ""],
)
def test_unreadable_model_exits_1(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content)
    for args in (("predict", "--model", str(path), "0.5", "-0.2"),
                 ("graph", "--model", str(path), "--input", "0.5", "-0.2",
                  "--out", str(tmp_path / "g.svg"))):  # fmt: skip
        result = run(*args)
        assert_clean_failure(result, 1, "cannot load the model", "bad.json")


def test_model_that_is_a_folder_exits_1(tmp_path):
    result = run("predict", "--model", str(tmp_path), "0.5", "-0.2")
    assert_clean_failure(result, 1, "cannot load the model")


def test_output_folder_that_is_a_file_exits_1_before_training(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    result = run("moons", "--out", str(blocker))
    assert_clean_failure(result, 1, "cannot write into", "file.txt", "not a folder")
    assert "training" not in result.stdout  # refused before any work
    result = run("moons", "--out", str(blocker / "sub"))
    assert_clean_failure(result, 1, "cannot write into the folder", "sub")
    result = run("graph", "--out", str(blocker / "g.svg"))
    assert_clean_failure(result, 1, "cannot write into")


def test_an_output_folder_behind_a_dangling_link_exits_1_before_any_work(tmp_path):
    """--out (or a folder above it) is a symbolic link to nowhere: say so, not 'File exists'."""
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere" / "at" / "all")
    for args, folder in (
        (("moons", "--out", "gone"), "gone"),
        (("graph", "--out", str(Path("gone") / "sub" / "g.svg")), str(Path("gone") / "sub")),
    ):
        result = run(*args, cwd=tmp_path)
        assert_clean_failure(
            result, 1, f"cannot write into '{folder}'", "'gone' is a symbolic link", "nowhere"
        )
        assert result.stdout == ""  # refused before training
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gone"]


def test_unwritable_folder_exits_1(tmp_path):
    """A folder without write permission; as root (who ignores permissions), sysfs."""
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        target = locked / "out"
        if os.access(locked, os.W_OK):  # root: permissions do not stop writing
            if not Path("/sys/kernel").is_dir():
                pytest.skip("root, and no sysfs to refuse the write")
            target = Path("/sys/zdravkograd-out")
        result = run("moons", "--out", str(target))
        assert_clean_failure(result, 1, "cannot write into the folder", str(target))
        assert "training" not in result.stdout
    finally:
        locked.chmod(0o700)


def test_bench_is_handed_its_arguments():
    result = run("bench", "--help")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "usage" in result.stdout.lower()


def test_main_returns_exit_codes_in_process(capsys):
    import argparse

    from zdravkograd.cli import main

    assert main(["--help"]) == 0
    assert "moons" in capsys.readouterr().out
    assert main(["moons", "--steps", "x"]) == 2
    assert "--steps" in capsys.readouterr().err
    error = argparse.ArgumentParser.error
    assert main(["bench", "--bogus"]) == 2
    assert capsys.readouterr().err.count("\n") == 1  # one line, not the usage block
    assert argparse.ArgumentParser.error is error  # the one-line patch is undone


def test_unexpected_error_is_one_line_without_traceback(monkeypatch, capsys):
    """A bug anywhere below the CLI still gives one line (and the traceback on request)."""
    from zdravkograd import cli

    def boom(args):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(cli, "cmd_predict", boom)  # build_parser reads it at each call
    monkeypatch.delenv("ZDRAVKOGRAD_DEBUG", raising=False)
    assert cli.main(["predict", "--model", "m.json", "1"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "zdravkograd: internal error: RuntimeError: kaboom "
        "(set ZDRAVKOGRAD_DEBUG=1 to see the traceback)"
    )
    monkeypatch.setenv("ZDRAVKOGRAD_DEBUG", "1")
    with pytest.raises(RuntimeError, match="kaboom"):
        cli.main(["predict", "--model", "m.json", "1"])


def test_ctrl_c_exits_130_with_one_line(monkeypatch, capsys):
    from zdravkograd import cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_predict", interrupted)
    assert cli.main(["predict", "--model", "m.json", "1"]) == 130
    assert capsys.readouterr().err == "zdravkograd: interrupted\n"


def test_neuron_example_numbers():
    from zdravkograd.cli import neuron_example

    o = neuron_example()
    assert o.data == pytest.approx(0.7071067811865476, rel=1e-12)
    names = {v.label: v for v in _walk(o)}
    assert names["w1"].grad == pytest.approx(1.0, rel=1e-12)  # x1 * (1 - o^2) = 2 * 0.5
    assert names["x1"].grad == pytest.approx(-1.5, rel=1e-12)  # w1 * 0.5
    assert names["w2"].grad == 0.0 and names["x2"].grad == pytest.approx(0.5, rel=1e-12)


def _walk(root: Value) -> list[Value]:
    from zdravkograd.engine import topological_order

    return topological_order(root)


def test_moons_is_reproducible_in_process(tmp_path, capsys):
    """Same seed, same model file; a different seed gives different weights."""
    from conftest import require, require_program

    require("tqdm")
    require("sklearn")
    require_program("dot")
    from zdravkograd.cli import main

    args = ["moons", "--steps", "5", "--samples", "20", "--quiet", "--hidden", "4"]
    state = random.getstate()
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert random.getstate() == state  # the global random state is left alone
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert main([*args, "--seed", "1", "--out", str(tmp_path / "c")]) == 0
    a, b, c = ((tmp_path / d / "model.json").read_text() for d in "abc")
    assert a == b and a != c


def test_missing_graphviz_program_exits_1_before_any_work(tmp_path):
    """Without `dot` on PATH, moons and graph refuse at once and say how to install it."""
    import os

    env = {**os.environ, "PATH": str(tmp_path)}  # a PATH with no programs on it
    for args in (("moons", "--out", "o"), ("graph",)):
        result = subprocess.run(
            [sys.executable, "-m", "zdravkograd", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=300,
        )
        assert_clean_failure(result, 1, "Graphviz's 'dot' program", "apt-get install graphviz")
        assert "training" not in result.stdout
    assert not (tmp_path / "o").exists() and not (tmp_path / "zdravkograd-out").exists()


SMALL_RUN = ("--steps", "3", "--samples", "20", "--hidden", "4", "--quiet")


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every entry of ``folder``: a file's bytes, None for a folder."""
    return {p.name: (p.read_bytes() if p.is_file() else None) for p in folder.iterdir()}


@pytest.mark.parametrize("read_lines", [0, 1])
def test_a_reader_that_closes_the_pipe_early_is_not_an_error(read_lines, tmp_path):
    """`zdravkograd moons | head -1` (and `| head -0`): no message, the run still completes."""
    from conftest import require, require_program

    require("tqdm")
    require("sklearn")
    require_program("dot")
    out = tmp_path / "x"
    proc = subprocess.Popen(
        [sys.executable, "-m", "zdravkograd", "moons", *SMALL_RUN, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = [proc.stdout.readline() for _ in range(read_lines)]
    proc.stdout.close()  # the reader goes away; the next line written hits a closed pipe
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0, err
    assert err == ""
    assert all(line.startswith(b"training MLP") for line in first)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["model.json", "decision_boundary.png", "loss.png", "backprop.html"]
    )


def test_a_diverging_run_exits_1_with_one_line_and_leaves_the_outputs(tmp_path):
    from conftest import require, require_program

    require("tqdm")
    require("sklearn")
    require_program("dot")
    out = tmp_path / "o"
    first = run("moons", *SMALL_RUN, "--out", str(out))
    assert first.returncode == 0, first.stderr
    before = _snapshot(out)
    result = run("moons", *SMALL_RUN, "--lr", "1e10", "--out", str(out))
    line = assert_clean_failure(
        result, 1, "training diverged at step 1", "the loss grew from", "try a smaller --lr"
    )
    assert "1e+10" in line and "RuntimeWarning" not in result.stderr
    assert "final accuracy" not in result.stdout and "wrote" not in result.stdout
    assert _snapshot(out) == before  # the earlier outputs, untouched, and nothing else
    # With the progress bar on, the bar is cleared and the error is the last line.
    result = run("moons", "--steps", "3", "--samples", "20", "--lr", "1e10", "--out", str(out))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].split("\r")[-1].startswith("zdravkograd: error: train")
    assert _snapshot(out) == before
    # A run whose only update diverges: no later step sees it, the run still stops.
    for lr in ("1e10", "1e300"):
        result = run("moons", *SMALL_RUN[2:], "--steps", "1", "--lr", lr, "--out", str(out))
        assert_clean_failure(result, 1, "training diverged at step 1", "try a smaller --lr")
        assert "RuntimeWarning" not in result.stderr and "wrote" not in result.stdout
        assert _snapshot(out) == before


def test_an_output_name_taken_by_a_folder_replaces_nothing(tmp_path):
    """loss.png is a folder: the run stops before training; no file of the set changes."""
    from conftest import require, require_program

    require("tqdm")
    require("sklearn")
    require_program("dot")
    out = tmp_path / "o"
    assert run("moons", *SMALL_RUN, "--out", str(out)).returncode == 0
    (out / "loss.png").unlink()
    (out / "loss.png").mkdir()
    (out / "loss.png" / "keep.txt").write_text("mine")
    before = _snapshot(out)
    result = run("moons", *SMALL_RUN, "--seed", "2", "--out", str(out))
    assert_clean_failure(result, 1, "cannot replace", "loss.png", "it is a folder")
    assert "training" not in result.stdout
    assert _snapshot(out) == before
    assert (out / "loss.png" / "keep.txt").read_text() == "mine"


def test_a_move_that_fails_part_way_puts_every_old_output_back(tmp_path, monkeypatch, capsys):
    """The commit itself fails at the third file: the two files moved are taken back."""
    import os

    from conftest import require, require_program

    require("tqdm")
    require("sklearn")
    require_program("dot")
    from zdravkograd import cli

    out = tmp_path / "o"
    assert cli.main(["moons", *SMALL_RUN, "--out", str(out)]) == 0
    capsys.readouterr()
    (out / "graph.svg").write_text("<svg/>")  # someone else's file in the folder stays
    before = _snapshot(out)
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst) == out / "loss.png" and Path(src).parent.name != ".old":  # not the undo
            raise PermissionError(13, "Permission denied")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    assert cli.main(["moons", *SMALL_RUN, "--seed", "2", "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert "cannot write" in captured.err and "loss.png" in captured.err
    assert "no output was replaced" in captured.err
    # The "wrote" lines came as each file landed, before the failure...
    assert captured.out.splitlines()[-2:] == [f"wrote {out / 'model.json'}",
                                              f"wrote {out / 'decision_boundary.png'}"]  # fmt: skip
    # ...and those files were taken back: the folder is exactly as before, no temporary left.
    assert _snapshot(out) == before
    monkeypatch.undo()
    # Into a folder that does not exist yet: on failure it is not left behind either.
    monkeypatch.setattr(os, "replace", replace)
    out = tmp_path / "new" / "o"
    assert cli.main(["moons", *SMALL_RUN, "--out", str(out)]) == 1
    assert list(tmp_path.glob("new*")) == [] and list(tmp_path.glob(".zdravkograd*")) == []


def test_a_broken_pipe_anywhere_else_is_quiet_too(monkeypatch, capsys):
    """Say stderr's reader went away: nothing more can be said; exit 141, as after SIGPIPE."""
    from zdravkograd import cli

    def closed(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli, "cmd_predict", closed)
    assert cli.main(["predict", "--model", "m.json", "1"]) == 141
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
