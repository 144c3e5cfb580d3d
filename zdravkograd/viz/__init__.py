"""Pictures of the engine at work: graphs, a step-by-step backprop viewer, training plots.

Importing this package needs only numpy; Graphviz and matplotlib are imported
when a function that draws is called (``pip install "zdravkograd[viz]"``).
"""

from zdravkograd.trace import BackwardTrace, trace_backward
from zdravkograd.viz.evaluation import (
    plot_confusion_matrix,
    plot_images,
    plot_learning_curves,
    plot_predictions,
)
from zdravkograd.viz.explanation import Explanation, explain
from zdravkograd.viz.graph import draw_dot
from zdravkograd.viz.modules import ModuleGroups, module_groups
from zdravkograd.viz.plots import plot_decision_boundary, plot_history, plot_neuron_lines
from zdravkograd.viz.viewer import backprop_html

__all__ = [
    "draw_dot",
    "module_groups",
    "ModuleGroups",
    "explain",
    "Explanation",
    "backprop_html",
    "trace_backward",
    "BackwardTrace",
    "plot_decision_boundary",
    "plot_history",
    "plot_neuron_lines",
    "plot_learning_curves",
    "plot_confusion_matrix",
    "plot_images",
    "plot_predictions",
]
