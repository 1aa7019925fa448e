"""Workflows and activities for the workflow-side API: handles, fan-out, local activities.

The workflow sandbox re-imports this module, so it holds no test code. The
docs page ``how-to/fan-out-and-local-activities.md`` includes its snippets.
"""

# --8<-- [start:imports]
from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, assert_type

import msgspec
from dependency_injector import providers
from returns.result import Failure, Result, Success
from temporalio import activity, workflow
from temporalio.common import Priority, RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    import fnact
    import fnact.workflow

# --8<-- [end:imports]

# --8<-- [start:square]
RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=1), maximum_attempts=2)
UNLUCKY = 13
"""The one number `square` refuses."""


class Unlucky(fnact.Fault):
    """`square` refuses this number."""

    n: int


@fnact.activity(start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY)
async def square(ctx: fnact.ActivityContext, n: int) -> Result[int, Unlucky]:
    """Return ``n * n``, or ``Failure(Unlucky)`` for 13."""
    if n == UNLUCKY:
        return Failure(Unlucky(n=n))
    return Success(n * n)


# --8<-- [end:square]


# --8<-- [start:job]
class Job(msgspec.Struct, frozen=True):
    """Workflow input: a name the activities read from the run state, and a count."""

    name: str
    count: int = 0


class Outcome(msgspec.Struct, frozen=True):
    """One activity's `Result`, as the workflow saw it."""

    n: int
    value: int | None = None
    error_type: str | None = None
    error_n: int | None = None


# --8<-- [end:job]


# --8<-- [start:note_types]
class Unused(fnact.Fault):
    """An error `note` declares and never returns."""


class Noted(msgspec.Struct, frozen=True):
    """What `note` saw of its run."""

    n: int
    job: str
    local: bool


@dataclass
class Tally:
    """A run's handler: it knows the run's input."""

    job: Job


# --8<-- [end:note_types]


@dataclass
class Ledger:
    """Handlers built in this process, per run (thread-safe)."""

    builds: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def opened(self, key: str) -> None:
        with self.lock:
            self.builds[key] = self.builds.get(key, 0) + 1


def open_tally(ledger: Ledger, workflow_args: Job) -> Tally:
    """Build a run's handler and record the build."""
    info = activity.info()
    ledger.opened(f"{info.workflow_id}/{info.workflow_run_id}")
    return Tally(workflow_args)


class WorkflowApiContainer(fnact.Container):
    """The container of these tests' workers."""

    ledger = providers.Singleton(Ledger)
    handler = providers.Callable(open_tally, ledger=ledger)


# --8<-- [start:note]
@fnact.activity(start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY)
async def note(ctx: fnact.ActivityContext[Tally, Job], n: int) -> Result[Noted, Unused]:
    """Return what the run state says about the run."""
    job = ctx.state.workflow_args
    assert ctx.state.handler.job is job
    return Success(Noted(n=n, job=job.name, local=ctx.info.is_local))


# --8<-- [end:note]


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=60),
    heartbeat_timeout=timedelta(seconds=1),
    retry_policy=RETRY,
)
async def nap(ctx: fnact.ActivityContext, seconds: float) -> Result[float, Unused]:
    """Sleep, beating automatically, until done or cancelled."""
    await asyncio.sleep(seconds)
    return Success(seconds)


def outcome(n: int, result: Result[int, Unlucky]) -> Outcome:
    """Turn one `square` result into what the workflow returns."""
    match result:
        case Success(value):
            return Outcome(n=n, value=value)
        case Failure(Unlucky() as error):  # the declared type, rebuilt
            return Outcome(n=n, error_type=type(error).__name__, error_n=error.n)
    raise AssertionError(f"unexpected result {result!r}")


# --8<-- [start:fan_out]
@workflow.defn
class Squares:
    """Start ``job.count`` activities at once, gather their Results."""

    @workflow.run
    async def run(self, job: Job) -> list[Outcome]:
        handles = [fnact.workflow.start_activity(square, n) for n in range(job.count)]
        results = await asyncio.gather(*handles)
        # --8<-- [end:fan_out]
        assert_type(results, list[Result[int, Unlucky]])
        return [outcome(n, r) for n, r in enumerate(results)]


# --8<-- [start:local_report]
class LocalReport(msgspec.Struct, frozen=True):
    """What `LocalNotes` saw: three notes, and the local call `square` refused."""

    notes: list[Noted]
    refused: Outcome


# --8<-- [end:local_report]


# --8<-- [start:local]
@workflow.defn
class LocalNotes:
    """Run a stateful activity as a local activity (executed and started) and as a regular one."""

    @workflow.run
    async def run(self, job: Job) -> LocalReport:
        first = await fnact.workflow.execute_local_activity(note, 1)
        second = fnact.workflow.start_local_activity(
            note, 2, start_to_close_timeout=timedelta(seconds=5)
        )
        # --8<-- [end:local]
        third = await fnact.workflow.execute_activity(note, 3)
        refused = await fnact.workflow.execute_local_activity(square, UNLUCKY)
        assert_type(refused, Result[int, Unlucky])
        notes = [first.unwrap(), (await second).unwrap(), third.unwrap()]
        return LocalReport(notes=notes, refused=outcome(UNLUCKY, refused))


# --8<-- [start:options]
@workflow.defn
class WithOptions:
    """Start one activity with SDK options; await its handle twice, then the SDK's handle."""

    @workflow.run
    async def run(self, job: Job) -> list[int]:
        handle = fnact.workflow.start_activity(
            square,
            job.count,
            priority=Priority(priority_key=2),
            summary=f"square {job.count}",
            activity_id=f"square-{job.count}",
            schedule_to_start_timeout=timedelta(seconds=30),
        )
        # --8<-- [end:options]
        first, again = (await handle).unwrap(), (await handle).unwrap()
        sdk_handle = handle.temporal_handle
        assert isinstance(sdk_handle, asyncio.Task)
        return [first, again, await sdk_handle]


@workflow.defn
class CancelNap:
    """Start a long activity, cancel it through the handle, report what awaiting it raised."""

    @workflow.run
    async def run(self, job: Job) -> str:
        handle = fnact.workflow.start_activity(nap, 60.0)
        await workflow.sleep(0.5)
        handle.cancel()
        try:
            await handle
        except ActivityError as err:
            return f"{type(err.cause).__name__} done={handle.done()}"
        return "not cancelled"


WORKFLOWS = [Squares, LocalNotes, WithOptions, CancelNap]
ACTIVITIES: list[fnact.Activity[Any, Any, Any]] = [square, note, nap]
