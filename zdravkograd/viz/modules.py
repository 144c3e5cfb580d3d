"""Group a model's graph by module, so that ``draw_dot`` and the viewer can fold each group.

One position of a GPT is about 4,500 Values: too many to draw one by one. But the model
is made of modules, and every Value it creates is created while some module is running::

    with module_groups(model) as groups:
        logits = model(tokens)
        with groups.scope("loss"):
            loss = logsumexp(logits[1]) - logits[1][tokens[2]]
    draw_dot(loss, collapse=groups)

While the block runs, every ``forward`` and ``step`` of the model's modules is watched
(the methods are wrapped on the instances, and put back afterwards). A Value's group is
the innermost module call running when it was created; ``scope(name)`` names a stretch of
code of your own. Because the engine numbers Values in creation order, each group is a
stretch of consecutive numbers, so the folded graph still has no cycles: a group only
reads groups made before it.

A group is labelled by its module's name, ``.step`` for a ``step`` call, and the call's
number when the module runs more than once: ``blocks.0.attn.step [2]`` is the attention of
position 2. Parameters (leaves made before the block) are folded away; each group's box
says how many of them it reads.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from zdravkograd.engine import Value

__all__ = ["ModuleGroups", "module_groups"]


def _now() -> int:
    """The creation number the next Value will get (this probe uses one up)."""
    return Value(0.0)._id + 1


class ModuleGroups:
    """Which module call created each Value, recorded by ``module_groups(model)``.

    ``group_of(v)`` returns ``(key, label)`` for a Value made inside a module call (or a
    ``scope``), else None. Two stretches of one module (say the two residual additions of a
    block, either side of its MLP) are two groups with the same label.
    """

    def __init__(self) -> None:
        self._ids: list[int] = []  # the creation number at each enter / exit
        self._stacks: list[tuple[str, ...]] = []  # the calls running from that number on
        self._stack: list[str] = []
        self._calls: dict[str, int] = {}  # module name -> calls so far

    def _mark(self) -> None:
        self._ids.append(_now())
        self._stacks.append(tuple(self._stack))

    @contextmanager
    def scope(self, name: str) -> Iterator[None]:
        """Put the Values created inside the block into one group called ``name``."""
        self._stack.append(name)
        self._mark()
        try:
            yield
        finally:
            self._stack.pop()
            self._mark()

    def _call(self, name: str, method: Any) -> Any:
        @functools.wraps(method)
        def watched(*args: Any, **kwargs: Any) -> Any:
            k = self._calls.get(name, 0)
            self._calls[name] = k + 1
            with self.scope(f"{name} [{k}]"):
                return method(*args, **kwargs)

        return watched

    def group_of(self, v: Value) -> tuple[int, str] | None:
        """``(stretch number, label)`` of the group that created ``v``, or None."""
        i = bisect.bisect_right(self._ids, v._id) - 1
        if i < 0 or not self._stacks[i]:
            return None
        return i, self._label(self._stacks[i][-1])

    def _label(self, label: str) -> str:
        """``blocks.0.attn [2]`` (its third call); the ``[0]`` of a one-call module dropped."""
        name, _, k = label.rpartition(" [")
        if name and self._calls.get(name) == 1:
            return name
        return label


@contextmanager
def module_groups(model: Any) -> Iterator[ModuleGroups]:
    """Record, while the block runs, which of ``model``'s module calls creates each Value."""
    groups = ModuleGroups()
    patched = []
    for name, module in model.named_modules():
        label = name or type(module).__name__
        for method in ("forward", "step"):
            if callable(getattr(type(module), method, None)) and method not in vars(module):
                key = label if method == "forward" else f"{label}.step"
                setattr(module, method, groups._call(key, getattr(module, method)))
                patched.append((module, method))
    try:
        yield groups
    finally:
        for module, method in patched:
            delattr(module, method)
