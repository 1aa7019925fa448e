"""Run one fnact activity inside a Temporal worker.

The worker builds one adapter per activity, once. The adapter is what Temporal
calls: it decodes the input strictly, resolves the function's dependencies from
the container, builds the context, awaits the function and turns its `Result`
into Temporal's outcome, releasing the run's state when the run can no longer
succeed. `_Steps` holds those steps for one activity; `build_adapter` runs them
in that order.

Why one module of about 700 lines: it is one pipeline, read top to bottom in the
order an attempt runs (as temporalio's own ``_execute_activity``); its steps share
the per-activity state `_Steps` holds, and the watchdog's contract sits beside the
step it names.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

import msgspec
import temporalio.activity
from dependency_injector import containers, providers
from returns.result import Failure, Success
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

from fnact._activity import ActivityDefinition, Dependency
from fnact._attempt import cancellation_reason, current_attempt, set_attempt
from fnact._concurrency import ConcurrencyLimit
from fnact._context import ActivityContext
from fnact._converter import (
    NonFiniteFloatError,
    data_converter,
    decoder_for,
    refers_to_external_storage,
    to_sized_payload,
    validation_message,
)
from fnact._headers import ARGS_HEADER, decode_start
from fnact._heartbeat import (
    Heartbeater,
    decode_checkpoint,
    run_with_heartbeats,
    send_interval,
)
from fnact._metrics import ActivityMetrics, WorkerMetrics
from fnact._offload import checkpoint_limit, will_offload
from fnact._outcome import (
    UNENCODABLE_FAILURE,
    error_from_failure,
    external_storage_not_configured,
    invalid_activity_input,
    invalid_activity_result,
    payload_too_large,
    releases_state,
    state_error,
    unencodable,
    unencodable_failure,
    worker_shutdown,
)
from fnact._run_facts import is_standalone, run_ids, run_key
from fnact._state import RunKey, StateStore
from fnact._threads import run_in_thread
from fnact.exceptions import DependencyError, StateError, WorkerConfigurationError

__all__ = ["FNACT_ADAPTER", "build_adapter", "resolve_provider"]

FNACT_ADAPTER = "__fnact_adapter__"
"""Attribute set on fnact's activity adapters, which learn their run's facts themselves."""

_JSON = b"json/plain"
_NO_STORE: providers.Provider[Any] = providers.Object(None)
_NONE_TYPES: tuple[Any, ...] = (None, type(None))
AdapterFn = Callable[[RawValue], Awaitable[Any]]


def resolve_provider(
    container: containers.Container, dependency: Dependency, where: str
) -> providers.Provider[Any]:
    """Find the provider of ``container`` that ``dependency``'s marker points at.

    Raises:
        DependencyError: the container has no such provider.
    """
    target = dependency.target
    if isinstance(target, str):
        node: Any = container
        for part in target.split("."):
            node = getattr(node, part, None)
        if isinstance(node, providers.Provider):
            resolved: providers.Provider[Any] = node
            return resolved
    else:
        parent: Any = getattr(container, "declarative_parent", None) or type(container)
        for name, provider in parent.providers.items():
            if provider is target:
                found: providers.Provider[Any] = getattr(container, name)
                return found
        for provider in container.providers.values():
            if provider is target:
                own: providers.Provider[Any] = provider
                return own
        path = _find_provider(target, parent.providers, "", set())  # in a nested container
        if path is not None:
            node = container
            for part in path.split(".")[1:]:
                node = getattr(node, part)
            nested: providers.Provider[Any] = node
            return nested
    wanted = repr(target) if isinstance(target, str) else provider_name(target, container)
    raise DependencyError(
        f"{where}: parameter {dependency.name!r} asks for {wanted}, which "
        f"{container_name(container)} does not provide"
    )


def container_name(container: object) -> str:
    """Name ``container`` by its declarative class (``AppContainer``), else by its type."""
    parent = getattr(container, "declarative_parent", None)
    return _class_name(parent if isinstance(parent, type) else type(container))


def _class_name(cls: type) -> str:
    return cls.__qualname__.rpartition("<locals>.")[2]  # a class defined in a function too


def provider_name(provider: object, container: object = None) -> str:
    """Name ``provider`` as ``Container.attribute`` when a declarative container holds it.

    The class of ``container`` (and ``container`` itself) is searched first, then
    every declarative container class; a provider of a nested container gets a
    dotted name (``AppContainer.storage.bucket``). Any other provider is named by
    its repr.
    """
    tables: list[tuple[str, Any]] = []
    parent = getattr(container, "declarative_parent", None)
    if isinstance(parent, type) and issubclass(parent, containers.DeclarativeContainer):
        tables.append((_class_name(parent), parent.providers))
        tables.append((_class_name(parent), getattr(container, "providers", {})))
    pending: list[Any] = [containers.DeclarativeContainer]
    while pending:  # every declarative container class, bases before subclasses
        cls = pending.pop(0)
        tables.append((_class_name(cls), cls.cls_providers))
        pending.extend(cls.__subclasses__())
    seen: set[int] = set()
    for prefix, table in tables:
        found = _find_provider(provider, table, prefix, seen)
        if found is not None:
            return found
    return repr(provider)


def _find_provider(provider: object, table: Any, prefix: str, seen: set[int]) -> str | None:
    nested: list[tuple[str, Any]] = []
    for name, candidate in table.items():
        if candidate is provider:
            return f"{prefix}.{name}"
        if (
            isinstance(candidate, providers.Container | providers.DependenciesContainer)
            and id(candidate) not in seen
        ):
            seen.add(id(candidate))  # each nested container is searched once
            nested.append((f"{prefix}.{name}", candidate))
    for path, inner in nested:
        found = _find_provider(provider, inner.providers, path, seen)
        if found is not None:
            return found
    return None


def _type_name(value: Any) -> str:
    return value.__qualname__ if isinstance(value, type) else repr(value)


def _accepts_workflow_args(provider: providers.Provider[Any]) -> bool:
    current: Any = provider
    while current.overridden:  # the provider that will actually run
        current = current.last_overriding
    target = getattr(current, "provides", None)
    if not callable(target):
        return False
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False
    return "workflow_args" in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
    )


def _is_final_attempt(exc: BaseException, info: temporalio.activity.Info) -> bool:
    if isinstance(exc, ApplicationError) and exc.non_retryable:
        return True
    policy = info.retry_policy
    if policy is None:
        return False
    if policy.maximum_attempts > 0 and info.attempt >= policy.maximum_attempts:
        return True
    names = policy.non_retryable_error_types or ()
    kind = exc.type if isinstance(exc, ApplicationError) else type(exc).__name__
    return kind in names


def _cancel_pending() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class _Entered:
    """An async context manager already entered, so its ``__aenter__`` errors can be handled."""

    def __init__(self, manager: Any, value: Any) -> None:
        self._manager = manager
        self._value = value

    async def __aenter__(self) -> Any:
        return self._value

    async def __aexit__(self, *exc: Any) -> Any:
        return await self._manager.__aexit__(*exc)


class _Steps:
    """The adapter's steps for one activity, bound to its container, in the order they run.

    `build_adapter` builds one per activity, once, and composes its steps into
    the function Temporal calls: `wait_for_slot` (for an activity with
    ``max_concurrent``), `decode_input`, `resolve_dependencies`,
    `build_context` (with `heartbeater_for` and, for stateful activities,
    `lease`), then `run`, which awaits the body (a sync one through `in_thread`)
    and ends with `map_outcome`.
    """

    def __init__(self, definition: ActivityDefinition, container: containers.Container) -> None:
        """Resolve what every attempt needs from ``definition`` and ``container``, once.

        Raises:
            DependencyError: a dependency the activity declares is not in ``container``.
        """
        where = definition.qualname
        self.fn = definition.fn
        self.name = definition.name
        self.arg_type = definition.arg_type
        self.decoder = decoder_for(definition.arg_type)
        self.converter = data_converter.payload_converter
        self.deps = tuple(
            (dep.name, resolve_provider(container, dep, where), dep.wants_provider)
            for dep in definition.dependencies
        )
        c: Any = container
        self.settings: providers.Provider[Any] = c.settings
        self.store: providers.Provider[Any] = c.state_store
        self.logger: providers.Provider[Any] = c.logger
        self.handler: providers.Provider[Any] = c.handler
        # A container built before output stores existed has no provider: none is configured.
        self.output_store: providers.Provider[Any] = getattr(c, "output_store", _NO_STORE)
        self.wf_args_type = definition.workflow_args_type
        self.uses_state = definition.uses_state
        self.auto_option = definition.auto_heartbeat
        self.stall = definition.stall_timeout.total_seconds() if definition.stall_timeout else None
        self.checkpoint_type = definition.checkpoint_type
        self.watches_heartbeats = (
            definition.auto_heartbeat is not False or definition.checkpoint_type is not None
        )
        self.metrics: ActivityMetrics | None = None  # build_adapter sets the worker's
        self.offload_threshold: int | None = None  # and its external storage threshold
        self.is_async = definition.is_async
        self.executor: concurrent.futures.Executor | None = None  # and a sync one's executor

    # --- 0. wait for a slot, for an activity with max_concurrent

    async def wait_for_slot(self, concurrency: ConcurrencyLimit) -> None:
        """Wait until this process runs fewer attempts of the activity than its ``max_concurrent``.

        While it waits, an attempt with a heartbeat timeout heartbeats, resending the
        details it started with (a retry's checkpoint stays what the server holds), and
        so learns of cancellation. Cancelled while waiting, it releases the run's state
        as a cancelled body does (kept when paused or reset).
        """
        info = temporalio.activity.info()
        timeout = info.heartbeat_timeout
        details = info.heartbeat_details
        beat = None if timeout is None else lambda: temporalio.activity.heartbeat(*details)
        try:
            await concurrency.acquire(beat, send_interval(timeout))
        except asyncio.CancelledError:
            if cancellation_reason() not in ("paused", "reset"):
                await self.release(info)
            raise

    # --- 1. decode input

    def decode_input(self, raw: RawValue) -> Any:
        """Decode the activity's argument strictly from the payload Temporal passed undecoded.

        Raises:
            ApplicationError: retryable, the input is kept in external storage and
                this worker's data converter has none configured.
        """
        payload = raw.payload
        metadata = payload.metadata
        if len(metadata) == 1 and metadata.get("encoding") == _JSON:
            return self.decoder.decode(payload.data)
        if refers_to_external_storage(payload):
            # Temporal retrieves such inputs before the call when storage is configured.
            raise external_storage_not_configured(self.name)
        return self.converter.from_payload(payload, self.arg_type)

    def invalid_input(self, exc: msgspec.ValidationError | msgspec.DecodeError) -> ApplicationError:
        """Return the non-retryable error an input that does not decode ends the activity with."""
        message = validation_message(exc) if isinstance(exc, msgspec.ValidationError) else exc
        return invalid_activity_input(self.name, message)

    # --- 2. resolve dependencies

    async def resolve_dependencies(self) -> dict[str, Any]:
        """Call the providers of the function's dependencies, in order, awaiting async ones."""
        kwargs: dict[str, Any] = {}
        for dep_name, provider, wants_provider in self.deps:
            value = provider if wants_provider else provider()
            if inspect.isawaitable(value):
                value = await value
            kwargs[dep_name] = value
        return kwargs

    # --- 3. build context

    def heartbeater_for(self, info: temporalio.activity.Info, settings: Any) -> Heartbeater | None:
        """Check the checkpoint and build the attempt's heartbeater, when it needs one."""
        checkpoint_type = self.checkpoint_type
        if checkpoint_type is not None and info.attempt > 1:
            decode_checkpoint(info.heartbeat_details, checkpoint_type)
        auto_option = self.auto_option
        auto = auto_option or (auto_option is None and info.heartbeat_timeout is not None)
        fixed = settings.heartbeat_interval
        if not auto and fixed is None:
            return None
        interval = send_interval(info.heartbeat_timeout)
        metrics = self.metrics
        heartbeater = Heartbeater(
            interval=interval if fixed is None else fixed.total_seconds(),
            auto_interval=interval if auto else None,
            stall_timeout=self.stall,
            name=self.name,
            payload_limit=checkpoint_limit(settings.payload_limit, self.offload_threshold),
            heartbeat_counter=None if metrics is None else metrics.heartbeats,
            checkpoint_histogram=None if metrics is None else metrics.checkpoint_bytes,
        )
        return heartbeater

    async def lease(self, info: temporalio.activity.Info) -> tuple[RunKey, _Entered]:
        """Hold the run's state for this attempt, building it when the run has none yet.

        Raises:
            ApplicationError: non-retryable, for a `StateError` retrying cannot help.
        """
        try:
            key = run_key(info, "its run state")
            manager = self.store().lease(key, self.build_state)
            lease = _Entered(manager, await manager.__aenter__())
        except StateError as exc:
            if exc.non_retryable:
                raise state_error(exc) from exc
            raise
        return key, lease

    async def build_state(self) -> tuple[Any, Any]:
        """Build the run's handler and workflow arguments: the store calls this for a new run."""
        name = self.name
        wf_args_type = self.wf_args_type
        workflow_args: Any = None
        if wf_args_type not in _NONE_TYPES:
            attempt = current_attempt()
            payload = attempt.args
            if payload is None:
                advice = attempt.missing_args_advice
                if advice is not None:  # a test: there is no run to read the input from
                    raise StateError(
                        f"activity {name!r}: its context declares workflow arguments of "
                        f"{_type_name(wf_args_type)} and none were given: {advice}",
                        non_retryable=True,
                    )
                if attempt.cache is None:
                    raise StateError(
                        f"activity {name!r}: the run's input is not in the activity's headers "
                        "and this worker has no fnact interceptor to read it from the run "
                        "(build the worker with fnact.worker.create_worker; in a test, "
                        "pass workflow_args)",
                        non_retryable=True,
                    )
                info = temporalio.activity.info()
                key = run_key(info, "its run state")
                payload = (await attempt.cache.read(key)).input
                if payload is None:
                    raise StateError(
                        f"activity {name!r}: run {key} was started without input, but the "
                        f"activity's context declares workflow arguments of {wf_args_type!r}",
                        non_retryable=True,
                    )
            try:
                workflow_args = self.converter.from_payload(payload, wf_args_type)
            except msgspec.DecodeError as exc:  # a ValidationError too: msgspec's or pydantic's
                raise StateError(
                    f"activity {name!r}: the run's workflow arguments do not match "
                    f"{wf_args_type!r}: {exc}",
                    non_retryable=True,
                ) from exc
        handler_provider = self.handler
        handler = (
            handler_provider(workflow_args=workflow_args)
            if _accepts_workflow_args(handler_provider)
            else handler_provider()
        )
        if inspect.isawaitable(handler):
            handler = await handler
        return handler, workflow_args

    def build_context(
        self,
        settings: Any,
        limit: int,
        info: temporalio.activity.Info | None = None,
        heartbeater: Heartbeater | None = None,
        state: Any = None,
    ) -> ActivityContext[Any, Any]:
        """Build the `ActivityContext` the function receives for this attempt."""
        return ActivityContext._for_attempt(
            info, state, settings.output_root, self.logger, heartbeater, limit, self.output_store()
        )

    # --- 4. run

    async def run(
        self,
        ctx: ActivityContext[Any, Any],
        args: Any,
        kwargs: dict[str, Any],
        heartbeater: Heartbeater | None,
        limit: int,
    ) -> Any:
        """Await the function and map its outcome, releasing the run's state when it is suspect.

        A stateful activity releases the run's state when it is cancelled (not when it
        is paused or reset: it resumes in the same run), when its
        last attempt raises, when it raises or returns an error that declares
        ``releases_state``, and when it ends for good with anything but a `Failure`.
        """
        fn = self.fn
        try:
            body = fn(ctx, args, **kwargs) if self.is_async else self.in_thread(ctx, args, kwargs)
            if heartbeater is None:
                result = await body
            else:
                result = await run_with_heartbeats(body, heartbeater)
        except asyncio.CancelledError:
            ctx._flush()  # the newest checkpoint reaches Temporal before the attempt ends
            reason = cancellation_reason()
            if reason in ("paused", "reset"):
                # Not a cancel: the activity resumes (from its checkpoint, after a pause; from
                # scratch, after a reset) in this run, whose state stays good.
                ctx.logger.info("attempt ended; the run's state is kept", outcome=reason)
            else:
                await self.release(ctx.info)
            raise
        except BaseException as exc:
            ctx._flush()
            info = ctx.info
            # A run fact the body asked for that no retry can provide fails it for good.
            final = exc if isinstance(exc, StateError) and exc.non_retryable else None
            if final is not None or _is_final_attempt(exc, info) or releases_state(exc):
                await self.release(info)
            if final is not None:
                raise state_error(final) from exc
            raise
        finally:
            ctx._finish()
        outcome = self.map_outcome(result, limit)
        if isinstance(outcome, RawValue):
            return outcome
        # A Failure is an expected outcome: the state stays unless the fault says it is
        # suspect. Anything else here (a bug) ends the activity for good.
        info = ctx.info
        if (
            not isinstance(result, Failure)
            or outcome.type == UNENCODABLE_FAILURE
            or releases_state(result.failure())
            or (is_standalone(info) and _is_final_attempt(outcome, info))  # it closes
        ):
            await self.release(ctx.info)
        raise outcome

    async def in_thread(
        self, ctx: ActivityContext[Any, Any], args: Any, kwargs: dict[str, Any]
    ) -> Any:
        """Run a sync function in the worker's activity executor; the event loop stays free.

        The context's heartbeater is built here, on the loop, so the thread's
        heartbeats and checkpoints are handed to the loop that sends them.
        """
        _ = ctx.heartbeater
        ctx._loop = asyncio.get_running_loop()
        assert self.executor is not None  # build_adapter refuses a sync activity without one
        return await run_in_thread(self.executor, self.fn, (ctx, args), kwargs)

    # --- 5. map outcome

    def map_outcome(self, result: Any, limit: int) -> RawValue | ApplicationError:
        """Map the function's `Result` to the encoded value, or to the error that ends the activity.

        Raises:
            ApplicationError: retryable, the body swallowed a worker shutdown's cancellation.
        """
        name = self.name
        if isinstance(result, Success):
            if temporalio.activity.is_worker_shutdown() and _cancel_pending():
                # The body swallowed the shutdown's cancellation: its value may be partial.
                raise worker_shutdown(name)
            try:
                payload, size = to_sized_payload(result.unwrap())  # size as Temporal measures it
            except NonFiniteFloatError as exc:
                return unencodable(f"activity {name!r} result: {exc}", kind="Result")
            if size <= limit or will_offload(payload.ByteSize(), self.offload_threshold):
                return RawValue(payload)  # encoded once: Temporal passes it through
            return payload_too_large(f"activity {name!r} result", size, limit)
        if isinstance(result, Failure):
            try:
                return error_from_failure(result.failure())
            except TypeError as exc:
                return unencodable_failure(name, exc)
        return invalid_activity_result(name, result)

    async def release(self, info: temporalio.activity.Info) -> None:
        """Drop the run's state, if this activity uses it: it is suspect, or the run cannot succeed.

        An activity without state never releases it: its errors say nothing of the state.
        """
        if not self.uses_state:
            return
        store: StateStore = self.store()
        workflow_id, run_id = run_ids(info)
        if workflow_id and run_id:
            await asyncio.shield(store.release(RunKey(workflow_id, run_id)))


# --- The watchdog's contract: it finds the activity a stack belongs to by this step.

BODY_STEP_CODE = _Steps.run.__code__
"""The code of the adapter step that awaits an activity's body.

A frame running it is where a blocked loop's stack meets its activity: the
blocked-loop watchdog looks for it and reads the attempt with `attempt_in_body_step`.
"""


def attempt_in_body_step(frame: FrameType) -> tuple[str, temporalio.activity.Info | None]:
    """Return the activity name and attempt info held by a frame running `BODY_STEP_CODE`.

    `_Steps.run` keeps its steps as ``self`` and the context as ``ctx``; this is the
    one place outside it that knows those names (a test holds the contract).
    """
    steps, ctx = frame.f_locals.get("self"), frame.f_locals.get("ctx")
    return getattr(steps, "name", "?"), getattr(ctx, "_info", None)


def build_adapter(
    definition: ActivityDefinition,
    container: containers.Container,
    metrics: WorkerMetrics | None = None,
    *,
    offload_threshold: int | None = None,
    executor: concurrent.futures.Executor | None = None,
) -> AdapterFn:
    """Build the function Temporal calls for ``definition``, bound to ``container``.

    Each attempt's outcome is counted in ``metrics`` (the worker's instruments;
    none recorded without). ``offload_threshold`` is the size from which the
    worker's data converter stores payloads externally: results and checkpoints
    that will be offloaded are not refused for their size. ``executor`` runs a
    sync activity's function (the worker's ``activity_executor``, a
    ``ThreadPoolExecutor``); an ``async def`` needs none.

    The function is a plain ``async def``: Temporal checks it with
    `inspect.iscoroutinefunction` on every call, which costs a callable instance
    about 0.7 µs more. Its annotations tell Temporal to pass the input as a `RawValue`.

    Raises:
        DependencyError: a dependency the activity declares is not in ``container``.
        WorkerConfigurationError: the activity is sync and no ``executor`` is given.
    """
    steps = _Steps(definition, container)
    steps.offload_threshold = offload_threshold
    if not definition.is_async:
        if executor is None:
            raise WorkerConfigurationError(
                f"sync activity {definition.qualname} runs in a thread of an executor, and "
                "none was given (fnact.worker.Plugin passes the worker's activity_executor)"
            )
        steps.executor = executor
    has_deps = bool(steps.deps)
    uses_state = steps.uses_state
    watches_heartbeats = steps.watches_heartbeats
    settings_provider = steps.settings
    counts = (metrics or WorkerMetrics.noop()).for_activity(definition.name)
    steps.metrics = counts

    async def run_activity(raw: RawValue) -> Any:
        try:
            # 1. Decode the input.
            try:
                args = steps.decode_input(raw)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                error = steps.invalid_input(exc)
                await steps.release(temporalio.activity.info())  # the run cannot succeed
                raise error from None
            # 2. Resolve the function's dependencies.
            kwargs = await steps.resolve_dependencies() if has_deps else {}
            # 3. Build the context: the attempt's facts, its heartbeater and the run's state.
            settings = settings_provider()
            limit = settings.payload_limit
            attempt = current_attempt()
            if not uses_state:
                if attempt.start is None and attempt.cache is not None:
                    # ctx.output_path cannot wait: learn the run's start before the body runs.
                    attempt.error = await attempt.cache.prefetch_start(temporalio.activity.info())
                if not (watches_heartbeats or settings.heartbeat_interval):
                    # No state, no heartbeats: no heartbeater to build.
                    ctx = steps.build_context(settings, limit, temporalio.activity.info())
                    value = await steps.run(ctx, args, kwargs, None, limit)  # 4 and 5
                    counts.succeeded()
                    return value
            info = temporalio.activity.info()
            try:
                heartbeater = steps.heartbeater_for(info, settings)
            except ApplicationError as exc:
                if exc.non_retryable:  # the activity fails for good before its body runs
                    await steps.release(info)
                raise
            if not uses_state:
                ctx = steps.build_context(settings, limit, info, heartbeater)
                value = await steps.run(ctx, args, kwargs, heartbeater, limit)  # 4 and 5
                counts.succeeded()
                return value
            standalone = is_standalone(info)
            if standalone:
                # A standalone activity is a run of its own: its input stands for the run's.
                set_attempt({ARGS_HEADER: raw.payload}, attempt.cache)
                attempt = current_attempt()
            key, lease = await steps.lease(info)
            async with lease as state:
                cache = attempt.cache
                if cache is not None and not standalone and not cache.touch(key):
                    # Remember the run, so this worker releases its state when the run ends.
                    if attempt.start is not None:
                        cache.remember(key, decode_start(attempt.start))
                    else:
                        attempt.error = await cache.prefetch_start(info)
                ctx = steps.build_context(settings, limit, info, heartbeater, state)
                # 4. Run the function, and 5. map its outcome.
                value = await steps.run(ctx, args, kwargs, heartbeater, limit)
            if standalone:
                await steps.release(info)  # it closed: its run ended with it
            counts.succeeded()
            return value
        except BaseException as exc:  # counted, then raised on to Temporal
            counts.ended(exc)
            raise

    adapter = run_activity
    concurrency = definition.concurrency
    if concurrency is not None:

        async def run_limited(raw: RawValue) -> Any:
            try:
                await steps.wait_for_slot(concurrency)  # 0. Wait for a slot.
            except BaseException as exc:
                counts.ended(exc)
                raise
            try:
                return await run_activity(raw)
            finally:
                concurrency.release()

        adapter = run_limited
    adapter.__name__ = definition.fn.__name__
    adapter.__qualname__ = definition.fn.__qualname__
    adapter.__module__ = definition.fn.__module__
    adapter.__doc__ = definition.fn.__doc__
    adapter.__annotations__ = {"raw": RawValue, "return": Any}
    setattr(adapter, FNACT_ADAPTER, True)
    defined: AdapterFn = temporalio.activity.defn(name=definition.name)(adapter)
    return defined
