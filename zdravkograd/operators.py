"""IEEE-754 arithmetic for the engine, on floats and on 1-D NumPy arrays.

Python's ``math`` module raises where PyTorch returns ``inf`` or ``nan``
(``math.log(0)`` is a "math domain error", ``1.0 / 0.0`` a
``ZeroDivisionError``, ``math.exp(1000)`` an ``OverflowError``, and
``(-8.0) ** (1/3)`` a *complex* number). The engine wants the PyTorch
answers, so every operation it performs on raw numbers goes through one of
these small functions.

Each function takes a ``float`` (the common, fast case: plain ``math``) or a
NumPy array (a batched Value, see the speed docs) and returns the same kind.
"""

from __future__ import annotations

import math

import numpy as np

inf = math.inf
nan = math.nan


def power(x, k):
    """x ** k, with IEEE results: 0 ** -1 = inf, (-8) ** (1/3) = nan.

    x ** 2 is computed as x * x, as PyTorch does: the product is correctly rounded,
    while the C library's pow is off by one unit in the last place for some x.
    """
    if type(k) is float and k == 2.0:
        if type(x) is float:
            return x * x
        with np.errstate(all="ignore"):
            return np.multiply(x, x, dtype=np.float64)
    if type(x) is float and type(k) is float:
        try:
            return math.pow(x, k)
        except (ValueError, OverflowError, ZeroDivisionError):
            # Let NumPy apply IEEE-754: -0 ** -1 = -inf, 10 ** 400 = inf, (-1) ** 0.5 = nan.
            with np.errstate(all="ignore"):
                return float(np.power(np.float64(x), np.float64(k)))
    with np.errstate(all="ignore"):
        return np.power(np.asarray(x, dtype=np.float64), k)


def sqrt(x):
    """The square root as PyTorch computes ``x ** 0.5``: sqrt(-0.0) = -0.0, sqrt(-1) = nan."""
    if type(x) is float:
        return math.sqrt(x) if x >= 0.0 else nan  # math.sqrt(-0.0) is -0.0
    with np.errstate(all="ignore"):
        return np.sqrt(x)


def exp(x):
    """e ** x; exp(1000) = inf."""
    if type(x) is float:
        try:
            return math.exp(x)
        except OverflowError:
            return inf
    with np.errstate(all="ignore"):
        return np.exp(x)


def log(x):
    """Natural log; log(0) = -inf, log(-1) = nan."""
    if type(x) is float:
        if x > 0.0:
            return math.log(x)  # also log(inf) = inf
        return -inf if x == 0.0 else nan
    with np.errstate(all="ignore"):
        return np.log(x)


def tanh(x):
    """tanh; never overflows (tanh(±1000) = ±1)."""
    if type(x) is float:
        return math.tanh(x)
    return np.tanh(x)


def sigmoid(x):
    """1 / (1 + e^-x), computed so that neither branch overflows."""
    if type(x) is float:
        if x >= 0.0:
            return 1.0 / (1.0 + math.exp(-x))
        if x < 0.0:
            e = math.exp(x)
            return e / (1.0 + e)
        return x  # nan
    with np.errstate(all="ignore"):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def relu(x):
    """max(x, 0); relu(nan) = nan as in PyTorch."""
    if type(x) is float:
        return 0.0 if x <= 0.0 else x
    return np.maximum(x, 0.0)  # the same bits as np.where(x <= 0, 0, x), 3x faster


def step(x):
    """0 where x <= 0 else 1: the derivative of relu (0 at 0 and 1 at nan, as in PyTorch)."""
    if type(x) is float:
        return 0.0 if x <= 0.0 else 1.0
    return np.where(x <= 0.0, 0.0, 1.0)  # (comparisons with nan raise no warning)


def sign(x):
    """-1, 0 or 1 (0 for ±0 and nan): the derivative of abs, as torch.sign."""
    if type(x) is float:
        if x > 0.0:
            return 1.0
        return -1.0 if x < 0.0 else 0.0
    return np.where(np.isnan(x), 0.0, np.sign(x))


def fabs(x):
    """|x|"""
    if type(x) is float:
        return math.fabs(x)
    return np.abs(x)


def sin(x):
    """sin; sin(inf) = nan."""
    if type(x) is float:
        return math.sin(x) if math.isfinite(x) else nan
    with np.errstate(all="ignore"):
        return np.sin(x)


def cos(x):
    """cos; cos(inf) = nan."""
    if type(x) is float:
        return math.cos(x) if math.isfinite(x) else nan
    with np.errstate(all="ignore"):
        return np.cos(x)


def is_finite(x) -> bool:
    """True when x (a float or every element of an array) is neither nan nor ±inf."""
    if type(x) is float:
        return math.isfinite(x)
    return bool(np.all(np.isfinite(x)))


# ------------------------------------------------------------------ input checks

REAL_TYPES = (int, float, np.integer, np.floating, np.bool_)  # bool is an int


def as_number(data):
    """Check that ``data`` is a real number (or a 1-D real array); return it as float64.

    What ``Value(data)`` stores: a ``float``, or a 1-D float64 array for a batch.
    """
    if type(data) is float:
        return data
    if isinstance(data, REAL_TYPES):
        try:
            return float(data)
        except OverflowError:  # an int beyond 1.8e308
            digits = len(str(abs(data)))
            raise OverflowError(
                f"Value() got an int too large for a float: it has {digits} digits"
            ) from None
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        if data.ndim == 0:
            return float(data)
        if data.ndim == 1:
            return data.astype(np.float64, copy=False)
        raise TypeError(
            f"Value() takes a 1-D array for a batch, got an array of shape {data.shape}"
        )
    raise TypeError(
        f"Value() takes a real number (int, float, bool or a NumPy real scalar) "
        f"or a 1-D NumPy array of them, got {type(data).__name__}: {data!r:.60}"
    )


def as_seed(gradient, data):
    """Check ``backward(gradient)``: a number, or for a batch one number per sample."""
    seed = as_number(gradient)
    if type(seed) is not float and (type(data) is float or len(seed) != len(data)):
        holds = "a single number" if type(data) is float else f"a batch of {len(data)}"
        raise ValueError(
            f"backward(gradient=...) got an array of {len(seed)} numbers for a Value holding "
            f"{holds}; pass a number, or an array with one number per sample"
        )
    return seed
