"""Saving and loading models: JSON only, atomic, bit-identical, and every bad file refused."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from zdravkograd import nn, serialization
from zdravkograd.engine import Value
from zdravkograd.nn import MLP, Layer, Linear, Module, Neuron, ReLU, Sequential, Sigmoid, Tanh
from zdravkograd.serialization import ModelFileError

ROOT = Path(__file__).resolve().parent.parent


def _weights(m):
    return [p.data for p in m.parameters()]


MODELS = {
    "mlp": lambda: MLP(2, [16, 16, 1], rng=random.Random(1)),
    "mlp-tanh-xavier": lambda: MLP(
        3, [4, 2], activation="tanh", init="xavier", rng=random.Random(2)
    ),
    "layer": lambda: Layer(3, 2, activation="sigmoid", rng=random.Random(3)),
    "neuron": lambda: Neuron(4, activation="tanh", rng=random.Random(4)),
    "linear": lambda: Linear(2, 3, init="kaiming", rng=random.Random(5)),
    "sequential": lambda: Sequential(
        Linear(2, 4, rng=random.Random(6)), Tanh(), Linear(4, 4), ReLU(), Linear(4, 1), Sigmoid()
    ),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_round_trip_rebuilds_architecture_and_weights(name, tmp_path):
    model = MODELS[name]()
    path = tmp_path / "model.json"
    model.save(path)
    state = random.getstate()
    loaded = nn.load(path)
    assert random.getstate() == state  # loading draws nothing from the global random
    assert type(loaded) is type(model)
    assert repr(loaded) == repr(model)
    assert list(loaded.state_dict().items()) == list(model.state_dict().items())
    x = [0.3, -1.7, 2.2, 0.1][: _nin(model)]
    assert _outputs(loaded(x)) == _outputs(model(x))


def _nin(model):
    first = next(m for m in model.modules() if isinstance(m, Neuron))
    return len(first.w)


def _outputs(out):
    return [v.data for v in out] if isinstance(out, list) else [out.data]


def test_file_is_plain_json_with_version_and_architecture(tmp_path):
    path = tmp_path / "m.json"
    MLP(2, [3, 1], rng=random.Random(0)).save(path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "zdravkograd-model" and doc["format_version"] == 1
    assert doc["architecture"] == {
        "class": "MLP",
        "args": {"nin": 2, "nouts": [3, 1], "activation": "relu", "init": "uniform"},
    }
    assert len(doc["weights"]) == 13 and "layers.1.neurons.0.w.2" in doc["weights"]
    assert b"pickle" not in path.read_bytes()


def test_reload_in_a_fresh_process_is_bit_identical(tmp_path):
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    path = tmp_path / "m.json"
    model.save(path)
    xs = [[0.1, 0.2], [-1.3, 0.77], [1e-3, 2.5]]
    ours = [model(list(map(Value, x))).data for x in xs]
    code = (
        "import json, sys\n"
        "from zdravkograd.nn import load\n"
        "from zdravkograd.engine import Value\n"
        f"m = load({str(path)!r})\n"
        f"print(json.dumps([m(list(map(Value, x))).data.hex() for x in {xs!r}]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert json.loads(out.stdout) == [v.hex() for v in ours]


def test_a_save_that_fails_names_the_users_path_not_the_temporary_file(tmp_path):
    m = MLP(2, [2, 1])
    target = tmp_path / "no" / "such" / "dir" / "m.json"
    with pytest.raises(FileNotFoundError) as info:
        m.save(target)
    assert info.value.filename == str(target)
    assert str(info.value) == f"[Errno 2] No such file or directory: '{target}'"
    folder = tmp_path / "m.json"
    folder.mkdir()
    with pytest.raises(IsADirectoryError) as info:
        m.save(folder)
    assert info.value.filename == str(folder) and list(folder.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temporary file left


def test_special_floats_survive(tmp_path):
    m = Neuron(3, rng=random.Random(0))
    m.w[0].data, m.w[1].data, m.w[2].data = float("inf"), 5e-324, -0.0
    m.b.data = float("nan")  # a diverged model saves and loads as it is
    m.save(tmp_path / "m.json")
    w = [p.data for p in nn.load(tmp_path / "m.json").parameters()]
    assert w[0] == float("inf") and w[1] == 5e-324 and str(w[2]) == "-0.0"
    assert w[3] != w[3]  # NaN


# ------------------------------------------------------------- bad files


def _good(tmp_path):
    path = tmp_path / "good.json"
    MLP(2, [3, 1], rng=random.Random(0)).save(path)
    return path, json.loads(path.read_text())


def _write(tmp_path, doc):
    p = tmp_path / "bad.json"
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return p


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file at .*nothing.json"):
        nn.load(tmp_path / "nothing.json")


def test_truncated_json(tmp_path):
    path, _ = _good(tmp_path)
    text = path.read_text()
    bad = _write(tmp_path, text[: len(text) // 2])
    with pytest.raises(ModelFileError, match="not valid JSON \\(truncated or corrupted\\?\\)"):
        nn.load(bad)


def test_binary_garbage(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\x80\x81\xff")
    with pytest.raises(ModelFileError, match="not a text"):
        nn.load(bad)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.__setitem__("format_version", 2), "format version 2; .* reads version 1"),
        (lambda d: d.__setitem__("format_version", True), "format version True"),
        (lambda d: d.pop("format"), "not a zdravkograd model file"),
        (lambda d: d.pop("weights"), "lacks the field"),
        (lambda d: d["architecture"].__setitem__("class", "os.system"), "unknown class"),
        (lambda d: d["architecture"]["args"].__setitem__("nouts", [3, 2]), "missing keys"),
        (lambda d: d["architecture"]["args"].__setitem__("nouts", "3"), "nouts='3' is invalid"),
        (lambda d: d["architecture"]["args"].__setitem__("activation", "gelu"), "activation"),
        (lambda d: d["architecture"]["args"].pop("init"), "takes arguments"),
        (lambda d: d["architecture"].__setitem__("code", "x"), "keys 'class' and 'args'"),
        (lambda d: d["weights"].pop("layers.0.neurons.0.b"), "missing keys"),
        (lambda d: d["weights"].__setitem__("layers.5.w", 1.0), "unexpected keys"),
        (lambda d: d["weights"].__setitem__("layers.0.neurons.0.b", "1.0"), "not a number"),
        (lambda d: d["weights"].__setitem__("layers.0.neurons.0.b", None), "not a number"),
        (lambda d: d["weights"].__setitem__("layers.0.neurons.0.b", True), "not a number"),
        (lambda d: d.__setitem__("weights", [1, 2]), "'weights' must be an object"),
        (lambda d: d.__setitem__("architecture", None), "custom Module"),
    ],
)
def test_bad_files_fail_clearly(tmp_path, edit, message):
    _, doc = _good(tmp_path)
    edit(doc)
    with pytest.raises(ModelFileError, match=message):
        nn.load(_write(tmp_path, doc))


def _replace_bias(text: str, literal: str) -> str:
    """The saved text with the last bias written as ``literal`` (raw JSON, not a Python value)."""
    key = '"layers.1.neurons.0.b": '
    start = text.index(key) + len(key)
    end = text.index("\n", start)
    return text[:start] + literal + text[end:]


@pytest.mark.parametrize(
    "literal, message",
    [
        ("1" + "0" * 400, "too large for a float"),  # a JSON integer beyond the float range
        ("1" + "0" * 5000, "not a model file JSON can read"),  # beyond Python's int parsing
        ("[" * 100_000 + "]" * 100_000, "not a model file JSON can read"),  # too deep
    ],
)
def test_numbers_json_cannot_hold_fail_clearly_and_change_nothing(tmp_path, literal, message):
    path, _ = _good(tmp_path)
    bad = _write(tmp_path, _replace_bias(path.read_text(), literal))
    target = MLP(2, [3, 1], rng=random.Random(9))
    before = _weights(target)
    for model in (None, target):
        with pytest.raises(ModelFileError, match=message):
            nn.load(bad, model=model)
    assert _weights(target) == before


def test_a_huge_architecture_is_refused_before_anything_is_built(tmp_path):
    """A few bytes claiming MLP(2, [10**9, 1]) must not allocate a billion Values."""
    _, doc = _good(tmp_path)
    doc["architecture"]["args"]["nouts"] = [10**9, 1]
    with pytest.raises(ModelFileError, match="has 4,000,000,001 parameters, .* only 13 weights"):
        nn.load(_write(tmp_path, doc))
    doc["architecture"] = {"class": "Sequential", "args": {"modules": [doc["architecture"]] * 3}}
    with pytest.raises(ModelFileError, match="has 12,000,000,003 parameters"):
        nn.load(_write(tmp_path, doc))


@pytest.mark.parametrize(
    "arch, message",
    [
        ({"class": "MLP"}, "architecture must be an object with keys 'class' and 'args'"),
        ({"class": ["MLP"], "args": {}}, "architecture: unknown class \\['MLP'\\]"),
        (
            {"class": "Sequential", "args": {"modules": [{"class": "Gelu", "args": {}}]}},
            "architecture.modules\\[0\\]: unknown class 'Gelu'",
        ),
    ],
)
def test_a_malformed_architecture_names_the_file_even_when_loading_into_a_model(
    tmp_path, arch, message
):
    _, doc = _good(tmp_path)
    doc["architecture"] = arch
    bad = _write(tmp_path, doc)
    target = MLP(2, [3, 1], rng=random.Random(9))
    before = _weights(target)
    for model in (None, target):
        with pytest.raises(ModelFileError, match=f"bad.json: {message}"):
            nn.load(bad, model=model)
    assert _weights(target) == before


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d["architecture"]["args"].__setitem__("nouts", [4, 1]), "different arch"),
        (lambda d: d["weights"].pop("layers.1.neurons.0.w.1"), "missing keys"),
        (lambda d: d["weights"].__setitem__("layers.0.neurons.0.b", "x"), "not a number"),
        (lambda d: d.__setitem__("format_version", 0), "format version 0"),
    ],
)
def test_failed_load_into_a_model_changes_no_weight(tmp_path, edit, message):
    _, doc = _good(tmp_path)
    edit(doc)
    target = MLP(2, [3, 1], rng=random.Random(9))
    before = _weights(target)
    with pytest.raises(ModelFileError, match=message):
        nn.load(_write(tmp_path, doc), model=target)
    assert _weights(target) == before


def test_load_into_a_model(tmp_path):
    path, _ = _good(tmp_path)
    target = MLP(2, [3, 1], rng=random.Random(9))
    assert nn.load(path, model=target) is target
    assert _weights(target) == _weights(MLP(2, [3, 1], rng=random.Random(0)))


class Custom(Module):
    def __init__(self) -> None:
        self.a = Value(1.5)
        self.inner = Linear(1, 2, rng=random.Random(0))


def test_custom_module_saves_weights_and_loads_into_an_instance(tmp_path):
    m = Custom()
    m.a.data = 4.0
    m.save(tmp_path / "c.json")
    assert json.loads((tmp_path / "c.json").read_text())["architecture"] is None
    with pytest.raises(ModelFileError, match="custom Module"):
        nn.load(tmp_path / "c.json")
    fresh = Custom()
    nn.load(tmp_path / "c.json", model=fresh)
    assert fresh.a.data == 4.0
    # a Sequential holding a custom module is also custom
    assert serialization.architecture(Sequential(Custom())) is None


# ----------------------------------------------------------------- atomic


def test_crash_mid_save_leaves_the_old_file(tmp_path, monkeypatch):
    path, _ = _good(tmp_path)
    old = path.read_bytes()
    model = MLP(2, [3, 1], rng=random.Random(5))

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)  # after part of the text was written
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == old
    assert sorted(os.listdir(tmp_path)) == ["good.json"]  # no temporary file left behind


def test_crash_before_rename_leaves_no_file(tmp_path, monkeypatch):
    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        MLP(2, [1]).save(tmp_path / "new.json")
    assert os.listdir(tmp_path) == []


def test_save_overwrites_atomically_and_accepts_str_paths(tmp_path):
    path, _ = _good(tmp_path)
    model = MLP(2, [3, 1], rng=random.Random(5))
    model.save(str(path))
    assert _weights(nn.load(str(path))) == _weights(model)
    assert sorted(os.listdir(tmp_path)) == ["good.json"]


def test_batched_parameter_cannot_be_saved(tmp_path):
    n = Neuron(1)
    n.b.data = np.array([1.0, 2.0])
    with pytest.raises(TypeError, match="holds a batch"):
        n.save(tmp_path / "n.json")
    assert not (tmp_path / "n.json").exists()


def test_loading_never_uses_pickle():
    source = (ROOT / "zdravkograd" / "serialization.py").read_text()
    assert "import pickle" not in source and "eval(" not in source


def test_dumps_and_loads_without_files():
    m = MLP(2, [2, 1], rng=random.Random(0))
    text = serialization.dumps(m)
    back = serialization.loads(text)
    assert back.state_dict() == m.state_dict()
    with pytest.raises(ModelFileError, match="<string> is not valid JSON"):
        serialization.loads(text[:-3])
    with pytest.raises(ModelFileError, match="not a zdravkograd model file"):
        serialization.loads("[1, 2]")


def test_load_into_a_model_ignores_how_it_was_initialised(tmp_path):
    src = MLP(2, [3, 1], init="kaiming", rng=random.Random(0))
    src.save(tmp_path / "k.json")
    dst = MLP(2, [3, 1], rng=random.Random(1))  # init='uniform'
    nn.load(tmp_path / "k.json", model=dst)
    assert dst.state_dict() == src.state_dict()
    with pytest.raises(ModelFileError, match="different architecture"):
        nn.load(tmp_path / "k.json", model=MLP(2, [3, 1], activation="tanh"))


def test_saved_file_gets_the_usual_permissions_not_mkstemps_0600(tmp_path):
    import os
    import stat

    from zdravkograd.nn import MLP

    old = os.umask(0o022)
    try:
        MLP(2, [3, 1]).save(tmp_path / "m.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "m.json").st_mode) == 0o644


def _spy_on_renames(monkeypatch):
    """Record every (source, target) that os.replace / os.rename is asked to move."""
    moves = []
    for name in ("replace", "rename"):
        real = getattr(os, name)

        def spy(src, dst, *args, _real=real, **kwargs):
            moves.append((os.path.abspath(src), os.path.abspath(dst)))
            return _real(src, dst, *args, **kwargs)

        monkeypatch.setattr(os, name, spy)
    return moves


def test_the_temporary_file_is_made_in_the_targets_directory(tmp_path, monkeypatch):
    """A rename is atomic only within one filesystem: the temporary file must sit beside
    the target, not in the system's temporary directory (here made a different folder)."""
    elsewhere = tmp_path / "system-tmp"
    target_dir = tmp_path / "models"
    elsewhere.mkdir()
    target_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(elsewhere))
    monkeypatch.setenv("TMPDIR", str(elsewhere))
    moves = _spy_on_renames(monkeypatch)
    seen_while_writing = []
    real_fsync = os.fsync

    def fsync(fd):
        seen_while_writing.append(sorted(os.listdir(target_dir)))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    model = MLP(2, [3, 1], rng=random.Random(5))
    model.save(target_dir / "m.json")
    assert len(moves) == 1, moves
    src, dst = moves[0]
    assert dst == str(target_dir / "m.json")
    assert os.path.dirname(src) == str(target_dir), f"temporary file made in {src}"
    assert src != dst
    assert os.listdir(elsewhere) == []
    assert seen_while_writing and all(len(names) == 1 for names in seen_while_writing)
    assert sorted(os.listdir(target_dir)) == ["m.json"]
    assert _weights(nn.load(target_dir / "m.json")) == _weights(model)


def test_saving_onto_a_tmpfs_folder_works(monkeypatch):
    """/dev/shm is a tmpfs, another filesystem than the temporary directory: a temporary
    file made anywhere but beside the target fails there with 'Invalid cross-device link'."""
    if not os.path.isdir("/dev/shm") or not os.access("/dev/shm", os.W_OK):
        pytest.skip("this machine has no writable /dev/shm")
    other = tempfile.mkdtemp(dir=str(ROOT))  # on the checkout's filesystem
    shm = tempfile.mkdtemp(dir="/dev/shm", prefix="zdravkograd-test-")
    try:
        monkeypatch.setattr(tempfile, "tempdir", other)
        if os.stat(other).st_dev == os.stat(shm).st_dev:
            pytest.skip("/dev/shm is on the same filesystem as the checkout here")
        model = MLP(2, [3, 1], rng=random.Random(7))
        path = os.path.join(shm, "model.json")
        model.save(path)
        model.save(path)  # and over an existing file
        assert os.listdir(shm) == ["model.json"]
        assert _weights(nn.load(path)) == _weights(model)
        assert os.listdir(other) == []
    finally:
        shutil.rmtree(shm, ignore_errors=True)
        shutil.rmtree(other, ignore_errors=True)
