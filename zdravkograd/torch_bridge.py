"""Move a model between zdravkograd and PyTorch, weights and all (needs the ``torch`` extra).

``to_torch(model)`` turns an ``MLP`` (or a ``Sequential`` of ``Linear`` and activation
modules, or a single ``Layer``) into a ``torch.nn.Sequential`` of ``torch.nn.Linear``
and activation layers in float64, carrying the same weights: neuron ``j``'s weight
``w[i]`` becomes ``linear.weight[j, i]`` and its bias ``linear.bias[j]``.

``from_torch(seq)`` goes back. A ``Sequential`` of the shape ``to_torch`` makes
(``Linear``, activation, ``Linear``, ..., ``Linear``, all hidden activations the same)
becomes an ``MLP``; any other mix of ``Linear``/``ReLU``/``Tanh``/``Sigmoid`` becomes a
zdravkograd ``Sequential``. Anything else raises ``TypeError`` naming the layer.

The transformer's modules go both ways too: ``Embedding``, ``RMSNorm`` and ``LayerNorm``
become ``torch.nn.Embedding``/``RMSNorm``/``LayerNorm``; ``CausalSelfAttention`` and
``GPT`` become the twins in ``zdravkograd.torch_gpt``. A zdravkograd matrix parameter
``blocks.0.attn.wq`` (rows of Values) is the tensor ``blocks.0.attn.wq.weight``.
"""

from __future__ import annotations

import random
from typing import Any

from zdravkograd import nn, transformer
from zdravkograd._optional import require_extra


def _torch() -> Any:
    return require_extra("torch", "torch", "zdravkograd.torch_bridge")


def _linear_to_torch(torch: Any, layer: nn.Layer) -> Any:
    lin = torch.nn.Linear(layer.nin, layer.nout, dtype=torch.float64)
    with torch.no_grad():
        w = [[float(wi.data) for wi in n.w] for n in layer.neurons]
        b = [float(n.b.data) for n in layer.neurons]
        lin.weight.copy_(torch.tensor(w, dtype=torch.float64))
        lin.bias.copy_(torch.tensor(b, dtype=torch.float64))
    return lin


def _parts(model: nn.Module) -> list[tuple[nn.Layer, str]]:
    """The model as (weights, activation) pairs: a Linear-like layer and what follows it."""
    if isinstance(model, nn.MLP):
        return [(layer, layer.activation) for layer in model.layers]
    if isinstance(model, nn.Layer):
        return [(model, model.activation)]
    if isinstance(model, nn.Sequential):
        parts: list[tuple[nn.Layer, str]] = []
        for i, m in enumerate(model.layers):
            if isinstance(m, nn.Layer) and not isinstance(m, nn.Linear):
                parts.append((m, m.activation))
            elif isinstance(m, nn.Linear):
                parts.append((m, "linear"))
            elif type(m) in nn.ACTIVATION_MODULES.values():
                parts.append((m, "module"))  # type: ignore[arg-type]
            else:
                raise TypeError(f"to_torch: cannot convert layer {i}: {type(m).__name__}")
        return parts
    raise TypeError(f"to_torch takes an MLP, a Layer or a Sequential, got {type(model).__name__}")


def to_torch(model: nn.Module) -> Any:
    """A ``torch.nn.Sequential`` (float64) computing the same function with the same weights;
    for a transformer module, its PyTorch counterpart (see the module docstring)."""
    torch = _torch()
    if isinstance(model, _TRANSFORMER):
        return _transformer_to_torch(torch, model)
    layers: list[Any] = []
    for part, act in _parts(model):
        if act == "module":
            layers.append(getattr(torch.nn, type(part).__name__)())
            continue
        layers.append(_linear_to_torch(torch, part))
        if act != "linear":
            # torch.nn names its activation classes as nn does: ReLU, Tanh, Sigmoid
            layers.append(getattr(torch.nn, nn.ACTIVATION_MODULES[act].__name__)())
    return torch.nn.Sequential(*layers)


def _copy_into(layer: nn.Layer, lin: Any) -> None:
    w = lin.weight.detach().to(dtype=_torch().float64).tolist()
    b = lin.bias.detach().to(dtype=_torch().float64).tolist()
    for n, row, bj in zip(layer.neurons, w, b):
        for wi, x in zip(n.w, row):
            wi.data = float(x)
        n.b.data = float(bj)


def from_torch(seq: Any) -> nn.Module:
    """The zdravkograd model for a ``torch.nn.Sequential`` of Linear and activation layers.

    Returns an ``MLP`` when the layers are ``Linear (act Linear)*`` with one hidden
    activation (ReLU, Tanh or Sigmoid), else a ``Sequential``. Raises ``TypeError`` naming
    the layer for one it does not know, and for a Linear without bias, without inputs or
    outputs, not yet initialised (``LazyLinear``) or without data (the ``meta`` device).
    """
    torch = _torch()
    twin = _transformer_from_torch(torch, seq)
    if twin is not None:
        return twin
    if not isinstance(seq, torch.nn.Sequential):
        raise TypeError(f"from_torch takes a torch.nn.Sequential, got {type(seq).__name__}")
    names = {getattr(torch.nn, m.__name__): a for a, m in nn.ACTIVATION_MODULES.items()}
    kinds: list[str] = []
    for i, m in enumerate(seq):
        if isinstance(m, torch.nn.Linear):
            if m.bias is None:
                raise TypeError(f"from_torch: layer {i} is a Linear without bias")
            if isinstance(m.weight, torch.nn.parameter.UninitializedParameter):
                raise TypeError(
                    f"from_torch: layer {i} is a LazyLinear not yet initialised; "
                    f"run one forward pass through it first"
                )
            if m.weight.is_meta or m.bias.is_meta:
                raise TypeError(f"from_torch: layer {i} lives on the 'meta' device: no weights")
            if m.in_features < 1 or m.out_features < 1:
                raise TypeError(
                    f"from_torch: layer {i} is a Linear({m.in_features}, {m.out_features}); "
                    f"a neuron needs at least one input and a layer at least one output"
                )
            kinds.append("linear")
        elif type(m) in names:
            kinds.append(names[type(m)])
        else:
            known = ", ".join(m.__name__ for m in nn.ACTIVATION_MODULES.values())
            raise TypeError(
                f"from_torch: layer {i} is {type(m).__name__}; only Linear, {known} are supported"
            )
    if not kinds:
        raise TypeError("from_torch: the Sequential is empty")
    linears = [m for m in seq if isinstance(m, torch.nn.Linear)]
    for a, b in zip(linears, linears[1:]):
        if a.out_features != b.in_features:
            raise TypeError(
                f"from_torch: a Linear with {a.out_features} outputs feeds one with "
                f"{b.in_features} inputs"
            )
    rng = random.Random(0)  # the weights are copied over; leave the global random alone
    acts = kinds[1::2]
    is_mlp = (
        len(kinds) % 2 == 1
        and all(k == "linear" for k in kinds[0::2])
        and all(k != "linear" for k in acts)
        and len(set(acts)) <= 1
    )
    if is_mlp:
        act = acts[0] if acts else "relu"
        model = nn.MLP(
            linears[0].in_features, [m.out_features for m in linears], activation=act, rng=rng
        )
        for layer, lin in zip(model.layers, linears):
            _copy_into(layer, lin)
        return model
    mods: list[nn.Module] = []
    for m, kind in zip(seq, kinds):
        if kind == "linear":
            lin = nn.Linear(m.in_features, m.out_features, rng=rng)
            _copy_into(lin, m)
            mods.append(lin)
        else:
            mods.append(nn.ACTIVATION_MODULES[kind]())
    return nn.Sequential(*mods)


# ------------------------------------------------------------------ transformer

_TRANSFORMER = (
    transformer.Embedding,
    transformer.RMSNorm,
    transformer.LayerNorm,
    transformer.CausalSelfAttention,
    transformer.GPT,
)


def _torch_name(name: str) -> tuple[str, tuple[int, ...]]:
    """``('blocks.0.attn.wq.weight', (3, 7))`` for the parameter ``blocks.0.attn.wq.3.7``."""
    parts = name.split(".")
    index: list[int] = []
    while parts and parts[-1].isdigit():
        index.insert(0, int(parts.pop()))
    base = ".".join(parts)
    if parts[-1] not in ("weight", "bias"):
        base += ".weight"  # a matrix attribute is a bias-free Linear in PyTorch
    return base, tuple(index)


def _transformer_to_torch(torch: Any, model: nn.Module) -> Any:
    if isinstance(model, transformer.Embedding):
        twin = torch.nn.Embedding(model.num_embeddings, model.embedding_dim, dtype=torch.float64)
    elif isinstance(model, transformer.RMSNorm):
        twin = torch.nn.RMSNorm(
            model.normalized_shape, model.eps, model.elementwise_affine, dtype=torch.float64
        )
    elif isinstance(model, transformer.LayerNorm):
        twin = torch.nn.LayerNorm(
            model.normalized_shape,
            model.eps,
            model.elementwise_affine,
            bias=model.has_bias,
            dtype=torch.float64,
        )
    else:
        from zdravkograd import torch_gpt

        cls = torch_gpt.GPT if isinstance(model, transformer.GPT) else torch_gpt.CausalSelfAttention
        config = model._config()
        assert config is not None  # both classes describe themselves
        twin = cls(**config)
    state = {k: v.detach().clone() for k, v in twin.state_dict().items()}
    for name, p in model.named_parameters():
        key, index = _torch_name(name)
        state[key][index] = float(p.data)
    twin.load_state_dict(state)
    return twin


def _transformer_from_torch(torch: Any, twin: Any) -> nn.Module | None:
    """The zdravkograd module for a PyTorch transformer module, or None for another kind."""
    from zdravkograd import torch_gpt

    rng = random.Random(0)  # the weights are copied over; leave the global random alone
    model: nn.Module
    if isinstance(twin, torch.nn.Embedding):
        model = transformer.Embedding(twin.num_embeddings, twin.embedding_dim, rng=rng)
    elif isinstance(twin, (torch.nn.RMSNorm, torch.nn.LayerNorm)):
        if len(twin.normalized_shape) != 1:
            raise TypeError(
                f"from_torch: a {type(twin).__name__} over shape {tuple(twin.normalized_shape)}; "
                "zdravkograd normalises vectors (a 1-D shape)"
            )
        n, affine = twin.normalized_shape[0], twin.elementwise_affine
        if isinstance(twin, torch.nn.RMSNorm):
            model = transformer.RMSNorm(n, twin.eps, affine)
        else:
            bias = affine and twin.bias is not None
            model = transformer.LayerNorm(n, twin.eps, affine, bias=bias)
    elif isinstance(twin, torch_gpt.GPT):
        model = transformer.GPT(**twin.config, rng=rng)
    elif isinstance(twin, torch_gpt.CausalSelfAttention):
        model = transformer.CausalSelfAttention(twin.wq.in_features, twin.n_head, rng=rng)
    else:
        return None
    state = {k: v.detach().to(torch.float64) for k, v in twin.state_dict().items()}
    for name, p in model.named_parameters():
        key, index = _torch_name(name)
        p.data = float(state[key][index])
    return model


__all__ = ["to_torch", "from_torch"]
