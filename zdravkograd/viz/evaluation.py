"""Pictures of how well a trained model does on held-out data.

``plot_learning_curves`` draws the training and validation loss and accuracy (or R²)
of a ``fit(..., validation=...)`` history; ``plot_confusion_matrix`` a confusion matrix;
``plot_images`` a grid of small images with a caption each (the digits the model got
wrong); ``plot_predictions`` predicted against true values for a regression.

Each takes an optional matplotlib ``Axes`` (or a ``Figure`` for ``plot_images``) and
returns what it drew on. matplotlib is imported when a function is called.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from zdravkograd._optional import require_extra

__all__ = ["plot_learning_curves", "plot_confusion_matrix", "plot_images", "plot_predictions"]

_TRAIN, _VAL = "#1c7ed6", "#e8590c"


def _figure(figsize: tuple[float, float]) -> Any:
    Figure = require_extra("matplotlib.figure", "viz", "plotting").Figure
    return Figure(figsize=figsize)


def plot_learning_curves(
    history: Mapping[str, Sequence[float]], fig: Any = None, val_label: str = "validation"
) -> Any:
    """Two panels: loss, then accuracy (or R²), per step, training and validation curves.

    ``history`` is what ``zdravkograd.train.fit`` returns; the validation curves are drawn
    when it has ``'val_loss'``. ``val_label`` names that split in the legend (e.g.
    ``'test'``). Returns the figure (a new one unless ``fig`` is given).
    """
    if "loss" not in history:
        raise ValueError(f"history must have a 'loss' list, got keys {sorted(history)}")
    metric = "r2" if "r2" in history else "accuracy"
    fig = fig if fig is not None else _figure((10, 3.8))
    ax_loss, ax_metric = fig.subplots(1, 2)
    steps = np.arange(len(history["loss"]))
    ax_loss.plot(steps, history["loss"], color=_TRAIN, linewidth=1.4, label="training batch")
    if "val_loss" in history:
        ax_loss.plot(steps, history["val_loss"], color=_VAL, linewidth=1.8, label=val_label)
    loss = np.asarray(history["loss"], dtype=float)
    if len(loss) and np.all(loss > 0) and loss.max() / max(loss.min(), 1e-300) > 50:
        ax_loss.set_yscale("log")
    ax_loss.set_title("loss (the training objective)")
    name = "R²" if metric == "r2" else "accuracy"
    if metric in history:
        ax_metric.plot(steps, history[metric], color=_TRAIN, linewidth=1.4, label="training batch")
    if f"val_{metric}" in history:
        ax_metric.plot(steps, history[f"val_{metric}"], color=_VAL, linewidth=1.8, label=val_label)
    ax_metric.set_title(name)
    for ax in (ax_loss, ax_metric):
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(loc="best")
    if metric == "accuracy":
        ax_metric.set_ylim(-0.02, 1.02)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(
    matrix: Any, labels: Sequence[Any], ax: Any = None, title: str = "confusion matrix"
) -> Any:
    """Draw a confusion matrix (rows: true class, columns: predicted class) with counts.

    ``matrix`` is ``zdravkograd.metrics.confusion_matrix(y_true, y_pred)``; ``labels``
    names its rows and columns. Returns the Axes.
    """
    m = np.asarray(matrix)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] != len(labels):
        raise ValueError(
            f"matrix must be square with one row per label ({len(labels)}), got {m.shape}"
        )
    if ax is None:
        size = min(3.0 + 0.45 * len(labels), 12.0)
        ax = _figure((size + 1.0, size)).add_subplot()
    image = ax.imshow(m, cmap="Blues")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    names = [str(v) for v in labels]
    ax.set_xticks(range(len(names)), names, rotation=45 if max(map(len, names)) > 3 else 0)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title}: {int(np.trace(m))} of {int(m.sum())} correct")
    if len(names) <= 25:  # the counts, readable on the cell colour
        high = m.max() if m.size else 0
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                colour = "white" if m[i, j] > high / 2 else "black"
                ax.text(j, i, str(m[i, j]), ha="center", va="center", color=colour, fontsize=8)
    return ax


def plot_images(
    images: Any, captions: Sequence[str], fig: Any = None, columns: int = 8, title: str = ""
) -> Any:
    """A grid of small grey images (shape ``(n, h, w)``, dark = high), one caption each.

    Returns the figure. With no images it says so in the figure instead.
    """
    imgs = np.asarray(images, dtype=float)
    if imgs.ndim != 3 or len(imgs) != len(captions):
        raise ValueError(
            f"images must have shape (n, h, w) with n = len(captions) = {len(captions)}, "
            f"got {imgs.shape}"
        )
    n = len(imgs)
    cols = max(1, min(columns, n))
    rows = max(1, -(-n // cols))
    fig = fig if fig is not None else _figure((1.4 * cols + 0.4, 1.6 * rows + 0.6))
    if n == 0:
        ax = fig.add_subplot()
        ax.axis("off")
        ax.text(0.5, 0.5, "no images to show", ha="center", va="center", fontsize=14)
    for k in range(n):
        ax = fig.add_subplot(rows, cols, k + 1)
        ax.imshow(imgs[k], cmap="gray_r", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(captions[k], fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_predictions(y_true: Any, y_pred: Any, ax: Any = None, title: str = "") -> Any:
    """Predicted against true values for a regression, with the line ``predicted = true``.

    Returns the Axes.
    """
    t, p = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if t.shape != p.shape or t.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D of one length, got {t.shape}, {p.shape}")
    if ax is None:
        ax = _figure((5.2, 5)).add_subplot()
    ax.scatter(t, p, s=14, alpha=0.7, color=_TRAIN, edgecolors="none")
    lo = float(min(t.min(), p.min())) if t.size else 0.0
    hi = float(max(t.max(), p.max())) if t.size else 1.0
    ax.plot([lo, hi], [lo, hi], color="#868e96", linewidth=1, linestyle="--", label="perfect")
    ax.set_xlabel("true value")
    ax.set_ylabel("predicted value")
    ax.set_title(title or "predicted vs true")
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    return ax
