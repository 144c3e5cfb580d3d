"""Neural-network building blocks made of Values: ``Module``, ``Neuron``, ``Layer``, ``MLP``.

A ``Module`` finds its parameters by looking at its own attributes, as PyTorch does:

* an attribute holding a ``Module`` is a child module;
* an attribute holding a ``Value`` is a parameter;
* an attribute holding a list (or tuple) is searched element by element for both, and so
  is a list of lists (a weight matrix is a list of rows).

Attributes whose name starts with ``_`` are private and never registered. Names are
dotted paths, so the second weight of the fourth neuron of the first layer of an
``MLP`` is ``layers.0.neurons.3.w.1``.

Every Value of a model's graph has a label a learner can map back to the model (see
``Module.name_nodes``): the short form of the dotted path, ``layers.0`` -> ``L0``,
``neurons.3`` -> ``n3``, ``w.1`` -> ``w1``. So that weight is labelled ``L0.n3.w1``, and the
nodes its neuron makes are ``L0.n3.Σ`` (the weighted sum ``b + w0·x0 + w1·x1 + ...``, one
node of the op table's row ``dot``) and ``L0.n3.relu`` (its activation). Indices count from
0, as in the state dict.

The seed's API is unchanged::

    model = MLP(2, [16, 16, 1])          # 337 parameters, weights from random.uniform(-1, 1)
    model.zero_grad()
    for p in model.parameters():
        p.data -= lr * p.grad
"""

from __future__ import annotations

import math
import random
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from numbers import Real
from typing import Any, NamedTuple

from zdravkograd import serialization
from zdravkograd._checks import check_bool, check_choice, check_int, check_rng
from zdravkograd.engine import Value
from zdravkograd.nodes import dot

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
"""The activation names a Neuron, Layer or MLP accepts: the one list the command line,
model files and ``torch_bridge`` read. Each but ``'linear'`` is also a ``Value`` method and
a module class (``ACTIVATION_MODULES``)."""

INITS = ("uniform", "kaiming", "xavier")
"""The weight initialisations a Neuron, Layer or MLP accepts."""


class StateDictError(ValueError):
    """A state dict that does not fit the model. Raised before any weight changes."""


class LoadResult(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` skipped (both empty when strict)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


# ------------------------------------------------------------------------ Module


class Module:
    """Base class: something with parameters (Values) that training adjusts.

    Subclasses either define ``forward`` (called by ``module(x)``, as in PyTorch) or
    override ``__call__`` directly, as the seed's classes do.
    """

    training: bool = True  # set on each instance by train() / eval()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} defines neither forward nor __call__")

    # -------------------------------------------------------- registration

    def _members(self) -> Iterator[tuple[str, Any]]:
        """(name, Module or Value) for every registered attribute, in definition order."""
        for name, value in vars(self).items():
            if name.startswith("_"):
                continue
            if isinstance(value, (Module, Value)):
                yield name, value
            elif isinstance(value, (list, tuple)):
                yield from _list_members(name, value)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules with their names (``layers.0``, ``layers.1``, ...)."""
        for name, value in self._members():
            if isinstance(value, Module):
                yield name, value

    def children(self) -> Iterator[Module]:
        """The direct sub-modules."""
        for _, child in self.named_children():
            yield child

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module (named ``prefix``, default ``''``) and every descendant, parents first."""
        stack: list[tuple[str, Module]] = [(prefix, self)]
        seen: set[int] = set()
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            kids = [(f"{name}.{n}" if name else n, c) for n, c in module.named_children()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        """This module and every descendant, parents first."""
        for _, module in self.named_modules():
            yield module

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        """Every parameter with its dotted name, each shared parameter once."""
        seen: set[int] = set()
        for prefix, module in self.named_modules():
            for name, value in module._members():
                if isinstance(value, Value) and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{prefix}.{name}" if prefix else name), value

    def parameters(self) -> list[Value]:
        """Every parameter (a list of Values), in the order of ``named_parameters``.

        The same walk as ``named_parameters`` without building the names: training loops
        call this every step, so it is kept quick.
        """
        out: list[Value] = []
        seen: set[int] = set()  # ids of the parameters already listed
        done: set[int] = set()  # ids of the modules already visited
        stack: list[Module] = [self]
        while stack:
            module = stack.pop()
            if id(module) in done:
                continue
            done.add(id(module))
            kids: list[Module] = []
            for name, value in vars(module).items():
                if name[0] == "_":
                    continue
                items = value if isinstance(value, (list, tuple)) else (value,)
                if items and isinstance(items[0], (list, tuple)):  # a matrix: a list of rows
                    items = [item for _, item in _list_members(name, items)]
                for item in items:
                    if isinstance(item, Value):
                        if id(item) not in seen:
                            seen.add(id(item))
                            out.append(item)
                    elif isinstance(item, Module):
                        kids.append(item)
            stack.extend(reversed(kids))
        return out

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0.0 (leaves accumulate across backward calls)."""
        for p in self.parameters():
            p.grad = 0.0

    # ------------------------------------------------------------ names

    def name_nodes(self, prefix: str = "") -> Module:
        """Label every parameter, and every Value ``forward`` makes, by its place in the model.

        A parameter's label is its ``named_parameters`` name in short form: each dotted step
        ``layers.0`` becomes ``L0``, ``neurons.3`` becomes ``n3``, any other ``name.i``
        becomes ``namei``; ``prefix`` (if any) goes in front. So ``layers.0.neurons.3.w.1``
        is labelled ``L0.n3.w1``. ``Neuron`` also names the nodes of its forward pass
        (``L0.n3.Σ``, ``L0.n3.relu``). ``Layer``, ``MLP``
        and ``Sequential`` call this when they are built; call it yourself after putting
        modules together by hand. Returns self.
        """
        for name, value in self._members():
            full = f"{prefix}.{_short_name(name)}" if prefix else _short_name(name)
            if isinstance(value, Module):
                value.name_nodes(full)
            else:
                value.label = full
        return self

    # ------------------------------------------------------------ modes

    def train(self, mode: bool = True) -> Module:
        """Set ``training = mode`` on this module and every descendant. Returns self."""
        check_bool("mode", mode)
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Same as ``train(False)``."""
        return self.train(False)

    # ------------------------------------------------------- state dict

    def state_dict(self) -> OrderedDict[str, float]:
        """An ordered mapping from each parameter's dotted name to its value (a float)."""
        out: OrderedDict[str, float] = OrderedDict()
        for name, p in self.named_parameters():
            if not isinstance(p.data, float):
                raise TypeError(f"parameter {name} holds a batch (an array), not a float")
            out[name] = p.data
        return out

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> LoadResult:
        """Copy the values of ``state`` into the parameters of the same name.

        The whole of ``state`` is checked first; a bad input raises ``StateDictError``
        and leaves every weight as it was. With ``strict=True`` (the default) a missing
        or an unexpected key is an error; with ``strict=False`` they are skipped and
        reported in the returned ``LoadResult``. Each value must be a real number
        (``bool`` and strings are refused).
        """
        if not isinstance(state, Mapping):
            raise StateDictError(
                f"load_state_dict() takes a mapping name -> float, got {type(state).__name__}"
            )
        params = dict(self.named_parameters())
        missing = [k for k in params if k not in state]
        unexpected = [k for k in state if k not in params]
        if strict and (missing or unexpected):
            raise StateDictError(
                f"state dict does not match {type(self).__name__}: "
                f"missing keys {_short(missing)}, unexpected keys {_short(unexpected)}"
            )
        updates: list[tuple[Value, float]] = []
        for name, p in params.items():
            if name not in state:
                continue
            v = state[name]
            if isinstance(v, bool) or not isinstance(v, Real):
                raise StateDictError(
                    f"state dict entry {name!r} must be a real number, "
                    f"got {type(v).__name__}: {v!r:.40}"
                )
            try:
                value = float(v)
            except OverflowError:  # an int beyond the float range, e.g. 10**400
                raise StateDictError(
                    f"state dict entry {name!r} is too large for a float (beyond ±1.8e308)"
                ) from None
            updates.append((p, value))
        for p, v in updates:  # everything checked: now change the weights
            p.data = v
        return LoadResult(missing, unexpected)

    # -------------------------------------------------------- save/load

    def save(self, path: Any) -> None:
        """Write the architecture and the weights to ``path`` as JSON, atomically.

        See ``zdravkograd.nn.load``. Only JSON is written (never pickle).
        """
        serialization.save(self, path)

    def _config(self) -> dict[str, Any] | None:
        """The constructor arguments that rebuild this module, or None if unknown."""
        return None

    # ------------------------------------------------------------- repr

    def extra_repr(self) -> str:
        """The text between the parentheses of this module's repr (override to describe it)."""
        return ""

    def __repr__(self) -> str:
        lines: list[str] = []
        kids = list(self.named_children())
        i = 0
        while i < len(kids):  # PyTorch style: repeated identical children collapse
            name, child = kids[i]
            text = repr(child)
            j = i + 1
            while j < len(kids) and repr(kids[j][1]) == text and _same_list(name, kids[j][0]):
                j += 1
            if j - i > 1:
                first, last = name, kids[j - 1][0].rsplit(".", 1)[1]
                lines.append(f"({first}-{last}): {j - i} x {text}")
            else:
                lines.append(f"({name}): {text}")
            i = j
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = "\n".join("  " + line.replace("\n", "\n  ") for line in lines)
        head = f"{type(self).__name__}({extra}" if extra else f"{type(self).__name__}("
        return f"{head}\n{body}\n)"


def _list_members(name: str, items: Sequence[Any]) -> Iterator[tuple[str, Any]]:
    """(``name.i``, item) for the Modules and Values in a list, ``name.i.j`` in a list of lists."""
    for i, item in enumerate(items):
        if isinstance(item, (Module, Value)):
            yield f"{name}.{i}", item
        elif isinstance(item, (list, tuple)):
            yield from _list_members(f"{name}.{i}", item)


_SHORT = {"layers": "L", "neurons": "n"}


def _short_name(name: str) -> str:
    """``layers.0`` -> ``L0``, ``neurons.3`` -> ``n3``, ``w.1`` -> ``w1``, ``b`` -> ``b``."""
    head, _, index = name.partition(".")
    return _SHORT.get(head, head) + index if index else head


def _same_list(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are elements of the same list attribute (``x.0``, ``x.1``)."""
    return "." in a and a.rsplit(".", 1)[0] == b.rsplit(".", 1)[0]


def _short(keys: list[str], n: int = 5) -> str:
    if len(keys) <= n:
        return repr(keys)
    return repr(keys[:n])[:-1] + f", ... ({len(keys)} in all)]"


def load(path: Any, model: Module | None = None) -> Module:
    """Read a model written by ``Module.save``.

    Without ``model`` a new module is built from the architecture in the file (this
    draws no numbers from the global ``random``). With ``model`` the file must describe
    the same architecture and its weights are loaded into ``model``. Either way every
    check happens before any weight changes; errors are ``FileNotFoundError`` or
    ``zdravkograd.serialization.ModelFileError`` (a ``ValueError``).
    """
    return serialization.load(path, model)


# ------------------------------------------------------------ seed classes


class Neuron(Module):
    """``act(w · x + b)`` for ``nin`` inputs.

    ``activation`` is ``'relu'`` (default), ``'tanh'``, ``'sigmoid'`` or ``'linear'``;
    the seed's ``nonlin=True/False`` still works and means ``'relu'``/``'linear'``.
    Weights (bias ``0.0``) are drawn by ``init``:

    * ``'uniform'`` (default, the seed's): ``U(-1, 1)``;
    * ``'kaiming'`` (He): ``U(-a, a)`` with ``a = sqrt(6 / nin)``, for ReLU layers;
    * ``'xavier'`` (Glorot): ``U(-a, a)`` with ``a = sqrt(6 / (nin + fan_out))``.

    Numbers come from ``rng`` (a ``random.Random``) or, when it is None, from Python's
    global ``random``, so ``random.seed(1337)`` reproduces a model as in the seed.
    """

    def __init__(
        self,
        nin: int,
        nonlin: bool | None = None,
        *,
        activation: str = "relu",
        init: str = "uniform",
        rng: random.Random | None = None,
        fan_out: int = 1,
    ) -> None:
        check_int("nin", nin, minimum=1)
        check_int("fan_out", fan_out, minimum=1)
        if nonlin is not None:
            activation = "relu" if nonlin else "linear"
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        check_choice("init", init, INITS)
        gen = check_rng(rng)
        if init == "uniform":
            bound = 1.0
        elif init == "kaiming":
            bound = math.sqrt(6.0 / nin)
        else:
            bound = math.sqrt(6.0 / (nin + fan_out))
        self.w = [Value(gen.uniform(-bound, bound)) for _ in range(nin)]
        self.b = Value(0.0)
        self.name_nodes()

    @property
    def nonlin(self) -> bool:
        """The seed's flag: True unless the activation is ``'linear'``."""
        return self.activation != "linear"

    def name_nodes(self, prefix: str = "") -> Neuron:
        """Label the weights ``w0, w1, ...`` and ``b``, and the nodes ``__call__`` makes.

        With ``prefix`` ``L0.n3``: the weighted sum ``L0.n3.Σ`` (one node, ``b + w0·x0 +
        w1·x1 + ...``) and the activation ``L0.n3.relu`` (``tanh``, ``sigmoid``; a linear
        neuron ends at ``Σ``).
        """
        super().name_nodes(prefix)
        self._prefix = f"{prefix}." if prefix else ""
        return self

    _prefix = ""  # "L0.n3." once name_nodes has run

    def __call__(self, x: Sequence[Any]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"Neuron expects {len(self.w)} inputs, got {len(x)}")
        operands = [self.b] * (2 * len(x) + 1)  # b, w0, x0, w1, x1, ...
        operands[1::2], operands[2::2] = self.w, x
        # b + w0*x0 + w1*x1 + ...: one node of the op table's row `dot`, which gives the
        # numbers of micrograd's chain of '*' and '+' bit for bit, with 2n fewer nodes.
        act = dot(*operands)
        act.label = self._prefix + "Σ"
        a = self.activation
        if a == "linear":
            return act
        out = getattr(act, a)()  # act.relu(), act.tanh(), act.sigmoid()
        out.label = self._prefix + a
        return out

    forward = __call__

    def _config(self) -> dict[str, Any]:
        return {"nin": len(self.w), "activation": self.activation}

    def __repr__(self) -> str:  # the seed's short form: ReLUNeuron(2), LinearNeuron(16)
        a = self.activation
        name = "Linear" if a == "linear" else ACTIVATION_MODULES[a].__name__
        return f"{name}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons reading the same inputs. Returns one Value when ``nout == 1``.

    Keyword arguments (``nonlin``, ``activation``, ``init``, ``rng``) go to each Neuron.
    """

    def __init__(self, nin: int, nout: int, **kwargs: Any) -> None:
        check_int("nout", nout, minimum=1)
        kwargs.setdefault("fan_out", nout)
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]
        self.name_nodes()

    def _check_inputs(self, x: Sequence[Any]) -> None:
        """A wrong input count names this module: ``Layer expects 2 inputs, got 3``."""
        if len(x) != len(self.neurons[0].w):
            raise ValueError(f"{type(self).__name__} expects {self.nin} inputs, got {len(x)}")

    def __call__(self, x: Sequence[Any]) -> Value | list[Value]:
        self._check_inputs(x)
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    forward = __call__

    @property
    def nin(self) -> int:
        return len(self.neurons[0].w)

    @property
    def nout(self) -> int:
        return len(self.neurons)

    @property
    def activation(self) -> str:
        return self.neurons[0].activation

    def _config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nout": self.nout, "activation": self.activation}


class MLP(Module):
    """A multi-layer perceptron: hidden layers use ``activation``, the last layer is linear.

    ``nouts`` lists the layer widths. ``init`` and ``rng`` are passed to every Neuron.

    >>> len(MLP(2, [16, 16, 1]).parameters())
    337
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        init: str = "uniform",
        rng: random.Random | None = None,
    ) -> None:
        check_int("nin", nin, minimum=1)
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
            raise TypeError(f"nouts must be a non-empty list of layer widths, got {nouts!r:.40}")
        for i, n in enumerate(nouts):
            check_int(f"nouts[{i}]", n, minimum=1)
        check_choice("activation", activation, ACTIVATIONS)
        check_choice("init", init, INITS)
        check_rng(rng)
        sizes = [nin] + list(nouts)
        last = len(nouts) - 1
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                activation=activation if i != last else "linear",
                init=init,
                rng=rng,
            )
            for i in range(len(nouts))
        ]
        self._activation = activation
        self._init = init
        self.name_nodes()

    def __call__(self, x: Any) -> Any:
        if len(x) != self.layers[0].nin:
            raise ValueError(f"MLP expects {self.layers[0].nin} inputs, got {len(x)}")
        for layer in self.layers:
            x = layer(x)
            if isinstance(x, Value):  # a width-1 layer returns one Value; the next wants a list
                x = [x]
        return x[0] if len(x) == 1 else x

    forward = __call__

    def _config(self) -> dict[str, Any]:
        return {
            "nin": self.layers[0].nin,
            "nouts": [layer.nout for layer in self.layers],
            "activation": self._activation,
            "init": self._init,
        }


# ------------------------------------------------------- PyTorch-style layers


class Linear(Layer):
    """``nout`` linear neurons: ``y_j = b_j + sum_i w_ji x_i``. Always returns a list.

    Like ``torch.nn.Linear``, but made of Neurons, so every weight is a Value you can see.
    """

    def __init__(
        self, nin: int, nout: int, init: str = "uniform", rng: random.Random | None = None
    ) -> None:
        super().__init__(nin, nout, activation="linear", init=init, rng=rng)
        self._init = init

    def __call__(self, x: Sequence[Any]) -> list[Value]:
        self._check_inputs(x)
        return [n(x) for n in self.neurons]

    forward = __call__

    def _config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nout": self.nout, "init": self._init}

    def extra_repr(self) -> str:
        return f"in_features={self.nin}, out_features={self.nout}"

    def __repr__(self) -> str:
        return f"Linear({self.extra_repr()})"


class _Activation(Module):
    """An element-wise activation as a module: takes a Value or a list of Values."""

    _method = ""
    _prefix = ""

    def name_nodes(self, prefix: str = "") -> _Activation:
        """Outputs are labelled ``{prefix}.relu`` (one Value) or ``{prefix}.relu0, ...``."""
        self._prefix = f"{prefix}." if prefix else ""
        return self

    def __call__(self, x: Any) -> Any:
        name = self._prefix + self._method
        if isinstance(x, Value):
            out = getattr(x, self._method)()
            out.label = name
            return out
        outs = [getattr(v, self._method)() for v in x]
        for i, v in enumerate(outs):
            v.label = f"{name}{i}"
        return outs

    forward = __call__

    def _config(self) -> dict[str, Any]:
        return {}


class ReLU(_Activation):
    """``max(0, x)`` element-wise."""

    _method = "relu"


class Tanh(_Activation):
    """``tanh(x)`` element-wise."""

    _method = "tanh"


class Sigmoid(_Activation):
    """``1 / (1 + exp(-x))`` element-wise."""

    _method = "sigmoid"


ACTIVATION_MODULES: dict[str, type[Module]] = {m._method: m for m in (ReLU, Tanh, Sigmoid)}
"""Each non-linear activation name with its module class (``'relu'`` -> ``ReLU``)."""


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(Linear(2, 8), ReLU(), Linear(8, 1))``."""

    def __init__(self, *modules: Module) -> None:
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential takes Modules; argument {i} is {type(m).__name__}")
        self.layers = list(modules)
        self.name_nodes()

    def __call__(self, x: Any) -> Any:
        # A wrong input count names the model, not the layer inside it that would notice.
        nin = getattr(self.layers[0], "nin", None) if self.layers else None
        if isinstance(nin, int) and len(x) != nin:
            raise ValueError(f"Sequential expects {nin} inputs, got {len(x)}")
        for layer in self.layers:
            x = layer(x)
        return x

    forward = __call__

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def _config(self) -> dict[str, Any] | None:
        return {"modules": [m for m in self.layers]}  # serialization describes each in turn


# ------------------------------------------------------------------ model files
# The classes a model file may name, what their arguments must be and how many parameters
# those make. ``serialization`` builds only these; it never imports this module.


def _width(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


def _widths(v: Any) -> bool:
    return isinstance(v, list) and len(v) > 0 and all(_width(x) for x in v)


def _activation(v: Any) -> bool:
    return isinstance(v, str) and v in ACTIVATIONS


def _init(v: Any) -> bool:
    return isinstance(v, str) and v in INITS


def _mlp_size(args: dict[str, Any]) -> int:
    sizes = [args["nin"], *args["nouts"]]
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))


def _layer_size(args: dict[str, Any]) -> int:
    return int((args["nin"] + 1) * args["nout"])


serialization.register(
    MLP, {"nin": _width, "nouts": _widths, "activation": _activation, "init": _init}, _mlp_size
)
serialization.register(
    Layer, {"nin": _width, "nout": _width, "activation": _activation}, _layer_size
)
serialization.register(Neuron, {"nin": _width, "activation": _activation}, lambda a: a["nin"] + 1)
serialization.register(Linear, {"nin": _width, "nout": _width, "init": _init}, _layer_size)
for _module in ACTIVATION_MODULES.values():
    serialization.register(_module, {}, lambda a: 0, seeded=False)
serialization.register(Sequential, {"modules": lambda v: isinstance(v, list)}, lambda a: 0)


# The transformer's modules live in zdravkograd/transformer.py, which builds on Module; they
# are re-exported here on first use (an import at the top would be circular). The import at
# the end of this file registers them for model files whenever nn is imported.
_TRANSFORMER = (
    "Embedding",
    "RMSNorm",
    "LayerNorm",
    "CausalSelfAttention",
    "FeedForward",
    "Block",
    "GPT",
    "KVCache",
)


def __getattr__(name: str) -> Any:
    if name in _TRANSFORMER:
        from zdravkograd import transformer

        return getattr(transformer, name)
    raise AttributeError(f"module 'zdravkograd.nn' has no attribute {name!r}")


__all__ = [
    *_TRANSFORMER,
    "ACTIVATIONS",
    "ACTIVATION_MODULES",
    "INITS",
    "Module",
    "Neuron",
    "Layer",
    "MLP",
    "Linear",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "Sequential",
    "StateDictError",
    "LoadResult",
    "load",
]

from zdravkograd import transformer as _transformer  # noqa: E402,F401  (see _TRANSFORMER)
