"""Run one fnact activity inside a Temporal worker.

The worker builds one adapter per activity, once. The adapter is what Temporal
calls: it decodes the input strictly, builds the context, resolves the
function's dependencies from the container, awaits the function and turns its
`Result` into Temporal's outcome, releasing the run's state when the run can no
longer succeed.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import temporalio.activity
from dependency_injector import containers, providers
from returns.result import Failure, Success
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

from fnact._activity import ActivityDefinition, Dependency
from fnact._codec import (
    NonFiniteFloatError,
    data_converter,
    decoder_for,
    to_payload,
    validation_message,
)
from fnact._context import ActivityContext
from fnact._heartbeat import (
    Heartbeater,
    decode_checkpoint,
    run_with_heartbeats,
    send_interval,
)
from fnact._limits import payload_too_large, payloads_size
from fnact._outcome import error_from_failure
from fnact._runinfo import FNACT_ADAPTER, current_attempt, decode_start, run_key
from fnact._state import RunKey, StateStore
from fnact.exceptions import DependencyError, StateError

__all__ = ["build_adapter", "resolve_provider"]

_JSON = b"json/plain"
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
    raise DependencyError(
        f"{where}: parameter {dependency.name!r} asks for {target!r}, which "
        f"{type(container).__qualname__} does not provide"
    )


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


async def _release(store: StateStore, info: temporalio.activity.Info) -> None:
    if info.workflow_id and info.workflow_run_id:
        await asyncio.shield(store.release(RunKey(info.workflow_id, info.workflow_run_id)))


class _Entered:
    """An async context manager already entered, so its ``__aenter__`` errors can be handled."""

    def __init__(self, manager: Any, value: Any) -> None:
        self._manager = manager
        self._value = value

    async def __aenter__(self) -> Any:
        return self._value

    async def __aexit__(self, *exc: Any) -> Any:
        return await self._manager.__aexit__(*exc)


async def _enter(manager: Any) -> _Entered:
    return _Entered(manager, await manager.__aenter__())


def build_adapter(definition: ActivityDefinition, container: containers.Container) -> AdapterFn:
    """Build the function Temporal calls for ``definition``, bound to ``container``.

    Raises:
        DependencyError: a dependency the activity declares is not in ``container``.
    """
    where = definition.qualname
    fn = definition.fn
    name = definition.name
    arg_type = definition.arg_type
    decoder = decoder_for(arg_type)
    converter = data_converter.payload_converter
    deps = tuple(
        (dep.name, resolve_provider(container, dep, where), dep.wants_provider)
        for dep in definition.dependencies
    )
    c: Any = container
    settings_provider: providers.Provider[Any] = c.settings
    store_provider: providers.Provider[Any] = c.state_store
    logger_provider: providers.Provider[Any] = c.logger
    handler_provider: providers.Provider[Any] = c.handler
    wf_args_type = definition.workflow_args_type

    async def build_state() -> tuple[Any, Any]:
        workflow_args: Any = None
        if wf_args_type not in _NONE_TYPES:
            attempt = current_attempt()
            payload = attempt.args
            if payload is None:
                if attempt.cache is None:
                    raise StateError(
                        f"activity {name!r}: the run's input is not in the activity's headers "
                        "and this worker has no fnact interceptor to read it from the run (build "
                        "the worker with fnact.create_worker; in a test, pass workflow_args)",
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
                workflow_args = converter.from_payload(payload, wf_args_type)
            except msgspec.ValidationError as exc:
                raise StateError(
                    f"activity {name!r}: the run's workflow arguments do not match "
                    f"{wf_args_type!r}: {exc}",
                    non_retryable=True,
                ) from exc
        handler = (
            handler_provider(workflow_args=workflow_args)
            if _accepts_workflow_args(handler_provider)
            else handler_provider()
        )
        if inspect.isawaitable(handler):
            handler = await handler
        return handler, workflow_args

    auto_option = definition.auto_heartbeat
    stall = definition.stall_timeout.total_seconds() if definition.stall_timeout else None
    checkpoint_type = definition.checkpoint_type
    watches_heartbeats = auto_option is not False or checkpoint_type is not None

    def heartbeater_for(info: temporalio.activity.Info, settings: Any) -> Heartbeater | None:
        """Check the checkpoint and build the attempt's heartbeater, when it needs one."""
        if checkpoint_type is not None and info.attempt > 1:
            decode_checkpoint(info.heartbeat_details, checkpoint_type)
        auto = auto_option or (auto_option is None and info.heartbeat_timeout is not None)
        fixed = settings.heartbeat_interval
        if not auto and fixed is None:
            return None
        interval = send_interval(info.heartbeat_timeout)
        return Heartbeater(
            interval=interval if fixed is None else fixed.total_seconds(),
            auto_interval=interval if auto else None,
            stall_timeout=stall,
            name=name,
            payload_limit=settings.payload_limit,
        )

    async def call(
        ctx: ActivityContext[Any, Any],
        args: Any,
        kwargs: dict[str, Any],
        heartbeater: Heartbeater | None,
        limit: int,
    ) -> Any:
        try:
            if heartbeater is None:
                result = await fn(ctx, args, **kwargs)
            else:
                result = await run_with_heartbeats(fn(ctx, args, **kwargs), heartbeater)
        except asyncio.CancelledError:
            ctx._flush()
            await _release(store_provider(), ctx.info)
            raise
        except BaseException as exc:
            ctx._flush()
            info = ctx.info
            if _is_final_attempt(exc, info):
                await _release(store_provider(), info)
            raise
        finally:
            ctx._finish()
        if isinstance(result, Success):
            task = asyncio.current_task()
            swallowed = task is not None and task.cancelling() > 0  # cheap check first
            if swallowed and temporalio.activity.is_worker_shutdown():
                # The body swallowed the shutdown's cancellation: its value may be partial.
                raise ApplicationError(
                    f"activity {name!r} was interrupted by a worker shutdown; retrying",
                    type="WorkerShutdown",
                )
            try:
                payload = to_payload(result.unwrap())
            except NonFiniteFloatError as exc:
                await _release(store_provider(), ctx.info)
                raise ApplicationError(
                    f"activity {name!r} result: {exc}", type="UnencodableResult", non_retryable=True
                ) from None
            size = payloads_size(payload)  # what Temporal measures, metadata included
            if size <= limit:
                return RawValue(payload)  # encoded once: Temporal passes it through
            error = payload_too_large(f"activity {name!r} result", size, limit)
        elif isinstance(result, Failure):
            try:
                error = error_from_failure(result.failure())
            except TypeError as exc:
                error = ApplicationError(
                    f"activity {name!r} returned a Failure that cannot be encoded: {exc}",
                    type="UnencodableFailure",
                    non_retryable=True,
                )
        else:
            error = ApplicationError(
                f"activity {name!r} returned {type(result).__qualname__}, not a returns Result",
                type="InvalidActivityResult",
                non_retryable=True,
            )
        # Every path here ends the activity for good (or, for a retryable Fault, this
        # attempt with an expected outcome): release the run's state first.
        await _release(store_provider(), ctx.info)
        raise error

    async def run_activity(raw: RawValue) -> Any:
        payload = raw.payload
        try:
            if payload.metadata.get("encoding") == _JSON:
                args = decoder.decode(payload.data)
            else:
                args = converter.from_payload(payload, arg_type)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            message = validation_message(exc) if isinstance(exc, msgspec.ValidationError) else exc
            error = ApplicationError(
                f"activity {name!r}: invalid input: {message}",
                type="InvalidActivityInput",
                non_retryable=True,
            )
            await _release(store_provider(), temporalio.activity.info())
            raise error from None
        kwargs: dict[str, Any] = {}
        for dep_name, provider, wants_provider in deps:
            value = provider if wants_provider else provider()
            if inspect.isawaitable(value):
                value = await value
            kwargs[dep_name] = value
        settings = settings_provider()
        limit = settings.payload_limit
        attempt = current_attempt()
        if attempt.start is None and attempt.cache is not None and not definition.uses_state:
            # ctx.output_path cannot wait: learn the run's start time before the body runs.
            await attempt.cache.prefetch_start(attempt, temporalio.activity.info())
        if not (definition.uses_state or watches_heartbeats or settings.heartbeat_interval):
            ctx: ActivityContext[Any, Any] = ActivityContext(
                output_root=settings.output_root, logger=logger_provider(), payload_limit=limit
            )
            return await call(ctx, args, kwargs, None, limit)
        info = temporalio.activity.info()
        try:
            heartbeater = heartbeater_for(info, settings)
        except ApplicationError as exc:
            if exc.non_retryable:  # the activity fails for good before its body runs
                await _release(store_provider(), info)
            raise

        def context(state: Any = None) -> ActivityContext[Any, Any]:
            return ActivityContext(
                info=info,
                state=state,
                output_root=settings.output_root,
                logger=logger_provider(),
                heartbeat=heartbeater,
                payload_limit=limit,
            )

        if not definition.uses_state:
            return await call(context(), args, kwargs, heartbeater, limit)
        try:
            key = run_key(info, "its run state")
            lease = await _enter(store_provider().lease(key, build_state))
        except StateError as exc:
            if exc.non_retryable:  # deterministic: retrying cannot help
                raise ApplicationError(str(exc), type="StateError", non_retryable=True) from exc
            raise
        async with lease as state:
            cache = attempt.cache
            if cache is not None and not cache.touch(key):
                # Remember the run, so this worker releases its state when the run ends.
                if attempt.start is not None:
                    cache.remember(key, decode_start(attempt.start))
                else:
                    await cache.prefetch_start(attempt, info)
            return await call(context(state), args, kwargs, heartbeater, limit)

    run_activity.__name__ = fn.__name__
    run_activity.__qualname__ = fn.__qualname__
    run_activity.__module__ = fn.__module__
    run_activity.__doc__ = fn.__doc__
    run_activity.__annotations__ = {"raw": RawValue, "return": Any}
    setattr(run_activity, FNACT_ADAPTER, True)
    defined: AdapterFn = temporalio.activity.defn(name=name)(run_activity)
    return defined
