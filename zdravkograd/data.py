"""Small 2-D datasets for classification demos, helpers to split and batch them, and text.

Text (for the GPT): ``load_names()`` returns the 32,033 US baby names shipped with the
package (``zdravkograd/datasets/README.md`` says where they come from), ``load_documents``
reads any text file with one document per line, and ``CharTokenizer`` maps characters to
token ids, with one extra BOS token that starts and ends every document.

Every function returns NumPy arrays: ``X`` of shape ``(n, 2)`` (float64) and ``y`` of
shape ``(n,)`` (int64 class labels ``0, 1, ...``). Feed a row to a model with
``list(map(Value, row))``; turn labels into the hinge loss's -1/+1 with ``y * 2 - 1``.

``make_moons``, ``make_circles`` and ``make_blobs`` wrap scikit-learn (the ``data``
extra); ``spiral`` and ``xor`` are written here and need only NumPy.

``load_digits`` is scikit-learn's 8x8 handwritten digits (1,797 images, shipped inside
scikit-learn, so nothing is downloaded): ``X`` has shape ``(1797, 64)``, ten classes.
``train_test_split(..., stratify=y)`` keeps each class's share in both splits, and
``Standardizer`` scales features with the training split's statistics.

``seed`` is an int for reproducible data, or None. With ``seed=None`` the scikit-learn
wrappers draw from NumPy's global generator (so the seed notebook's
``np.random.seed(1337)`` reproduces its data), and ``spiral``/``xor`` from a fresh one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources
from typing import Any

import numpy as np

from zdravkograd._checks import check_int
from zdravkograd._optional import require_extra


def _sklearn_datasets() -> Any:
    return require_extra("sklearn.datasets", "data", "zdravkograd.data.make_moons and friends")


def _check_n(n_samples: Any) -> int:
    return check_int("n_samples", n_samples, minimum=1)


def _out(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)


def make_moons(
    n_samples: int = 100, noise: float = 0.1, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's ``make_moons``), labels 0 and 1."""
    X, y = _sklearn_datasets().make_moons(
        n_samples=_check_n(n_samples), noise=noise, random_state=seed
    )
    return _out(X, y)


def make_circles(
    n_samples: int = 100, noise: float = 0.05, factor: float = 0.8, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle (label 1) inside a large one (label 0), scaled by ``factor``."""
    X, y = _sklearn_datasets().make_circles(
        n_samples=_check_n(n_samples), noise=noise, factor=factor, random_state=seed
    )
    return _out(X, y)


def make_blobs(
    n_samples: int = 100,
    centers: int = 2,
    cluster_std: float = 1.0,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs in 2-D around ``centers`` random centres, labels ``0..centers-1``."""
    X, y = _sklearn_datasets().make_blobs(
        n_samples=_check_n(n_samples),
        n_features=2,
        centers=centers,
        cluster_std=cluster_std,
        random_state=seed,
    )
    return _out(X, y)


def spiral(
    n_samples: int = 150, classes: int = 3, noise: float = 0.2, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms (the CS231n dataset), ``n_samples`` in all.

    Arm ``c`` has radius ``r`` in [0, 1] and angle ``4 r + 2 pi c / classes`` plus
    Gaussian noise of standard deviation ``noise`` (in radians).
    """
    n = _check_n(n_samples)
    classes = check_int("classes", classes, minimum=1)
    rng = np.random.default_rng(seed)
    y = np.arange(n, dtype=np.int64) % classes
    y.sort()
    r = np.empty(n)
    for c in range(classes):
        idx = np.flatnonzero(y == c)
        r[idx] = np.linspace(0.0, 1.0, len(idx)) if len(idx) > 1 else 0.5
    theta = 4.0 * r + 2.0 * np.pi * y / classes + rng.normal(0.0, noise, n)
    X = np.column_stack([r * np.sin(theta), r * np.cos(theta)])
    return X, y


def xor(
    n_samples: int = 100, noise: float = 0.1, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Points near the four corners of the square [-1, 1]^2; label 1 where x1 x2 < 0.

    Each point is a corner ``(±1, ±1)`` plus Gaussian noise of standard deviation ``noise``.
    The label is the XOR of the corner's signs, so no straight line separates the classes.
    """
    n = _check_n(n_samples)
    rng = np.random.default_rng(seed)
    corners = rng.choice([-1.0, 1.0], size=(n, 2))
    X = corners + rng.normal(0.0, noise, (n, 2))
    y = (corners[:, 0] * corners[:, 1] < 0).astype(np.int64)
    return X, y


def _generator(rng: Any) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be None, an int seed or a numpy Generator, got {type(rng)}")


def train_test_split(
    X: Any,
    y: Any,
    test_size: float = 0.25,
    shuffle: bool = True,
    seed: int | None = None,
    stratify: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split into ``(X_train, X_test, y_train, y_test)`` like scikit-learn's function.

    ``test_size`` is a fraction in (0, 1) (rounded up to whole samples) or a number of
    samples. Rows are shuffled first unless ``shuffle=False``.

    With ``stratify`` (an array of class labels, usually ``y``) each class is split on
    its own, so both splits keep the classes' proportions. Every class then appears in
    both splits: a class with a single sample, or a test (or training) split with fewer
    samples than there are classes, raises ``ValueError``. Within each split the rows
    keep the order of one random permutation.
    """
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X has {n} rows but y has {len(y)}")
    if isinstance(test_size, float) and 0.0 < test_size < 1.0:
        n_test = int(np.ceil(test_size * n))
    elif isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        n_test = int(test_size)
    else:
        raise ValueError(f"test_size must be a fraction in (0, 1) or an int, got {test_size!r}")
    if not 0 < n_test < n:
        raise ValueError(f"test_size={test_size!r} leaves {n - n_test} of {n} samples to train")
    rng = _generator(seed)
    if stratify is None:
        order = rng.permutation(n) if shuffle else np.arange(n)
        test, train = order[:n_test], order[n_test:]
        return X[train], X[test], y[train], y[test]
    if not shuffle:
        raise ValueError("stratify needs shuffle=True (as in scikit-learn)")
    groups = np.asarray(stratify)
    if groups.shape != (n,):
        raise ValueError(f"stratify must hold one label per row ({n}), got shape {groups.shape}")
    classes, codes, counts = np.unique(groups, return_inverse=True, return_counts=True)
    per_class = _stratified_counts(counts, n_test, classes)
    order = rng.permutation(n)
    in_test = np.zeros(n, dtype=bool)
    for c, k in enumerate(per_class):
        members = order[codes[order] == c]  # this class's rows, in the random order
        in_test[members[:k]] = True
    test, train = order[in_test[order]], order[~in_test[order]]
    return X[train], X[test], y[train], y[test]


def _stratified_counts(counts: np.ndarray, n_test: int, classes: np.ndarray) -> list[int]:
    """How many rows of each class go to the test split: proportional (largest remainders),
    at least one of every class in each split, ``n_test`` in all."""
    n, k = int(counts.sum()), len(counts)
    if counts.min() < 2:
        lonely = classes[int(np.argmin(counts))].item()  # a plain int or str for the message
        raise ValueError(
            f"class {lonely!r} has only 1 sample; stratifying needs at least 2 of every class "
            "(one for each split)"
        )
    if n_test < k:
        raise ValueError(
            f"the test split ({n_test} samples) is too small to hold each of the {k} classes"
        )
    if n - n_test < k:
        raise ValueError(
            f"the training split ({n - n_test} samples) is too small to hold each of the "
            f"{k} classes"
        )
    ideal = counts * n_test / n
    take = np.clip(np.floor(ideal).astype(np.int64), 1, counts - 1)
    remainder = ideal - take
    while take.sum() < n_test:  # give one more to the class furthest below its share
        room = np.where(take < counts - 1, remainder, -np.inf)
        c = int(np.argmax(room))
        take[c] += 1
        remainder[c] -= 1.0
    while take.sum() > n_test:  # take one back from the class furthest above its share
        room = np.where(take > 1, remainder, np.inf)
        c = int(np.argmin(room))
        take[c] -= 1
        remainder[c] += 1.0
    return [int(t) for t in take]


class Standardizer:
    """Scale each feature to mean 0 and standard deviation 1, with statistics from ``fit``.

    Fit it on the training split only and apply the same ``mean`` and ``scale`` to every
    other split, so that the test data tells the model nothing during training::

        scaler = Standardizer().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    ``scale`` is the population standard deviation (``ddof=0``, as scikit-learn's
    ``StandardScaler``); a constant feature gets scale 1, so it becomes 0 instead of NaN.
    You can also give ``mean`` and ``scale`` yourself (e.g. ``scale=16`` for pixels in
    0..16), or restore them from ``to_dict()`` with ``from_dict``.
    """

    def __init__(self, mean: Any = None, scale: Any = None) -> None:
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None
        if (mean is None) != (scale is None):
            raise ValueError("give both mean and scale, or neither")
        if mean is not None:
            m = np.atleast_1d(np.asarray(mean, dtype=np.float64))
            s = np.broadcast_to(np.asarray(scale, dtype=np.float64), m.shape).copy()
            self._set(m, s)

    def _set(self, mean: np.ndarray, scale: np.ndarray) -> None:
        if mean.ndim != 1 or not np.all(np.isfinite(mean)):
            raise ValueError("mean must be a 1-D array of finite numbers")
        if scale.shape != mean.shape or not np.all(np.isfinite(scale)) or np.any(scale <= 0):
            raise ValueError(f"scale must hold {len(mean)} finite numbers > 0")
        self.mean, self.scale = mean, scale

    def fit(self, X: Any) -> Standardizer:
        """Learn each column's mean and standard deviation from ``X`` (shape ``(n, d)``)."""
        Xa = _features(X, "fit")
        # computed on X / max|X| (each column in -1..1) and scaled back, so that columns of
        # huge numbers (1e300) do not overflow in the sum or the squares
        big = np.abs(Xa).max(axis=0)
        big[big == 0] = 1.0
        unit = Xa / big
        scale = unit.std(axis=0) * big
        scale[scale == 0] = 1.0
        self._set(unit.mean(axis=0) * big, scale)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """``(X - mean) / scale``, column by column."""
        mean, scale = self._fitted()
        Xa = _features(X, "transform")
        if Xa.shape[1] != len(mean):
            raise ValueError(f"transform: X has {Xa.shape[1]} columns; fitted on {len(mean)}")
        return (Xa - mean) / scale

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """``X * scale + mean``: back to the original units."""
        mean, scale = self._fitted()
        return np.asarray(X, dtype=np.float64) * scale + mean

    def to_dict(self) -> dict[str, list[float]]:
        """``{'mean': [...], 'scale': [...]}`` as plain floats (JSON-safe)."""
        mean, scale = self._fitted()
        return {"mean": mean.tolist(), "scale": scale.tolist()}

    @classmethod
    def from_dict(cls, state: Any) -> Standardizer:
        """The inverse of ``to_dict``; raises ValueError for anything else."""
        if not isinstance(state, dict) or set(state) != {"mean", "scale"}:
            raise ValueError("a standardizer is an object with keys 'mean' and 'scale'")
        mean, scale = state["mean"], state["scale"]
        for name, v in (("mean", mean), ("scale", scale)):
            ok = isinstance(v, list) and len(v) > 0
            if not ok or not all(_is_number(x) for x in v):
                raise ValueError(f"standardizer {name!r} must be a non-empty list of numbers")
        if len(mean) != len(scale):
            raise ValueError(f"standardizer has {len(mean)} means but {len(scale)} scales")
        return cls(mean, scale)

    def _fitted(self) -> tuple[np.ndarray, np.ndarray]:
        if self.mean is None or self.scale is None:
            raise ValueError("this Standardizer is not fitted yet: call fit(X_train) first")
        return self.mean, self.scale

    def __repr__(self) -> str:
        if self.mean is None:
            return "Standardizer(not fitted)"
        return f"Standardizer({len(self.mean)} features)"


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _features(X: Any, what: str) -> np.ndarray:
    try:
        Xa = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}: X must be a 2-D array of numbers: {exc}") from None
    if Xa.ndim != 2 or Xa.shape[0] == 0:
        raise ValueError(f"{what}: X must be a non-empty 2-D array (n, d), got shape {Xa.shape}")
    if not np.all(np.isfinite(Xa)):
        raise ValueError(f"{what}: X contains NaN or infinity")
    return Xa


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 handwritten digits: ``X`` (1797, 64) float64, ``y`` (1797,) int64.

    Each row is an 8x8 image read row by row, pixels from 0 (white) to 16 (black); see one
    with ``X[i].reshape(8, 8)``. The labels are the digits 0..9, about 180 of each. The
    data ships inside scikit-learn (the ``data`` extra): nothing is downloaded.
    """
    datasets = require_extra("sklearn.datasets", "data", "zdravkograd.data.load_digits")
    bunch = datasets.load_digits()
    return _out(bunch.data, bunch.target)


def batches(
    X: Any, y: Any, batch_size: int, shuffle: bool = True, rng: Any = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(X_batch, y_batch)`` pairs covering every sample once (the last may be short).

    ``rng`` (None, an int seed or a ``numpy.random.Generator``) orders the samples when
    ``shuffle`` is true.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    order = _generator(rng).permutation(len(X)) if shuffle else np.arange(len(X))
    return _batches(X, y, order, batch_size)  # checked above, at call time


def _batches(
    X: np.ndarray, y: np.ndarray, order: np.ndarray, batch_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for start in range(0, len(X), batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], y[idx]


# ------------------------------------------------------------------------ text


class DataFileError(ValueError):
    """A text file that cannot serve as a data set: what is wrong, and where."""


def load_documents(path: Any) -> list[str]:
    """The documents of a UTF-8 text file holding one per line (blank lines skipped,
    surrounding whitespace stripped). Raises ``FileNotFoundError``, ``DataFileError``
    (not UTF-8 text, or no document at all) or ``OSError``."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as exc:
        raise DataFileError(
            f"{path} is not UTF-8 text: byte {exc.start} cannot be decoded ({exc.reason})"
        ) from None
    except IsADirectoryError:
        raise DataFileError(f"{path} is a folder, not a text file") from None
    docs = [line.strip() for line in text.splitlines()]
    docs = [d for d in docs if d]
    if not docs:
        raise DataFileError(f"{path} holds no documents (it is empty or only blank lines)")
    return docs


def names_path() -> str:
    """The path of the shipped ``names.txt``."""
    return str(resources.files("zdravkograd") / "datasets" / "names.txt")


def load_names() -> list[str]:
    """The 32,033 US baby names shipped with zdravkograd (SSA data, 2016-2017), most frequent
    first, lower-case a-z: makemore's and microgpt's kind of data set."""
    return load_documents(names_path())


class CharTokenizer:
    """Characters to token ids and back, with a BOS token.

    The ids of the characters are ``0 .. len(chars) - 1`` in sorted order; BOS is the last id,
    ``len(chars)``: it starts every document and also ends it, so a model learns when to
    stop. ``CharTokenizer.from_documents(docs)`` uses the characters the documents contain
    (27 tokens for names: ``a``-``z`` and BOS).
    """

    def __init__(self, chars: Iterable[str]) -> None:
        chars = sorted(set(chars))
        bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
        if bad or not chars:
            raise ValueError(f"CharTokenizer takes single characters, got {bad[:3] or 'none'}")
        self.chars = chars
        self.bos = len(chars)
        self._ids = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_documents(cls, docs: Sequence[str]) -> CharTokenizer:
        return cls(set("".join(docs)))

    @property
    def vocab_size(self) -> int:
        """The number of tokens: the characters and BOS."""
        return len(self.chars) + 1

    def encode(self, text: str) -> list[int]:
        """The ids of ``text``'s characters (no BOS). A character outside the vocabulary
        raises ``ValueError`` naming it and its position."""
        ids = []
        for i, c in enumerate(text):
            if c not in self._ids:
                raise ValueError(
                    f"character {c!r} at position {i} of {text!r:.40} is not in the "
                    f"vocabulary ({''.join(self.chars)!r:.80})"
                )
            ids.append(self._ids[c])
        return ids

    def encode_document(self, text: str) -> list[int]:
        """``[BOS] + encode(text) + [BOS]``: a document as the model trains on it."""
        return [self.bos, *self.encode(text), self.bos]

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids``; BOS tokens are dropped."""
        return "".join(self.chars[i] for i in ids if i != self.bos)

    def __repr__(self) -> str:
        return f"CharTokenizer({''.join(self.chars)!r}, bos={self.bos})"


__all__ = [
    "load_names",
    "load_documents",
    "names_path",
    "CharTokenizer",
    "DataFileError",
    "make_moons",
    "make_circles",
    "make_blobs",
    "spiral",
    "xor",
    "load_digits",
    "train_test_split",
    "Standardizer",
    "batches",
]
