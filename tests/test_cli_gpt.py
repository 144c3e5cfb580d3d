"""`zdravkograd names` and `zdravkograd sample`, run as real subprocesses."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require

from zdravkograd import nn
from zdravkograd.transformer import GPT

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
OUTPUTS = ("loss.png", "model.json", "samples.txt", "attention.png", "metrics.json")
WORDS = "anna\nbob\nclara\ndora\nemil\nfrida\ngustav\nhanna\n"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "zdravkograd", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def assert_clean_failure(result: subprocess.CompletedProcess, code: int, *needles: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A short `names` run on a small text file (scalar mode)."""
    require("tqdm")
    require("matplotlib")
    root = tmp_path_factory.mktemp("names")
    (root / "words.txt").write_text(WORDS, encoding="utf-8")
    out = root / "out"
    result = run(
        "names", "--steps", "12", "--samples", "4", "--text", str(root / "words.txt"),
        "--out", str(out), "--seed", "3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "training:" in result.stderr  # the progress bar
    return out


def test_names_writes_the_five_files_and_prints_samples(trained):
    assert sorted(p.name for p in trained.iterdir()) == sorted(OUTPUTS)
    for png in ("loss.png", "attention.png"):
        assert (trained / png).read_bytes().startswith(PNG_MAGIC)
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["mode"] == "scalar" and len(metrics["losses"]) == 12
    assert metrics["train_seconds"] > 0 and len(metrics["samples"]) == 4
    samples = (trained / "samples.txt").read_text().splitlines()
    assert samples == metrics["samples"]
    assert all(set(s) <= set("abcdefghilmnorstuv") for s in samples)
    known = set(WORDS.split())
    assert metrics["novel_fraction"] == sum(s not in known for s in samples) / 4
    model = nn.load(trained / "model.json")
    assert isinstance(model, GPT) and model.vocab_size == len(set(WORDS) - {"\n"}) + 1


def test_sample_reads_the_saved_model(trained):
    args = ("sample", "--model", str(trained / "model.json"), "--samples", "5", "--prefix", "an")
    result = run(*args)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 5 and all(line.startswith("an") for line in lines)
    again = run(*args)
    assert again.stdout == result.stdout  # --seed 42 by default: reproducible


def test_names_batched_mode(tmp_path):
    require("tqdm")
    require("matplotlib")
    (tmp_path / "w.txt").write_text(WORDS, encoding="utf-8")
    result = run(
        "names", "--mode", "batched", "--batch", "4", "--steps", "3", "--samples", "2",
        "--text", str(tmp_path / "w.txt"), "--out", str(tmp_path / "o"), "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "training:" not in result.stderr  # --quiet
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["mode"] == "batched" and metrics["batch"] == 4 and len(metrics["losses"]) == 3


@pytest.mark.parametrize(
    "args,code,needles",
    [
        (["names", "--block-size", "1"], 2, ["--block-size", "at least 2"]),
        (["names", "--block-size", "100000000"], 2, ["--block-size", "at most 1024"]),
        (["names", "--temperature", "0"], 2, ["--temperature", "> 0"]),
        (["names", "--temperature", "-1"], 2, ["--temperature"]),
        (["names", "--steps", "0"], 2, ["--steps", "positive"]),
        (["names", "--mode", "fast"], 2, ["--mode", "invalid choice"]),
        (["names", "--text", "EMPTY"], 1, ["holds no documents"]),
        (["names", "--text", "BLANK"], 1, ["holds no documents"]),
        (["names", "--text", "BINARY"], 1, ["not UTF-8"]),
        (["names", "--text", "MISSING"], 1, ["cannot read --text", "no such file"]),
        (["names", "--text", "FOLDER"], 1, ["is a folder"]),
        (["sample", "--model", "TRAINED", "--prefix", "aZ"], 2, ["'Z'", "vocabulary"]),
        (["sample", "--model", "TRAINED", "--temperature", "0"], 2, ["--temperature"]),
        (["sample", "--model", "MLP"], 1, ["holds a MLP, not a GPT"]),
        (["sample", "--model", "NOTJSON"], 1, ["not valid JSON"]),
        (["sample", "--model", "NOVOCAB"], 1, ["no vocabulary"]),
        (["sample", "--model", "MISSING"], 1, ["no such file"]),
        (["sample", "--model", "TRAINED", "--prefix", "a" * 20], 2, ["block size of 16"]),
    ],
)
def test_bad_input_gets_one_line_and_leaves_earlier_output(tmp_path, trained, args, code, needles):
    files = {
        "EMPTY": tmp_path / "empty.txt",
        "BLANK": tmp_path / "blank.txt",
        "BINARY": tmp_path / "binary.txt",
        "MISSING": tmp_path / "missing.txt",
        "FOLDER": tmp_path,
        "TRAINED": trained / "model.json",
        "MLP": tmp_path / "mlp.json",
        "NOTJSON": tmp_path / "notjson.json",
        "NOVOCAB": tmp_path / "novocab.json",
    }
    files["EMPTY"].write_bytes(b"")
    files["BLANK"].write_bytes(b"\n \n\t\n")
    files["BINARY"].write_bytes(b"ab\xff\xfe\n")
    nn.MLP(2, [3, 1], rng=random.Random(0)).save(files["MLP"])
    files["NOTJSON"].write_text("{not json")
    GPT(5, n_embd=4, n_head=2, block_size=4, rng=random.Random(0)).save(files["NOVOCAB"])
    out = tmp_path / "earlier"
    out.mkdir()
    (out / "model.json").write_text("earlier run")
    args = [str(files.get(a, a)) for a in args]
    if args[0] == "names":
        args += ["--out", str(out), "--quiet"] + ([] if "--steps" in args else ["--steps", "2"])
    assert_clean_failure(run(*args), code, *needles)
    assert (out / "model.json").read_text() == "earlier run"
    assert sorted(p.name for p in out.iterdir()) == ["model.json"]


def test_an_unwritable_out_is_refused_before_training(tmp_path):
    (tmp_path / "w.txt").write_text(WORDS, encoding="utf-8")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("names", "--text", str(tmp_path / "w.txt"), "--out", str(blocker), "--steps", "2")
    assert_clean_failure(result, 1, "is not a folder")
    assert "training" not in result.stdout
