"""One lab session: a data set, a network, an optimiser, and the pictures of its training.

A ``Session`` is what one browser tab drives. Everything it computes comes from the
engine's public API: the network is an ``nn.MLP``, the loss is built from ``losses``, the
gradients come from ``Value.backward()`` and the update from ``optim``. The server
(``zdravkograd.lab.server``) only moves messages; this module knows nothing of the web.

The loss the lab minimises is micrograd's recipe for two classes, the SVM hinge loss
``mean_i max(0, 1 - y_i s_i)`` on the score ``s_i`` (labels ``y_i`` = -1 or +1), and
softmax cross-entropy for three classes (blobs), in both cases plus ``1e-4 · Σ p²``.

Requests are bounded (``LIMITS``): a larger one raises ``LabError`` with a message for the
page, and the session is left as it was.
"""

from __future__ import annotations

import base64
import copy
import math
import random
import shutil
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from zdravkograd import data as datasets
from zdravkograd import losses, nn, optim
from zdravkograd.engine import Value, no_grad

__all__ = [
    "LIMITS",
    "DATASETS",
    "ACTIVATIONS",
    "OPTIMIZERS",
    "MODES",
    "MISTAKES",
    "LabError",
    "Settings",
    "Session",
]

LIMITS: dict[str, int] = {
    "points": 2000,  # data points, the generated ones and the clicked ones together
    "width": 64,  # neurons in one hidden layer
    "layers": 6,  # hidden layers
    # weights × points, the work of one step: each weight is used once per point (as an operand
    # of its neuron's weighted sum)
    # measured at the limits: batched about 120 MB and 0.7 s a step, scalar about 0.3 s a
    # step (MLP(2, [64, 64, 1]) on 45 points; scalar mode makes a Python object of every
    # number, but a neuron's weighted sum is one of them)
    "batched_work": 4_000_000,
    "scalar_work": 200_000,
    "viewer_parameters": 1500,  # the viewer draws every weight of the point's graph
}
"""The largest request a session accepts."""

DATASETS: dict[str, int] = {"moons": 2, "circles": 2, "xor": 2, "spiral": 2, "blobs": 3}
"""The data sets and their number of classes."""

ACTIVATIONS: tuple[str, ...] = tuple(a for a in nn.ACTIVATIONS if a != "linear")
OPTIMIZERS: tuple[str, ...] = ("sgd", "adam")
MODES: tuple[str, ...] = ("scalar", "batched")
ALPHA = 1e-4
"""The L2 regularisation strength (micrograd's)."""
GRID = 48
"""The decision boundary is computed on a GRID × GRID lattice over the plot."""
NEURON_GRID = 24
"""Each hidden neuron's picture is NEURON_GRID × NEURON_GRID."""
HISTORY = 5000
"""How many steps of loss and accuracy a session keeps."""


class LabError(ValueError):
    """A request the lab refuses, with a message for the page."""


@dataclass
class Settings:
    """Everything the page can set. ``hidden`` lists the hidden layers' widths."""

    dataset: str = "moons"
    samples: int = 100
    noise: float = 0.1
    seed: int = 1337
    hidden: list[int] = field(default_factory=lambda: [16, 16])
    activation: str = "relu"
    optimizer: str = "sgd"
    lr: float = 0.5
    mode: str = "batched"
    zero_grad: bool = True
    init_scale: float = 1.0


DATA_KEYS = ("dataset", "samples", "noise", "seed")
"""Changing one of these draws new data (and drops the clicked points)."""

MISTAKES: list[dict[str, Any]] = [
    {
        "id": "lr-too-high",
        "title": "Learning rate far too high",
        "settings": {
            "dataset": "moons",
            "hidden": [16, 16],
            "activation": "relu",
            "optimizer": "sgd",
            "lr": 12.0,
        },
        "watch": "Watch the loss: the first update overshoots so far that the loss leaps from "
        "about 1 to thousands, and most ReLUs die on the way.",
    },
    {
        "id": "no-zero-grad",
        "title": "Forgotten zero_grad()",
        "settings": {
            "dataset": "moons",
            "hidden": [16, 16],
            "activation": "relu",
            "optimizer": "sgd",
            "lr": 0.5,
            "zero_grad": False,
        },
        "watch": "Watch the loss: .grad keeps every old step's gradient, so the steps grow "
        "and point the old way; the loss falls, then swings wildly.",
    },
    {
        "id": "dead-relu",
        "title": "Dead ReLUs",
        "settings": {
            "dataset": "moons",
            "hidden": [16, 16],
            "activation": "relu",
            "optimizer": "sgd",
            "lr": 3.0,
        },
        "watch": "Watch the neuron pictures: a ReLU pushed below zero everywhere turns flat, "
        "gets zero gradient and never comes back.",
    },
    {
        "id": "no-hidden-xor",
        "title": "No hidden layer on xor",
        "settings": {
            "dataset": "xor",
            "hidden": [],
            "activation": "relu",
            "optimizer": "sgd",
            "lr": 0.5,
        },
        "watch": "Watch the boundary: without a hidden layer it is one straight line, and "
        "no line separates xor, so accuracy stays near 50-75%.",
    },
    {
        "id": "saturated-tanh",
        "title": "Saturated tanh",
        "settings": {
            "dataset": "circles",
            "hidden": [16, 16],
            "activation": "tanh",
            "optimizer": "sgd",
            "lr": 0.5,
            "init_scale": 10.0,
        },
        "watch": "Watch the neuron pictures: weights 10× too big drive tanh to ±1 almost "
        "everywhere, where its slope 1 - tanh² is about 0, so learning crawls and the loss "
        "stays high.",
    },
]
"""The one-click experiments: settings applied over the defaults, and what to watch."""


# ------------------------------------------------------------------- settings


def _int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LabError(f"{name} must be a whole number, got {value!r:.40}")
    if not low <= value <= high:
        raise LabError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _float(name: str, value: Any, low: float, high: float, *, open_low: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LabError(f"{name} must be a number, got {value!r:.40}")
    x = float(value)
    if not math.isfinite(x) or x < low or x > high or (open_low and x == low):
        bound = f"> {low}" if open_low else f">= {low}"
        raise LabError(f"{name} must be a number {bound} and <= {high}, got {value!r}")
    return x


def _choice(name: str, value: Any, choices: Any) -> str:
    if not isinstance(value, str) or value not in choices:
        raise LabError(f"{name} must be one of {', '.join(choices)}, got {value!r:.40}")
    return value


def check_settings(raw: Any, base: Settings) -> Settings:
    """``base`` with the fields of ``raw`` (a dict from the page) checked and applied."""
    if not isinstance(raw, dict):
        raise LabError(f"settings must be an object, got {type(raw).__name__}")
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise LabError(f"unknown setting {unknown[0]!r}; the settings are {', '.join(known)}")
    s = copy.deepcopy(base)
    for key, value in raw.items():
        if key == "dataset":
            s.dataset = _choice("dataset", value, DATASETS)
        elif key == "samples":
            n = _int("samples", value, 2, 10**9)
            if n > LIMITS["points"]:
                raise LabError(
                    f"{n} points is too many: the lab takes at most {LIMITS['points']} points"
                )
            s.samples = n
        elif key == "noise":
            s.noise = _float("noise", value, 0.0, 1.0)
        elif key == "seed":
            s.seed = _int("seed", value, 0, 2**31 - 1)
        elif key == "hidden":
            s.hidden = _check_hidden(value)
        elif key == "activation":
            s.activation = _choice("activation", value, ACTIVATIONS)
        elif key == "optimizer":
            s.optimizer = _choice("optimizer", value, OPTIMIZERS)
        elif key == "lr":
            s.lr = _float("learning rate", value, 0.0, 100.0, open_low=True)
        elif key == "mode":
            s.mode = _choice("mode", value, MODES)
        elif key == "zero_grad":
            if not isinstance(value, bool):
                raise LabError(f"zero_grad must be true or false, got {value!r:.40}")
            s.zero_grad = value
        elif key == "init_scale":
            s.init_scale = _float("init scale", value, 0.0, 20.0, open_low=True)
    return s


def _check_hidden(value: Any) -> list[int]:
    if not isinstance(value, list):
        raise LabError(f"hidden must be a list of layer widths, got {value!r:.40}")
    if len(value) > LIMITS["layers"]:
        raise LabError(
            f"{len(value)} hidden layers is too many: the lab takes at most "
            f"{LIMITS['layers']} hidden layers"
        )
    widths = []
    for i, w in enumerate(value):
        if isinstance(w, bool) or not isinstance(w, int) or w < 1:
            raise LabError(f"hidden layer {i + 1} must have a whole number of neurons >= 1")
        if w > LIMITS["width"]:
            raise LabError(
                f"hidden layer {i + 1} has {w} neurons, too many: the lab takes at most "
                f"{LIMITS['width']} neurons in a layer"
            )
        widths.append(w)
    return widths


def n_parameters(hidden: list[int], classes: int) -> int:
    """How many weights and biases ``MLP(2, hidden + [outputs])`` has."""
    sizes = [2, *hidden, 1 if classes == 2 else classes]
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))


def _check_work(s: Settings, points: int) -> None:
    """Refuse a network and data whose training graph would be too large for one step."""
    params = n_parameters(s.hidden, DATASETS[s.dataset])
    key = f"{s.mode}_work"
    if params * points > LIMITS[key]:
        raise LabError(
            f"too large for {s.mode} mode: {params:,} weights × {points:,} points = "
            f"{params * points:,}, and the lab takes at most {LIMITS[key]:,} "
            f"(each weight is used once per point in a step). Use fewer points, a "
            f"smaller network" + (", or batched mode." if s.mode == "scalar" else ".")
        )


# ----------------------------------------------------------------------- data


def make_data(s: Settings) -> tuple[np.ndarray, np.ndarray]:
    """The data set of ``s``, scaled to about [-1.5, 1.5]² (labels 0, 1 or 0, 1, 2).

    moons, circles, xor and spiral come from ``zdravkograd.data``; ``noise`` is their noise
    (for xor 2.5×, for spiral 2× in radians). blobs are three Gaussian clusters of standard
    deviation ``0.15 + 2 noise`` around three points on a circle of radius 0.9.
    """
    n, noise, seed = s.samples, s.noise, s.seed
    if s.dataset == "moons":
        X, y = datasets.make_moons(n, noise=noise, seed=seed)
        X = X - np.array([0.5, 0.25])  # centre the two moons on the origin
    elif s.dataset == "circles":
        X, y = datasets.make_circles(n, noise=noise, factor=0.5, seed=seed)
        X = X * 1.3
    elif s.dataset == "xor":
        X, y = datasets.xor(n, noise=2.5 * noise, seed=seed)
    elif s.dataset == "spiral":
        X, y = datasets.spiral(n, classes=2, noise=2 * noise, seed=seed)
        X = X * 1.4
    else:  # blobs: three Gaussian clusters around fixed centres, apart whatever the seed
        # (make_blobs draws its centres at random, and some seeds put two on top of each other)
        rng = np.random.default_rng(seed)
        y = np.arange(n, dtype=np.int64) % 3
        angles = np.pi / 2 + 2 * np.pi * np.arange(3) / 3
        centres = 0.9 * np.column_stack([np.cos(angles), np.sin(angles)])
        X = centres[y] + rng.normal(0.0, 0.15 + 2 * noise, (n, 2))
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)


DOMAIN = (-2.0, 2.0)
"""The plot shows the square DOMAIN × DOMAIN; clicked points must lie in it."""


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


# -------------------------------------------------------------------- session


class Session:
    """The state of one tab: settings, data, model, optimiser, history.

    Methods raise ``LabError`` for a request the lab refuses and then change nothing.
    """

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        self.settings = check_settings(settings or {}, Settings())
        self.X, self.y = make_data(self.settings)
        self.added = np.zeros(len(self.X), dtype=bool)  # which points were clicked in
        self.diverged = ""
        self.reset()

    # ----------------------------------------------------------- configuration

    @property
    def classes(self) -> int:
        return DATASETS[self.settings.dataset]

    def configure(self, raw: Any) -> None:
        """Apply new settings from the page; new data if a data setting changed; Reset."""
        new = check_settings(raw, self.settings)
        redraw = any(getattr(new, k) != getattr(self.settings, k) for k in DATA_KEYS)
        points = new.samples if redraw else len(self.X)
        _check_work(new, points)
        if redraw:
            X, y = make_data(new)
            self.X, self.y = X, y
            self.added = np.zeros(len(X), dtype=bool)
        self.settings = new
        self.reset()

    def reset(self) -> None:
        """New weights (from the seed), a new optimiser, an empty history."""
        s = self.settings
        _check_work(s, len(self.X))
        outputs = 1 if self.classes == 2 else self.classes
        self.model = nn.MLP(
            2, [*s.hidden, outputs], activation=s.activation, rng=random.Random(s.seed)
        )
        if s.init_scale != 1.0:
            for layer in self.model.layers:
                for neuron in layer.neurons:
                    for w in neuron.w:
                        w.data *= s.init_scale
        self.params = self.model.parameters()
        if s.optimizer == "adam":
            self.optimizer: optim.Optimizer = optim.Adam(self.params, lr=s.lr)
        else:
            self.optimizer = optim.SGD(self.params, lr=s.lr)
        self.step_count = 0
        self.diverged = ""
        self.history: list[tuple[int, float, float]] = []
        self.pending: list[tuple[int, float, float]] = []  # steps not yet sent to the page
        self.loss, self.accuracy = self.evaluate()

    # -------------------------------------------------------------------- data

    def add_point(self, x: Any, y: Any, label: Any) -> None:
        """Add a point of class ``label`` at (x, y)."""
        px = _float("x", x, DOMAIN[0], DOMAIN[1])
        py = _float("y", y, DOMAIN[0], DOMAIN[1])
        c = _int("class", label, 0, self.classes - 1)
        if len(self.X) >= LIMITS["points"]:
            raise LabError(f"the lab takes at most {LIMITS['points']} points; remove some first")
        _check_work(self.settings, len(self.X) + 1)
        self.X = np.vstack([self.X, [[px, py]]])
        self.y = np.append(self.y, c)
        self.added = np.append(self.added, True)
        self.loss, self.accuracy = self.evaluate()

    def remove_point(self, index: Any) -> None:
        """Remove point ``index``; at least one point of each of two classes stays."""
        i = _int("point", index, 0, len(self.X) - 1)
        keep = np.arange(len(self.X)) != i
        if len(np.unique(self.y[keep])) < 2:
            raise LabError("cannot remove the last point of a class: two classes must stay")
        self.X, self.y, self.added = self.X[keep], self.y[keep], self.added[keep]
        self.loss, self.accuracy = self.evaluate()

    # ------------------------------------------------------------------ training

    def _objective(self, X: np.ndarray, y: np.ndarray) -> tuple[Value, np.ndarray]:
        """The loss (a Value to backward) and the scores, shape (n,) or (n, classes)."""
        model, multi = self.model, self.classes > 2
        if self.settings.mode == "scalar":  # one graph per point, micrograd's way
            outs = [model([Value(a), Value(b)]) for a, b in X.tolist()]
            if multi:
                data_loss = losses.cross_entropy(outs, y)
                s = np.array([[v.data for v in out] for out in outs])
            else:
                data_loss = losses.hinge_loss(outs, 2.0 * y - 1.0)
                s = np.array([v.data for v in outs])
        else:  # one graph whose nodes hold a column of numbers, one per point
            out = model([Value(X[:, 0]), Value(X[:, 1])])
            if multi:
                data_loss = losses.cross_entropy(out, y)
                s = np.column_stack([np.broadcast_to(v.data, len(X)) for v in out])
            else:
                data_loss = losses.hinge_loss(out, 2.0 * y - 1.0)
                s = np.broadcast_to(np.asarray(out.data, dtype=np.float64), len(X))
        return data_loss + losses.l2_regularization(self.params, ALPHA), s

    def _accuracy(self, s: np.ndarray) -> float:
        predicted = s.argmax(axis=1) if s.ndim == 2 else (s > 0).astype(np.int64)
        return float(np.mean(predicted == self.y))

    def evaluate(self) -> tuple[float, float]:
        """The loss and accuracy at the current weights, without a graph."""
        with no_grad():
            loss, s = self._objective(self.X, self.y)
        return float(loss.data), self._accuracy(s)

    def step(self) -> tuple[float, float]:
        """One update: forward, (zero_grad,) backward, optimiser step. Returns the loss
        and accuracy before the update, as the curves show them."""
        if self.diverged:
            raise LabError(self.diverged)
        loss, s = self._objective(self.X, self.y)
        if self.settings.zero_grad:
            self.optimizer.zero_grad()
        loss.backward()
        value, acc = float(loss.data), self._accuracy(s)
        if not math.isfinite(value) or not all(math.isfinite(p.grad) for p in self.params):
            self.diverged = (
                f"the loss is {value} at step {self.step_count}: the weights blew up "
                "(too high a learning rate?). Press Reset."
            )
            raise LabError(self.diverged)
        self.optimizer.step()
        self.step_count += 1
        self.loss, self.accuracy = value, acc
        self.history.append((self.step_count, value, acc))
        self.pending.append((self.step_count, value, acc))
        del self.history[:-HISTORY]
        del self.pending[:-HISTORY]
        return value, acc

    # ------------------------------------------------------------------ pictures

    def _forward_grid(self, n: int) -> tuple[list[list[np.ndarray]], list[np.ndarray]]:
        """Every hidden neuron's output and the output scores on an n × n lattice."""
        ticks = np.linspace(DOMAIN[0], DOMAIN[1], n)
        gx, gy = np.meshgrid(ticks, ticks[::-1])  # row 0 is the top of the picture
        x: Any = [Value(gx.ravel()), Value(gy.ravel())]
        hidden: list[list[np.ndarray]] = []
        with no_grad():
            for i, layer in enumerate(self.model.layers):
                x = layer(x)
                if isinstance(x, Value):
                    x = [x]
                cols = [np.broadcast_to(v.data, n * n) for v in x]
                if i < len(self.model.layers) - 1:
                    hidden.append(cols)
        return hidden, cols

    def boundary(self) -> np.ndarray:
        """The colour weights of each class on the GRID lattice: uint8 (classes, GRID²)."""
        _, out = self._forward_grid(GRID)
        if self.classes == 2:
            p1 = (np.tanh(out[0]) + 1) / 2  # score -1 → class 0, +1 → class 1
            probs = np.stack([1 - p1, p1])
        else:
            z = np.stack(out)
            z = np.exp(z - z.max(axis=0))
            probs = z / z.sum(axis=0)
        return np.round(probs * 255).astype(np.uint8)

    def neuron_pictures(self) -> list[np.ndarray]:
        """Each hidden layer's neurons' outputs, scaled to [-127, 127] per neuron: int8."""
        hidden, _ = self._forward_grid(NEURON_GRID)
        pictures = []
        for cols in hidden:
            a = np.stack(cols)
            scale = np.abs(a).max(axis=1, keepdims=True)
            scale[scale == 0] = 1.0
            pictures.append(np.round(a / scale * 127).astype(np.int8))
        return pictures

    def weights(self) -> list[np.ndarray]:
        """Each layer's weights and biases as float32 (nout, nin + 1), bias last."""
        return [
            np.array([[*(w.data for w in n.w), n.b.data] for n in layer.neurons], dtype=np.float32)
            for layer in self.model.layers
        ]

    # ----------------------------------------------------------------- messages

    def state_message(self) -> dict[str, Any]:
        """What the page needs after a reset or a change of data or settings."""
        self.pending = []  # the history below has them: the next frame must not repeat them
        return {
            "type": "state",
            "settings": asdict(self.settings),
            "classes": self.classes,
            "domain": list(DOMAIN),
            "points": [
                [float(a), float(b), int(c), bool(d)]
                for (a, b), c, d in zip(self.X.tolist(), self.y.tolist(), self.added)
            ],
            "layers": [2, *(layer.nout for layer in self.model.layers)],
            "history": [list(h) for h in self.history],
            "diverged": self.diverged,
        }

    def frame_message(self) -> dict[str, Any]:
        """One frame of the live views: the steps since the last frame and the pictures."""
        steps, self.pending = self.pending, []
        return {
            "type": "frame",
            "step": self.step_count,
            "loss": self.loss,
            "accuracy": self.accuracy,
            "steps": [list(h) for h in steps],
            "grid": GRID,
            "boundary": _b64(self.boundary()),
            "neuronGrid": NEURON_GRID,
            "neurons": [_b64(p) for p in self.neuron_pictures()],
            "weights": [_b64(w) for w in self.weights()],
        }

    # ------------------------------------------------------------------ backprop

    def point_loss(self, index: Any, model: nn.MLP | None = None) -> tuple[Value, nn.MLP]:
        """The loss of point ``index`` alone as a graph, on a copy of the model (labelled).

        The copy has the current weights and zero gradients, so the live model's ``.grad``
        (which matters when zero_grad is off) is not touched.
        """
        i = _int("point", index, 0, len(self.X) - 1)
        if model is None:
            model = nn.MLP(
                2, [layer.nout for layer in self.model.layers], activation=self.settings.activation
            )
            model.load_state_dict(self.model.state_dict())
        for name, p in model.named_parameters():
            p.label = name
        a, b = self.X[i].tolist()
        out = model([Value(a, label="x1"), Value(b, label="x2")])
        c = int(self.y[i])
        if self.classes > 2:
            for k, v in enumerate(out):
                v.label = f"score{k}"
            loss = losses.cross_entropy(out, c)
        else:
            out.label = "score"
            (loss,) = losses.hinge_loss(out, 2.0 * c - 1.0, reduction="none")
        loss.label = "loss"
        return loss, model

    def backprop(self, index: Any) -> dict[str, Any]:
        """The step-through viewer of point ``index``'s loss at the current weights.

        The page is ``viz.backprop_html`` (written to a private temporary folder and read
        back); the gradients returned are the engine's, from ``loss.backward()``.
        """
        from zdravkograd import viz

        n_params = len(self.params)
        if n_params > LIMITS["viewer_parameters"]:
            raise LabError(
                f"the backprop viewer draws every weight: this network has {n_params:,}, and "
                f"the viewer takes at most {LIMITS['viewer_parameters']:,}. Use a smaller network."
            )
        if shutil.which("dot") is None:
            raise LabError(
                "the backprop viewer needs Graphviz's 'dot' program, which is not on PATH: "
                "install Graphviz (e.g. 'apt-get install graphviz' or 'brew install graphviz')"
            )
        loss, model = self.point_loss(index)
        i = int(index)
        a, b = self.X[i].tolist()
        title = (
            f"Backprop of the loss of point {i} ({a:.3f}, {b:.3f}), class {int(self.y[i])}, "
            f"at step {self.step_count}"
        )
        with tempfile.TemporaryDirectory(prefix="zdravkograd-lab-") as tmp:
            path = Path(tmp) / "viewer.html"
            try:
                viz.backprop_html(loss, path, title=title, max_nodes=None, collapse=True)
            except ImportError as exc:
                raise LabError(str(exc)) from None
            except Exception as exc:  # Graphviz's dot missing or failing
                raise LabError(f"cannot draw the backprop viewer: {exc}") from None
            page = path.read_text(encoding="utf-8")
        loss.backward()
        return {
            "type": "backprop",
            "index": i,
            "point": [a, b],
            "label": int(self.y[i]),
            "step": self.step_count,
            "loss": float(loss.data),
            "grads": {p.label: float(p.grad) for p in model.parameters()},
            "html": page,
        }
