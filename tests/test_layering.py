"""How the package hangs together: no import cycles, one argument-checking convention,
one list of activation names."""

from __future__ import annotations

import ast
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from zdravkograd import cli, data, losses, nn, optim, train
from zdravkograd.engine import Value

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "zdravkograd"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports anywhere in its source (also inside functions).

    The package itself (``zdravkograd``, its ``__init__``) is left out: importing it is how
    a module reaches the public functions, and every submodule import runs it first anyway.
    """
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
            for t in targets:
                if t in modules and t not in (name, "zdravkograd"):
                    deps.add(t)
                    break  # ``from a import b``: b if it is a module, else a
        graph[name] = deps
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return path[path.index(dep) :] + [node, dep] if dep in path else [node, dep]
            if dep not in state:
                found = visit(dep, path + [node])
                if found:
                    return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [])
            if found:
                return found
    return None


# The command line imports its subcommands' modules when they run, and they import its
# shared helpers: cycles, listed here so that no new one creeps in unnoticed.
# nn re-exports the transformer's modules (zdravkograd.nn.GPT, as issue 10 asks), while
# transformer builds on nn.Module: nn imports it lazily and once at its end, to register it.
KNOWN_CYCLE_EDGES = {
    ("zdravkograd.cli", "zdravkograd.cli_data"),
    ("zdravkograd.cli", "zdravkograd.lab.cli"),
    ("zdravkograd.cli", "zdravkograd.cli_gpt"),
    ("zdravkograd.nn", "zdravkograd.transformer"),
}


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    assert "zdravkograd.nn" in graph and "zdravkograd.serialization" in graph["zdravkograd.nn"]
    for a, b in KNOWN_CYCLE_EDGES:
        assert b in graph[a], f"{a} no longer imports {b}: drop it from KNOWN_CYCLE_EDGES"
        graph[a].discard(b)
    assert _cycle(graph) is None, f"import cycle: {' -> '.join(_cycle(graph) or [])}"


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) is not None
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_serialization_never_imports_nn():
    assert not any("nn" in d for d in import_graph()["zdravkograd.serialization"])


def test_serialization_alone_loads_every_built_in_class(tmp_path):
    """Importing only zdravkograd.serialization (in a fresh process) still knows the classes."""
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid())
    path = tmp_path / "m.json"
    model.save(path)
    code = (
        "import sys, zdravkograd.serialization as s\n"
        "m = s.load(sys.argv[1])\n"
        "print(type(m).__name__, sorted(s.ARCHITECTURES))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert out.split(" ", 1)[0] == "Sequential"
    assert "MLP" in out and "ReLU" in out


# ------------------------------------------------------------------ argument checks


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: nn.MLP(2.0, [1]), TypeError, "nin must be an int, got float"),
        (lambda: nn.MLP(0, [1]), ValueError, "nin must be at least 1, got 0"),
        (lambda: nn.Neuron(True), TypeError, "nin must be an int, got bool"),
        (lambda: data.xor(2.0), TypeError, "n_samples must be an int, got float"),
        (lambda: data.xor(0), ValueError, "n_samples must be at least 1, got 0"),
        (lambda: data.spiral(10, classes=0), ValueError, "classes must be at least 1"),
        (lambda: _fit(steps=1.0), TypeError, "steps must be an int, got float"),
        (lambda: _fit(steps=-1), ValueError, "steps must be at least 0, got -1"),
        (lambda: _fit(lr="1"), TypeError, "lr must be a number, got str"),
        (lambda: _fit(lr=-1.0), ValueError, "lr must be a finite number > 0, got -1.0"),
        (lambda: _fit(lr=True), TypeError, "lr must be a number, got bool"),
        (lambda: _fit(optimizer=1), TypeError, "optimizer must be a string"),
        (lambda: _fit(optimizer="x"), ValueError, "optimizer must be one of 'sgd', 'adam'"),
        (lambda: optim.SGD([Value(0.0)], lr="1"), TypeError, "lr must be a number, got str"),
        (lambda: optim.SGD([Value(0.0)], lr=-1.0), ValueError, "lr must be a finite number"),
        (lambda: optim.SGD([Value(0.0)], lr=float("inf")), ValueError, "finite number >= 0"),
        (lambda: optim.StepLR(_opt(), 1.5), TypeError, "step_size must be an int, got float"),
        (lambda: optim.CosineAnnealingLR(_opt(), 0), ValueError, "T_max must be at least 1"),
        (lambda: losses.hinge_loss([Value(1.0)], [1.0], reduction="avg"), ValueError, "one of"),
        (lambda: losses.hinge_loss([Value(1.0)], [1.0], reduction=None), TypeError, "a string"),
    ],
)
def test_every_module_checks_arguments_the_same_way(call, error, message):
    """Wrong type -> TypeError, wrong value -> ValueError (PyTorch's convention), in the
    same words wherever the argument is checked."""
    with pytest.raises(error, match=message):
        call()


def _fit(**kwargs):
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    return train.fit(nn.MLP(2, [2, 1], rng=random.Random(0)), X, [0, 1], **kwargs)


def _opt():
    return optim.SGD([Value(0.0)], lr=1.0)


def test_no_module_keeps_its_own_int_checker():
    for path in PACKAGE.rglob("*.py"):
        if path.name == "_checks.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert not names & {"_check_int", "_check_float", "_nonneg", "_check_choice"}, path


# ------------------------------------------------------------------ activations


def test_activation_names_have_one_source():
    assert nn.ACTIVATIONS == (*nn.ACTIVATION_MODULES, "linear")
    assert set(cli.ACTIVATIONS) == set(nn.ACTIVATION_MODULES)
    moons = next(
        a
        for a in cli.build_parser()._subparsers._group_actions[0].choices["moons"]._actions
        if "--activation" in a.option_strings
    )
    assert tuple(moons.choices) == tuple(nn.ACTIVATION_MODULES)
    for name, module in nn.ACTIVATION_MODULES.items():
        assert module()(Value(0.5)).data == getattr(Value(0.5), name)().data
        assert repr(nn.Neuron(2, activation=name)) == f"{module.__name__}Neuron(2)"


def test_every_activation_round_trips_through_a_model_file(tmp_path):
    for name in nn.ACTIVATIONS:
        m = nn.MLP(2, [3, 1], activation=name, rng=random.Random(1))
        m.save(tmp_path / f"{name}.json")
        back = nn.load(tmp_path / f"{name}.json")
        assert back.layers[0].activation == name
        x = [Value(0.3), Value(-0.7)]
        assert back(x).data == m(x).data


# ------------------------------------------------------------------ viz


def test_viz_uses_no_private_name_of_another_module():
    """viz reads the engine through public names: no ``from m import _x``, no ``m._x``."""
    for path in (PACKAGE / "viz").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = set()  # names bound to zdravkograd modules in this file
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("zdravkograd"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports {private} from {node.module}"
                modules.update(a.asname or a.name for a in node.names)
            elif isinstance(node, ast.Import):
                modules.update(a.asname or a.name for a in node.names)
        reads = [
            f"{path.name}:{node.lineno} reads {node.value.id}.{node.attr}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ]
        assert not reads, reads
