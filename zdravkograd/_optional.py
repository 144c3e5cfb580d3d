"""Import optional dependencies with an error message that names the fix."""

from __future__ import annotations

import importlib
from types import ModuleType


def require_extra(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` or raise ImportError saying which extra installs it.

    >>> np = require_extra("numpy", "all", "this")
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{feature} needs the package {module!r}, which is not installed. "
            f'Install it with: pip install "zdravkograd[{extra}]"'
        ) from exc
