"""Importing the ``MODULE:ATTR`` a command names from the user's project."""

from __future__ import annotations

import importlib
import os
import sys

from fnact._cli.errors import CommandError

__all__ = ["load_target"]


def load_target(target: str) -> object:
    """Import ``module:attr`` from the project (the current directory) or Python's path.

    Raises:
        CommandError: ``target`` is not ``MODULE:ATTR``, or names no module or attribute.
    """
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise CommandError(f"expected MODULE:ATTR (like myapp.worker:spec), got {target!r}", code=2)
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)  # as `python -m` does, so the project's packages import
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(f"{missing}."):
            raise CommandError(
                f"cannot import {module_name!r}: no module named {missing!r} "
                f"(looked in {cwd} and on Python's path)",
                code=2,
            ) from None
        raise  # the module exists but fails to import: its traceback is what helps
    found: object = module
    for part in attr.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise CommandError(
                f"module {module_name!r} has no attribute {attr!r}", code=2
            ) from None
    return found
