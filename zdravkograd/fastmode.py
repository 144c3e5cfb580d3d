"""``fast()``: run a block with Python's cycle collector paused.

Why this exists
---------------
CPython frees most objects by reference counting. On top of that, a *cycle
collector* runs every time enough new container objects have been allocated,
and every so often it walks **every** tracked object in the process. A training
step of the per-sample scalar graph allocates ~8,300 Values (~66,000 before each
neuron's weighted sum became one node), enough to trigger such a full walk every few
steps; with scikit-learn, matplotlib and friends imported, one walk costs tens of
milliseconds and easily dominates a step.

The engine never builds reference cycles (a node links only to its operands and
stores plain numbers, no closures), so a dropped graph is freed by reference
counting at once, and the collector has nothing to find in it. Pausing the
collector while building and back-propagating graphs therefore loses nothing:

* Values are still freed immediately, memory does not grow;
* cycles that *your* code makes inside the block are not lost either, they are
  only collected later, once the collector runs again after the block.

``fast()`` always restores the collector's previous state, also when the block
raises, when blocks are nested, and when several threads use it at once (the
collector is process-wide, so the outermost block of all threads restores it).
"""

from __future__ import annotations

import gc
import threading
from contextlib import ContextDecorator

_lock = threading.Lock()
_depth = 0  # how many fast() blocks are open, over all threads
_was_enabled = False  # the collector's state before the outermost block


class fast(ContextDecorator):
    """Pause the cycle collector (``gc.disable()``) for a block; restore it afterwards.

    A context manager and a decorator::

        with zdravkograd.fast():
            for step in range(100):
                ...  # build the graph, backward, update

    Safe because the engine makes no reference cycles (see ``docs/speed.md``).
    Nested and concurrent blocks are fine: the collector is switched back on
    (if it was on before) when the last open block exits, even on an exception.
    """

    def __enter__(self) -> fast:
        global _depth, _was_enabled
        with _lock:
            if _depth == 0:
                _was_enabled = gc.isenabled()
                gc.disable()
            _depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        global _depth
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()


__all__ = ["fast"]
