"""zdravkograd.metrics against scikit-learn's metrics on random inputs."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require

from zdravkograd import metrics

skm = require("sklearn.metrics")


@pytest.mark.filterwarnings("ignore:A single label was found")  # scikit-learn's, for k = 1
@pytest.mark.parametrize("seed", range(20))
def test_classification_metrics_equal_sklearn(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 200)), int(rng.integers(1, 8))
    y_true, y_pred = rng.integers(0, k, n), rng.integers(0, k, n)
    assert metrics.accuracy(y_true, y_pred) == skm.accuracy_score(y_true, y_pred)
    np.testing.assert_array_equal(
        metrics.confusion_matrix(y_true, y_pred), skm.confusion_matrix(y_true, y_pred)
    )
    labels = rng.permutation(k + 2)[: max(1, k - 1)]  # a subset, in a shuffled order
    if not np.isin(labels, y_true).any():  # scikit-learn wants one of them in y_true
        labels = np.append(labels, y_true[0])
    np.testing.assert_array_equal(
        metrics.confusion_matrix(y_true, y_pred, labels=labels),
        skm.confusion_matrix(y_true, y_pred, labels=labels),
    )


def test_string_labels_equal_sklearn():
    rng = np.random.default_rng(5)
    names = np.array(["setosa", "versicolor", "virginica"])
    y_true, y_pred = names[rng.integers(0, 3, 50)], names[rng.integers(0, 3, 50)]
    assert metrics.accuracy(y_true, y_pred) == skm.accuracy_score(y_true, y_pred)
    np.testing.assert_array_equal(
        metrics.confusion_matrix(y_true, y_pred), skm.confusion_matrix(y_true, y_pred)
    )


@pytest.mark.parametrize("seed", range(20))
def test_regression_metrics_equal_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    y_true = rng.normal(0, rng.uniform(0.1, 100), n)
    y_pred = y_true + rng.normal(0, rng.uniform(0.01, 50), n)
    assert metrics.mse(y_true, y_pred) == pytest.approx(
        skm.mean_squared_error(y_true, y_pred), rel=1e-12
    )
    assert metrics.r2(y_true, y_pred) == pytest.approx(skm.r2_score(y_true, y_pred), rel=1e-12)


def test_r2_constant_truth_follows_sklearn():
    y = np.full(5, 3.0)
    assert metrics.r2(y, y) == skm.r2_score(y, y) == 1.0
    assert metrics.r2(y, y + 1) == skm.r2_score(y, y + 1) == 0.0


@pytest.mark.parametrize(
    "fn, args, message",
    [
        (metrics.accuracy, ([1, 2], [1]), "2 true values but 1 predictions"),
        (metrics.mse, ([], []), "no samples"),
        (metrics.r2, ([[1.0]], [[1.0]]), "must be 1-D"),
        (metrics.mse, (["a"], ["b"]), "must be numbers"),
        (metrics.confusion_matrix, ([1], [1], [1, 1]), "must not repeat"),
    ],
)
def test_bad_inputs_raise_clear_errors(fn, args, message):
    with pytest.raises(ValueError, match=message):
        fn(*args)
