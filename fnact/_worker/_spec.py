"""What a worker runs, named once so ``fnact worker module:attr`` can start it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import temporalio.client
import temporalio.converter
import temporalio.runtime
import temporalio.service
from dependency_injector import containers

from fnact._activity import Activity
from fnact._worker._options import WorkerOptions

__all__ = ["WorkerSpec"]


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerSpec:
    """A worker's task queue, container, activities and workflows, for ``fnact worker``.

    Expose one from your code, or a function that builds one (so the container
    is built when the worker starts, not when the module is imported), and run
    it with ``fnact worker package.module:attr``. Besides what the worker runs,
    it carries the worker's Temporal options and the client's: its runtime (for
    metrics and tracing), plugins, interceptors, TLS and API key.

    Example:
        ```python
        def spec() -> fnact.worker.WorkerSpec:
            return fnact.worker.WorkerSpec(
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
    worker_options: WorkerOptions = field(default_factory=lambda: WorkerOptions())
    """More keyword arguments for `temporalio.worker.Worker`, type-checked."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """More keyword arguments for `temporalio.worker.Worker`, not type-checked.

    Prefer `worker_options`; where both name an option, `worker_options` wins.
    """
    data_converter: temporalio.converter.DataConverter | None = None
    """The converter to connect with: fnact's, with a payload codec to encrypt payloads."""
    runtime: temporalio.runtime.Runtime | None = None
    """The client's Temporal runtime, with its telemetry (Prometheus or OpenTelemetry
    metrics, logging); Temporal's default runtime when ``None``."""
    plugins: Sequence[temporalio.client.Plugin] = ()
    """Client plugins; those that are worker plugins too apply to the worker."""
    client_interceptors: Sequence[temporalio.client.Interceptor] = ()
    """Client interceptors; those that are worker interceptors too apply to the worker."""
    tls: bool | temporalio.service.TLSConfig | None = None
    """TLS to the cluster: on, off, or with certificates; from the environment when ``None``."""
    health_port: int | None = None
    """Serve ``/healthz`` and ``/readyz`` on this port (`fnact.worker.HealthProbes`); ``fnact
    worker --health-port`` overrides it. ``None`` serves none."""
    api_key: str | None = None
    """An API key for the cluster (TLS is then on unless `tls` is ``False``); from the
    environment when ``None``."""
