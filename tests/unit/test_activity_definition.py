"""Decoration-time checks of `fnact.activity` and what the definition records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import pytest
from dependency_injector.wiring import Provide
from returns.result import Result, Success
from temporalio.common import RetryPolicy

import fnact
import fnact.state
from fnact.exceptions import ActivityDefinitionError, DependencyError


class Args(msgspec.Struct):
    n: int


class Oops(fnact.Fault):
    reason: str


class Other(fnact.Fault):
    code: int


class Plain:
    """Not something msgspec can encode."""


class AppContainer(fnact.Container):
    pass


def _define(fn: Any) -> Any:
    return fnact.activity(fn)


def test_bare_decorator_records_types_and_name() -> None:
    """A bare decorator names the activity after the function and records its types."""

    @fnact.activity
    async def double(ctx: fnact.ActivityContext, args: Args) -> Result[int, Oops | Other]:
        return Success(args.n * 2)

    d = double.definition
    assert double.name == "double"
    assert (d.arg_type, d.result_type) == (Args, int)
    assert dict(d.error_types) == {"Oops": Oops, "Other": Other}
    assert d.uses_state is False
    assert d.options == fnact.ActivityOptions()


def test_options_become_the_definition_defaults() -> None:
    """Options given to the decorator are recorded as the activity's scheduling defaults."""
    policy = RetryPolicy(maximum_attempts=3)

    @fnact.activity(
        name="custom-name",
        start_to_close_timeout=timedelta(seconds=5),
        schedule_to_close_timeout=timedelta(minutes=1),
        heartbeat_timeout=timedelta(seconds=2),
        retry_policy=policy,
    )
    async def act(ctx: fnact.ActivityContext, args: Args) -> Result[int, Oops]:
        return Success(1)

    assert act.name == "custom-name"
    assert act.definition.options == fnact.ActivityOptions(
        start_to_close_timeout=timedelta(seconds=5),
        schedule_to_close_timeout=timedelta(minutes=1),
        heartbeat_timeout=timedelta(seconds=2),
        retry_policy=policy,
    )
    merged = act.definition.options.merged(start_to_close_timeout=timedelta(seconds=9))
    assert merged.start_to_close_timeout == timedelta(seconds=9)
    assert merged.heartbeat_timeout == timedelta(seconds=2)


def test_state_types_come_from_the_context_annotation() -> None:
    """ActivityContext[H, W] declares the run state's handler and workflow-args types."""

    @fnact.activity
    async def act(ctx: fnact.ActivityContext[str, Args], args: int) -> Result[int, Oops]:
        return Success(args)

    assert act.definition.uses_state is True
    assert (act.definition.handler_type, act.definition.workflow_args_type) == (str, Args)


def test_dependencies_are_the_marked_parameters() -> None:
    """Parameters with Provide/Provider markers are recorded as dependencies, in order."""

    @fnact.activity
    async def act(
        ctx: fnact.ActivityContext,
        args: Args,
        clock: fnact.Clock = Provide[AppContainer.clock],
        settings: fnact.Settings = Provide["settings"],
    ) -> Result[int, Oops]:
        return Success(1)

    assert [d.name for d in act.definition.dependencies] == ["clock", "settings"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "def f(ctx: fnact.ActivityContext, args: Args) -> Result[int, Oops]: yield",
            "must be an `async def` or a plain `def` function, not a generator",
        ),
        (
            "async def f(ctx: fnact.ActivityContext, args: Args) -> Result[int, Oops]: yield",
            "must be an `async def` or a plain `def` function, not a generator",
        ),
        (
            "def f(ctx: int, args: Args) -> Result[int, Oops]: ...",
            "first parameter 'ctx' must be annotated as fnact.ActivityContext",
        ),
        (
            "def f(ctx: fnact.ActivityContext, args: Args) -> int: ...",
            "return type must be returns.result.Result[R, E]",
        ),
        ("async def f() -> Result[int, Oops]: ...", "first parameter must be the context"),
        (
            "async def f(ctx: int, args: Args) -> Result[int, Oops]: ...",
            "first parameter 'ctx' must be annotated as fnact.ActivityContext",
        ),
        (
            "async def f(ctx: fnact.ActivityContext) -> Result[int, Oops]: ...",
            "second parameter must be the activity's input",
        ),
        (
            "async def f(ctx: fnact.ActivityContext, args) -> Result[int, Oops]: ...",
            "input parameter 'args' has no type hint",
        ),
        (
            "async def f(ctx: fnact.ActivityContext, args: Args) -> int: ...",
            "return type must be returns.result.Result[R, E]",
        ),
        (
            "async def f(ctx: fnact.ActivityContext, args: Args): ...",
            "return type must be returns.result.Result[R, E], not None",
        ),
        (
            "async def f(ctx: fnact.ActivityContext, args: Args) -> Result[int, ValueError]: ...",
            "error type <class 'ValueError'> must be a msgspec.Struct",
        ),
        (
            "async def f(ctx: fnact.ActivityContext, args: Args, db) -> Result[int, Oops]: ...",
            "parameter 'db' is neither the input nor a dependency",
        ),
        (
            "async def f(ctx: fnact.ActivityContext, args: Plain) -> Result[int, Oops]: ...",
            "cannot be encoded by msgspec",
        ),
        (
            "async def f(ctx: fnact.ActivityContext, args: Args) -> Result[int, Missing]: ...",
            "cannot resolve its type hints",
        ),
    ],
)
def test_wrong_signature_raises_naming_the_function(source: str, message: str) -> None:
    """A wrong signature raises ActivityDefinitionError naming the function and the problem."""
    namespace: dict[str, Any] = {
        "fnact": fnact, "Args": Args, "Oops": Oops, "Result": Result, "Plain": Plain
    }  # fmt: skip
    exec(compile(f"from __future__ import annotations\n{source}", "<test>", "exec"), namespace)
    with pytest.raises(ActivityDefinitionError) as caught:
        fnact.activity(namespace["f"])
    assert "fnact.activity:" in str(caught.value)
    assert ".f:" in str(caught.value)
    assert message in str(caught.value)


def test_non_positive_timeout_is_rejected() -> None:
    """A zero or negative timeout option is rejected when the decorator is applied."""
    with pytest.raises(ActivityDefinitionError, match="start_to_close_timeout must be positive"):
        fnact.activity(start_to_close_timeout=timedelta(0))


async def test_direct_call_runs_the_function_with_a_test_context() -> None:
    """The decorated activity can be awaited directly with a context the test builds."""

    @fnact.activity
    async def greet(ctx: fnact.ActivityContext[str, Args], name: str) -> Result[str, Oops]:
        return Success(f"{ctx.state.handler} {name} x{ctx.state.workflow_args.n}")

    from datetime import UTC, datetime

    ctx = fnact.ActivityContext(state=fnact.state.RunState("hello", Args(n=3), datetime.now(UTC)))
    assert await greet(ctx, "ada") == Success("hello ada x3")


async def test_direct_call_without_a_dependency_says_which() -> None:
    """Calling directly without passing a dependency raises DependencyError naming it."""

    @fnact.activity
    async def act(
        ctx: fnact.ActivityContext, args: Args, clock: fnact.Clock = Provide[AppContainer.clock]
    ) -> Result[int, Oops]:
        return Success(1)

    with pytest.raises(DependencyError, match="pass clock when calling the activity directly"):
        await act(fnact.ActivityContext(), Args(n=1))
    assert await act(fnact.ActivityContext(), Args(n=1), clock=fnact.SystemClock()) == Success(1)


def test_a_plain_def_becomes_a_sync_activity_whose_call_returns_the_result() -> None:
    """A plain def becomes a SyncActivity (an Activity) whose direct call is not awaited."""

    @fnact.activity(start_to_close_timeout=timedelta(seconds=5))
    def triple(
        ctx: fnact.ActivityContext, args: Args, clock: fnact.Clock = Provide[AppContainer.clock]
    ) -> Result[int, Oops]:
        return Success(args.n * 3)

    assert isinstance(triple, fnact.SyncActivity)
    assert isinstance(triple, fnact.Activity)
    assert triple.definition.is_async is False
    assert triple.definition.arg_type is Args
    assert triple.definition.options.start_to_close_timeout == timedelta(seconds=5)
    assert triple(fnact.ActivityContext(), Args(n=2), clock=fnact.SystemClock()) == Success(6)
    with pytest.raises(DependencyError, match="pass clock when calling the activity directly"):
        triple(fnact.ActivityContext(), Args(n=2))


def test_an_async_def_stays_an_activity_that_is_not_sync() -> None:
    """An async def is an Activity, not a SyncActivity, and its definition says it is async."""

    @fnact.activity
    async def same(ctx: fnact.ActivityContext, args: Args) -> Result[int, Oops]:
        return Success(args.n)

    assert type(same) is fnact.Activity
    assert same.definition.is_async is True
    assert same.definition.concurrency is None


def test_max_concurrent_gives_each_activity_its_own_limit() -> None:
    """max_concurrent=N records a process-wide limit of N, one per decorated activity."""

    @fnact.activity(max_concurrent=2)
    async def first(ctx: fnact.ActivityContext, args: Args) -> Result[int, Oops]:
        return Success(1)

    @fnact.activity(max_concurrent=2)
    def second(ctx: fnact.ActivityContext, args: Args) -> Result[int, Oops]:
        return Success(2)

    assert first.definition.concurrency is not None
    assert second.definition.concurrency is not None
    assert first.definition.concurrency.limit == second.definition.concurrency.limit == 2
    assert first.definition.concurrency is not second.definition.concurrency


@pytest.mark.parametrize("value", [0, -1, True, "3", 2.5])
def test_max_concurrent_must_be_a_positive_int(value: Any) -> None:
    """A max_concurrent that is not a positive int is refused when the decorator is applied."""
    with pytest.raises(ActivityDefinitionError, match="max_concurrent must be a positive int"):
        fnact.activity(max_concurrent=value)
