"""zdravkograd.data: datasets, splitting, batching."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import require

from zdravkograd import data
from zdravkograd.engine import Value


def _check_shapes(X, y, n, classes):
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(classes))


@pytest.mark.parametrize(
    "fn, kwargs, classes",
    [
        ("make_moons", {"noise": 0.1}, 2),
        ("make_circles", {"noise": 0.05}, 2),
        ("make_blobs", {"centers": 3}, 3),
    ],
)
def test_sklearn_wrappers_match_sklearn_and_are_seeded(fn, kwargs, classes):
    datasets = require("sklearn.datasets")
    X, y = getattr(data, fn)(n_samples=60, seed=7, **kwargs)
    _check_shapes(X, y, 60, classes)
    if fn == "make_blobs":
        kwargs = {**kwargs, "n_features": 2}
    Xs, ys = getattr(datasets, fn)(n_samples=60, random_state=7, **kwargs)
    np.testing.assert_array_equal(X, Xs)
    np.testing.assert_array_equal(y, ys)
    X2, _ = getattr(data, fn)(n_samples=60, seed=8, **kwargs if fn != "make_blobs" else {})
    assert not np.array_equal(X, X2)


def test_make_moons_without_seed_follows_numpy_global_seed():
    """The seed notebook's np.random.seed(1337) + make_moons(...) gives the same data."""
    datasets = require("sklearn.datasets")
    np.random.seed(1337)
    X, y = data.make_moons(n_samples=100, noise=0.1)
    np.random.seed(1337)
    Xs, ys = datasets.make_moons(n_samples=100, noise=0.1)
    np.testing.assert_array_equal(X, Xs)
    np.testing.assert_array_equal(y, ys)


def test_spiral_shape_classes_and_seed():
    X, y = data.spiral(n_samples=90, classes=3, seed=1)
    _check_shapes(X, y, 90, 3)
    assert np.bincount(y).tolist() == [30, 30, 30]
    assert np.all(np.hypot(X[:, 0], X[:, 1]) <= 1.0 + 1e-12)  # radius in [0, 1]
    X2, y2 = data.spiral(n_samples=90, classes=3, seed=1)
    np.testing.assert_array_equal(X, X2)
    assert not np.array_equal(X, data.spiral(n_samples=90, classes=3, seed=2)[0])
    # without noise, each arm follows angle = 4 r + 2 pi c / classes exactly
    X, y = data.spiral(n_samples=30, classes=3, noise=0.0)
    r = np.hypot(X[:, 0], X[:, 1])
    theta = np.arctan2(X[:, 0], X[:, 1])
    expected = 4 * r + 2 * np.pi * y / 3
    np.testing.assert_allclose(np.cos(theta - expected)[r > 0], 1.0, atol=1e-12)


def test_xor_labels_are_the_xor_of_the_quadrants():
    X, y = data.xor(n_samples=200, noise=0.05, seed=3)
    _check_shapes(X, y, 200, 2)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))  # low noise
    np.testing.assert_array_equal(X, data.xor(n_samples=200, noise=0.05, seed=3)[0])


def test_spiral_and_xor_need_no_sklearn():
    code = (
        "import sys; sys.modules['sklearn'] = None\n"
        "from zdravkograd import data\n"
        "data.spiral(30, seed=0); data.xor(30, seed=0)\n"
        "try:\n    data.make_moons(10)\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert 'pip install "zdravkograd[data]"' in out.stdout


def test_rows_feed_an_mlp():
    from zdravkograd.nn import MLP

    X, _ = data.xor(n_samples=4, seed=0)
    out = MLP(2, [3, 1])(list(map(Value, X[0])))
    assert isinstance(out, Value)


def test_train_test_split():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    Xtr, Xte, ytr, yte = data.train_test_split(X, y, test_size=0.25, seed=0)
    assert len(Xte) == 3 and len(Xtr) == 7  # ceil(2.5)
    np.testing.assert_array_equal(Xtr[:, 0] / 2, ytr)  # rows stay with their labels
    assert sorted(np.concatenate([ytr, yte]).tolist()) == list(range(10))
    again = data.train_test_split(X, y, test_size=0.25, seed=0)
    np.testing.assert_array_equal(again[3], yte)
    Xtr, Xte, ytr, yte = data.train_test_split(X, y, test_size=4, shuffle=False)
    assert yte.tolist() == [0, 1, 2, 3] and ytr.tolist() == [4, 5, 6, 7, 8, 9]
    with pytest.raises(ValueError, match="X has 10 rows but y has 9"):
        data.train_test_split(X, y[:9])
    with pytest.raises(ValueError, match="test_size"):
        data.train_test_split(X, y, test_size=1.5)
    with pytest.raises(ValueError, match="leaves 0 of 10"):
        data.train_test_split(X, y, test_size=10)


def test_batches_cover_every_sample_once():
    X = np.arange(14.0).reshape(7, 2)
    y = np.arange(7)
    got = list(data.batches(X, y, batch_size=3, rng=0))
    assert [len(b[1]) for b in got] == [3, 3, 1]
    ys = np.concatenate([b[1] for b in got])
    assert sorted(ys.tolist()) == list(range(7)) and ys.tolist() != list(range(7))
    for Xb, yb in got:
        np.testing.assert_array_equal(Xb[:, 0] / 2, yb)
    same = [b[1].tolist() for b in data.batches(X, y, 3, rng=np.random.default_rng(0))]
    assert same == [b[1].tolist() for b in got]
    ordered = [b[1].tolist() for b in data.batches(X, y, 4, shuffle=False)]
    assert ordered == [[0, 1, 2, 3], [4, 5, 6]]
    with pytest.raises(ValueError, match="batch_size must be at least 1, got 0"):
        data.batches(X, y, 0)  # raised at the call, not at the first next()
    with pytest.raises(TypeError, match="batch_size must be an int, got float"):
        data.batches(X, y, 2.0)
    with pytest.raises(TypeError, match="rng must be"):
        data.batches(X, y, 2, rng="seed")


def test_bad_n_samples():
    with pytest.raises(ValueError, match="at least 1"):
        data.xor(0)
    with pytest.raises(TypeError, match="must be an int"):
        data.spiral(10.5)  # type: ignore[arg-type]


# ------------------------------------------------------------ digits, stratify, Standardizer


def test_load_digits_is_sklearns_digits():
    datasets = require("sklearn.datasets")
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    bunch = datasets.load_digits()
    np.testing.assert_array_equal(X, bunch.data)
    np.testing.assert_array_equal(y, bunch.target)
    assert X.min() == 0 and X.max() == 16 and set(y.tolist()) == set(range(10))


@pytest.mark.parametrize("seed", range(5))
def test_stratified_split_keeps_class_shares(seed):
    rng = np.random.default_rng(seed)
    y = rng.choice(["a", "b", "c", "d"], size=200, p=[0.55, 0.25, 0.15, 0.05])
    X = np.arange(200.0).reshape(-1, 1)
    X_tr, X_te, y_tr, y_te = data.train_test_split(X, y, test_size=0.3, seed=seed, stratify=y)
    assert len(X_te) == 60 and len(X_tr) == 140
    # every row lands in exactly one split, with its own label
    rows = np.concatenate([X_tr[:, 0], X_te[:, 0]]).astype(int)
    assert sorted(rows.tolist()) == list(range(200))
    np.testing.assert_array_equal(np.concatenate([y_tr, y_te]), y[rows])
    for label in "abcd":
        share = np.sum(y == label) * 0.3
        assert abs(np.sum(y_te == label) - share) <= 1, label  # proportional, to one sample
        assert np.sum(y_tr == label) >= 1


def test_stratified_split_matches_sklearn_counts():
    model_selection = require("sklearn.model_selection")
    X, y = data.load_digits()
    _, _, _, y_te = data.train_test_split(X, y, test_size=0.25, seed=0, stratify=y)
    _, _, _, s_te = model_selection.train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    assert len(y_te) == len(s_te) == 450
    assert np.abs(np.bincount(y_te) - np.bincount(s_te)).max() <= 1


def test_stratified_split_puts_every_class_in_both_splits():
    y = np.array([0] * 20 + [1] * 2 + [2] * 2)
    _, _, y_tr, y_te = data.train_test_split(np.zeros((24, 1)), y, test_size=3, stratify=y)
    assert set(y_te.tolist()) == set(y_tr.tolist()) == {0, 1, 2}


@pytest.mark.parametrize(
    "y, test_size, message",
    [
        ([0, 0, 0, 1], 0.5, "class 1 has only 1 sample"),
        (
            [0, 0, 1, 1, 2, 2, 3, 3],
            2,
            r"test split \(2 samples\) is too small to hold each of the 4",
        ),
        ([0, 0, 1, 1, 2, 2], 4, r"training split \(2 samples\) is too small"),
    ],
)
def test_stratified_split_errors(y, test_size, message):
    y = np.array(y)
    with pytest.raises(ValueError, match=message):
        data.train_test_split(np.zeros((len(y), 1)), y, test_size=test_size, stratify=y)


def test_standardizer_uses_training_statistics():
    preprocessing = require("sklearn.preprocessing")
    rng = np.random.default_rng(0)
    X_tr = rng.normal(5.0, 3.0, (50, 3))
    X_tr[:, 2] = 7.0  # a constant column: scale 1, not a division by zero
    X_te = rng.normal(5.0, 3.0, (10, 3))
    scaler = data.Standardizer().fit(X_tr)
    ref = preprocessing.StandardScaler().fit(X_tr)
    np.testing.assert_allclose(scaler.transform(X_te), ref.transform(X_te), rtol=1e-12)
    np.testing.assert_allclose(scaler.fit_transform(X_tr).mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X_te)), X_te)
    again = data.Standardizer.from_dict(scaler.to_dict())
    np.testing.assert_array_equal(again.transform(X_te), scaler.transform(X_te))


def test_standardizer_fits_huge_columns():
    # 1e300 squared overflows: the statistics must still be finite and right
    rng = np.random.default_rng(1)
    X = rng.normal(2.0, 3.0, (40, 2))
    with np.errstate(all="raise"):
        big = data.Standardizer().fit(X * 1e300)
    small = data.Standardizer().fit(X)
    np.testing.assert_allclose(big.mean, small.mean * 1e300, rtol=1e-12)
    np.testing.assert_allclose(big.scale, small.scale * 1e300, rtol=1e-12)
    np.testing.assert_allclose(big.transform(X * 1e300), small.transform(X), atol=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: data.Standardizer().transform([[1.0]]), "not fitted"),
        (lambda: data.Standardizer().fit([[1.0, np.nan]]), "NaN or infinity"),
        (lambda: data.Standardizer().fit([1.0, 2.0]), "2-D"),
        (lambda: data.Standardizer([0.0], [0.0]), "scale must hold 1 finite numbers > 0"),
        (lambda: data.Standardizer.from_dict({"mean": [1], "scale": ["x"]}), "list of numbers"),
        (lambda: data.Standardizer().fit([[1.0, 2.0]]).transform([[1.0]]), "fitted on 2"),
    ],
)
def test_standardizer_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
