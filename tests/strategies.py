"""Shared Hypothesis strategies: numbers, and random expression DAGs.

An expression DAG is drawn as a :class:`Dag`: a list of leaf values and a list
of instructions ``(op, i, j)`` that each make a new node from two earlier
nodes (``j`` is ignored by one-operand ops). Indices may repeat, so the same
subexpression feeds several later nodes, and ``i == j`` happens too.
:func:`evaluate` runs a Dag on any Value-like type (zdravkograd Values,
float64 torch tensors, a compiled tape's inputs), because every op in
:data:`DAG_OPS` only uses operators and methods that all of them share.

The ops are chosen so that every node stays in [-1, 1] when the leaves do
(for example ``exp`` is ``exp(x - 1)`` and ``log`` is ``log(x*x + 1)``). The
values then cannot overflow, and comparing two engines to a relative 1e-9
measures the engines, not the rounding of a badly conditioned expression.
The kinked ops ``relu`` and ``abs`` are applied to leaves only: on a computed
value, a one-ulp difference between the engines could flip the branch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

Op = Callable[[Any, Any], Any]


def reals(limit: float = 1e12) -> st.SearchStrategy[float]:
    """Any float of magnitude <= limit, plus nan and the infinities."""
    return st.one_of(
        st.floats(-limit, limit),
        st.sampled_from([0.0, -0.0, 1.0, -1.0, float("nan"), float("inf"), float("-inf")]),
    )


def unit_floats() -> st.SearchStrategy[float]:
    """A float in [-1, 1] (with 0, ±1 and ±0.5 drawn often)."""
    return st.one_of(st.floats(-1.0, 1.0), st.sampled_from([0.0, 1.0, -1.0, 0.5, -0.5]))


# name -> (arity, op). Each op maps values in [-1, 1] into [-1, 1].
DAG_OPS: dict[str, tuple[int, Op]] = {
    "mul": (2, lambda x, y: x * y),
    "mean": (2, lambda x, y: (x + y) * 0.5),
    "halfdiff": (2, lambda x, y: (x - y) * 0.5),
    "div": (2, lambda x, y: x / (2 + y)),
    "pow": (2, lambda x, y: ((x * x + 1) * 0.5) ** y * 0.5),
    "neg": (1, lambda x, _: -x),
    "tanh": (1, lambda x, _: x.tanh()),
    "sigmoid": (1, lambda x, _: x.sigmoid()),
    "sin": (1, lambda x, _: x.sin()),
    "cos": (1, lambda x, _: x.cos()),
    "square": (1, lambda x, _: x**2),
    "cube": (1, lambda x, _: x**3),
    "exp": (1, lambda x, _: (x - 1).exp()),
    "log": (1, lambda x, _: (x * x + 1).log()),
    "sqrt": (1, lambda x, _: (x * x + 1).sqrt() * 0.7),
    "radd": (1, lambda x, _: 0.5 + x * 0.5),
    "rsub": (1, lambda x, _: (1 - x) * 0.5),
    "rdiv": (1, lambda x, _: 1 / (2 + x)),
    "rpow": (1, lambda x, _: 2**x * 0.5),
    "relu": (1, lambda x, _: x.relu()),
    "abs": (1, lambda x, _: abs(x)),
}
LEAF_ONLY = frozenset({"relu", "abs"})

# Ops whose IEEE-754 result is exactly rounded in both engines, in the same order of
# operations: on these, zdravkograd and PyTorch agree bit for bit, nan and inf included.
# (relu is left out: an inactive relu *masks* a nan gradient in PyTorch, while the
# chain rule here multiplies it by 0, giving nan; see docs/backprop.md.)
EXACT_OPS: dict[str, tuple[int, Op]] = {
    "add": (2, lambda x, y: x + y),
    "sub": (2, lambda x, y: x - y),
    "mul": (2, lambda x, y: x * y),
    "neg": (1, lambda x, _: -x),
    "square": (1, lambda x, _: x**2),
    "abs": (1, lambda x, _: abs(x)),
}


@dataclass(frozen=True)
class Dag:
    """Leaf values and instructions ``(op name, i, j)`` over earlier node indices.

    The op names are keys of :data:`DAG_OPS` or of :data:`EXACT_OPS`.
    """

    leaves: tuple[float, ...]
    instructions: tuple[tuple[str, int, int], ...]

    @property
    def size(self) -> int:
        """The number of nodes: leaves plus one per instruction."""
        return len(self.leaves) + len(self.instructions)


def evaluate(dag: Dag, leaves: list[Any]) -> list[Any]:
    """Every node of ``dag``, leaves first, computed from the given leaf objects."""
    nodes = list(leaves)
    for name, i, j in dag.instructions:
        op = DAG_OPS[name][1] if name in DAG_OPS else EXACT_OPS[name][1]
        nodes.append(op(nodes[i], nodes[j]))
    return nodes


def output(nodes: list[Any]) -> Any:
    """The scalar a test differentiates: the mean of all nodes, so every node matters."""
    total = nodes[0]
    for node in nodes[1:]:
        total = total + node
    return total * (1.0 / len(nodes))


@st.composite
def dags(
    draw: st.DrawFn,
    max_nodes: int = 200,
    max_leaves: int = 8,
    ops: dict[str, tuple[int, Op]] | None = None,
    leaf_values: st.SearchStrategy[float] | None = None,
) -> Dag:
    """A random expression DAG of at most ``max_nodes`` nodes, with shared subexpressions.

    Operands are drawn either among the last few nodes (which makes long chains)
    or among all earlier nodes (which makes reuse across the graph). By default the
    ops are :data:`DAG_OPS` and the leaves lie in [-1, 1].
    """
    ops = DAG_OPS if ops is None else ops
    leaf_values = unit_floats() if leaf_values is None else leaf_values
    n_leaves = draw(st.integers(1, max_leaves))
    leaves = tuple(draw(st.lists(leaf_values, min_size=n_leaves, max_size=n_leaves)))
    n_ops = draw(st.integers(1, max_nodes - n_leaves))
    names = sorted(ops)
    instructions = []
    for k in range(n_ops):
        n = n_leaves + k
        name = draw(st.sampled_from(names))
        if name in LEAF_ONLY and ops is DAG_OPS:
            i = j = draw(st.integers(0, n_leaves - 1))
        else:
            pick = st.one_of(st.integers(max(0, n - 3), n - 1), st.integers(0, n - 1))
            i = draw(pick)
            j = draw(pick) if ops[name][0] == 2 else i
        instructions.append((name, i, j))
    return Dag(leaves, tuple(instructions))


def ieee_dags(max_nodes: int = 80) -> st.SearchStrategy[Dag]:
    """DAGs of :data:`EXACT_OPS` over any leaves: huge, tiny, ±0, ±inf and nan."""
    return dags(max_nodes=max_nodes, max_leaves=6, ops=EXACT_OPS, leaf_values=reals(1e200))
