"""Mutation testing by hand: does the test suite notice small, plausible bugs? `make mutants`.

    python scripts/mutants.py [--list] [--only TEXT ...] [--file scripts/mutants.toml]

Each mutant in ``scripts/mutants.toml`` is one edit of one line: in ``file``, the exact
text ``old`` (it must occur exactly once) becomes ``new``. For each mutant the script

1. copies the working tree (the files git tracks or would track, as they are on disk
   when the script starts, uncommitted edits included) to a fresh temporary directory:
   the working tree itself is never changed;
2. applies the edit to the copy and checks that the edited file still compiles;
3. runs the mutant's ``tests`` there (``pytest -x``, narrowed by ``select`` as ``-k``)
   with ``CI=true``, so that a missing optional dependency fails instead of skipping;
4. counts the mutant *caught* when the tests fail, *survived* when they pass.

Before any mutant, each distinct test selection runs once on an unmodified copy: it must
pass there, or a "caught" would mean nothing. Every ``old`` text is checked before
anything runs; a mutant whose text is missing or ambiguous stops the script with the list
of such mutants, so that moving code (a refactor) cannot silently retire a mutant.

Exit status: 0 when every mutant was caught, 1 when one survived, 2 when the list or
the unmodified tests are broken. Not part of ``make test``: it runs the tests once per
mutant.
"""

from __future__ import annotations

import argparse
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LIST = ROOT / "scripts" / "mutants.toml"
TIMEOUT = 900  # seconds per pytest run


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]
    select: str = ""  # a pytest -k expression, "" for all of `tests`

    @property
    def selection(self) -> tuple[tuple[str, ...], str]:
        return self.tests, self.select


class ListError(Exception):
    """The mutant list cannot be applied to this tree."""


def load_mutants(path: Path) -> list[Mutant]:
    """Read the mutant list, checking each entry's fields."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ListError(f"{path}: {exc}") from None
    entries = doc.get("mutant")
    if not isinstance(entries, list) or not entries:
        raise ListError(f"{path}: expected [[mutant]] tables, found none")
    mutants, names, problems = [], set(), []
    for i, entry in enumerate(entries, 1):
        where = f"{path.name}, mutant {i} ({entry.get('name', 'unnamed')!r})"
        unknown = set(entry) - {"name", "file", "old", "new", "tests", "select"}
        missing = {"name", "file", "old", "new", "tests"} - set(entry)
        if unknown or missing:
            problems.append(f"{where}: unknown keys {sorted(unknown)}, missing {sorted(missing)}")
            continue
        tests = entry["tests"]
        if not (isinstance(tests, list) and tests and all(isinstance(t, str) for t in tests)):
            problems.append(f"{where}: 'tests' must be a non-empty list of test paths")
            continue
        if entry["old"] == entry["new"]:
            problems.append(f"{where}: 'old' and 'new' are the same text")
            continue
        if entry["name"] in names:
            problems.append(f"{where}: the name is used twice")
            continue
        names.add(entry["name"])
        mutants.append(
            Mutant(
                entry["name"],
                entry["file"],
                entry["old"],
                entry["new"],
                tuple(tests),
                entry.get("select", ""),
            )
        )
    if problems:
        raise ListError("\n".join(problems))
    return mutants


def check_applicable(mutants: list[Mutant], tree: Path) -> None:
    """Each ``old`` occurs exactly once in its file; each test path exists."""
    problems = []
    for m in mutants:
        source = tree / m.file
        if not source.is_file():
            problems.append(f"{m.name}: {m.file} does not exist")
            continue
        count = source.read_text(encoding="utf-8").count(m.old)
        if count != 1:
            problems.append(
                f"{m.name}: the old text occurs {count} times in {m.file}, not once: {m.old!r}"
            )
        for t in m.tests:
            if not (tree / t.split("::")[0]).exists():
                problems.append(f"{m.name}: test path {t} does not exist")
    if problems:
        raise ListError("\n".join(problems))


def tree_files(root: Path) -> list[str]:
    """The files of the working tree: what git tracks or would track (not ignored)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", "site", "build", "dist", "__pycache__", ".pytest_cache"}
        return [
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(root).parts)
        ]
    return [f for f in out.decode().split("\0") if f and (root / f).is_file()]


def copy_tree(root: Path, files: list[str], dest: Path) -> None:
    for f in files:
        target = dest / f
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / f, target)


def apply(m: Mutant, tree: Path) -> None:
    path = tree / m.file
    text = path.read_text(encoding="utf-8")
    assert text.count(m.old) == 1  # checked before, on the same files
    path.write_text(text.replace(m.old, m.new), encoding="utf-8")
    if path.suffix == ".py":
        try:
            py_compile.compile(str(path), doraise=True)
        except py_compile.PyCompileError as exc:
            raise ListError(f"{m.name}: the mutated {m.file} does not compile: {exc}") from None


def _env(tree: Path) -> dict[str, str]:
    return dict(os.environ, CI="true", PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")


def imported_from(tree: Path) -> Path:
    """Where Python run in ``tree`` imports zdravkograd from (an installed copy would win
    over PYTHONPATH if it were installed the wrong way; then every mutant would survive)."""
    code = "import zdravkograd; print(zdravkograd.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=_env(tree), capture_output=True, text=True
    )
    return Path(out.stdout.strip() or "/nowhere").resolve()


def run_tests(tree: Path, tests: tuple[str, ...], select: str) -> tuple[int, str, float]:
    """pytest -x on ``tests`` inside ``tree``: (exit code, first failure line, seconds)."""
    env = _env(tree)
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    if select:
        cmd += ["-k", select]
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {TIMEOUT} s", time.perf_counter() - start
    lines = proc.stdout.splitlines()
    first = next((ln for ln in lines if ln.startswith(("FAILED", "ERROR"))), "")
    if not first and proc.returncode:
        first = (lines[-1] if lines else proc.stderr.strip()[-200:]) or "no output"
    return proc.returncode, first, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_LIST, help="the mutant list")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument(
        "--only", nargs="+", default=[], metavar="TEXT", help="run mutants whose name has TEXT"
    )
    args = parser.parse_args(argv)
    try:
        mutants = load_mutants(args.file)
        check_applicable(mutants, ROOT)
    except ListError as exc:
        print(f"mutants: the list does not fit this tree:\n{exc}", file=sys.stderr)
        return 2
    if args.only:
        mutants = [m for m in mutants if any(t in m.name for t in args.only)]
        if not mutants:
            print(f"mutants: no mutant name contains any of {args.only}", file=sys.stderr)
            return 2
    if args.list:
        for m in mutants:
            print(f"{m.name}\n    {m.file}: {m.old!r}\n    -> {m.new!r}\n    tests: {m.tests}")
        return 0

    files = tree_files(ROOT)
    print(f"{len(mutants)} mutants of {ROOT}, each on a fresh copy of {len(files)} files")
    with tempfile.TemporaryDirectory(prefix="zdravkograd-mutants-") as tmp:
        # One snapshot of the working tree, taken now: edits made while this runs do not
        # leak into later mutants. Nothing runs inside it; each run gets its own copy.
        snapshot = Path(tmp) / "snapshot"
        copy_tree(ROOT, files, snapshot)
        # The tests must pass without a mutation, or "caught" means nothing.
        clean = Path(tmp) / "clean"
        shutil.copytree(snapshot, clean)
        imported = imported_from(clean)
        if not imported.is_relative_to(clean):
            print(f"mutants: the copy imports zdravkograd from {imported}", file=sys.stderr)
            return 2
        for tests, select in dict.fromkeys(m.selection for m in mutants):
            code, first, secs = run_tests(clean, tests, select)
            label = " ".join(tests) + (f" -k {select!r}" if select else "")
            if code != 0:
                print(f"mutants: without any mutation, {label} fails: {first}", file=sys.stderr)
                return 2
            print(f"  baseline ok ({secs:4.1f} s): {label}")
        shutil.rmtree(clean)

        results = []
        for i, m in enumerate(mutants, 1):
            tree = Path(tmp) / f"mutant-{i}"
            shutil.copytree(snapshot, tree)
            try:
                apply(m, tree)
            except ListError as exc:
                print(f"mutants: {exc}", file=sys.stderr)
                return 2
            code, first, secs = run_tests(tree, m.tests, m.select)
            shutil.rmtree(tree)
            if code in (1, 2):  # tests failed (2: failed to import or collect)
                verdict = "caught"
            elif code == 0:
                verdict = "SURVIVED"
            else:
                print(f"mutants: {m.name}: pytest exit {code}: {first}", file=sys.stderr)
                return 2
            results.append((m, verdict))
            named = re.match(r"(?:FAILED|ERROR) (\S+?(?:\[.*?\])?)(?: - |$)", first)
            detail = (named.group(1) if named else first) if code else " ".join(m.tests)
            print(f"  [{i:2}/{len(mutants)}] {verdict:<8} {secs:5.1f} s  {m.name}  ({detail})")

    caught = sum(v == "caught" for _, v in results)
    print(f"\ncaught {caught}/{len(results)} mutants")
    survivors = [m for m, v in results if v != "caught"]
    for m in survivors:
        print(f"  survived: {m.name} ({m.file}: {m.old!r} -> {m.new!r})")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
