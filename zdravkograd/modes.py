"""The engine's switches: ``no_grad``, ``enable_grad``, ``detect_anomaly`` (per thread), and
the compiler's tracing hook.

The engine reads ``mode`` (this thread's switches) only while ``open_switches`` is not 0,
that is while some thread is inside one of these blocks: a thread-local read costs several
times a global one, and it would be paid for every node.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ContextDecorator, contextmanager
from typing import Any


class _Mode(threading.local):
    """Per-thread switches: is the graph being recorded, are we hunting NaNs."""

    grad_enabled: bool = True
    anomaly: bool = False

    def __init__(self) -> None:
        self.saved: list[bool] = []  # the values the open `with` blocks will restore


mode = _Mode()
# How many no_grad / enable_grad / detect_anomaly blocks are open, in all threads.
# While it is 0, every thread has the default mode and `_result` need not read
# the thread-local `mode` (a read that costs several times a global's).
open_switches = 0
_switch_lock = threading.Lock()


class _Switch(ContextDecorator):
    """A context manager and decorator that sets one per-thread flag, then restores it.

    The value to restore goes on a per-thread stack, so one instance (say, a
    decorated function) may be entered by several threads at once.
    """

    _flag = ""
    _on = False

    def __new__(cls, func: Any = None) -> Any:
        """``no_grad()`` is a context manager or decorator; bare ``@no_grad`` works too."""
        switch = super().__new__(cls)
        if func is None:
            return switch
        if not callable(func):
            raise TypeError(f"{cls.__name__}() takes no arguments, got {type(func).__name__}")
        return switch(func)  # used as @no_grad without parentheses

    def __enter__(self) -> _Switch:
        global open_switches
        with _switch_lock:
            open_switches += 1
        mode.saved.append(getattr(mode, self._flag))
        setattr(mode, self._flag, self._on)
        return self

    def __exit__(self, *exc: object) -> None:
        global open_switches
        setattr(mode, self._flag, mode.saved.pop())
        with _switch_lock:
            open_switches -= 1


class no_grad(_Switch):
    """Record no graph: results are leaves. A context manager or a decorator; per thread.

    >>> with no_grad():
    ...     y = Value(2.0) * 3
    >>> y._prev
    ()
    """

    _flag, _on = "grad_enabled", False


class enable_grad(_Switch):
    """Record the graph again inside a ``no_grad`` block."""

    _flag, _on = "grad_enabled", True


class detect_anomaly(_Switch):
    """Raise ``FloatingPointError`` at the first operation or backward step giving NaN or inf."""

    _flag, _on = "anomaly", True


def is_grad_enabled() -> bool:
    """False inside ``no_grad`` (in this thread)."""
    return mode.grad_enabled


tracer: Any = None  # the compiler's recorder while it traces a function: see tracing()


@contextmanager
def tracing(recorder: Any) -> Iterator[None]:
    """The compiler's hook into the engine: while open, ``recorder`` hears what a graph
    cannot show, from the Value methods involved:

    * ``read(v)``: ``v.data`` was read (library code reads ``v._data``, which is silent);
    * ``compared(symbol, v, other, result)``: ``v < other`` and friends;
    * ``converted(v, result)``: ``float(v)``;
    * ``detached(new, v)``: ``v.detach()``;
    * ``frozen(out)``: ``out`` was computed under ``no_grad``;
    * ``derived(new, fn, operands)``: library code made the leaf ``new`` from the data of
      ``operands`` as ``fn([data, ...])``, a number with no gradient (the max-shift of
      ``losses.logsumexp``): a program recomputes it from the operands.
    """
    global tracer
    if tracer is not None:
        raise RuntimeError("compile: a trace is already running (compile is not re-entrant)")
    tracer = recorder
    try:
        yield
    finally:
        tracer = None


__all__ = ["tracing", "no_grad", "enable_grad", "detect_anomaly", "is_grad_enabled"]
