"""Clients and workers wired for fnact: converter, interceptor, sandbox, signals."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import temporalio.client
import temporalio.converter
import temporalio.envconfig
import temporalio.worker
from dependency_injector import containers
from temporalio.api.common.v1 import Payload
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from fnact._activity import Activity
from fnact._adapter import build_adapter
from fnact._codec import data_converter
from fnact._devserver import DevServer
from fnact._interceptor import RunHeadersInterceptor
from fnact._paths import format_output_path, remove_run_parts
from fnact._runcontext import RunContextCache, RunFacts
from fnact._runend import RunEndWatcher
from fnact._state import RunKey, StateStore
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

PASSTHROUGH_MODULES = ("fnact", "returns", "msgspec", "dependency_injector")
"""Modules fnact's workers pass through Temporal's workflow sandbox, together."""


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
    **options: Any,
) -> temporalio.client.Client:
    """Connect a Temporal client that uses fnact's msgspec data converter.

    Settings come from Temporal's environment configuration (``TEMPORAL_ADDRESS``,
    ``TEMPORAL_NAMESPACE``, ``TEMPORAL_API_KEY``, ``TEMPORAL_TLS*`` and the
    ``TEMPORAL_CONFIG_FILE`` profile); ``address`` and ``namespace`` override them.

    To encrypt payloads, pass ``data_converter=dataclasses.replace(fnact.data_converter,
    payload_codec=YourCodec())``; fnact then runs headers through the codec too
    (its run headers carry the run's start time, and its input when small).

    Args:
        address: ``host:port`` of the frontend; ``localhost:7233`` when nothing sets it.
        namespace: the namespace; ``default`` when nothing sets it.
        use_environment: read Temporal's environment configuration (off for the
            embedded dev server, which must not get a cluster's API key or TLS).
        options: more keyword arguments for `temporalio.client.Client.connect`.

    Raises:
        WorkerConfigurationError: ``data_converter`` does not use fnact's payload converter.
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
    converter = options.pop("data_converter", data_converter)
    if converter.payload_converter_class is not data_converter.payload_converter_class:
        raise WorkerConfigurationError(
            "connect: data_converter must keep fnact's payload converter; build it with "
            "dataclasses.replace(fnact.data_converter, payload_codec=...)"
        )
    config.update(options)
    config["data_converter"] = converter
    if converter.payload_codec is not None:
        config.setdefault("header_codec_behavior", temporalio.client.HeaderCodecBehavior.CODEC)
    return await temporalio.client.Client.connect(**config)


def _with_fnact_converter(client: temporalio.client.Client) -> temporalio.client.Client:
    if client.data_converter.payload_converter_class is data_converter.payload_converter_class:
        return client
    config = client.config()
    config["data_converter"] = dataclasses.replace(
        data_converter, payload_codec=client.data_converter.payload_codec
    )
    return temporalio.client.Client(**config)


def create_worker(
    client: temporalio.client.Client,
    *,
    task_queue: str,
    container: containers.Container,
    activities: Sequence[Activity[Any, Any, Any] | Callable[..., Any]] = (),
    workflows: Sequence[type] = (),
    **options: Any,
) -> Worker:
    """Build a Temporal worker that runs fnact activities with ``container``.

    The worker uses fnact's msgspec converter, its run-headers interceptor, a
    workflow sandbox that passes fnact, returns, msgspec and dependency-injector
    through, and fails a workflow (instead of retrying its task forever) when its
    input does not decode. Plain ``@temporalio.activity.defn`` functions may be
    listed beside fnact activities.

    Args:
        client: a connected client; fnact's converter is applied if it lacks it.
        task_queue: the task queue to poll.
        container: the application's container (a `fnact.Container` subclass instance).
        activities: fnact activities and plain Temporal activities.
        workflows: workflow classes.
        options: more keyword arguments for `temporalio.worker.Worker`.

    Raises:
        WorkerConfigurationError: nothing to run, a name is used twice, or the
            container is not a `fnact.Container`.
        DependencyError: an activity asks for a provider the container lacks.
    """
    from fnact._container import Container

    parent = getattr(container, "declarative_parent", None)
    if not (isinstance(parent, type) and issubclass(parent, Container)):
        raise WorkerConfigurationError(
            f"create_worker: container must be an instance of a fnact.Container subclass, "
            f"not {type(container).__qualname__}"
        )
    if not activities and not workflows:
        raise WorkerConfigurationError("create_worker: give at least one activity or workflow")
    built: list[Callable[..., Any]] = []
    names: dict[str, object] = {}
    for item in activities:
        if isinstance(item, Activity):
            name = item.definition.name
            built.append(build_adapter(item.definition, container))
        else:
            defn = getattr(item, "__temporal_activity_definition", None)
            if defn is None:
                raise WorkerConfigurationError(
                    f"create_worker: {item!r} is neither an fnact activity nor a "
                    "@temporalio.activity.defn function"
                )
            name = defn.name
            built.append(item)
        if name in names:
            raise WorkerConfigurationError(
                f"create_worker: two activities are named {name!r}: {names[name]!r} and {item!r}"
            )
        names[name] = item
    store_provider: Any = container.state_store
    settings: Any = container.settings()
    cache: RunContextCache = container.run_context()
    releaser = _RunReleaser(store_provider, cache, settings.output_root)
    run_headers = RunHeadersInterceptor(
        releaser,
        on_run_start=releaser.started,
        inline_args_limit=settings.inline_args_limit,
        cache=cache,
    )
    interceptors = [run_headers, *options.pop("interceptors", ())]
    failure_types = [msgspec.ValidationError, *options.pop("workflow_failure_exception_types", ())]
    # Temporal sends heartbeats at most every 0.8 x heartbeat timeout, capped by
    # these; a 1 s cap bounds cancellation latency and checkpoint loss to about 1 s.
    options.setdefault("max_heartbeat_throttle_interval", timedelta(seconds=1))
    options.setdefault("default_heartbeat_throttle_interval", timedelta(seconds=1))
    options.setdefault(
        "workflow_runner",
        SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
        ),
    )
    return Worker(
        _with_fnact_converter(client),
        store_provider=store_provider,
        cache=cache,
        end_check_interval=settings.run_end_check_interval,
        output_root=settings.output_root,
        sweep_interval=min(max(settings.state_idle_expiry / 2, timedelta(seconds=1)), _MAX_SWEEP),
        releaser=releaser,
        task_queue=task_queue,
        activities=built,
        workflows=list(workflows),
        interceptors=interceptors,
        workflow_failure_exception_types=failure_types,
        **options,
    )


async def run_worker(
    *,
    task_queue: str,
    container: containers.Container,
    activities: Sequence[Activity[Any, Any, Any] | Callable[..., Any]] = (),
    workflows: Sequence[type] = (),
    client: temporalio.client.Client | None = None,
    graceful_shutdown_timeout: timedelta = timedelta(seconds=10),
    on_ready: Callable[[temporalio.client.Client, DevServer | None], Any] | None = None,
    data_converter: temporalio.converter.DataConverter | None = None,
    **options: Any,
) -> None:
    """Run a worker until SIGINT or SIGTERM, then shut it down gracefully.

    Without ``client``, it connects to the address Temporal's environment
    configuration names (``TEMPORAL_ADDRESS`` or a config-file profile), and
    otherwise starts the embedded dev server for as long as the worker runs.

    Args:
        task_queue: the task queue to poll.
        container: the application's container.
        activities: fnact activities and plain Temporal activities.
        workflows: workflow classes.
        client: a connected client; see above when ``None``.
        graceful_shutdown_timeout: how long running activities get to finish.
        on_ready: called (and awaited if it returns an awaitable) once the worker polls.
        data_converter: the converter to connect with when ``client`` is ``None``
            (fnact's, with your payload codec, to encrypt payloads).
        options: more keyword arguments for `temporalio.worker.Worker`.
    """
    async with contextlib.AsyncExitStack() as stack:
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
            graceful_shutdown_timeout=graceful_shutdown_timeout,
            **options,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
            stack.callback(loop.remove_signal_handler, sig)
        async with worker:
            if on_ready is not None:
                outcome = on_ready(client, server)
                if asyncio.iscoroutine(outcome):
                    await outcome
            await stop.wait()


_MAX_SWEEP = timedelta(seconds=60)


class _RunReleaser:
    """Release a run's state in this process when the run ends on this worker.

    Called from the workflow's thread; hands the release, and the removal of the
    temporary files killed attempts left in the run's output folder, to the
    worker's loop.
    """

    def __init__(
        self, store_provider: Callable[[], StateStore], cache: RunContextCache, output_root: Path
    ) -> None:
        self._store_provider = store_provider
        self._cache = cache
        self._output_root = output_root
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def __call__(self, workflow_id: str, run_id: str, started: datetime) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._release, RunKey(workflow_id, run_id), started)

    def started(self, workflow_id: str, run_id: str, started: datetime, payload: Payload) -> None:
        if self._loop is not None and not self._loop.is_closed():
            facts = RunFacts(started, payload)
            self._loop.call_soon_threadsafe(
                self._cache.hand_off, RunKey(workflow_id, run_id), facts
            )

    def _release(self, key: RunKey, started: datetime) -> None:
        self._cache.forget(key)
        folder = self._output_root / format_output_path(started, key.workflow_id, key.run_id)
        for task in (
            asyncio.ensure_future(self._store_provider().release(key)),
            asyncio.ensure_future(asyncio.to_thread(remove_run_parts, folder)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class Worker(temporalio.worker.Worker):
    """A Temporal worker that also looks after fnact's run states.

    While it runs it drops idle run states periodically, releases a run's state
    when the run ends (at once when the run ran on this worker, within
    `Settings.run_end_check_interval` otherwise), and at shutdown closes every
    state it still holds. `create_worker` builds it.
    """

    def __init__(
        self,
        client: temporalio.client.Client,
        *,
        store_provider: Callable[[], StateStore],
        cache: RunContextCache,
        end_check_interval: timedelta,
        output_root: Path,
        sweep_interval: timedelta,
        releaser: _RunReleaser,
        **options: Any,
    ) -> None:
        super().__init__(client, **options)
        self._fnact_store = store_provider
        self._fnact_watcher = RunEndWatcher(
            client, cache, store_provider, end_check_interval, output_root=output_root
        )
        self._fnact_sweep = sweep_interval.total_seconds()
        self._fnact_releaser = releaser

    async def run(self) -> None:
        """Run the worker (see `temporalio.worker.Worker.run`) and fnact's housekeeping."""
        self._fnact_releaser.bind(asyncio.get_running_loop())
        sweeper = asyncio.create_task(self._sweep_forever())
        watcher = asyncio.create_task(self._fnact_watcher.run())
        try:
            await super().run()
        finally:
            sweeper.cancel()
            watcher.cancel()
            await self._fnact_releaser.drain()
            await self._fnact_store().aclose()

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self._fnact_sweep)
            try:
                await self._fnact_store().sweep()
            except Exception:
                _log.exception("sweeping idle run states failed")
