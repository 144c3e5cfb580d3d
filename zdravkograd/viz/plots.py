"""Training pictures with matplotlib: the decision boundary, the loss curve, the neurons' lines.

matplotlib is imported when a function is called (``pip install "zdravkograd[viz]"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from zdravkograd._optional import require_extra
from zdravkograd.engine import Value, no_grad

__all__ = ["plot_decision_boundary", "plot_history", "plot_neuron_lines", "decision_grid"]

# each class has one hue: a strong colour for its points (matplotlib's Spectral ends) and a
# soft one for the region the model gives it, so every point should sit on its own colour
_REGION_COLOURS = ("#f6b8bd", "#a9cfe8")  # the y = -1 side (score < 0), the y = +1 side
_POINT_COLOURS = ("#d53e4f", "#3288bd")  # y = -1, y = +1
# The legend names the classes as training sees them: the hinge loss max(0, 1 - y·score)
# needs y = -1 or +1, and the sign of the score is the predicted class. (Data sets hand out
# 0/1; fit and this plot read 0 as -1.)
_CLASS_NAMES = ("y = −1", "y = +1")


def _pyplot() -> Any:
    require_extra("matplotlib", "viz", "plotting")
    import matplotlib.pyplot as plt

    return plt


def _check_xy(X: Any, y: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{what}: X must have shape (n, 2) (2-D points), got {X.shape}")
    if y.shape != (len(X),):
        raise ValueError(
            f"{what}: y must have shape ({len(X)},), one label per point, got {y.shape}"
        )
    return X, y


def _scores(model: Any, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The model's score at every point, without recording a graph.

    The fast path feeds the whole grid as two batched Values (one call, a few
    hundred array operations). A model that cannot take a batch is called point
    by point instead.
    """
    with no_grad():
        try:
            out = model([Value(xs), Value(ys)])
            if isinstance(out, (list, tuple)):
                out = out[0]
            data = out.data if isinstance(out, Value) else out
            scores = np.broadcast_to(np.asarray(data, dtype=float), xs.shape).copy()
        except (TypeError, ValueError):
            scores = np.empty(len(xs))
            for i, (a, b) in enumerate(zip(xs.tolist(), ys.tolist())):
                out = model([Value(a), Value(b)])
                if isinstance(out, (list, tuple)):
                    out = out[0]
                scores[i] = float(out.data if isinstance(out, Value) else out)
    return scores


def decision_grid(
    model: Any, X: Any, h: float = 0.05, margin: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(xx, yy, scores)``: the model evaluated on a grid of step ``h`` around the points."""
    X = np.asarray(X, dtype=float)
    if not h > 0:
        raise ValueError(f"h must be a positive grid step, got {h!r}")
    x_min, x_max = X[:, 0].min() - margin, X[:, 0].max() + margin
    y_min, y_max = X[:, 1].min() - margin, X[:, 1].max() + margin
    xx, yy = np.meshgrid(np.arange(x_min, x_max, h), np.arange(y_min, y_max, h))
    scores = _scores(model, xx.ravel(), yy.ravel()).reshape(xx.shape)
    return xx, yy, scores


def plot_decision_boundary(
    model: Any, X: Any, y: Any, ax: Any = None, h: float = 0.05, *, title: str | None = None
) -> Any:
    """Colour the plane by the side of the model's decision and draw the points on top.

    ``model([x0, x1])`` must return a score (a Value, or a list whose first item
    is one); a positive score is class +1. Labels may be 0/1 or -1/+1; the legend calls
    the classes -1 and +1, as the hinge loss and the score's sign do. The grid is
    evaluated under ``no_grad`` as one batch. The zero line is drawn dark, and the
    background is lighter where the model is less sure (small |score|).
    Returns the matplotlib ``Axes``.
    """
    plt = _pyplot()
    from matplotlib.colors import ListedColormap

    X, y = _check_xy(X, y, "plot_decision_boundary")
    xx, yy, scores = decision_grid(model, X, h)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.8))
    regions = ListedColormap(list(_REGION_COLOURS))
    ax.contourf(xx, yy, scores > 0, levels=[-0.5, 0.5, 1.5], cmap=regions, alpha=0.85)
    # confidence shading: white veil where |score| is small
    veil = np.clip(1.0 - np.abs(scores), 0.0, 1.0)
    ax.imshow(
        np.dstack([np.ones_like(veil)] * 3 + [0.45 * veil]),
        extent=(xx.min(), xx.max(), yy.min(), yy.max()),
        origin="lower",
        aspect="auto",
        interpolation="bilinear",
        zorder=1,
    )
    if scores.min() < 0 < scores.max():
        ax.contour(xx, yy, scores, levels=[0.0], colors="#343a40", linewidths=1.4, zorder=2)
    positive = y > 0
    for cls, mask in ((0, ~positive), (1, positive)):
        ax.scatter(
            X[mask, 0],
            X[mask, 1],
            s=34,
            c=_POINT_COLOURS[cls],
            edgecolors="white",
            linewidths=0.8,
            zorder=3,
            label=_CLASS_NAMES[cls],
        )
    accuracy = float(np.mean((_scores(model, X[:, 0], X[:, 1]) > 0) == positive))
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_title(title if title is not None else f"decision boundary (accuracy {accuracy:.0%})")
    ax.set_xlabel("$x_0$")
    ax.set_ylabel("$x_1$")
    ax.legend(loc="upper right", framealpha=0.85, fontsize=9)
    return ax


def plot_history(history: Mapping[str, Sequence[float]], ax: Any = None) -> Any:
    """Plot ``history['loss']`` (and ``history['accuracy']`` if present) against the step.

    Without ``ax`` a figure with two panels is made and both Axes are returned;
    with ``ax`` the loss goes on it and the accuracy on a twin axis, returning
    ``(ax, twin)``. ``history['step']`` gives the x values if present.
    """
    plt = _pyplot()
    if "loss" not in history:
        raise ValueError(
            f"plot_history: history must have a 'loss' list, got keys {sorted(history)}"
        )
    loss = np.asarray(history["loss"], dtype=float)
    acc = history.get("accuracy")
    steps = np.asarray(history.get("step", range(len(loss))))
    if acc is not None and len(acc) != len(loss):
        raise ValueError(
            f"plot_history: 'loss' has {len(loss)} entries but 'accuracy' has {len(acc)}"
        )
    if ax is None:
        ncols = 2 if acc is not None else 1
        fig, axes = plt.subplots(1, ncols, figsize=(5.2 * ncols, 3.6))
        axes = np.atleast_1d(axes)
        ax_loss, ax_acc = axes[0], (axes[1] if acc is not None else None)
        result: Any = tuple(axes)
    else:
        ax_loss = ax
        ax_acc = ax.twinx() if acc is not None else None
        result = (ax, ax_acc) if ax_acc is not None else ax
    ax_loss.plot(steps, loss, color="#1c7ed6", linewidth=1.8, label="loss")
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss", color="#1c7ed6")
    if len(loss) and np.all(loss > 0) and loss.max() / max(loss.min(), 1e-300) > 50:
        ax_loss.set_yscale("log")
    ax_loss.grid(alpha=0.3)
    if ax_acc is not None:
        accuracy = np.asarray(acc, dtype=float)
        ax_acc.plot(steps, accuracy, color="#2f9e44", linewidth=1.8, label="accuracy")
        ax_acc.set_ylabel("accuracy", color="#2f9e44")
        ax_acc.set_ylim(min(0.4, float(np.nanmin(accuracy)) - 0.05), 1.02)
        if ax is None:
            ax_acc.set_xlabel("step")
            ax_acc.grid(alpha=0.3)
            ax_loss.set_title("loss")
            ax_acc.set_title("accuracy")
    if ax is None:
        ax_loss.figure.tight_layout()
    return result


def _first_layer(model: Any) -> list[Any]:
    """The neurons (objects with ``.w`` and ``.b``) of the model's first layer."""
    layer = model
    if hasattr(layer, "layers"):  # MLP, Sequential: the first part made of neurons
        layer = next((m for m in layer.layers if hasattr(m, "neurons")), layer.layers[0])
    neurons = getattr(layer, "neurons", None)
    if neurons is None and hasattr(layer, "w"):
        neurons = [layer]
    if not neurons or not all(hasattr(n, "w") and hasattr(n, "b") for n in neurons):
        raise TypeError(
            "plot_neuron_lines: the model's first layer must be made of neurons with .w and .b "
            f"(an MLP, Layer or Neuron), got {type(model).__name__}"
        )
    if len(neurons[0].w) != 2:
        raise ValueError(
            f"plot_neuron_lines: the first layer must read 2 inputs, it reads {len(neurons[0].w)}"
        )
    return list(neurons)


def plot_neuron_lines(model: Any, X: Any, y: Any, ax: Any = None) -> Any:
    """Draw each first-layer neuron's zero line ``w0 x0 + w1 x1 + b = 0`` over the data.

    A ReLU neuron is active on one side of its line; a small tick shows which
    (the direction of ``w``). Hidden layers then combine these half-planes.
    Returns the ``Axes``.
    """
    plt = _pyplot()
    X, y = _check_xy(X, y, "plot_neuron_lines")
    neurons = _first_layer(model)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.8))
    positive = y > 0
    for cls, mask in ((0, ~positive), (1, positive)):
        ax.scatter(
            X[mask, 0], X[mask, 1], s=26, c=_POINT_COLOURS[cls], edgecolors="white", zorder=3
        )
    x_lo, x_hi = X[:, 0].min() - 1.0, X[:, 0].max() + 1.0
    y_lo, y_hi = X[:, 1].min() - 1.0, X[:, 1].max() + 1.0
    colours = plt.get_cmap("tab10")
    centre = np.array([(x_lo + x_hi) / 2, (y_lo + y_hi) / 2])
    for i, n in enumerate(neurons):
        w = np.array([float(n.w[0].data), float(n.w[1].data)])
        b = float(n.b.data)
        norm = float(np.hypot(*w))
        if norm == 0.0:
            continue  # a neuron with zero weights has no line
        colour = colours(i % 10)
        # the line: the point on it closest to the centre, and its direction
        p0 = centre - (w @ centre + b) / norm**2 * w
        d = np.array([-w[1], w[0]]) / norm
        t = np.linspace(-20, 20, 2)
        ax.plot(p0[0] + t * d[0], p0[1] + t * d[1], color=colour, linewidth=1.5, label=f"n{i}")
        ax.annotate(
            "",
            xy=p0 + 0.35 * w / norm,
            xytext=p0,
            arrowprops={"arrowstyle": "->", "color": colour, "linewidth": 1.5},
        )
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_title("first-layer neurons: w·x + b = 0 (arrow: active side)")
    ax.set_xlabel("$x_0$")
    ax.set_ylabel("$x_1$")
    if len(neurons) <= 10:
        ax.legend(loc="upper right", fontsize=8, ncols=2, framealpha=0.85)
    return ax
