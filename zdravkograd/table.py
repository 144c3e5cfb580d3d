"""Your own data: read a CSV file, pick features and target, and keep what prediction needs.

``read_csv(path)`` reads a comma-separated file with a header line and checks its shape:
every problem becomes a ``DataFileError`` (a ``ValueError``) naming the file, the row
and the column. ``Table`` then turns columns into numbers (refusing text, NaN and inf in
a feature) and ``infer_task`` decides between classification and regression.

``Preprocessing`` is everything a trained network needs around it to take raw rows and
give answers: the feature columns in order, their ``Standardizer`` (statistics of the
training split), the task, the class labels (classification) or the target's scaling
(regression). ``save_model`` writes it into ``model.json`` beside the network (the
``"preprocessing"`` field), and ``load_model`` reads and checks both.

The reader is the standard library's ``csv`` module: it streams the file row by row, so
the cell limit (``MAX_CELLS``) is enforced before a huge file is in memory; it reports the
line of each row; and it neither renames duplicate columns nor fills short rows nor turns
``"NA"`` into NaN behind our back (pandas' ``read_csv`` does all three), so each of those
problems can be named exactly.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zdravkograd.data import Standardizer

__all__ = [
    "DataFileError",
    "MAX_CELLS",
    "TASKS",
    "Table",
    "read_csv",
    "infer_task",
    "check_labels",
    "Preprocessing",
    "save_model",
    "load_model",
    "read_preprocessing",
    "labels_of",
]

MAX_CELLS = 1_000_000
"""The most cells (rows x columns, header excluded) ``read_csv`` accepts."""

TASKS = ("classify", "regress")

MAX_CLASSES_INFERRED = 10
"""A numeric target with at most this many distinct integers is taken as class labels."""

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NOT_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)


class DataFileError(ValueError):
    """A data file that cannot be used: what is wrong, and where (file, row, column)."""


def _name(path: Any) -> str:
    return os.fspath(path)


def _finite_number(text: str) -> float | None:
    """The number ``text`` spells (surrounding spaces allowed), or None."""
    return float(text) if _NUMBER.fullmatch(text.strip()) else None


@dataclass
class Table:
    """A CSV file's header and rows, as text, with the file line of each row.

    ``rows[i][j]`` is the cell of data row ``i + 1`` (the first row after the header) in
    column ``columns[j]``, stripped of surrounding spaces.
    """

    path: str
    columns: list[str]
    rows: list[list[str]]
    lines: list[int] = field(default_factory=list)

    def where(self, i: int, column: str | None = None) -> str:
        """``'data.csv, row 3 (line 4), column 'x''``: the place of row ``i`` for messages."""
        text = f"{self.path}, row {i + 1}"
        if self.lines:
            text += f" (line {self.lines[i]})"
        return text + (f", column {column!r}" if column is not None else "")

    def index(self, column: str) -> int:
        """The position of ``column``; ``DataFileError`` listing the columns if absent."""
        try:
            return self.columns.index(column)
        except ValueError:
            hint = ""
            if len(self.columns) == 1:  # e.g. 'a;b;label': another separator than a comma
                seps = [s for s in (";", "\t", "|") if s in self.columns[0]]
                if seps:
                    hint = f"; its values look separated by {seps[0]!r}: save it with commas"
            raise DataFileError(
                f"{self.path} has no column {column!r} (its columns: "
                f"{_listing(self.columns)}){hint}"
            ) from None

    def cells(self, column: str) -> list[str]:
        """The text of every cell of ``column``, in row order."""
        j = self.index(column)
        return [row[j] for row in self.rows]

    def is_numeric(self, column: str) -> bool:
        """True when at least one cell of ``column`` is a finite number (see ``numbers``)."""
        return any(_finite_number(c) is not None for c in self.cells(column))

    def numbers(self, column: str, what: str = "a feature") -> np.ndarray:
        """The column as float64; an empty, non-numeric, NaN or infinite cell raises
        ``DataFileError`` naming its row and column."""
        out = np.empty(len(self.rows))
        for i, cell in enumerate(self.cells(column)):
            x = _finite_number(cell)
            if x is None:
                if cell == "":
                    problem = "is empty; every value must be a number"
                elif _NOT_FINITE.fullmatch(cell):
                    problem = f"is {cell!r}; values must be finite numbers (no NaN or inf)"
                else:
                    problem = f"holds {cell!r:.40}, which is not a number"
                raise DataFileError(f"{self.where(i, column)} {problem} ({what} column)")
            if not math.isfinite(x):  # e.g. 1e999
                raise DataFileError(
                    f"{self.where(i, column)} holds {cell!r:.40}, which is too large for a "
                    f"float ({what} column)"
                )
            out[i] = x
        return out

    def matrix(self, columns: Sequence[str]) -> np.ndarray:
        """The given numeric columns as a float64 array of shape ``(rows, len(columns))``."""
        if not self.rows:
            return np.empty((0, len(columns)))
        return np.column_stack([self.numbers(c) for c in columns])


def _listing(names: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def read_csv(path: Any, max_cells: int = MAX_CELLS) -> Table:
    """Read a comma-separated file with a header line into a ``Table`` of text cells.

    Refused with ``DataFileError``: a missing or unreadable file, text that is not UTF-8,
    an empty file, a header without rows, an empty or repeated column name, a row with
    more or fewer values than the header (blank lines are skipped), and a file of more
    than ``max_cells`` cells, detected while reading.
    """
    name = _name(path)
    try:
        f = open(path, encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise DataFileError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise DataFileError(f"{name} is a folder, not a CSV file") from None
    except OSError as exc:
        raise DataFileError(f"cannot read {name}: {exc.strerror or exc}") from None
    with f:
        # strict: a stray quote is an error, not a guess; "a, b" (a space after the comma) is fine
        reader = csv.reader(f, strict=True, skipinitialspace=True)
        try:
            header: list[str] | None = None
            rows: list[list[str]] = []
            lines: list[int] = []
            cells = 0
            for record in reader:
                if not record or (len(record) == 1 and record[0].strip() == ""):
                    continue  # a blank line
                if header is None:
                    header = [c.strip() for c in record]
                    _check_header(name, header, reader.line_num)
                    continue
                if len(record) != len(header):
                    raise DataFileError(
                        f"{name}, row {len(rows) + 1} (line {reader.line_num}) has "
                        f"{len(record)} values but the header has {len(header)} columns"
                    )
                cells += len(record)
                if cells > max_cells:
                    raise DataFileError(
                        f"{name} has more than {max_cells:,} cells (the limit), reached at row "
                        f"{len(rows) + 1} (line {reader.line_num}) of {len(header)} columns"
                    )
                rows.append([c.strip() for c in record])
                lines.append(reader.line_num)
        except UnicodeDecodeError as exc:
            raise DataFileError(
                f"{name} is not UTF-8 text (byte {exc.start} of a block near line "
                f"{reader.line_num + 1}); save it as UTF-8 CSV"
            ) from None
        except csv.Error as exc:
            raise DataFileError(f"{name}, line {reader.line_num}: not valid CSV: {exc}") from None
        except OSError as exc:
            raise DataFileError(f"cannot read {name}: {exc.strerror or exc}") from None
    if header is None:
        raise DataFileError(f"{name} is empty: expected a header line of column names, then rows")
    if not rows:
        raise DataFileError(f"{name} has a header but no rows of data")
    return Table(name, header, rows, lines)


def _check_header(name: str, header: list[str], line: int) -> None:
    seen: dict[str, int] = {}
    for j, column in enumerate(header):
        if column == "":
            raise DataFileError(f"{name}, line {line}: column {j + 1} of the header has no name")
        if column in seen:
            raise DataFileError(
                f"{name}, line {line}: the column name {column!r} appears twice "
                f"(columns {seen[column] + 1} and {j + 1})"
            )
        seen[column] = j


def _missing(cell: str) -> bool:
    return cell == "" or _NOT_FINITE.fullmatch(cell) is not None


def check_labels(table: Table, target: str) -> None:
    """Refuse class labels that are missing: an empty cell, or NaN or inf among numbers."""
    cells = table.cells(target)
    numeric = all(_finite_number(c) is not None or _missing(c) for c in cells)
    for i, cell in enumerate(cells):
        if cell == "":
            raise DataFileError(f"{table.where(i, target)} is empty (the target)")
        if numeric and _missing(cell):
            raise DataFileError(
                f"{table.where(i, target)} is {cell!r}; numeric class labels must be finite "
                "numbers (no NaN or inf) (the target)"
            )


def infer_task(table: Table, target: str) -> tuple[str, str]:
    """``(task, reason)``: ``'classify'`` when the target holds text, or at most
    ``MAX_CLASSES_INFERRED`` distinct integers; ``'regress'`` otherwise."""
    cells = table.cells(target)
    numbers = [_finite_number(c) for c in cells]
    # empty, NaN and inf cells are missing numbers, not text: they decide nothing here
    # (regression and numeric labels then refuse them, naming the row)
    text = [c for c, x in zip(cells, numbers) if x is None and not _missing(c)]
    if text:
        return "classify", f"the target {target!r} holds text such as {text[0]!r:.30}"
    values = {float(x) for x in numbers if x is not None}
    if all(v.is_integer() for v in values) and len(values) <= MAX_CLASSES_INFERRED:
        return "classify", f"the target {target!r} holds {len(values)} distinct integers"
    return "regress", f"the target {target!r} holds {len(values)} distinct numbers"


def _label(x: float) -> int | float:
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


@dataclass
class Preprocessing:
    """What turns raw table rows into network inputs, and network outputs into answers.

    Attributes:
        features: the feature column names, in the network's input order.
        scaler: the features' ``Standardizer`` (training-split statistics).
        task: ``'classify'`` or ``'regress'``.
        target: the target column's name.
        labels: the class labels (strings or numbers) in output order; classify only.
        target_scaler: the target's ``Standardizer`` (one column); regress only.
    """

    features: list[str]
    scaler: Standardizer
    task: str
    target: str
    labels: list[Any] = field(default_factory=list)
    target_scaler: Standardizer | None = None

    def inputs(self, table: Table) -> np.ndarray:
        """The standardised feature matrix of ``table``; a missing feature column raises."""
        missing = [c for c in self.features if c not in table.columns]
        if missing:
            raise DataFileError(
                f"{table.path} lacks the model's feature column(s) {_listing(missing)} "
                f"(the model reads: {_listing(self.features)}; the file has: "
                f"{_listing(table.columns)})"
            )
        return self.scaler.transform(table.matrix(self.features))

    def decode(self, outputs: np.ndarray) -> list[Any]:
        """Network outputs (shape ``(n, outputs)``) to answers: labels or target values."""
        if self.task == "classify":
            return [self.labels[k] for k in np.argmax(outputs, axis=1).tolist()]
        assert self.target_scaler is not None
        return self.target_scaler.inverse_transform(outputs[:, :1])[:, 0].tolist()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description (the ``"preprocessing"`` field of ``model.json``)."""
        doc: dict[str, Any] = {
            "task": self.task,
            "target": self.target,
            "features": list(self.features),
            "scaler": self.scaler.to_dict(),
        }
        if self.task == "classify":
            doc["labels"] = list(self.labels)
        else:
            assert self.target_scaler is not None
            doc["target_scaler"] = self.target_scaler.to_dict()
        return doc

    @classmethod
    def from_dict(cls, doc: Any, nin: int | None = None, nout: int | None = None) -> Preprocessing:
        """Check and rebuild ``to_dict`` output; ``nin``/``nout`` are the network's sizes,
        which the feature and label counts must match. Raises ``ValueError``."""
        if not isinstance(doc, dict):
            raise ValueError("'preprocessing' must be an object")
        task = doc.get("task")
        if task not in TASKS:
            raise ValueError(f"'preprocessing.task' must be one of {TASKS}, got {task!r:.40}")
        keys = {"task", "target", "features", "scaler"}
        keys |= {"labels"} if task == "classify" else {"target_scaler"}
        if set(doc) != keys:
            raise ValueError(f"'preprocessing' for {task} must have keys {sorted(keys)}")
        target, features = doc["target"], doc["features"]
        if not isinstance(target, str):
            raise ValueError("'preprocessing.target' must be a column name (a string)")
        if (
            not isinstance(features, list)
            or not features
            or not all(isinstance(f, str) and f for f in features)
            or len(set(features)) != len(features)
        ):
            raise ValueError("'preprocessing.features' must be a list of distinct column names")
        scaler = Standardizer.from_dict(doc["scaler"])
        assert scaler.mean is not None
        if len(scaler.mean) != len(features):
            raise ValueError(
                f"'preprocessing.scaler' has {len(scaler.mean)} columns for "
                f"{len(features)} features"
            )
        if nin is not None and nin != len(features):
            raise ValueError(
                f"the network takes {nin} inputs but there are {len(features)} features"
            )
        if task == "classify":
            labels = doc["labels"]
            ok = isinstance(labels, list) and len(labels) >= 2
            ok = ok and all(
                isinstance(v, str) or (isinstance(v, (int, float)) and not isinstance(v, bool))
                for v in labels
            )
            if not ok or len({json.dumps(v) for v in labels}) != len(labels):
                raise ValueError("'preprocessing.labels' must list 2 or more distinct labels")
            if nout is not None and nout != len(labels):
                raise ValueError(
                    f"the network has {nout} outputs but there are {len(labels)} labels"
                )
            return cls(list(features), scaler, task, target, labels=list(labels))
        target_scaler = Standardizer.from_dict(doc["target_scaler"])
        assert target_scaler.mean is not None
        if len(target_scaler.mean) != 1:
            raise ValueError("'preprocessing.target_scaler' must have one column")
        if nout is not None and nout != 1:
            raise ValueError(f"a regression network has 1 output, this one has {nout}")
        return cls(list(features), scaler, task, target, target_scaler=target_scaler)


def _sizes(model: Any) -> tuple[int | None, int | None]:
    from zdravkograd.serialization import architecture

    arch = architecture(model)
    if arch is None or arch["class"] != "MLP":
        return None, None
    return arch["args"]["nin"], arch["args"]["nouts"][-1]


def save_model(model: Any, preprocessing: Preprocessing | None, path: Any) -> None:
    """Write ``model`` and its ``preprocessing`` to ``path`` (``model.json``), atomically."""
    from zdravkograd.serialization import save

    save(model, path, preprocessing=None if preprocessing is None else preprocessing.to_dict())


def load_model(path: Any) -> tuple[Any, Preprocessing | None]:
    """Read ``(network, preprocessing)`` from a ``model.json``; preprocessing is None for a
    file without it (e.g. the moons model). Every field is checked; errors are
    ``FileNotFoundError`` or ``ValueError`` naming the file."""
    from zdravkograd import serialization

    model = serialization.load(path)
    return model, read_preprocessing(path, model)


def read_preprocessing(path: Any, model: Any) -> Preprocessing | None:
    """The checked ``"preprocessing"`` field of the model file ``path`` (None if it has
    none), against ``model``, the network loaded from it."""
    from zdravkograd import serialization

    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if "preprocessing" not in doc:
        return None
    nin, nout = _sizes(model)
    try:
        return Preprocessing.from_dict(doc["preprocessing"], nin, nout)
    except ValueError as exc:
        raise serialization.ModelFileError(f"{_name(path)}: {exc}") from None


def labels_of(values: Sequence[str]) -> tuple[list[Any], np.ndarray]:
    """``(labels, codes)`` for a classification target's cells: numbers when every cell is
    a number (sorted numerically), else the text (sorted); ``codes`` index ``labels``."""
    numbers = [_finite_number(v) for v in values]
    if all(x is not None for x in numbers):
        keys: list[Any] = [_label(float(x)) for x in numbers if x is not None]
    else:
        keys = list(values)
    labels = sorted(set(keys), key=lambda v: (isinstance(v, str), v))
    index = {v: i for i, v in enumerate(labels)}
    return labels, np.array([index[k] for k in keys], dtype=np.int64)
