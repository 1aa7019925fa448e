"""fnact as a Temporal plugin: bring fnact activities into an existing client and worker.

``Client.connect(plugins=[fnact.worker.Plugin(container)])`` puts fnact's msgspec
converter in front of the client's own converter; every worker built on that
client (or given the plugin itself) then runs fnact activities through their
adapters, adds fnact's run-headers interceptor, passes fnact, returns, msgspec and
dependency-injector through the workflow sandbox, fails a workflow whose input does
not decode, and looks after run states while it runs. Whatever the application
set itself (interceptors, runner, failure types, converter) is kept.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec
import temporalio.client
import temporalio.converter
import temporalio.service
import temporalio.worker
from dependency_injector import containers
from temporalio.api.common.v1 import Payload
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from fnact._activity import Activity
from fnact._adapter import build_adapter
from fnact._container import Container
from fnact._converter import is_fnact_converter, with_fnact_converter
from fnact._metrics import LoopMetrics, StateMetrics, WorkerMetrics, meter_of
from fnact._offload import offload_threshold
from fnact._outputs._sweep import OutputSweeper
from fnact._run_facts import RunContextCache, RunFacts
from fnact._state import RunKey, StateStore
from fnact._worker._interceptor import RunHeadersInterceptor
from fnact._worker._run_end import RunEndWatcher
from fnact._worker._watchdog import LoopWatchdog
from fnact.exceptions import WorkerConfigurationError

__all__ = ["PASSTHROUGH_MODULES", "Plugin"]

_log = logging.getLogger("fnact.worker")

PASSTHROUGH_MODULES = ("fnact", "returns", "msgspec", "dependency_injector")
"""Modules fnact's workers pass through Temporal's workflow sandbox, together."""

# Temporal's own defaults; a worker left at them gets fnact's 1 s caps instead.
_SDK_MAX_THROTTLE = timedelta(seconds=60)
_SDK_DEFAULT_THROTTLE = timedelta(seconds=30)
_FNACT_THROTTLE = timedelta(seconds=1)
_MAX_SWEEP = timedelta(seconds=60)
_STATE_METRICS_INTERVAL = timedelta(seconds=1)
_SDK_ACTIVITY_SLOTS = 100  # Temporal's max_concurrent_activities when none is set
_INTERPRETER_POOL: type | None = getattr(concurrent.futures, "InterpreterPoolExecutor", None)


def check_container(container: object, where: str) -> containers.Container:
    """Return ``container`` if it is an instance of a `fnact.Container` subclass.

    Raises:
        WorkerConfigurationError: it is not, naming its type.
    """
    parent = getattr(container, "declarative_parent", None)
    if not (isinstance(parent, type) and issubclass(parent, Container)):
        raise WorkerConfigurationError(
            f"{where}: container must be an instance of a fnact.Container subclass, "
            f"not {type(container).__qualname__}"
        )
    checked: containers.Container = container  # type: ignore[assignment]
    return checked


_running_workers: dict[int, int] = {}
"""Workers running now, by the id of their container's `RunContextCache`: the first one
publishes the store's metrics and the last one to stop closes the store."""


class Plugin(temporalio.client.Plugin, temporalio.worker.Plugin):
    """The Temporal client and worker plugin that brings fnact into an existing app.

    Give it to ``Client.connect(plugins=[...])`` (it then applies to every worker
    built on that client) or to ``Worker(plugins=[...])``. ``container`` resolves the
    dependencies of the fnact activities in the worker's activity list; a worker
    that runs only workflows needs none.

    Args:
        container: the application's container (a `fnact.Container` subclass instance).

    Raises:
        WorkerConfigurationError: ``container`` is not a `fnact.Container`.
    """

    def __init__(self, container: containers.Container | None = None) -> None:
        self._explicit = container is not None
        self._own_executors: list[concurrent.futures.ThreadPoolExecutor] = []
        self.container: containers.Container = (
            check_container(container, "fnact.worker.Plugin")
            if container is not None
            else Container()
        )
        c: Any = self.container
        self._store_provider: Callable[[], StateStore] = c.state_store
        self._cache: RunContextCache = c.run_context()
        self._settings: Any = c.settings()
        store = getattr(c, "output_store", None)
        self._outputs = OutputSweeper(
            self._settings.output_root,
            None if store is None else store(),
            leftover_ttl=self._settings.leftover_ttl,
        )
        self._events = _RunEvents(self._store_provider, self._cache, self._outputs)

    def name(self) -> str:
        """Return the plugin's name."""
        return "fnact.worker.Plugin"

    # --- client ------------------------------------------------------------------------------

    def configure_client(
        self, config: temporalio.client.ClientConfig
    ) -> temporalio.client.ClientConfig:
        """Put fnact's converter in front of the client's own (its codec kept)."""
        config["data_converter"] = with_fnact_converter(config.get("data_converter"))
        return config

    async def connect_service_client(
        self,
        config: temporalio.service.ConnectConfig,
        next: Callable[
            [temporalio.service.ConnectConfig], Awaitable[temporalio.service.ServiceClient]
        ],
    ) -> temporalio.service.ServiceClient:
        """Connect as the next plugin (or Temporal) does."""
        return await next(config)

    # --- worker ------------------------------------------------------------------------------

    def configure_worker(
        self, config: temporalio.worker.WorkerConfig
    ) -> temporalio.worker.WorkerConfig:
        """Add what fnact needs to the worker's configuration, keeping the app's own settings.

        A worker with sync fnact activities (plain ``def``) and no ``activity_executor``
        gets a ``ThreadPoolExecutor`` of ``max_concurrent_activities`` threads (100,
        Temporal's default, when unset), shut down when the worker stops.

        Raises:
            WorkerConfigurationError: an activity is neither fnact's nor Temporal's, two
                share a name, fnact activities are listed but no container was given,
                or sync fnact activities are listed and the worker's ``activity_executor``
                is not a ``ThreadPoolExecutor``.
            DependencyError: an activity asks for a provider the container lacks.
        """
        client = config.get("client")
        if client is not None and not is_fnact_converter(client.data_converter):
            # Temporal reads the worker's converter from this client.
            options = client.config()
            options["data_converter"] = with_fnact_converter(client.data_converter)
            config["client"] = temporalio.client.Client(**options)
        metrics = WorkerMetrics(
            meter_of(config.get("client")),
            client.namespace if client is not None else "",
            config.get("task_queue") or "",
        )
        threshold = None if client is None else offload_threshold(config["client"].data_converter)
        activities = config.get("activities") or ()
        executor = self._sync_executor(config, activities)
        config["activities"] = self._adapt(activities, metrics, threshold, executor)
        check_workflows(config.get("workflows") or ())
        self._add_workflow_side(config, client)
        # Temporal sends heartbeats at most every 0.8 x heartbeat timeout, capped by these;
        # 1 s bounds cancellation latency and checkpoint loss. A value the app set stays.
        if config.get("max_heartbeat_throttle_interval", _SDK_MAX_THROTTLE) == _SDK_MAX_THROTTLE:
            config["max_heartbeat_throttle_interval"] = _FNACT_THROTTLE
        if (
            config.get("default_heartbeat_throttle_interval", _SDK_DEFAULT_THROTTLE)
            == _SDK_DEFAULT_THROTTLE
        ):
            config["default_heartbeat_throttle_interval"] = _FNACT_THROTTLE
        return config

    async def run_worker(
        self,
        worker: temporalio.worker.Worker,
        next: Callable[[temporalio.worker.Worker], Awaitable[None]],
    ) -> None:
        """Run the worker, and fnact's housekeeping beside it.

        Idle run states are dropped periodically; a run's state is released when
        the run ends (at once when it ran on this worker, within
        `Settings.run_end_check_interval` otherwise); the last worker of the
        container to stop closes every state still held. A `LoopWatchdog` warns
        when the event loop stays blocked past `Settings.blocked_loop_threshold`.
        """
        self._events.bind(asyncio.get_running_loop())
        watcher = RunEndWatcher(
            worker.client,
            self._cache,
            self._store_provider,
            self._settings.run_end_check_interval,
            outputs=self._outputs,
        )
        tasks = [
            asyncio.create_task(self._sweep_forever()),
            asyncio.create_task(watcher.run()),
            asyncio.create_task(self._outputs.run(self._settings.output_sweep_interval)),
        ]
        meter = meter_of(worker.client).with_additional_attributes(
            {"namespace": worker.client.namespace}
        )
        first = _running_workers.get(id(self._cache), 0) == 0
        if first:  # one publisher per store
            publisher = StateMetrics(meter, self._store_provider())
            tasks.append(asyncio.create_task(publisher.run(_STATE_METRICS_INTERVAL)))
        threshold = self._settings.blocked_loop_threshold
        watchdog = (
            None
            if threshold is None
            else LoopWatchdog(threshold.total_seconds(), LoopMetrics(meter))
        )
        if watchdog is not None:
            watchdog.start()
        _running_workers[id(self._cache)] = _running_workers.get(id(self._cache), 0) + 1
        try:
            await next(worker)
        finally:
            executor = worker.config(active_config=True).get("activity_executor")
            if executor in self._own_executors:
                assert isinstance(executor, concurrent.futures.ThreadPoolExecutor)
                self._own_executors.remove(executor)
                executor.shutdown(wait=False)  # the worker's activities have ended
            if watchdog is not None:
                watchdog.stop()
            for task in tasks:
                task.cancel()
            await self._events.drain()
            left = _running_workers.pop(id(self._cache)) - 1
            if left:
                _running_workers[id(self._cache)] = left
            else:
                await self._store_provider().aclose()

    # --- replayer ----------------------------------------------------------------------------

    def configure_replayer(
        self, config: temporalio.worker.ReplayerConfig
    ) -> temporalio.worker.ReplayerConfig:
        """Replay with fnact's converter, interceptor, sandbox pass-through and failure types."""
        config["data_converter"] = with_fnact_converter(config.get("data_converter"))
        self._add_workflow_side(config, None)
        return config

    @contextlib.asynccontextmanager
    async def run_replayer(
        self,
        replayer: temporalio.worker.Replayer,
        histories: AsyncIterator[temporalio.client.WorkflowHistory],
        next: Callable[
            [temporalio.worker.Replayer, AsyncIterator[temporalio.client.WorkflowHistory]],
            contextlib.AbstractAsyncContextManager[
                AsyncIterator[temporalio.worker.WorkflowReplayResult]
            ],
        ],
    ) -> AsyncIterator[AsyncIterator[temporalio.worker.WorkflowReplayResult]]:
        """Replay as the next plugin (or Temporal) does."""
        async with next(replayer, histories) as results:
            yield results

    # --- helpers -----------------------------------------------------------------------------

    def _add_workflow_side(self, config: Any, client: temporalio.client.Client | None) -> None:
        """Add the run-headers interceptor, the failure type and the sandbox pass-through."""
        interceptors = list(config.get("interceptors") or ())
        if not any(isinstance(i, RunHeadersInterceptor) for i in interceptors):
            interceptors.insert(0, self._interceptor(client))
        config["interceptors"] = interceptors
        failure_types = list(config.get("workflow_failure_exception_types") or ())
        if msgspec.ValidationError not in failure_types:
            failure_types.append(msgspec.ValidationError)
        config["workflow_failure_exception_types"] = failure_types
        config["workflow_runner"] = _with_passthrough(config.get("workflow_runner"))

    def _interceptor(self, client: temporalio.client.Client | None) -> RunHeadersInterceptor:
        limit = self._settings.inline_args_limit
        if client is not None:
            options = client.config()
            codec = client.data_converter.payload_codec
            if codec is not None and options.get("header_codec_behavior") in (
                None,
                temporalio.client.HeaderCodecBehavior.NO_CODEC,
            ):
                limit = 0  # headers travel in clear: never copy the input into them
        return RunHeadersInterceptor(
            self._events, on_run_start=self._events.started, inline_args_limit=limit,
            cache=self._cache,
            offload_threshold=None if client is None else offload_threshold(client.data_converter),
        )  # fmt: skip

    def _sync_executor(
        self, config: temporalio.worker.WorkerConfig, activities: Sequence[Callable[..., Any]]
    ) -> concurrent.futures.Executor | None:
        """Return the executor the worker's sync fnact activities run in, if it has any.

        Raises:
            WorkerConfigurationError: the worker's ``activity_executor`` is not a
                ``ThreadPoolExecutor``; the message names the sync activities.
        """
        sync = [
            item.definition.qualname
            for item in activities
            if isinstance(item, Activity) and not item.definition.is_async
        ]
        if not sync:
            return None
        executor = config.get("activity_executor")
        if executor is None:
            own = concurrent.futures.ThreadPoolExecutor(
                max_workers=_activity_slots(config), thread_name_prefix="fnact-activity"
            )
            self._own_executors.append(own)
            config["activity_executor"] = own
            return own
        if not isinstance(executor, concurrent.futures.ThreadPoolExecutor) or (
            _INTERPRETER_POOL is not None and isinstance(executor, _INTERPRETER_POOL)
        ):
            raise WorkerConfigurationError(
                f"fnact.worker.Plugin: sync activit{'y' if len(sync) == 1 else 'ies'} "
                f"{', '.join(sync)} run{'s' if len(sync) == 1 else ''} in the worker's "
                f"activity_executor, a {type(executor).__qualname__}: it must be a "
                "concurrent.futures.ThreadPoolExecutor (the function shares the worker's "
                "context, heartbeats and cancellation, which do not cross processes or "
                "interpreters); give one with at least max_concurrent_activities threads, "
                "or none for fnact's own"
            )
        return executor

    def _adapt(
        self,
        activities: Sequence[Callable[..., Any]],
        metrics: WorkerMetrics,
        offload_threshold: int | None,
        executor: concurrent.futures.Executor | None = None,
    ) -> list[Callable[..., Any]]:
        built: list[Callable[..., Any]] = []
        names: dict[str, object] = {}
        for item in activities:
            if isinstance(item, Activity):
                if not self._explicit:
                    raise WorkerConfigurationError(
                        f"fnact.worker.Plugin: fnact activity {item.definition.qualname} needs a "
                        "container: give it as fnact.worker.Plugin(container)"
                    )
                name = item.definition.name
                built.append(
                    build_adapter(
                        item.definition,
                        self.container,
                        metrics,
                        offload_threshold=offload_threshold,
                        executor=executor,
                    )
                )
            else:
                defn = getattr(item, "__temporal_activity_definition", None)
                if defn is None:
                    raise WorkerConfigurationError(
                        f"fnact.worker.Plugin: {item!r} is neither an fnact activity nor a "
                        "@temporalio.activity.defn function"
                    )
                name = defn.name
                built.append(item)
            if name in names:
                raise WorkerConfigurationError(
                    f"fnact.worker.Plugin: two activities are named {name!r}: "
                    f"{names[name]!r} and {item!r}"
                )
            names[name] = item
        return built

    async def _sweep_forever(self) -> None:
        interval = min(
            max(self._settings.state_idle_expiry / 2, timedelta(seconds=1)), _MAX_SWEEP
        ).total_seconds()
        while True:
            await asyncio.sleep(interval)
            try:
                await self._store_provider().sweep()
            except Exception:
                _log.exception("sweeping idle run states failed")


def _activity_slots(config: temporalio.worker.WorkerConfig) -> int:
    """Return how many activities the worker runs at once: the size of fnact's executor."""
    slots = config.get("max_concurrent_activities")
    if slots:
        return slots
    tuner = config.get("tuner")
    tuned = getattr(tuner, "_get_activities_max", None)
    found = tuned() if callable(tuned) else None
    return found if isinstance(found, int) and found > 0 else _SDK_ACTIVITY_SLOTS


def check_workflows(workflows: Sequence[type]) -> None:
    """Refuse a workflow that is not a class decorated with ``@workflow.defn``.

    Raises:
        WorkerConfigurationError: naming it.
    """
    for item in workflows:
        # Temporal's decorator stores the definition on the class itself, not on a base.
        defined = isinstance(item, type) and "__temporal_workflow_definition" in vars(item)
        if not defined:
            name = getattr(item, "__qualname__", None) or repr(item)
            raise WorkerConfigurationError(
                f"fnact.worker.Plugin: workflow {name} is not a class decorated with @workflow.defn"
            )


def _with_passthrough(runner: temporalio.worker.WorkflowRunner | None) -> Any:
    """Return the app's runner with fnact's modules passed through its sandbox."""
    if runner is None:
        restrictions = SandboxRestrictions.default
        return SandboxedWorkflowRunner(
            restrictions=restrictions.with_passthrough_modules(*PASSTHROUGH_MODULES)
        )
    if isinstance(runner, SandboxedWorkflowRunner):
        restrictions = runner.restrictions.with_passthrough_modules(*PASSTHROUGH_MODULES)
        return dataclasses.replace(runner, restrictions=restrictions)
    return runner  # an unsandboxed runner imports everything once already


class _RunEvents:
    """What the workflow side reports about runs on this worker, handed to the worker's loop.

    A run's start hands its input to this process's activities; a run's end
    releases its state and removes the temporary files killed attempts left in
    its output folder. Both are called from the workflow's thread.
    """

    def __init__(
        self,
        store_provider: Callable[[], StateStore],
        cache: RunContextCache,
        outputs: OutputSweeper,
    ) -> None:
        self._store_provider = store_provider
        self._cache = cache
        self._outputs = outputs
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Future[Any]] = set()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def started(self, workflow_id: str, run_id: str, started: datetime, payload: Payload) -> None:
        if self._loop is not None and not self._loop.is_closed():
            facts = RunFacts(started, payload)
            self._loop.call_soon_threadsafe(
                self._cache.hand_off, RunKey(workflow_id, run_id), facts
            )

    def __call__(self, workflow_id: str, run_id: str, started: datetime) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._release, RunKey(workflow_id, run_id), started)

    def _release(self, key: RunKey, started: datetime) -> None:
        self._cache.forget(key)
        for task in (
            asyncio.ensure_future(self._store_provider().release(key)),
            asyncio.ensure_future(self._outputs.run_ended(started, key.workflow_id, key.run_id)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
