"""The ``@fnact.activity`` decorator and the definition it attaches.

Decoration checks the function's signature once and records everything the
worker and the workflow side need: the activity's name and default options, its
argument, result and error types, the state types its context declares, and the
dependencies it asks the container for. Nothing is registered anywhere; the
worker receives an explicit list of activities.

Why one module of about 500 lines: the decorator's typed overloads (async and sync,
bare and with options) and the signature checks they share are one concept, and
the type checkers read them together.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, cast, overload

import msgspec
import msgspec.inspect
import temporalio.workflow
from dependency_injector import wiring
from returns.result import Result
from temporalio.common import RetryPolicy

from fnact._concurrency import ConcurrencyLimit
from fnact._context import ActivityContext
from fnact._converter import new_decoder
from fnact._outcome import plain_activity_call
from fnact._pydantic import is_model_class, needs_pydantic
from fnact._secret import Secret
from fnact.exceptions import ActivityDefinitionError, DependencyError

__all__ = [
    "Activity",
    "ActivityDecorator",
    "ActivityDefinition",
    "ActivityOptions",
    "Dependency",
    "SyncActivity",
    "activity",
]

P = ParamSpec("P")
R = TypeVar("R")
E = TypeVar("E")

_NONE_TYPES: tuple[Any, ...] = (None, type(None))
# dependency-injector types its markers as protocol instances; at runtime they are classes.
_PROVIDE = cast(type, wiring.Provide)
_PROVIDER = cast(type, wiring.Provider)
_CLOSING = cast(type, wiring.Closing)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivityOptions:
    """Scheduling defaults a workflow uses when it calls the activity."""

    start_to_close_timeout: timedelta | None = None
    schedule_to_close_timeout: timedelta | None = None
    heartbeat_timeout: timedelta | None = None
    retry_policy: RetryPolicy | None = None

    def merged(self, **overrides: Any) -> ActivityOptions:
        """Return these options with the non-``None`` ``overrides`` applied."""
        changes = {k: v for k, v in overrides.items() if v is not None}
        return dataclasses.replace(self, **changes) if changes else self

    def for_call(self, **overrides: Any) -> ActivityOptions:
        """Return the options one call schedules with, ``overrides`` applied.

        With no timeout set at all, the start-to-close timeout is
        `DEFAULT_START_TO_CLOSE_TIMEOUT`.
        """
        options = self.merged(**overrides)
        if options.start_to_close_timeout is None and options.schedule_to_close_timeout is None:
            return dataclasses.replace(
                options, start_to_close_timeout=DEFAULT_START_TO_CLOSE_TIMEOUT
            )
        return options


DEFAULT_START_TO_CLOSE_TIMEOUT = timedelta(minutes=10)
"""The start-to-close timeout used when neither the activity nor the call sets a timeout."""


@dataclass(frozen=True, slots=True)
class Dependency:
    """One parameter an activity asks the container for."""

    name: str
    marker: Any
    """The dependency-injector marker (``Provide[...]`` or ``Provider[...]``) in its default."""

    @property
    def target(self) -> Any:
        """The provider (or dotted provider name) the marker points at."""
        return self.marker.provider

    @property
    def wants_provider(self) -> bool:
        """Whether the parameter receives the provider itself rather than its value."""
        return isinstance(self.marker, _PROVIDER)


@dataclass(frozen=True, slots=True)
class ActivityDefinition:
    """Everything fnact learned about an activity when it was decorated."""

    name: str
    fn: Callable[..., Any]
    """The decorated function: an ``async def``, or a plain ``def`` (see `is_async`)."""
    options: ActivityOptions
    arg_type: Any
    result_type: Any
    error_types: Mapping[str, type[Any]]
    dependencies: tuple[Dependency, ...]
    handler_type: Any
    workflow_args_type: Any
    uses_state: bool
    auto_heartbeat: bool | None = None
    """Beat automatically: ``None`` means whenever the attempt has a heartbeat timeout."""
    stall_timeout: timedelta | None = None
    """Stop auto beats after this long without progress, so Temporal retries the attempt."""
    checkpoint_type: Any = None
    """The type of the activity's checkpoints, checked when a retry starts."""
    is_async: bool = True
    """``False`` for a plain ``def``: a worker runs it on its activity executor's threads."""
    concurrency: ConcurrencyLimit | None = None
    """At most this many executions at once per worker process (``max_concurrent``)."""

    @property
    def qualname(self) -> str:
        """The decorated function's full name, for messages."""
        return f"{self.fn.__module__}.{self.fn.__qualname__}"


class Activity(Generic[P, R, E]):
    """An ``async def`` turned into an fnact activity by `fnact.activity`.

    Await it directly in a unit test (passing every dependency); give it to a
    worker to run it in Temporal; call it from a workflow with
    `fnact.workflow.execute_activity` (or its siblings). Given to
    ``temporalio.workflow.execute_activity`` or any other of temporalio's activity
    calls, it fails the workflow at once with a non-retryable ``ApplicationError``
    of type ``PlainActivityCall`` that names `fnact.workflow.execute_activity`, on
    any worker. A plain ``def`` becomes a `SyncActivity`, whose direct call returns
    the `Result` itself.
    """

    __slots__ = ("__dict__", "definition")

    def __init__(self, definition: ActivityDefinition) -> None:
        self.definition: ActivityDefinition = definition
        for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
            setattr(self, attr, getattr(definition.fn, attr, None))
        self.__wrapped__: Callable[..., Any] = definition.fn

    @property
    def name(self) -> str:
        """The activity type name Temporal knows it by."""
        return self.definition.name

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Coroutine[Any, Any, Result[R, E]]:
        """Call the function itself; every dependency must be passed explicitly."""
        coroutine: Coroutine[Any, Any, Result[R, E]] = self._call(args, kwargs)
        return coroutine

    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        missing = [
            dep.name
            for index, dep in enumerate(self.definition.dependencies, start=2)
            if index >= len(args) and dep.name not in kwargs
        ]
        if missing:
            raise DependencyError(
                f"{self.definition.qualname}: pass {', '.join(missing)} when calling the "
                "activity directly (only a worker resolves dependencies from the container)"
            )
        return self.definition.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<fnact activity {self.definition.name!r} ({self.definition.qualname})>"


class SyncActivity(Activity[P, R, E]):
    """A plain ``def`` turned into an fnact activity by `fnact.activity`.

    Everything said of `Activity` holds, except how it runs: a worker runs the
    function in a thread of its activity executor (a ``ThreadPoolExecutor``, which
    `fnact.worker.Plugin` provides when the worker has none), with the same
    context, so blocking code needs no ``await ctx.run_blocking(...)``. Calling it
    directly (in a unit test) returns the `Result` itself, not a coroutine.
    """

    __slots__ = ()

    # The override returns the Result itself: a sync function is not awaited.
    def __call__(  # type: ignore[override]
        self, *args: P.args, **kwargs: P.kwargs
    ) -> Result[R, E]:  # pyright: ignore[reportIncompatibleMethodOverride]
        """Call the function itself and return its `Result`; pass every dependency explicitly."""
        result: Result[R, E] = self._call(args, kwargs)
        return result


def _refuse_plain_call(self: Activity[Any, Any, Any]) -> Any:
    """Fail the workflow that gives this activity to temporalio's own activity calls.

    ``temporalio.workflow.execute_activity`` (and ``start_activity``, the local and
    the method and class forms) reads ``__temporal_activity_definition`` from its
    callable before any interceptor runs, and raises a ``TypeError`` when it is
    missing: that fails only the workflow task, which Temporal retries until the
    run times out. An `ApplicationError` raised here fails the workflow itself, on
    any worker. Outside a workflow the attribute is absent, as before.
    """
    if temporalio.workflow.in_workflow():
        raise plain_activity_call(self.definition.name, self.definition.qualname)
    raise AttributeError(
        f"{self!r} has no Temporal activity definition: a worker runs it through "
        "fnact.worker.create_worker or fnact.worker.Plugin"
    )


# Set on the class outside its body, where the name would be mangled.
setattr(Activity, "__temporal_activity_definition", property(_refuse_plain_call))


_Fn = Callable[P, Coroutine[Any, Any, Result[R, E]]]
_SyncFn = Callable[P, Result[R, E]]
# The public signatures below spell `_Fn` and `_SyncFn` out: the reference renders them
# as written.


class ActivityDecorator(Protocol):
    """What ``fnact.activity(...)`` with options returns: apply it to the function.

    An ``async def`` becomes an `Activity`, a plain ``def`` a `SyncActivity`.
    """

    @overload
    def __call__(
        self, fn: Callable[P, Coroutine[Any, Any, Result[R, E]]], /
    ) -> Activity[P, R, E]: ...

    @overload
    def __call__(self, fn: Callable[P, Result[R, E]], /) -> SyncActivity[P, R, E]: ...

    def __call__(self, fn: Callable[..., Any], /) -> Activity[Any, Any, Any]:
        """Turn ``fn`` into an fnact activity with the options given."""
        ...


@overload
def activity(fn: Callable[P, Coroutine[Any, Any, Result[R, E]]], /) -> Activity[P, R, E]: ...


@overload
def activity(fn: Callable[P, Result[R, E]], /) -> SyncActivity[P, R, E]: ...


@overload
def activity(
    *,
    name: str | None = None,
    start_to_close_timeout: timedelta | None = None,
    schedule_to_close_timeout: timedelta | None = None,
    heartbeat_timeout: timedelta | None = None,
    retry_policy: RetryPolicy | None = None,
    auto_heartbeat: bool | None = None,
    stall_timeout: timedelta | None = None,
    checkpoint: type[Any] | None = None,
    max_concurrent: int | None = None,
) -> ActivityDecorator: ...


def activity(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    start_to_close_timeout: timedelta | None = None,
    schedule_to_close_timeout: timedelta | None = None,
    heartbeat_timeout: timedelta | None = None,
    retry_policy: RetryPolicy | None = None,
    auto_heartbeat: bool | None = None,
    stall_timeout: timedelta | None = None,
    checkpoint: type[Any] | None = None,
    max_concurrent: int | None = None,
) -> Activity[Any, Any, Any] | ActivityDecorator:
    """Turn ``async def f(ctx, args, *deps) -> Result[R, E]`` into an fnact activity.

    The first parameter is the `ActivityContext`; the second, the activity's
    typed input; any further parameter declares a dependency with a
    dependency-injector marker default (``db: Database = Provide[Container.db]``).

    A plain ``def f(ctx, args, *deps) -> Result[R, E]`` becomes a `SyncActivity`:
    a worker runs it in a thread of its activity executor, with the same context
    (the how-to "Sync activities and blocking code" says what works in the thread).

    Args:
        fn: the function, when the decorator is used bare.
        name: the activity type name; the function's name by default.
        start_to_close_timeout: default for each call from a workflow.
        schedule_to_close_timeout: default for each call from a workflow.
        heartbeat_timeout: default for each call from a workflow.
        retry_policy: default for each call from a workflow.
        auto_heartbeat: beat while the body runs so Temporal detects a dead worker
            and delivers cancellation; by default on whenever the attempt has a
            heartbeat timeout.
        stall_timeout: stop auto beats after this long without ``ctx.heartbeat``
            or ``ctx.checkpoint``, so Temporal's heartbeat timeout retries a stuck
            attempt (a warning is logged); ``None`` never stops.
        checkpoint: the msgspec Struct type of ``ctx.checkpoint`` values; a retry
            whose recorded checkpoint no longer decodes fails at once, non-retryable.
        max_concurrent: run at most this many executions of the activity at once in
            each worker process; the others wait their turn, each holding its worker
            slot while its start-to-close timer runs and heartbeating if it has a
            heartbeat timeout. ``None``: no limit but the worker's.

    Raises:
        ActivityDefinitionError: the function's signature is wrong, or an option is
            out of range; the message names the function and what is wrong.

    Examples:
        >>> from returns.result import Result, Success
        >>> import fnact
        >>> @fnact.activity
        ... async def double(ctx: fnact.ActivityContext, n: int) -> Result[int, fnact.Fault]:
        ...     return Success(n * 2)
        >>> double.name
        'double'
    """
    options = ActivityOptions(
        start_to_close_timeout=start_to_close_timeout,
        schedule_to_close_timeout=schedule_to_close_timeout,
        heartbeat_timeout=heartbeat_timeout,
        retry_policy=retry_policy,
    )
    _check_options(options, name)
    if stall_timeout is not None and stall_timeout <= timedelta(0):
        raise ActivityDefinitionError("fnact.activity: stall_timeout must be positive")
    if max_concurrent is not None and (
        isinstance(max_concurrent, bool)
        or not isinstance(max_concurrent, int)
        or max_concurrent < 1
    ):
        raise ActivityDefinitionError(
            f"fnact.activity: max_concurrent must be a positive int or None, not {max_concurrent!r}"
        )

    def decorate(function: Callable[..., Any]) -> Activity[Any, Any, Any]:
        definition = dataclasses.replace(
            _define(function, name, options),
            auto_heartbeat=auto_heartbeat,
            stall_timeout=stall_timeout,
            checkpoint_type=checkpoint,
            concurrency=None if max_concurrent is None else ConcurrencyLimit(max_concurrent),
        )
        return Activity(definition) if definition.is_async else SyncActivity(definition)

    if fn is None:
        return cast(ActivityDecorator, decorate)
    return decorate(fn)


def _check_options(options: ActivityOptions, name: str | None) -> None:
    for field in dataclasses.fields(options):
        value = getattr(options, field.name)
        if isinstance(value, timedelta) and value <= timedelta(0):
            raise ActivityDefinitionError(f"fnact.activity: {field.name} must be positive")
    if name is not None and not name.strip():
        raise ActivityDefinitionError("fnact.activity: name must not be empty")


def _define(
    fn: Callable[..., Any], name: str | None, options: ActivityOptions
) -> ActivityDefinition:
    where = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"

    def fail(problem: str) -> ActivityDefinitionError:
        return ActivityDefinitionError(f"fnact.activity: {where}: {problem}")

    if not callable(fn) or isinstance(fn, type):
        raise fail("expected an `async def` or a plain `def` function")
    if inspect.isasyncgenfunction(fn) or inspect.isgeneratorfunction(fn):
        raise fail("must be an `async def` or a plain `def` function, not a generator")
    try:
        hints = typing.get_type_hints(fn)
    except Exception as exc:
        raise fail(f"cannot resolve its type hints ({exc}); import them at module level") from exc
    params = list(inspect.signature(fn).parameters.values())
    if not params or params[0].kind not in _POSITIONAL:
        raise fail("its first parameter must be the context, `ctx: fnact.ActivityContext`")
    ctx_hint = hints.get(params[0].name)
    if ctx_hint is None or not _is_context(ctx_hint):
        raise fail(
            f"its first parameter {params[0].name!r} must be annotated as fnact.ActivityContext"
        )
    if len(params) < 2 or params[1].kind not in _POSITIONAL:
        raise fail("its second parameter must be the activity's input, e.g. `args: MyArgs`")
    if params[1].name not in hints:
        raise fail(f"its input parameter {params[1].name!r} has no type hint")
    arg_type = hints[params[1].name]
    _check_type(arg_type, f"input parameter {params[1].name!r}", fail)

    dependencies = []
    for param in params[2:]:
        if isinstance(param.default, _CLOSING) or getattr(param.default, "modifier", None):
            raise fail(
                f"parameter {param.name!r}: Closing[...] and marker modifiers are not supported"
            )
        if isinstance(param.default, _PROVIDE | _PROVIDER):
            dependencies.append(Dependency(param.name, param.default))
        elif param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise fail(f"*{param.name} parameters are not supported")
        elif param.default is param.empty:
            raise fail(
                f"parameter {param.name!r} is neither the input nor a dependency: give it a "
                "default such as `= Provide[Container.name]`"
            )

    ret = hints.get("return")
    if ret is None or typing.get_origin(ret) is not Result:
        raise fail(f"its return type must be returns.result.Result[R, E], not {ret!r}")
    result_type, error_type = typing.get_args(ret)
    _check_type(result_type, "result type", fail)
    error_types = _error_types(error_type, fail)

    handler_type, wf_args_type = (Any, Any)
    ctx_args = typing.get_args(ctx_hint)
    if ctx_args:
        if len(ctx_args) != 2:
            raise fail("its context must be ActivityContext[HandlerType, WorkflowArgsType]")
        handler_type, wf_args_type = ctx_args
        if wf_args_type not in _NONE_TYPES:
            _check_type(wf_args_type, "workflow arguments type", fail)
    uses_state = bool(ctx_args) and not (
        handler_type in _NONE_TYPES and wf_args_type in _NONE_TYPES
    )
    return ActivityDefinition(
        name=name or fn.__name__,
        fn=fn,
        options=options,
        arg_type=arg_type,
        result_type=result_type,
        error_types=error_types,
        dependencies=tuple(dependencies),
        handler_type=handler_type,
        workflow_args_type=wf_args_type,
        uses_state=uses_state,
        is_async=inspect.iscoroutinefunction(fn),
    )


_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _is_context(hint: Any) -> bool:
    origin = typing.get_origin(hint) or hint
    return isinstance(origin, type) and issubclass(origin, ActivityContext)


def _check_type(hint: Any, what: str, fail: Callable[[str], ActivityDefinitionError]) -> None:
    try:
        custom = _custom_type(msgspec.inspect.type_info(hint), set())
    except TypeError as exc:
        raise fail(f"its {what} {hint!r} cannot be encoded by msgspec ({exc})") from exc
    if custom is not None:
        raise fail(
            f"its {what} {hint!r} cannot be encoded by msgspec: {custom!r} is not a "
            "msgspec.Struct, dataclass, pydantic v2 model or built-in type"
        )
    if needs_pydantic(hint):
        try:
            new_decoder(hint)  # pydantic's validator: built here, it reports what it lacks
        except Exception as exc:
            raise fail(f"its {what} {hint!r} cannot be validated by pydantic: {exc}") from exc


def _custom_type(info: msgspec.inspect.Type, seen: set[int]) -> Any:
    """Return the first type inside ``info`` that neither msgspec nor pydantic can encode."""
    if isinstance(info, msgspec.inspect.CustomType):
        return None if info.cls is Secret or is_model_class(info.cls) else info.cls
    if id(info) in seen:
        return None
    seen.add(id(info))
    children: list[Any] = []
    for attr in ("item_type", "key_type", "value_type"):
        if hasattr(info, attr):
            children.append(getattr(info, attr))
    children.extend(getattr(info, "types", ()))
    children.extend(getattr(info, "item_types", ()))
    children.extend(f.type for f in getattr(info, "fields", ()))
    for child in children:
        found = _custom_type(child, seen)
        if found is not None:
            return found
    return None


def _error_types(hint: Any, fail: Callable[[str], ActivityDefinitionError]) -> dict[str, type[Any]]:
    if hint in (typing.Never, typing.NoReturn):
        return {}
    members = typing.get_args(hint) if _is_union(hint) else (hint,)
    found: dict[str, type[Any]] = {}
    for member in members:
        if not isinstance(member, type) or not (
            issubclass(member, msgspec.Struct) or dataclasses.is_dataclass(member)
        ):
            raise fail(
                f"its error type {member!r} must be a msgspec.Struct (such as a fnact.Fault "
                "subclass) or a dataclass, so it can travel to the workflow (a pydantic "
                "model can be one of its fields)"
            )
        if member.__name__ in found:
            raise fail(f"two error types are named {member.__name__!r}")
        found[member.__name__] = member
    return found


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)
