"""zdravkograd.table: the CSV reader, task inference, the preprocessing saved with a model."""

from __future__ import annotations

import random

import numpy as np
import pytest

from zdravkograd import table
from zdravkograd.data import Standardizer
from zdravkograd.nn import MLP


def write(tmp_path, text, name="d.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_reader_handles_bom_quotes_spaces_and_blank_lines(tmp_path):
    text = '\ufeffa, "b, with comma",c\n\n1, 2 ,"x ""y"""\r\n  \n3,4,z\n'
    t = table.read_csv(write(tmp_path, text))
    assert t.columns == ["a", "b, with comma", "c"]
    assert t.rows == [["1", "2", 'x "y"'], ["3", "4", "z"]]
    assert t.lines == [3, 5]
    np.testing.assert_array_equal(t.matrix(["a", "b, with comma"]), [[1, 2], [3, 4]])
    assert t.is_numeric("a") and not t.is_numeric("c")


@pytest.mark.parametrize(
    "cell, ok", [("1e3", True), ("-.5", True), ("+2.", True), ("1_000", False), ("0x10", False)]
)
def test_numbers_are_plain_decimal(tmp_path, cell, ok):
    t = table.read_csv(write(tmp_path, f"a\n1\n{cell}\n"))
    if ok:
        assert t.numbers("a")[1] == float(cell)
    else:
        with pytest.raises(table.DataFileError, match="row 2 \\(line 3\\), column 'a'"):
            t.numbers("a")


def test_cell_limit_is_a_parameter(tmp_path):
    path = write(tmp_path, "a,b\n" + "1,2\n" * 6)
    assert len(table.read_csv(path, max_cells=12).rows) == 6
    with pytest.raises(table.DataFileError, match="more than 11 cells .* row 6 \\(line 7\\)"):
        table.read_csv(path, max_cells=11)


@pytest.mark.parametrize(
    "cells, task",
    [
        (["a", "b", "a"], "classify"),
        (["1", "2", "3", "1"], "classify"),
        ([str(i) for i in range(11)], "regress"),
        (["0.5", "1", "2"], "regress"),
    ],
)
def test_infer_task(tmp_path, cells, task):
    t = table.read_csv(write(tmp_path, "y\n" + "\n".join(cells) + "\n"))
    assert table.infer_task(t, "y")[0] == task


def test_labels_numbers_sorted_numerically_text_kept():
    assert table.labels_of(["10", "9", "10.0"]) == ([9, 10], pytest.approx([1, 0, 1]))
    labels, codes = table.labels_of(["b", "a", "b"])
    assert labels == ["a", "b"] and codes.tolist() == [1, 0, 1]


def _prep():
    return table.Preprocessing(
        ["x", "y"], Standardizer([1.0, 2.0], [3.0, 4.0]), "classify", "t", labels=["p", "q", 3]
    )


def test_save_and_load_round_trip(tmp_path):
    model = MLP(2, [4, 3], rng=random.Random(0))
    table.save_model(model, _prep(), tmp_path / "m.json")
    loaded, prep = table.load_model(tmp_path / "m.json")
    assert prep is not None and prep.to_dict() == _prep().to_dict()
    assert loaded.state_dict() == model.state_dict()
    model.save(tmp_path / "plain.json")
    assert table.load_model(tmp_path / "plain.json")[1] is None


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(task="cluster"), "task"),
        (lambda d: d.pop("labels"), "must have keys"),
        (lambda d: d.update(features=["x", "x"]), "distinct column names"),
        (lambda d: d.update(labels=["p", "p", "q"]), "distinct labels"),
        (lambda d: d.update(labels=["p", True, "q"]), "distinct labels"),
        (lambda d: d.update(labels=["p", "q"]), "3 outputs but there are 2 labels"),
        (lambda d: d.update(scaler={"mean": [0.0, 0.0], "scale": [1.0, 0.0]}), "> 0"),
        (lambda d: d.update(scaler={"mean": [0.0], "scale": [1.0]}), "1 columns for 2"),
    ],
)
def test_bad_preprocessing_is_refused(change, message):
    doc = _prep().to_dict()
    change(doc)
    with pytest.raises(ValueError, match=message):
        table.Preprocessing.from_dict(doc, nin=2, nout=3)


def test_inputs_need_every_feature(tmp_path):
    t = table.read_csv(write(tmp_path, "y,z\n1,2\n"))
    with pytest.raises(table.DataFileError, match="lacks the model's feature column\\(s\\) 'x'"):
        _prep().inputs(t)
