"""The mutant list of `make mutants` (scripts/mutants.toml) fits the code as it is.

`make mutants` itself is slow (pytest once per mutant) and not part of `make test`. This
cheap check is: when code moves, every mutant's exact old text must still be found exactly
once, so a refactor cannot quietly retire a mutant; it has to be pointed at the new code.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("mutants", ROOT / "scripts" / "mutants.py")
assert spec is not None and spec.loader is not None
mutants = importlib.util.module_from_spec(spec)
sys.modules.setdefault("mutants", mutants)  # dataclasses look their module up
spec.loader.exec_module(mutants)


def test_every_mutant_applies_to_this_tree_exactly_once():
    listed = mutants.load_mutants(mutants.DEFAULT_LIST)
    mutants.check_applicable(listed, ROOT)  # raises, naming each stale mutant
    assert len(listed) >= 9 + 12


def test_every_primitive_has_a_mutated_local_derivative():
    names = " ".join(m.name for m in mutants.load_mutants(mutants.DEFAULT_LIST))
    for op in ("x + y", "x * y", "x ** y", "x ** c", "sqrt", "exp", "log", "tanh", "sigmoid"):
        assert op in names, op
    for op in ("relu", "sin", "cos", "abs", "sum"):
        assert re.search(rf"\b{op}\b", names), op


def _write(tmp_path, body):
    path = tmp_path / "m.toml"
    path.write_text(body, encoding="utf-8")
    return path


ENTRY = """
[[mutant]]
name = "n"
file = 'zdravkograd/engine.py'
old = {old}
new = 'x'
tests = ['tests/test_sweep.py']
"""


@pytest.mark.parametrize(
    "old, message",
    [
        ("'no such text anywhere'", "occurs 0 times"),
        ("'return'", r"occurs \d+ times"),  # many: ambiguous
    ],
)
def test_a_missing_or_ambiguous_old_text_stops_the_script(tmp_path, capsys, old, message):
    path = _write(tmp_path, ENTRY.format(old=old))
    assert mutants.main(["--file", str(path), "--list"]) == 2
    assert re.search(message, capsys.readouterr().err)


def test_a_malformed_list_is_refused(tmp_path, capsys):
    path = _write(tmp_path, "[[mutant]]\nname = 'n'\nfile = 'zdravkograd/engine.py'\n")
    assert mutants.main(["--file", str(path), "--list"]) == 2
    assert "missing ['new', 'old', 'tests']" in capsys.readouterr().err
