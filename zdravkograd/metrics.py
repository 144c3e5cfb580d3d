"""Scores for predictions: ``accuracy``, ``confusion_matrix``, ``mse``, ``r2``.

They take plain arrays (true values first, then predictions), need only NumPy, and give
scikit-learn's numbers (``sklearn.metrics.accuracy_score``, ``confusion_matrix``,
``mean_squared_error``, ``r2_score``); the tests check that on random inputs.

    >>> from zdravkograd.metrics import accuracy, confusion_matrix
    >>> accuracy([0, 1, 2, 2], [0, 2, 2, 2])
    0.75
    >>> confusion_matrix([0, 1, 2, 2], [0, 2, 2, 2]).tolist()
    [[1, 0, 0], [0, 0, 1], [0, 0, 2]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["accuracy", "confusion_matrix", "mse", "r2"]


def _pair(y_true: Any, y_pred: Any, what: str, numeric: bool) -> tuple[np.ndarray, np.ndarray]:
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.ndim != 1 or p.ndim != 1:
        raise ValueError(f"{what}: y_true and y_pred must be 1-D, got {t.shape} and {p.shape}")
    if len(t) != len(p):
        raise ValueError(f"{what}: {len(t)} true values but {len(p)} predictions")
    if len(t) == 0:
        raise ValueError(f"{what}: no samples")
    if numeric:
        try:
            t, p = t.astype(np.float64), p.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{what}: y_true and y_pred must be numbers") from None
    return t, p


def accuracy(y_true: Any, y_pred: Any) -> float:
    """The fraction of predictions equal to the true label."""
    t, p = _pair(y_true, y_pred, "accuracy", numeric=False)
    return float(np.mean(t == p))


def confusion_matrix(y_true: Any, y_pred: Any, labels: Any = None) -> np.ndarray:
    """``C[i, j]``: how many samples of true class ``labels[i]`` were predicted ``labels[j]``.

    ``labels`` defaults to the sorted union of the labels seen in ``y_true`` and ``y_pred``.
    Samples whose true or predicted label is not in ``labels`` are not counted.
    """
    t, p = _pair(y_true, y_pred, "confusion_matrix", numeric=False)
    names = np.unique(np.concatenate([t, p])) if labels is None else np.asarray(labels)
    if names.ndim != 1 or len(names) == 0:
        raise ValueError("confusion_matrix: labels must be a non-empty 1-D list")
    if len(np.unique(names)) != len(names):
        raise ValueError("confusion_matrix: labels must not repeat")
    index = {label: i for i, label in enumerate(names.tolist())}
    out = np.zeros((len(names), len(names)), dtype=np.int64)
    for a, b in zip(t.tolist(), p.tolist()):
        i, j = index.get(a), index.get(b)
        if i is not None and j is not None:
            out[i, j] += 1
    return out


def mse(y_true: Any, y_pred: Any) -> float:
    """The mean squared error ``mean_i (y_i - p_i)^2``."""
    t, p = _pair(y_true, y_pred, "mse", numeric=True)
    return float(np.mean((t - p) ** 2))


def r2(y_true: Any, y_pred: Any) -> float:
    """The coefficient of determination ``1 - sum (y - p)^2 / sum (y - mean(y))^2``.

    1 is perfect, 0 is as good as always predicting the mean, below 0 is worse. When
    ``y_true`` is constant the ratio is undefined; as in scikit-learn the answer is then
    1.0 for perfect predictions and 0.0 otherwise.
    """
    t, p = _pair(y_true, y_pred, "r2", numeric=True)
    residual = float(np.sum((t - p) ** 2))
    total = float(np.sum((t - np.mean(t)) ** 2))
    if total == 0.0:
        return 1.0 if residual == 0.0 else 0.0
    return 1.0 - residual / total
