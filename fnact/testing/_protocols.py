"""Types of the pytest plugin's fixtures, importable without pytest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from dependency_injector import containers

__all__ = ["StartWorker"]


class StartWorker(Protocol):
    """The ``fnact_worker`` fixture: start a worker, get its task queue."""

    async def __call__(
        self,
        *,
        activities: Sequence[Any] = (),
        workflows: Sequence[type] = (),
        container: containers.Container | None = None,
        **options: Any,
    ) -> str:
        """Start a worker on a fresh task queue and return the queue's name."""
        ...
