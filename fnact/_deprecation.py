"""Old import paths that keep working for one release, with a warning naming the new one."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["moved_names"]

REMOVED_IN = "0.4.0"
"""The release that drops the old paths."""


def moved_names(module: str, moved: Mapping[str, str]) -> Callable[[str], Any]:
    """Return a module ``__getattr__`` that serves each moved name from its new module.

    Every access warns with a `DeprecationWarning` naming the new import path.

    >>> getattr_ = moved_names("fnact", {"RunKey": "fnact.state"})
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     key = getattr_("RunKey")
    >>> key.__module__, str(caught[0].message).split(";")[0]
    ('fnact._state', 'fnact.RunKey moved: import it from fnact.state')
    """

    def __getattr__(name: str) -> Any:
        new = moved.get(name)
        if new is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        warnings.warn(
            f"{module}.{name} moved: import it from {new}; the old path goes in fnact {REMOVED_IN}",
            DeprecationWarning,
            stacklevel=3,  # the caller of the package's __getattr__
        )
        return getattr(importlib.import_module(new), name)

    return __getattr__
