"""Argument checks shared by the library: one rule, one message, one exception type.

The convention is PyTorch's (and Python's own):

* ``TypeError`` when an argument has the wrong *type*: ``steps=2.5``, ``lr="0.1"``,
  ``nin=True`` (a ``bool`` is not accepted where a number is meant);
* ``ValueError`` when the type is right but the *value* is not: ``steps=-1``,
  ``lr=0.0``, ``lr=nan``, ``activation="gelu"``.

Every message names the argument, says what was expected and shows what was given.
``nn``, ``train``, ``optim``, ``data`` and ``losses`` check their arguments with these
functions, so the same mistake gives the same error wherever it is made.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["check_int", "check_number", "check_choice", "check_bool", "check_rng"]


def _got(value: Any) -> str:
    return f"{type(value).__name__}: {value!r:.40}"


def check_int(name: str, value: Any, minimum: int | None = None) -> int:
    """``value`` as an ``int``, or ``TypeError`` (not an integer, or a bool) /
    ``ValueError`` (below ``minimum``). NumPy integers are accepted."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {_got(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def check_number(
    name: str, value: Any, *, minimum: float | None = None, positive: bool = False
) -> float:
    """``value`` as a finite ``float``, or ``TypeError`` (not a real number, or a bool) /
    ``ValueError`` (NaN, infinite, below ``minimum``, or not > 0 when ``positive``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {_got(value)}")
    x = float(value)
    if positive:
        bound = " > 0"
    elif minimum is not None:
        bound = f" >= {minimum:g}"
    else:
        bound = ""
    bad = not math.isfinite(x) or (positive and x <= 0) or (minimum is not None and x < minimum)
    if bad:
        raise ValueError(f"{name} must be a finite number{bound}, got {value!r}")
    return x


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices`` (strings), else ``TypeError`` (not a string) /
    ``ValueError`` (an unknown name)."""
    expected = ", ".join(repr(c) for c in choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {expected}; got {_got(value)}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {expected}; got {value!r:.40}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is a ``bool``, else ``TypeError``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {_got(value)}")
    return value


def check_rng(rng: Any) -> Any:
    """``rng`` if it is a ``random.Random``; Python's global ``random`` module for None (as in
    the seed: ``random.seed()`` reproduces); else ``TypeError``."""
    if rng is None:
        return random
    if not isinstance(rng, random.Random):
        raise TypeError(f"rng must be a random.Random or None, got {type(rng).__name__}")
    return rng
