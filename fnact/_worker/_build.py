"""Clients and workers wired for fnact: converter, interceptor, sandbox, signals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import temporalio.client
import temporalio.converter
import temporalio.envconfig
import temporalio.worker
from dependency_injector import containers
from typing_extensions import Unpack

from fnact._activity import Activity
from fnact._converter import data_converter, with_fnact_converter
from fnact._worker._devserver import DevServer
from fnact._worker._health import HealthProbes
from fnact._worker._options import ConnectOptions, WorkerOptions
from fnact._worker._plugin import PASSTHROUGH_MODULES, Plugin, check_container
from fnact.exceptions import WorkerConfigurationError

__all__ = [
    "PASSTHROUGH_MODULES",
    "Worker",
    "configured_address",
    "connect",
    "create_worker",
    "run_worker",
]

_log = logging.getLogger("fnact.worker")


def configured_address() -> str | None:
    """Return the frontend address Temporal's environment configuration names, if any.

    It comes from ``TEMPORAL_ADDRESS`` or the active profile of the config file
    (``TEMPORAL_CONFIG_FILE``, ``TEMPORAL_PROFILE``).
    """
    config = temporalio.envconfig.ClientConfig.load_client_connect_config()
    address = config.get("target_host")
    return str(address) if address else None


async def connect(
    address: str | None = None,
    *,
    namespace: str | None = None,
    use_environment: bool = True,
    **options: Unpack[ConnectOptions],
) -> temporalio.client.Client:
    """Connect a Temporal client that uses fnact's msgspec data converter.

    Settings come from Temporal's environment configuration (``TEMPORAL_ADDRESS``,
    ``TEMPORAL_NAMESPACE``, ``TEMPORAL_API_KEY``, ``TEMPORAL_TLS*`` and the
    ``TEMPORAL_CONFIG_FILE`` profile); ``address`` and ``namespace`` override them.

    To encrypt payloads, pass ``data_converter=dataclasses.replace(fnact.worker.data_converter,
    payload_codec=YourCodec())``; fnact then runs headers through the codec too
    (its run headers carry the run's start time, and its input when small).

    Args:
        address: ``host:port`` of the frontend; ``localhost:7233`` when nothing sets it.
        namespace: the namespace; ``default`` when nothing sets it.
        use_environment: read Temporal's environment configuration (off for the
            embedded dev server, which must not get a cluster's API key or TLS).
        options: more keyword arguments for `temporalio.client.Client.connect`.

    A ``data_converter`` of your own is kept: fnact's msgspec converter goes in
    front of its payload converter (which still handles the types msgspec does
    not, such as pydantic models), and its codec and failure converter stay.
    """
    config: dict[str, Any] = (
        dict(temporalio.envconfig.ClientConfig.load_client_connect_config())
        if use_environment
        else {}
    )
    if address:
        config["target_host"] = address
    if namespace:
        config["namespace"] = namespace
    config.setdefault("target_host", "localhost:7233")
    converter = with_fnact_converter(options.pop("data_converter", data_converter))
    config.update(options)
    config["data_converter"] = converter
    if converter.payload_codec is not None:
        config.setdefault("header_codec_behavior", temporalio.client.HeaderCodecBehavior.CODEC)
    return await temporalio.client.Client.connect(**config)


def create_worker(
    client: temporalio.client.Client,
    *,
    task_queue: str,
    container: containers.Container | None = None,
    activities: Sequence[Activity[Any, Any, Any] | Callable[..., Any]] = (),
    workflows: Sequence[type] = (),
    **options: Unpack[WorkerOptions],
) -> Worker:
    """Build a Temporal worker that runs fnact activities with ``container``.

    A convenience over `fnact.worker.Plugin`: the worker gets ``Plugin(container)``
    (unless the client already has one), so it uses fnact's msgspec converter
    in front of the client's own, its run-headers interceptor, a workflow sandbox
    that passes fnact, returns, msgspec and dependency-injector through, and fails
    a workflow (instead of retrying its task forever) when its input does not
    decode. Plain ``@temporalio.activity.defn`` functions may be listed beside
    fnact activities. Sync fnact activities (plain ``def``) run in the worker's
    ``activity_executor``, a ``ThreadPoolExecutor`` of ``max_concurrent_activities``
    threads that fnact provides when none is given.

    Args:
        client: a connected client; fnact's converter is put in front of its own.
        task_queue: the task queue to poll.
        container: the application's container (a `fnact.Container` subclass
            instance); a worker that runs only workflows needs none.
        activities: fnact activities and plain Temporal activities.
        workflows: workflow classes.
        options: more keyword arguments for `temporalio.worker.Worker`.

    Raises:
        WorkerConfigurationError: nothing to run, a name is used twice, the
            container is not a `fnact.Container`, or sync activities are listed and
            ``activity_executor`` is not a ``ThreadPoolExecutor``.
        DependencyError: an activity asks for a provider the container lacks.
    """
    if container is not None:
        check_container(container, "create_worker")
    plugins = list(options.pop("plugins", ()))
    existing = [p for p in client.config()["plugins"] if isinstance(p, Plugin)]
    existing += [p for p in plugins if isinstance(p, Plugin)]
    if existing:
        plugin = existing[0]
        if container is not None and plugin.container is not container:
            raise WorkerConfigurationError(
                "create_worker: the client (or plugins=) already has a fnact.worker.Plugin with "
                "another container; pass that container, or none"
            )
    else:
        plugins.append(Plugin(container))
    if not activities and not workflows:
        raise WorkerConfigurationError("create_worker: give at least one activity or workflow")
    options["plugins"] = plugins
    return Worker(
        client,
        task_queue=task_queue,
        activities=list(activities),
        workflows=list(workflows),
        **options,
    )


async def run_worker(
    *,
    task_queue: str,
    container: containers.Container,
    activities: Sequence[Activity[Any, Any, Any] | Callable[..., Any]] = (),
    workflows: Sequence[type] = (),
    client: temporalio.client.Client | None = None,
    on_ready: Callable[[temporalio.client.Client, DevServer | None], Any] | None = None,
    data_converter: temporalio.converter.DataConverter | None = None,
    health_port: int | None = None,
    **options: Unpack[WorkerOptions],
) -> None:
    """Run a worker until SIGINT or SIGTERM, then shut it down gracefully.

    On the signal, readiness goes false first (with ``health_port``), then the
    worker stops polling and gives running activities ``graceful_shutdown_timeout``
    to finish; those still running then see the shutdown as a cancellation, send
    their newest checkpoint, and end retryable, for another worker to resume.

    Without ``client``, it connects to the address Temporal's environment
    configuration names (``TEMPORAL_ADDRESS`` or a config-file profile), and
    otherwise starts the embedded dev server for as long as the worker runs.

    Args:
        task_queue: the task queue to poll.
        container: the application's container.
        activities: fnact activities and plain Temporal activities.
        workflows: workflow classes.
        client: a connected client; see above when ``None``.
        on_ready: called (and awaited if it returns an awaitable) once the worker polls.
        data_converter: the converter to connect with when ``client`` is ``None``
            (fnact's, with your payload codec, to encrypt payloads).
        health_port: serve `HealthProbes` (``/healthz``, ``/readyz``) on this port
            from the start; ``0`` picks a free one. ``None`` serves none.
        options: more keyword arguments for `temporalio.worker.Worker`;
            ``graceful_shutdown_timeout`` (how long running activities get to
            finish) is 10 s unless given.
    """
    grace = options.setdefault("graceful_shutdown_timeout", timedelta(seconds=10))
    async with contextlib.AsyncExitStack() as stack:
        probes: HealthProbes | None = None
        if health_port is not None:
            probes = await stack.enter_async_context(HealthProbes(health_port))
        server: DevServer | None = None
        converter: dict[str, Any] = {"data_converter": data_converter} if data_converter else {}
        if client is None:
            if configured_address():
                client = await connect(**converter)
            else:
                server = stack.enter_context(DevServer())
                client = await connect(
                    server.address, namespace=server.namespace, use_environment=False, **converter
                )
        worker = create_worker(
            client,
            task_queue=task_queue,
            container=container,
            activities=activities,
            workflows=workflows,
            **options,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
            stack.callback(loop.remove_signal_handler, sig)
        async with worker:
            if probes is not None:
                probes.ready = True
            if on_ready is not None:
                outcome = on_ready(client, server)
                if asyncio.iscoroutine(outcome):
                    await outcome
            await stop.wait()
            if probes is not None:
                probes.ready = False  # before the drain: no new traffic is routed here
            _log.info(
                "shutting down: polling stops; running activities get %s to finish",
                grace,
                extra={"fields": {"graceful_shutdown_timeout": grace.total_seconds()}},
            )


class Worker(temporalio.worker.Worker):
    """A Temporal worker with `fnact.worker.Plugin` applied; `create_worker` builds it.

    While it runs, the plugin drops idle run states periodically, releases a run's
    state when the run ends (at once when the run ran on this worker, within
    `Settings.run_end_check_interval` otherwise), and the last worker of a
    container to stop closes every state still held.
    """
