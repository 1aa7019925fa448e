"""What a worker runs, named once so ``fnact worker module:attr`` can start it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import temporalio.converter
from dependency_injector import containers

from fnact._activity import Activity

__all__ = ["WorkerSpec"]


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerSpec:
    """A worker's task queue, container, activities and workflows, for ``fnact worker``.

    Expose one from your code, or a function that builds one (so the container
    is built when the worker starts, not when the module is imported), and run
    it with ``fnact worker package.module:attr``.

    Example:
        ```python
        def spec() -> fnact.WorkerSpec:
            return fnact.WorkerSpec(
                task_queue="reports",
                container=Container(),
                activities=[list_tables, write_report],
                workflows=[Report],
            )
        ```
    """

    task_queue: str
    """The task queue to poll."""
    container: containers.Container
    """The application's container (a `fnact.Container` subclass instance)."""
    activities: Sequence[Activity[Any, Any, Any] | Callable[..., Any]] = ()
    """fnact activities and plain Temporal activities."""
    workflows: Sequence[type] = ()
    """Workflow classes."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """More keyword arguments for `temporalio.worker.Worker`."""
    data_converter: temporalio.converter.DataConverter | None = None
    """The converter to connect with: fnact's, with a payload codec to encrypt payloads."""
