"""Save and load models as JSON: the architecture, a format version and the weights.

A file looks like this (weights shortened)::

    {
      "format": "zdravkograd-model",
      "format_version": 1,
      "architecture": {"class": "MLP",
                       "args": {"nin": 2, "nouts": [16, 16, 1],
                                "activation": "relu", "init": "uniform"}},
      "weights": {"layers.0.neurons.0.w.0": 0.2358..., ...}
    }

Loading never runs code from the file: the only classes it builds are the built-in
ones in ``ARCHITECTURES``, and the only values it reads are numbers. Python writes
floats with ``repr``, the shortest text that reads back as the same float, so a
reloaded model gives bit-identical outputs. ``NaN`` and ``Infinity`` are written as
Python's ``json`` module writes them.

Saving is atomic: the text goes to a temporary file in the same directory, which is
then renamed over the target with ``os.replace``. A crash mid-save leaves the old file
(or no file), never half of one.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import tempfile
from collections.abc import Callable
from typing import Any, NamedTuple

FORMAT = "zdravkograd-model"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A model file that cannot be loaded: what is wrong, and where."""


class Architecture(NamedTuple):
    """A class a model file may name: what its arguments must be, and what they make."""

    cls: type[Any]
    args: dict[str, Callable[[Any], bool]]  # argument name -> is this value acceptable?
    count: Callable[[dict[str, Any]], int]  # the number of parameters these arguments make
    seeded: bool  # does the constructor draw weights (and so take ``rng``)?


ARCHITECTURES: dict[str, Architecture] = {}
"""The only classes ``load`` builds, by name. ``zdravkograd.nn`` fills it when imported
(and ``import zdravkograd`` imports ``nn``), so this module never imports ``nn``."""


def register(
    cls: type[Any],
    args: dict[str, Callable[[Any], bool]],
    count: Callable[[dict[str, Any]], int],
    seeded: bool = True,
) -> None:
    """Let model files name ``cls``. An argument called ``modules`` holds a list of
    module descriptions (a container such as ``Sequential``, built as ``cls(*modules)``)."""
    ARCHITECTURES[cls.__name__] = Architecture(cls, args, count, seeded)


def architecture(model: Any) -> dict[str, Any] | None:
    """The JSON description of ``model``'s architecture, or None for a custom Module."""
    name = type(model).__name__
    if name not in ARCHITECTURES or type(model) is not ARCHITECTURES[name].cls:
        return None
    config = model._config()
    if config is None:
        return None
    if "modules" in config:
        parts = [architecture(m) for m in config["modules"]]
        if any(p is None for p in parts):
            return None
        config = {**config, "modules": parts}
    return {"class": name, "args": config}


def _check(arch: Any, where: str = "architecture") -> int:
    """Check a module's description, every field, and return its number of parameters."""
    if not isinstance(arch, dict) or set(arch) != {"class", "args"}:
        raise ModelFileError(f"{where} must be an object with keys 'class' and 'args'")
    name, args = arch["class"], arch["args"]
    if not isinstance(name, str) or name not in ARCHITECTURES:
        raise ModelFileError(
            f"{where}: unknown class {name!r:.60}; this version knows {', '.join(ARCHITECTURES)}"
        )
    checks = ARCHITECTURES[name].args
    if not isinstance(args, dict) or set(args) != set(checks):
        got = sorted(args) if isinstance(args, dict) else type(args).__name__
        raise ModelFileError(f"{where}: {name} takes arguments {sorted(checks)}, got {got}")
    for key, ok in checks.items():
        if not ok(args[key]):
            raise ModelFileError(f"{where}: {name} argument {key}={args[key]!r:.60} is invalid")
    if "modules" in checks:
        return sum(_check(a, f"{where}.modules[{i}]") for i, a in enumerate(args["modules"]))
    return ARCHITECTURES[name].count(args)


def _build(arch: dict[str, Any]) -> Any:
    """Build a module from a description that ``_check`` accepted."""
    name, args = arch["class"], arch["args"]
    cls, checks, _, seeded = ARCHITECTURES[name]
    if "modules" in checks:
        return cls(*[_build(a) for a in args["modules"]])
    if seeded:  # the weights are overwritten; leave the global random alone
        return cls(**args, rng=random.Random(0))
    return cls(**args)


def dumps(model: Any, preprocessing: dict[str, Any] | None = None) -> str:
    """The JSON text ``save`` writes.

    ``preprocessing`` (optional, JSON-safe) is stored as the file's ``"preprocessing"``
    field: what ``zdravkograd train`` needs around the network (feature columns and their
    scaling, class labels); see ``zdravkograd.table``. Readers that do not know the field
    ignore it, so the format version stays 1.
    """
    doc: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": architecture(model),
        "weights": dict(model.state_dict()),
    }
    if preprocessing is not None:
        doc["preprocessing"] = preprocessing
    return json.dumps(doc, indent=1)


def _umask() -> int:
    """The process's umask (reading it means setting it; it is put straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save(model: Any, path: Any, preprocessing: dict[str, Any] | None = None) -> None:
    """Write ``model`` to ``path`` as JSON, atomically (temporary file + ``os.replace``).

    A custom Module (not one of ``ARCHITECTURES``) is saved with ``"architecture": null``;
    load it back with ``load(path, model=an_instance)``. ``preprocessing``: see ``dumps``.
    """
    text = dumps(model, preprocessing)  # any error here happens before a file is touched
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno is not None:
            # The same error, about the user's path rather than the temporary file.
            raise type(exc)(exc.errno, exc.strerror, path) from None
        raise


def loads(text: str, model: Any = None, source: str = "<string>") -> Any:
    """Like ``load`` but from JSON text; ``source`` names it in error messages."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelFileError(
            f"{source} is not valid JSON (truncated or corrupted?): {exc.msg} "
            f"(line {exc.lineno}, column {exc.colno})"
        ) from None
    except (ValueError, RecursionError) as exc:  # an integer of 5,000 digits, deep nesting
        raise ModelFileError(f"{source} is not a model file JSON can read: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(f"{source} is not a zdravkograd model file (no 'format': {FORMAT!r})")
    version = doc.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ModelFileError(
            f"{source} has format version {version!r}; this zdravkograd reads version "
            f"{FORMAT_VERSION}"
        )
    missing = {"architecture", "weights"} - set(doc)
    if missing:
        raise ModelFileError(f"{source} lacks the field(s) {sorted(missing)}")
    weights = doc["weights"]
    if not isinstance(weights, dict):
        raise ModelFileError(f"{source}: 'weights' must be an object name -> number")
    for key, v in weights.items():  # JSON numbers only: no strings, booleans, nulls
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ModelFileError(f"{source}: weight {key!r} is not a number: {v!r:.40}")
    arch = doc["architecture"]
    if arch is None and model is None:
        raise ModelFileError(
            f"{source} was saved from a custom Module (no architecture); "
            f"load it into an instance: load(path, model=MyModel(...))"
        )
    count = 0  # the number of parameters the file's architecture has
    if arch is not None:
        try:
            count = _check(arch)
        except ModelFileError as exc:
            raise ModelFileError(f"{source}: {exc}") from None
    if model is None:
        if count > 2 * len(weights) + 1000:  # never build a model the file cannot fill
            raise ModelFileError(
                f"{source}: its architecture {_describe(arch)} has {count:,} parameters, "
                f"but the file holds only {len(weights):,} weights"
            )
        target = _build(arch)
    else:
        mine = architecture(model)
        if arch is not None and mine is not None and _shape(arch) != _shape(mine):
            raise ModelFileError(
                f"{source} holds a different architecture: file {_describe(arch)}, "
                f"model {_describe(mine)}"
            )
        target = model
    try:
        target.load_state_dict(weights, strict=True)
    except ValueError as exc:  # nn.StateDictError
        raise ModelFileError(f"{source}: {exc}") from None
    return target


def load(path: Any, model: Any = None) -> Any:
    """Read a model saved by ``save``. See ``zdravkograd.nn.load``."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file at {path!r}") from None
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"{path} is not a text (JSON) file: {exc}") from None
    return loads(text, model, source=path)


def _shape(arch: Any) -> Any:
    """The architecture without ``init``: how the weights were first drawn does not matter
    once they are loaded."""
    if isinstance(arch, dict):
        return {k: _shape(v) for k, v in arch.items() if k != "init"}
    if isinstance(arch, list):
        return [_shape(v) for v in arch]
    return arch


def _describe(arch: dict[str, Any], limit: int = 200) -> str:
    """``MLP(nin=2, nouts=[16, 16, 1], ...)`` for a checked description, at most ``limit``
    characters long."""
    args = ", ".join(f"{k}={v!r}" for k, v in arch["args"].items() if k != "modules")
    if arch["class"] == "Sequential":
        args = ", ".join(_describe(a, limit) for a in arch["args"]["modules"])
    text = f"{arch['class']}({args})"
    return text if len(text) <= limit else text[: limit - 4] + "...)"


__all__ = ["ModelFileError", "FORMAT", "FORMAT_VERSION", "save", "load", "dumps", "loads"]
