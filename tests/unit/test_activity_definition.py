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
            "def f(ctx: fnact.ActivityContext, args: Args) -> Result[int, Oops]: ...",
            "must be an `async def` function",
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
