"""`zdravkograd digits`, `train FILE.csv` and `predict --csv`, run as real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import require

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

for _module in ("tqdm", "matplotlib", "sklearn"):
    require(_module)


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "zdravkograd", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=300,
        env=env,
    )


def assert_clean_failure(result: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    """Exit ``code``, one line on stderr containing every needle, no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert "internal error" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def iris_like(path: Path, n: int = 60, seed: int = 0) -> Path:
    """Three well-separated classes with string labels, plus a text column to ignore."""
    rng = np.random.default_rng(seed)
    lines = ["name,a,b,species"]
    for i in range(n):
        k = i % 3
        a, b = rng.normal(3.0 * k, 0.4), rng.normal(-2.0 * k, 0.4)
        lines.append(f"n{i},{a:.4f},{b:.4f},{['setosa', 'versicolor', 'virginica'][k]}")
    return write(path, "\n".join(lines) + "\n")


# ------------------------------------------------------------------------- digits


def test_digits_defaults_reach_97_percent(tmp_path):
    """The defaults: >= 97% test accuracy, every file written and consistent."""
    result = run("digits", "--quiet", "--out", str(tmp_path / "d"))
    assert result.returncode == 0, result.stderr
    out = tmp_path / "d"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= 0.97, metrics["test_accuracy"]
    assert metrics["train_accuracy"] >= metrics["test_accuracy"] - 0.01
    assert metrics["seconds"] > 0 and metrics["test_rows"] == 450
    history = metrics["history"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert len(history[key]) == 400, key
    assert history["val_loss"][-1] < history["val_loss"][0] / 5
    assert f"test accuracy: {metrics['test_accuracy']:.2%}" in result.stdout
    confusion = np.array(metrics["confusion_matrix"])
    assert confusion.sum() == 450
    assert np.trace(confusion) / 450 == pytest.approx(metrics["test_accuracy"])
    from matplotlib import image

    for name in ("confusion.png", "mistakes.png", "loss.png"):
        assert (out / name).read_bytes().startswith(PNG_MAGIC), name
        pixels = image.imread(out / name)
        assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 20, name
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary leftovers

    # model.json predicts the digits from raw pixel columns (0..16), via predict --csv
    from sklearn.datasets import load_digits

    digits = load_digits()
    rows = digits.data[:40]
    header = ",".join(f"pixel_{r}_{c}" for r in range(8) for c in range(8))
    csv = write(
        tmp_path / "pixels.csv",
        header + "\n" + "\n".join(",".join(str(int(v)) for v in row) for row in rows) + "\n",
    )
    result = run("predict", "--model", str(out / "model.json"), "--csv", str(csv))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "prediction" and len(lines) == 41
    predicted = np.array([int(v) for v in lines[1:]])
    assert np.mean(predicted == digits.target[:40]) >= 0.9


def test_digits_modes_agree(tmp_path):
    """batched and compiled train the same model: the same history, to rounding."""
    runs = {}
    for mode in ("batched", "compiled"):
        out = tmp_path / mode
        result = run("digits", "--quiet", "--steps", "8", "--mode", mode, "--out", str(out))
        assert result.returncode == 0, result.stderr
        runs[mode] = json.loads((out / "metrics.json").read_text())["history"]
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        np.testing.assert_allclose(runs["batched"][key], runs["compiled"][key], rtol=1e-10)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--steps", "0"], "--steps"),
        (["--hidden", "0"], "--hidden"),
        (["--mode", "scalar"], "--mode"),
        (["--test-fraction", "1.5"], "--test-fraction"),
        (["--lr", "-1"], "--lr"),
    ],
)
def test_digits_bad_flags_exit_2(tmp_path, args, needle):
    result = run("digits", *args, "--out", str(tmp_path / "d"))
    assert_clean_failure(result, 2, needle)
    assert not (tmp_path / "d").exists()


# -------------------------------------------------------------------------- train


def test_train_classify_strings_end_to_end(tmp_path):
    data = iris_like(tmp_path / "iris.csv")
    out = tmp_path / "out"
    result = run("train", str(data), "--target", "species", "--quiet", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "task: classify (inferred: " not in result.stdout  # the reason, not a label
    assert "task: classify (the target 'species' holds text" in result.stdout
    assert "ignoring non-numeric column(s): name" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= 0.9 and metrics["features"] == ["a", "b"]
    assert metrics["labels"] == ["setosa", "versicolor", "virginica"]
    for name in ("model.json", "metrics.json", "loss.png", "confusion.png"):
        assert (out / name).is_file(), name
    model = json.loads((out / "model.json").read_text())
    prep = model["preprocessing"]
    assert prep["task"] == "classify" and prep["features"] == ["a", "b"]
    assert prep["labels"] == ["setosa", "versicolor", "virginica"]
    assert len(prep["scaler"]["mean"]) == 2

    # predict: with and without the target column, in row order, to a file
    new = write(tmp_path / "new.csv", "b,a\n0.1,0.05\n-4.1,6.2\n-2.0,2.9\n")
    result = run("predict", "--model", str(out / "model.json"), "--csv", str(new))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "prediction\nsetosa\nvirginica\nversicolor\n"
    dest = tmp_path / "pred.csv"
    result = run(
        "predict", "--model", str(out / "model.json"), "--csv", str(data), "--output", str(dest)
    )
    assert result.returncode == 0, result.stderr
    lines = dest.read_text().splitlines()
    truth = [line.split(",")[3] for line in data.read_text().splitlines()[1:]]
    assert lines[0] == "prediction" and len(lines) == 61
    assert np.mean(np.array(lines[1:]) == np.array(truth)) >= 0.9
    # the one-row form reads the features in the model's order and prints the label
    result = run("predict", "--model", str(out / "model.json"), "6.1", "-4.0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "virginica"


def test_train_regress_inferred(tmp_path):
    rng = np.random.default_rng(1)
    x1, x2 = rng.uniform(-2, 2, 150), rng.uniform(-2, 2, 150)
    y = 3.0 * x1 - 2.0 * x2 + 0.5 * x1 * x2 + 10.0
    text = "x1,x2,y\n" + "".join(f"{a},{b},{c}\n" for a, b, c in zip(x1, x2, y))
    data = write(tmp_path / "reg.csv", text)
    out = tmp_path / "out"
    result = run("train", str(data), "--target", "y", "--quiet", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "task: regress (the target 'y' holds 150 distinct numbers)" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_r2"] > 0.95 and metrics["test_mse"] > 0
    assert "val_r2" in metrics["history"]
    assert (out / "predictions.png").read_bytes().startswith(PNG_MAGIC)
    new = write(tmp_path / "new.csv", "x1,x2\n1.0,0.0\n0.0,1.0\n")
    result = run("predict", "--model", str(out / "model.json"), "--csv", str(new))
    assert result.returncode == 0, result.stderr
    values = [float(v) for v in result.stdout.splitlines()[1:]]
    assert values == pytest.approx([13.0, 8.0], abs=1.0)


def test_train_numeric_labels_and_forced_task(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 3, 90)
    lines = "x,grade\n" + "".join(f"{v},{int(v) + 1}\n" for v in x)
    data = write(tmp_path / "g.csv", lines)
    out = tmp_path / "out"
    result = run("train", str(data), "--target", "grade", "--quiet", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "task: classify (the target 'grade' holds 3 distinct integers)" in result.stdout
    assert json.loads((out / "model.json").read_text())["preprocessing"]["labels"] == [1, 2, 3]
    result = run("train", str(data), "--target", "grade", "--task", "regress", "--quiet",
                 "--steps", "5", "--out", str(tmp_path / "r"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "task: regress (as --task says)" in result.stdout


# ------------------------------------------------------------------ bad files


GOOD_HEADER = "a,b,label\n"


def _rows(n: int) -> str:
    return "".join(f"{i},{i * 2},{'xy'[i % 2]}\n" for i in range(n))


BAD_FILES = [
    ("empty", "", ["empty.csv is empty"]),
    ("blank-lines-only", "\n\n", ["is empty"]),
    ("header-only", GOOD_HEADER, ["has a header but no rows"]),
    (
        "ragged-long",
        GOOD_HEADER + _rows(3) + "1,2,x,4\n" + _rows(2),
        ["row 4 (line 5)", "4 values", "3 columns"],
    ),
    ("ragged-short", GOOD_HEADER + _rows(3) + "1,x\n", ["row 4 (line 5)", "2 values"]),
    ("duplicate", "a,b,a,label\n1,2,3,x\n", ["'a' appears twice", "columns 1 and 3", "line 1"]),
    (
        "text-in-feature",
        GOOD_HEADER + _rows(5) + "7,seven,x\n" + _rows(4),
        ["row 6 (line 7)", "column 'b'", "'seven'", "not a number"],
    ),
    (
        "nan",
        GOOD_HEADER + _rows(3) + "nan,1,x\n" + _rows(6),
        ["row 4 (line 5)", "column 'a'", "'nan'", "finite"],
    ),
    (
        "inf",
        GOOD_HEADER + _rows(3) + "1,-inf,y\n" + _rows(6),
        ["row 4 (line 5)", "column 'b'", "'-inf'"],
    ),
    ("huge-number", GOOD_HEADER + _rows(3) + "1e999,1,y\n" + _rows(6), ["column 'a'", "too large"]),
    (
        "empty-cell",
        GOOD_HEADER + _rows(3) + ",1,y\n" + _rows(6),
        ["row 4 (line 5)", "column 'a'", "empty"],
    ),
    ("missing-target", "a,b,c\n" + _rows(10), ["no column 'label'", "'a', 'b', 'c'"]),
    (
        "semicolons",
        "a;b;label\n" + _rows(5).replace(",", ";"),
        ["no column 'label'", "'a;b;label'", "separated by ';'"],
    ),
    (
        "single-class",
        GOOD_HEADER + "".join(f"{i},{i},x\n" for i in range(10)),
        ["single class", "'x'"],
    ),
    (
        "lonely-class",
        GOOD_HEADER + _rows(10) + "3,3,z\n",
        ["row 11 (line 12)", "'z' has only this 1 row"],
    ),
    (
        "test-too-small",
        "a,label\n" + "".join(f"{i},{'abcd'[i % 4]}\n" for i in range(12)),
        ["test split (3 of 12 rows", "4 classes"],
    ),
    (
        "no-features",
        "name,label\n" + "".join(f"n{i},{'xy'[i % 2]}\n" for i in range(10)),
        ["no numeric column besides the target 'label'"],
    ),
    ("unterminated-quote", GOOD_HEADER + _rows(2) + '1,"2,x\n', ["not valid CSV"]),
    (  # was inferred as classification, then blamed a 'lonely class' of another row
        "nan-regression-target",
        GOOD_HEADER + "".join(f"{i},{i % 3},{i * 0.37:.2f}\n" for i in range(20)) + "1,2,nan\n",
        ["row 21 (line 22)", "column 'label'", "'nan'", "finite"],
    ),
    (
        "inf-numeric-label",
        GOOD_HEADER + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)) + "1,2,-inf\n",
        ["row 21 (line 22)", "column 'label'", "'-inf'", "class labels must be finite"],
    ),
    (
        "huge-regression-target",
        GOOD_HEADER + "".join(f"{i},{i % 3},{i}e200\n" for i in range(20)),
        ["row 20 (line 21)", "column 'label'", "'19e200'", "at most 1e+150"],
    ),
]


@pytest.mark.parametrize("name, text, needles", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_train_bad_files(tmp_path, name, text, needles):
    path = write(tmp_path / ("empty.csv" if name == "empty" else "data.csv"), text)
    out = tmp_path / "out"
    out.mkdir()
    (out / "model.json").write_text("earlier")
    result = run("train", str(path), "--target", "label", "--quiet", "--out", str(out))
    line = assert_clean_failure(result, 1, *needles)
    assert path.name in line
    assert sorted(p.name for p in out.iterdir()) == ["model.json"]  # nothing new, nothing lost
    assert (out / "model.json").read_text() == "earlier"


def test_train_huge_features_are_standardised(tmp_path):
    # features of 1e300 overflowed the standardiser (an internal error); now they train
    path = iris_like(tmp_path / "iris.csv")
    lines = path.read_text().splitlines()
    big = [lines[0]] + [
        ",".join(f"{float(c)}e300" if j == 1 else c for j, c in enumerate(line.split(",")))
        for line in lines[1:]
    ]
    write(path, "\n".join(big) + "\n")
    out = tmp_path / "o"
    result = run("train", str(path), "--target", "species", "--quiet", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
    assert json.loads((out / "metrics.json").read_text())["test_accuracy"] >= 0.9


def test_train_not_utf8(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(("a,label\n" + "1,caf\xe9\n" * 5).encode("latin-1"))
    result = run("train", str(path), "--target", "label", "--out", str(tmp_path / "o"))
    assert_clean_failure(result, 1, "latin.csv", "not UTF-8")
    assert not (tmp_path / "o").exists()


def test_train_missing_file(tmp_path):
    result = run("train", str(tmp_path / "nope.csv"), "--target", "y")
    assert_clean_failure(result, 1, "nope.csv", "no such file")


def test_train_cell_limit(tmp_path):
    path = tmp_path / "big.csv"
    row = ",".join(["1"] * 100) + "\n"
    path.write_text(",".join(f"c{j}" for j in range(100)) + "\n" + row * 10_001)
    result = run("train", str(path), "--target", "c0", "--out", str(tmp_path / "o"))
    assert_clean_failure(result, 1, "big.csv", "more than 1,000,000 cells (the limit)", "row 10001")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--task", "cluster"], "--task"),
        (["--test-fraction", "0"], "--test-fraction"),
        (["--hidden"], "--hidden"),
        (["--steps", "x"], "--steps"),
    ],
)
def test_train_bad_flags_exit_2(tmp_path, args, needle):
    data = iris_like(tmp_path / "iris.csv")
    result = run("train", str(data), "--target", "species", *args)
    assert_clean_failure(result, 2, needle)


def test_train_needs_target(tmp_path):
    data = iris_like(tmp_path / "iris.csv")
    assert_clean_failure(run("train", str(data)), 2, "--target")


# ------------------------------------------------------------------ predict --csv


@pytest.fixture(scope="module")
def iris_model(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("iris")
    data = iris_like(tmp / "iris.csv")
    result = run("train", str(data), "--target", "species", "--steps", "30", "--quiet",
                 "--out", str(tmp / "out"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    return tmp / "out" / "model.json"


def test_predict_missing_feature_column(tmp_path, iris_model):
    new = write(tmp_path / "new.csv", "a,c\n1,2\n")
    dest = tmp_path / "pred.csv"
    dest.write_text("earlier")
    result = run("predict", "--model", str(iris_model), "--csv", str(new), "--output", str(dest))
    assert_clean_failure(result, 1, "new.csv", "lacks the model's feature column(s) 'b'")
    assert dest.read_text() == "earlier"


@pytest.mark.parametrize(
    "text, needles",
    [
        ("a,b\n1,2\n1,oops\n", ["new.csv, row 2 (line 3), column 'b'", "'oops'"]),
        ("a,b\n1,2\n1,NaN\n", ["row 2 (line 3), column 'b'", "finite"]),
        ("", ["new.csv is empty"]),
        ("a,b\n", ["no rows"]),
    ],
)
def test_predict_bad_csv(tmp_path, iris_model, text, needles):
    new = write(tmp_path / "new.csv", text)
    dest = tmp_path / "pred.csv"
    result = run("predict", "--model", str(iris_model), "--csv", str(new), "--output", str(dest))
    assert_clean_failure(result, 1, *needles)
    assert not dest.exists()


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--output", "x.csv", "1", "2"], "--output goes with --csv"),
        (["--csv", "x.csv", "1", "2"], "either --csv FILE or the input numbers"),
        ([], "give the input numbers"),
        (["1"], "the model reads 2 numbers (a, b), got 1"),
    ],
)
def test_predict_bad_flags(iris_model, args, needle):
    assert_clean_failure(run("predict", "--model", str(iris_model), *args), 2, needle)


def test_predict_bad_preprocessing_is_refused(tmp_path, iris_model):
    doc = json.loads(iris_model.read_text())
    doc["preprocessing"]["labels"] = ["only-one", "only-one", "x"]
    bad = write(tmp_path / "model.json", json.dumps(doc))
    result = run("predict", "--model", str(bad), "1", "2")
    assert_clean_failure(result, 1, "model.json", "distinct labels")
    doc = json.loads(iris_model.read_text())
    doc["preprocessing"]["features"] = ["a"]
    doc["preprocessing"]["scaler"] = {"mean": [0.0], "scale": [1.0]}
    bad = write(tmp_path / "model.json", json.dumps(doc))
    result = run("predict", "--model", str(bad), "1", "2")
    assert_clean_failure(result, 1, "takes 2 inputs but there are 1 features")


def test_predict_moons_model_keeps_its_form(tmp_path):
    """`predict x y` on a model without preprocessing prints the score, as before."""
    import random

    from zdravkograd.nn import MLP

    model = MLP(2, [3, 1], rng=random.Random(0))
    model.save(tmp_path / "m.json")
    result = run("predict", "--model", str(tmp_path / "m.json"), "0.5", "-0.25")
    assert result.returncode == 0, result.stderr
    from zdravkograd.engine import Value

    expected = model([Value(0.5), Value(-0.25)]).data
    assert float(result.stdout) == expected
    new = write(tmp_path / "pts.csv", "x1,x2\n0.5,-0.25\n")
    result = run("predict", "--model", str(tmp_path / "m.json"), "--csv", str(new))
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.splitlines()[1]) == pytest.approx(expected, rel=1e-12)
