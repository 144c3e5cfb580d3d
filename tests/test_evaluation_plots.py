"""zdravkograd.viz.evaluation: learning curves, confusion matrix, image grid, scatter."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require

require("matplotlib")

from zdravkograd import viz  # noqa: E402


def test_learning_curves_draw_both_splits():
    history = {"loss": [2.0, 1.0, 0.5], "accuracy": [0.1, 0.5, 0.9], "lr": [1, 1, 1],
               "val_loss": [2.1, 1.2, 0.8], "val_accuracy": [0.1, 0.4, 0.8]}  # fmt: skip
    fig = viz.plot_learning_curves(history, val_label="test")
    ax_loss, ax_acc = fig.axes
    assert [line.get_label() for line in ax_loss.lines] == ["training batch", "test"]
    np.testing.assert_array_equal(ax_acc.lines[1].get_ydata(), history["val_accuracy"])
    fig = viz.plot_learning_curves({"loss": [1.0, 0.5], "r2": [0.1, 0.7]})
    assert fig.axes[1].get_title() == "R²" and len(fig.axes[1].lines) == 1
    with pytest.raises(ValueError, match="'loss'"):
        viz.plot_learning_curves({"accuracy": [1.0]})


def test_confusion_matrix_shows_every_count():
    m = np.array([[5, 1, 0], [0, 4, 2], [1, 0, 7]])
    ax = viz.plot_confusion_matrix(m, ["a", "b", "c"])
    texts = [t.get_text() for t in ax.texts]
    assert texts == [str(v) for v in m.ravel()]
    assert ax.get_title() == "confusion matrix: 16 of 20 correct"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="one row per label"):
        viz.plot_confusion_matrix(m, ["a", "b"])


def test_image_grid_has_one_panel_per_image():
    images = np.random.default_rng(0).uniform(0, 16, (11, 8, 8))
    fig = viz.plot_images(images, [f"#{i}" for i in range(11)], columns=4, title="eleven")
    assert len(fig.axes) == 11
    assert [ax.get_title() for ax in fig.axes] == [f"#{i}" for i in range(11)]
    np.testing.assert_array_equal(fig.axes[3].images[0].get_array(), images[3])
    empty = viz.plot_images(np.zeros((0, 8, 8)), [])
    assert empty.axes[0].texts[0].get_text() == "no images to show"
    with pytest.raises(ValueError, match="n = len"):
        viz.plot_images(images, ["one"])


def test_predictions_scatter():
    ax = viz.plot_predictions([1.0, 2.0, 3.0], [1.1, 1.9, 3.5])
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), [[1, 1.1], [2, 1.9], [3, 3.5]])
    with pytest.raises(ValueError, match="1-D of one length"):
        viz.plot_predictions([1.0], [1.0, 2.0])
