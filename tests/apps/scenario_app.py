"""Activities and workflows the integration tests run on the real dev server.

The workflow sandbox re-imports this module, so it holds no test code. It is one
scenario table and the activities and workflows it drives (about 500 lines): the
outcome tests choose rows of it by name.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import msgspec
from dependency_injector import providers
from dependency_injector.wiring import Provide
from returns.result import Failure, Result, Success
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

with workflow.unsafe.imports_passed_through():
    import fnact
    import fnact.testing
    import fnact.workflow


class RunArgs(msgspec.Struct, frozen=True):
    """Workflow input: which scenario to play and with what."""

    scenario: str
    value: int = 0
    attempts: int = 1


class Step(msgspec.Struct, frozen=True):
    """Activity input."""

    value: int
    fail_until_attempt: int = 0


class NotFound(fnact.Fault):
    """A non-retryable expected error."""

    key: str


class Busy(fnact.Fault):
    """A retryable expected error with its own delay."""

    non_retryable = False
    wait_ms: int

    def retry_delay(self) -> timedelta | None:
        return timedelta(milliseconds=self.wait_ms)


class Outcome(msgspec.Struct, frozen=True):
    """What the workflow saw."""

    kind: str
    value: Any = None
    error_type: str | None = None
    error: Any = None


@dataclass
class Handler:
    """A run-state handler that counts its own closing."""

    workflow_args: RunArgs
    closed: int = 0

    def close(self) -> None:
        self.closed += 1


@dataclass
class Journal:
    """What the activities did, recorded for the test to read."""

    calls: list[tuple[str, int]] = field(default_factory=list)
    seen_args: list[Any] = field(default_factory=list)
    handlers: list[Handler] = field(default_factory=list)
    cancelled: int = 0

    def handler(self, workflow_args: RunArgs) -> Handler:
        built = Handler(workflow_args)
        self.handlers.append(built)
        return built


def progress_file() -> str | None:
    """Return the file a counting activity appends progress to (set by the crash test)."""
    return os.environ.get("FNACT_TEST_PROGRESS")


class Container(fnact.Container):
    """The integration tests' container; each test gets a fresh one."""

    progress = providers.Callable(progress_file)
    journal = providers.Singleton(Journal)
    handler = providers.Callable(
        lambda journal, workflow_args: journal.handler(workflow_args), journal=journal
    )
    multiplier = providers.Object(2)


StateCtx = fnact.ActivityContext[Handler, RunArgs]


@fnact.activity(start_to_close_timeout=timedelta(seconds=20))
async def multiply(
    ctx: StateCtx,
    step: Step,
    journal: Journal = Provide[Container.journal],
    factor: int = Provide[Container.multiplier],
) -> Result[int, NotFound]:
    """Multiply, after failing with an exception until the given attempt."""
    journal.calls.append(("multiply", ctx.info.attempt))
    journal.seen_args.append(ctx.state.workflow_args)
    if ctx.info.attempt < step.fail_until_attempt:
        raise RuntimeError(f"flaky on attempt {ctx.info.attempt}")
    return Success(step.value * factor)


@fnact.activity(start_to_close_timeout=timedelta(seconds=20))
async def lookup(
    ctx: StateCtx, step: Step, journal: Journal = Provide[Container.journal]
) -> Result[int, NotFound | Busy]:
    """Fail with NotFound for negative values, Busy for zero."""
    journal.calls.append(("lookup", ctx.info.attempt))
    journal.seen_args.append(ctx.state.workflow_args)
    if step.value < 0:
        return Failure(NotFound(key=str(step.value)))
    if step.value == 0:
        return Failure(Busy(wait_ms=10))
    return Success(step.value)


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=30), heartbeat_timeout=timedelta(seconds=2)
)
async def wait_forever(
    ctx: StateCtx, step: Step, journal: Journal = Provide[Container.journal]
) -> Result[int, NotFound]:
    """Heartbeat until cancelled."""
    journal.calls.append(("wait_forever", ctx.info.attempt))
    journal.seen_args.append(ctx.state.workflow_args)
    try:
        while True:
            ctx.heartbeat(message="waiting")
            await asyncio.sleep(0.1)
    except asyncio.CancelledError:
        journal.cancelled += 1
        raise


@fnact.activity(start_to_close_timeout=timedelta(seconds=20))
async def echo(ctx: fnact.ActivityContext, step: Step) -> Result[Step, NotFound]:
    """Return the input unchanged (no run state)."""
    return Success(step)


@fnact.activity(start_to_close_timeout=timedelta(seconds=1))
async def oversleep(
    ctx: StateCtx, step: Step, journal: Journal = Provide[Container.journal]
) -> Result[int, NotFound]:
    """Sleep past the start-to-close timeout without heartbeating."""
    journal.calls.append(("oversleep", ctx.info.attempt))
    await asyncio.sleep(2)
    return Success(step.value)


@fnact.activity(start_to_close_timeout=timedelta(seconds=20))
async def advance_clock(
    ctx: StateCtx, step: Step, clock: fnact.testing.FakeClock = Provide[Container.clock]
) -> Result[int, NotFound]:
    """Move the (fake) clock forward by ``step.value`` minutes."""
    clock.advance(timedelta(minutes=step.value))
    return Success(step.value)


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=20), heartbeat_timeout=timedelta(seconds=2)
)
async def heartbeat_for(
    ctx: StateCtx, step: Step, journal: Journal = Provide[Container.journal]
) -> Result[int, NotFound]:
    """Heartbeat for ``step.value`` tenths of a second, then succeed."""
    journal.calls.append(("heartbeat_for", ctx.info.attempt))
    for _ in range(step.value):
        ctx.heartbeat(message="working")
        await asyncio.sleep(0.1)
    return Success(ctx.info.attempt)


@fnact.activity(start_to_close_timeout=timedelta(seconds=20))
async def run_value(ctx: StateCtx, step: Step) -> Result[list[int], NotFound]:
    """Return the activity's input and the run's workflow-args value."""
    return Success([step.value, ctx.state.workflow_args.value])


ACTIVITIES = [
    multiply, lookup, wait_forever, echo, oversleep, advance_clock, heartbeat_for, run_value
]  # fmt: skip
BY_NAME: dict[str, Any] = {a.name: a for a in ACTIVITIES}


@workflow.defn
class Scenario:
    """Run one activity named by the scenario and report what happened."""

    @workflow.run
    async def run(self, args: RunArgs) -> Outcome:
        retry = RetryPolicy(
            initial_interval=timedelta(milliseconds=1),
            maximum_interval=timedelta(milliseconds=10),
            maximum_attempts=args.attempts,
        )
        outcome = Outcome(kind="empty")
        for step in args.scenario.split(","):
            name, _, mode = step.partition(":")
            fail_until = int(mode) if mode.isdigit() else 0
            try:
                result = await fnact.workflow.execute_activity(
                    BY_NAME[name],
                    Step(args.value, fail_until),
                    retry_policy=retry,
                    cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                )
            except ActivityError as err:
                cause = err.cause
                if isinstance(cause, CancelledError):
                    raise
                return Outcome(kind="exception", error_type=type(cause).__name__, error=str(cause))
            if isinstance(result, Failure):
                error = result.failure()
                return Outcome(kind="failure", error_type=type(error).__name__, error=error)
            outcome = Outcome(kind="success", value=result.unwrap())
        return outcome


@workflow.defn
class Chain:
    """Call ``run_value`` ``args.attempts`` times, each with a different input."""

    @workflow.run
    async def run(self, args: RunArgs) -> list[list[int]]:
        seen = []
        for n in range(args.attempts):
            result = await fnact.workflow.execute_activity(run_value, Step(n))
            seen.append(result.unwrap())
        return seen


@workflow.defn
class Continuing:
    """Run ``run_value`` and continue as new with value + 1, until value reaches attempts."""

    @workflow.run
    async def run(self, args: RunArgs) -> list[int]:
        result = await fnact.workflow.execute_activity(run_value, Step(args.value))
        seen = result.unwrap()
        if args.value + 1 < args.attempts:
            workflow.continue_as_new(RunArgs(args.scenario, args.value + 1, args.attempts))
        return seen


@workflow.defn
class Strict:
    """Echo a typed input, to test strict workflow input decoding."""

    @workflow.run
    async def run(self, step: Step) -> int:
        return step.value


@workflow.defn
class RawCall:
    """Call an activity by name with an untyped input, to test strict input decoding."""

    @workflow.run
    async def run(self, call: dict[str, Any]) -> Outcome:
        try:
            value = await workflow.execute_activity(
                call["activity"],
                call["input"],
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(milliseconds=1), maximum_attempts=5
                ),
            )
        except ActivityError as err:
            cause = err.cause
            assert isinstance(cause, ApplicationError)
            return Outcome(
                kind="exception",
                value=[cause.non_retryable, err.retry_state.name if err.retry_state else None],
                error_type=cause.type,
                error=cause.message,
            )
        return Outcome(kind="success", value=value)


class Cursor(msgspec.Struct):
    """Where a counting activity resumes."""

    next: int


class PageCursor(msgspec.Struct):
    """An older checkpoint type whose field changed type since."""

    next: str


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=60),
    heartbeat_timeout=timedelta(seconds=2),
    checkpoint=Cursor,
)
async def count_up(
    ctx: fnact.ActivityContext, step: Step, progress: str | None = Provide[Container.progress]
) -> Result[list[int], NotFound]:
    """Count to ``step.value`` one item per 100 ms, checkpointing after each item."""
    resumed = ctx.last_checkpoint(Cursor)
    begin = resumed.next if resumed else 0
    for item in range(begin, step.value):
        await asyncio.sleep(0.1)
        if progress:
            with open(progress, "a") as out:  # noqa: ASYNC230 (tiny append)
                out.write(f"{ctx.info.attempt} {item}\n")
        ctx.checkpoint(Cursor(next=item + 1))
    return Success([ctx.info.attempt, begin])


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=30), heartbeat_timeout=timedelta(seconds=2)
)
async def sleep_quietly(
    ctx: StateCtx, step: Step, journal: Journal = Provide[Container.journal]
) -> Result[int, NotFound]:
    """Sleep without ever heartbeating: auto-heartbeat alone must deliver cancellation."""
    journal.calls.append(("sleep_quietly", ctx.info.attempt))
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        journal.cancelled += 1
        raise
    return Success(0)


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=30),
    heartbeat_timeout=timedelta(seconds=1),
    stall_timeout=timedelta(milliseconds=300),
)
async def stall_once(
    ctx: StateCtx, step: Step, journal: Journal = Provide[Container.journal]
) -> Result[int, NotFound]:
    """On the first attempt report progress once, then hang; later attempts succeed."""
    journal.calls.append(("stall_once", ctx.info.attempt))
    ctx.heartbeat(progress=1, message="started")
    if ctx.info.attempt == 1:
        await asyncio.sleep(30)
    return Success(ctx.info.attempt)


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=30), heartbeat_timeout=timedelta(seconds=2)
)
async def change_checkpoint_type(ctx: fnact.ActivityContext, step: Step) -> Result[int, NotFound]:
    """Checkpoint one type, fail, then read it back as an incompatible type."""
    if ctx.info.attempt == 1:
        ctx.checkpoint(PageCursor(next="page-2"))
        raise RuntimeError("deploy happened")
    resumed = ctx.last_checkpoint(Cursor)
    return Success(resumed.next if resumed else -1)


@activity.defn
@fnact.auto_heartbeater
async def plain_wait(step: Step) -> int:
    """A plain Temporal activity kept alive by fnact.auto_heartbeater; returns when cancelled."""
    try:
        await asyncio.sleep(step.value)
    except asyncio.CancelledError:
        return -1
    return step.value


ACTIVITIES.extend([count_up, sleep_quietly, stall_once, change_checkpoint_type])
BY_NAME.update({a.name: a for a in ACTIVITIES})


@workflow.defn
class PlainCall:
    """Call the plain auto-heartbeat activity with a typed input."""

    @workflow.run
    async def run(self, step: Step) -> int:
        return await workflow.execute_activity(
            plain_wait,
            step,
            start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=timedelta(seconds=1),
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )


@workflow.defn
class Remote:
    """Run one activity on the task queue of the worker processes (``<queue>`` minus -wf)."""

    @workflow.run
    async def run(self, args: RunArgs) -> list[int]:
        queue = workflow.info().task_queue.removesuffix("-wf")
        result = await fnact.workflow.execute_activity(
            BY_NAME[args.scenario],
            Step(args.value),
            task_queue=queue,
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=1), maximum_attempts=3
            ),
        )
        value: list[int] = result.unwrap()
        return value


class Login(msgspec.Struct, frozen=True):
    """Credentials in a workflow's input."""

    user: str
    password: fnact.Secret


class LoginRejected(fnact.Fault):
    """A Failure that carries the credentials it was given."""

    user: str
    password: fnact.Secret


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=20), heartbeat_timeout=timedelta(seconds=5)
)
async def log_in(
    ctx: fnact.ActivityContext[None, Login], login: Login
) -> Result[int, LoginRejected]:
    """Use the secret, log it, heartbeat about it, then reject it."""
    password = ctx.state.workflow_args.password
    assert password.reveal() == login.password.reveal()
    ctx.logger.info("logging in %s with %s", login.user, password, password=password, login=login)
    ctx.heartbeat(progress=50, message=f"trying {password}")
    await asyncio.sleep(0.2)
    return Failure(LoginRejected(user=login.user, password=password))


@fnact.activity(start_to_close_timeout=timedelta(seconds=20))
async def huge(ctx: fnact.ActivityContext, step: Step) -> Result[str, NotFound]:
    """Return a result of ``step.value`` bytes."""
    return Success("x" * step.value)


@fnact.activity(start_to_close_timeout=timedelta(seconds=20))
async def where_am_i(ctx: fnact.ActivityContext, step: Step) -> Result[str, NotFound]:
    """Return the run's output path relative to the output root."""
    return Success(fnact.build_output_path())


ACTIVITIES.extend([log_in, huge, where_am_i])
BY_NAME.update({a.name: a for a in ACTIVITIES})


@workflow.defn
class SecretLogin:
    """Log in with the workflow's credentials; fail with the masked rejection."""

    @workflow.run
    async def run(self, login: Login) -> int:
        result = await fnact.workflow.execute_activity(log_in, login)
        if isinstance(result, Failure):
            raise ApplicationError(f"rejected: {result.failure()!r}", non_retryable=True)
        return result.unwrap()


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=60), heartbeat_timeout=timedelta(seconds=2)
)
async def write_files(
    ctx: fnact.ActivityContext, step: Step, progress: str | None = Provide[Container.progress]
) -> Result[list[int], NotFound]:
    """Write ``step.value`` files of 256 KiB, skipping those already committed."""
    written = []
    for part in range(step.value):
        name = f"part-{part:03d}.bin"
        if ctx.has_output(name):
            continue
        ctx.write_output(name, bytes([part % 256]) * 256 * 1024)
        written.append(part)
        if progress:
            with open(progress, "a") as out:  # noqa: ASYNC230 (tiny append)
                out.write(f"{ctx.info.attempt} {part}\n")
        ctx.heartbeat(progress=part)
        await asyncio.sleep(0.05)
    return Success([ctx.info.attempt, len(written)])


ACTIVITIES.append(write_files)
BY_NAME[write_files.name] = write_files


@fnact.activity(start_to_close_timeout=timedelta(seconds=20), auto_heartbeat=False)
async def blocking_beats(ctx: fnact.ActivityContext, step: Step) -> Result[int, NotFound]:
    """Heartbeat and checkpoint from a blocking thread, with no heartbeater running yet."""

    def work() -> int:
        for n in range(step.value):
            ctx.heartbeat(progress=n)
            ctx.checkpoint(Cursor(next=n + 1), progress=n)
        return step.value

    return Success(await ctx.run_blocking(work))


ACTIVITIES.append(blocking_beats)
BY_NAME[blocking_beats.name] = blocking_beats
