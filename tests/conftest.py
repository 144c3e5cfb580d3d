"""Shared test helpers.

``require(name)`` imports an optional dependency. Locally a missing one skips
the tests that need it; in CI (``CI=true``) it *fails* them, so that CI can
never pass by silently skipping the comparisons against PyTorch, HIPS autograd
or Graphviz.
"""

from __future__ import annotations

import importlib
import os
import shutil
from types import ModuleType

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(module: str) -> ModuleType:
    """Import ``module`` or skip (locally) / fail (in CI) the calling test module."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if IN_CI:
            pytest.fail(
                f"CI=true but the test dependency {module!r} is missing: {exc}", pytrace=False
            )
        pytest.skip(f"{module} not installed", allow_module_level=True)
        raise  # unreachable


def require_program(name: str) -> str:
    """The path of a program on PATH, or skip (locally) / fail (in CI)."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"CI=true but the program {name!r} is not on PATH", pytrace=False)
        pytest.skip(f"{name} not installed", allow_module_level=True)
    assert path is not None
    return path


try:  # hypothesis: reproducible in CI, no flaky deadlines on a noisy 2-core machine
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
    settings.register_profile("dev", deadline=None)
    settings.load_profile("ci" if IN_CI else "dev")
except ImportError:  # pragma: no cover
    pass
