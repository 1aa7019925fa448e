"""ActivityHarness: everything an in-process activity run did, and how to set it up."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
import temporalio.exceptions
from dependency_injector import providers
from dependency_injector.wiring import Provide
from returns.result import Failure, Result, Success
from temporalio.exceptions import ApplicationError

import fnact
from fnact.testing import (
    ActivityHarness,
    Crash,
    StateCounts,
    assert_failure,
    assert_success,
    run_activity,
)


class Export(msgspec.Struct):
    rows: int
    fail_at: int = -1


class Cursor(msgspec.Struct):
    next: int


class Tenant(msgspec.Struct):
    name: str


class Busy(fnact.Fault):
    non_retryable = False
    where: int


@dataclass
class Client:
    tenant: str
    closed: int = 0

    def close(self) -> None:
        self.closed += 1


@dataclass
class Api:
    name: str


class AppContainer(fnact.Container):
    api = providers.Singleton(Api, name="real")
    handler = providers.Factory(lambda workflow_args: Client(workflow_args.name))


async def make_api() -> Api:
    return Api(name="async")


@fnact.activity(checkpoint=Cursor)
async def export(
    ctx: fnact.ActivityContext[Client, Tenant], job: Export, api: Api = Provide[AppContainer.api]
) -> Result[int, Busy]:
    """Export rows one by one, checkpointing; fail at ``fail_at`` on the first attempt."""
    start = ctx.last_checkpoint(Cursor)
    begin = start.next if start else 0
    ctx.logger.info("export started", begin=begin, api=api.name)
    for row in range(begin, job.rows):
        if row == job.fail_at and ctx.info.attempt == 1:
            raise ConnectionError("network blip")
        if row == job.fail_at and ctx.info.attempt == 2:
            return Failure(Busy(where=row))
        ctx.checkpoint(Cursor(next=row + 1))
        ctx.heartbeat(progress=100 * (row + 1) / job.rows, message=f"row {row}")
        await asyncio.sleep(0)
    ctx.write_output(f"{ctx.state.workflow_args.name}.txt", f"{job.rows - begin} rows")
    return Success(job.rows - begin)


@fnact.activity
async def wait(ctx: fnact.ActivityContext, job: Export) -> Result[int, Busy]:
    """Heartbeat until cancelled, counting the cleanups."""
    try:
        for n in range(1000):
            ctx.heartbeat(progress=n)
            await asyncio.sleep(0.01)
    except asyncio.CancelledError:
        ctx.logger.warning("cleaned up")
        raise
    return Success(0)


@fnact.activity
async def swallow(ctx: fnact.ActivityContext, job: Export) -> Result[int, Busy]:
    """Swallow cancellation and claim success (a bug a worker shutdown must not record)."""
    try:
        await ctx.wait_for_cancel()
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        pass
    return Success(1)


@pytest.fixture
def harness(tmp_path: Path) -> ActivityHarness:
    return ActivityHarness(AppContainer(), output_root=tmp_path, workflow_args=Tenant("acme"))


async def test_run_records_result_heartbeats_logs_state_and_files(harness: ActivityHarness) -> None:
    """One run returns its Result with heartbeats, checkpoints, logs, state counts and files."""
    run = await harness.run(export, Export(rows=3))
    assert assert_success(run.result) == 3
    assert run.progress == pytest.approx([100 / 3, 200 / 3, 100.0])
    assert run.checkpoints == [Cursor(1), Cursor(2), Cursor(3)]
    assert run.heartbeats[-1].message == "row 2"
    assert run.log_fields[0] == {
        "message": "export started", "workflow_id": "test-workflow", "run_id": "test-run",
        "activity_type": "export", "activity_id": "test", "attempt": 1, "task_queue": "test",
        "begin": 0, "api": "real",
    }  # fmt: skip
    assert run.state == StateCounts(builds=1)
    assert run.files == {"acme.txt": b"3 rows"}
    assert run.output_path == harness.output_path


async def test_overrides_apply_until_close_sync_and_async(harness: ActivityHarness) -> None:
    """Overrides, with values or (async) providers, apply to later runs and are undone on close."""
    harness.override(api=Api(name="fake"))
    assert (await harness.run(export, Export(rows=1))).log_fields[0]["api"] == "fake"
    harness.override(api=providers.Factory(make_api))
    assert (await harness.run(export, Export(rows=1))).log_fields[0]["api"] == "async"
    harness.close()
    assert not harness.container.api.overridden
    assert not harness.container.settings.overridden
    assert harness.container.api().name == "real"


def test_override_of_unknown_provider_names_it(harness: ActivityHarness) -> None:
    """Overriding a provider the container lacks raises, naming it."""
    with pytest.raises(AttributeError, match="no provider named 'database'"):
        harness.override(database=object())


async def test_retries_carry_the_last_checkpoint(harness: ActivityHarness) -> None:
    """run_retries resumes each attempt from the previous attempt's last checkpoint."""
    runs = await harness.run_retries(export, Export(rows=5, fail_at=3), max_attempts=3)
    assert [r.attempt for r in runs] == [1, 2, 3]
    assert isinstance(runs[0].exception, ConnectionError)
    assert assert_failure(runs[1].result, Busy) == Busy(where=3)
    assert runs[1].log_fields[0]["begin"] == 3
    assert assert_success(runs[2].result) == 2
    assert runs[2].log_fields[0]["begin"] == 3


async def test_heartbeat_details_take_a_heartbeat_a_checkpoint_or_builtins(
    harness: ActivityHarness,
) -> None:
    """A Heartbeat from run.heartbeats, a checkpoint Struct and the builtins form all resume."""
    first = await harness.run(export, Export(rows=5, fail_at=3))
    last = first.heartbeats[-1]
    assert last.checkpoint == Cursor(3)
    for details in ([last], [Cursor(3)], [msgspec.to_builtins(last)], ({"checkpoint": Cursor(3)},)):
        run = await harness.run(export, Export(rows=5), attempt=3, heartbeat_details=details)
        assert run.log_fields[0]["begin"] == 3, details
        assert assert_success(run) == 2


@fnact.activity
async def details_seen(ctx: fnact.ActivityContext, job: Export) -> Result[list[Any], Busy]:
    """Return the heartbeat details the attempt was given, as it sees them."""
    return Success(list(ctx.info.heartbeat_details))


async def test_heartbeat_details_reach_the_attempt_as_a_worker_s_retry_sees_them(
    harness: ActivityHarness,
) -> None:
    """The attempt sees the heartbeat as Temporal hands it over: a dict, decoded without a type."""
    beat = fnact.Heartbeat(progress=60.0, message="row 2", checkpoint=Cursor(3))
    expected = [{"progress": 60.0, "message": "row 2", "checkpoint": {"next": 3}}]
    run = await harness.run(details_seen, Export(rows=0), attempt=2, heartbeat_details=[beat])
    assert assert_success(run) == expected
    run = await harness.run(details_seen, Export(rows=0), attempt=2, heartbeat_details=[Cursor(3)])
    assert assert_success(run) == [{"checkpoint": {"next": 3}}]


@pytest.mark.parametrize(
    ("details", "error", "problem"),
    [
        (fnact.Heartbeat(checkpoint=Cursor(3)), TypeError, "got a Heartbeat outside a list"),
        ({"checkpoint": {"next": 3}}, TypeError, "got a dict outside a list"),
        ("checkpoint", TypeError, "got str"),
        ([3], TypeError, r"got \[int\]"),
        ([None], TypeError, r"got \[NoneType\]"),
        ([{"next": 3}], ValueError, "the key\\(s\\) 'next', which a Heartbeat does not have"),
        ([{"progress": "half"}], ValueError, r"not a Heartbeat in builtins form: .*\$\.progress"),
        ([Cursor(1), Cursor(2)], ValueError, r"has 2 items: .*\[run\.heartbeats\[-1\]\]"),
    ],
)
async def test_heartbeat_details_refuse_anything_else_saying_what_they_accept(
    harness: ActivityHarness, details: object, error: type[Exception], problem: str
) -> None:
    """Details a retry could never see raise, naming what was given and what is accepted."""
    with pytest.raises(error, match=f"ActivityHarness.run: heartbeat_details.*{problem}") as caught:
        await harness.run(export, Export(rows=1), attempt=2, heartbeat_details=details)  # type: ignore[arg-type]
    if error is TypeError:
        assert "a fnact.Heartbeat (as in run.heartbeats), a checkpoint" in str(caught.value)


async def test_missing_workflow_args_advises_passing_them_to_the_harness(tmp_path: Path) -> None:
    """Without workflow_args, the StateError says to pass them to the harness, not a worker."""
    harness = ActivityHarness(AppContainer(), output_root=tmp_path)
    run = await harness.run(export, Export(rows=1))
    assert isinstance(run.exception, ApplicationError)
    assert run.exception.type == "StateError"
    assert run.exception.non_retryable
    message = run.exception.message
    assert "declares workflow arguments of Tenant and none were given" in message
    assert "pass workflow_args= to ActivityHarness(...), to its run(...)" in message
    assert "create_worker" not in message
    ok = await harness.run(export, Export(rows=1), workflow_args=Tenant("acme"))
    assert assert_success(ok) == 1


async def test_cancel_after_heartbeats_runs_cleanup_and_releases(harness: ActivityHarness) -> None:
    """Cancelling after k heartbeats cancels the body, which cleans up and re-raises."""
    run = await harness.run(wait, Export(rows=0), cancel_after_heartbeats=3)
    assert run.cancelled
    assert isinstance(run.exception, asyncio.CancelledError)
    assert len(run.heartbeats) == 3
    assert [f["message"] for f in run.log_fields] == ["cleaned up"]


async def test_cancel_after_a_time(harness: ActivityHarness) -> None:
    """Cancelling after a delay stops a running body."""
    run = await harness.run(wait, Export(rows=0), cancel_after=0.05)
    assert run.cancelled
    assert 1 <= len(run.heartbeats) < 100


async def test_worker_shutdown_is_never_recorded_as_success(harness: ActivityHarness) -> None:
    """A body that swallows a shutdown's cancellation fails retryably instead of succeeding."""
    run = await harness.run(swallow, Export(rows=0), shutdown_after=0.02)
    assert isinstance(run.exception, ApplicationError)
    assert run.exception.type == "WorkerShutdown"
    assert not run.exception.non_retryable


async def test_fake_clock_drives_state_refresh(harness: ActivityHarness) -> None:
    """Advancing the fake clock past the TTL rebuilds the state and closes the old handler."""
    first = await harness.run(export, Export(rows=1))
    harness.clock.advance(timedelta(minutes=14, seconds=59))
    second = await harness.run(export, Export(rows=1))
    harness.clock.advance(timedelta(seconds=1))
    third = await harness.run(export, Export(rows=1))
    assert (first.state, second.state) == (StateCounts(builds=1), StateCounts())
    assert third.state == StateCounts(builds=1, refreshes=1, closes=1)


async def test_run_identity_and_info_overrides(tmp_path: Path) -> None:
    """Workflow id, run id, start time and attempt reach the activity as given."""
    harness = ActivityHarness(
        AppContainer(), output_root=tmp_path, workflow_args=Tenant("t"), workflow_id="wf-9",
        run_id="r-9", run_started=datetime(2030, 2, 3, 4, 5, tzinfo=UTC),
    )  # fmt: skip
    run = await harness.run(export, Export(rows=1), attempt=4)
    assert run.log_fields[0]["workflow_id"] == "wf-9"
    assert run.log_fields[0]["attempt"] == 4
    assert run.output_path == tmp_path / "2030/02/03/04/05/wf-9/r-9"
    assert (run.output_path / "t.txt").read_text() == "1 rows"


async def test_logs_are_captured_whatever_the_level(
    harness: ActivityHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """Records are captured even when the application's loggers are at WARNING."""
    logging.getLogger("fnact").setLevel(logging.WARNING)
    try:
        run = await harness.run(export, Export(rows=1))
    finally:
        logging.getLogger("fnact").setLevel(logging.NOTSET)
    assert [f["message"] for f in run.log_fields] == ["export started"]
    assert logging.getLogger("fnact").level == logging.NOTSET


def test_assertion_helpers_explain_mismatches() -> None:
    """assert_success/assert_failure say what they got and show a diff of values."""
    with pytest.raises(AssertionError, match=r"expected Success, got Failure\(Busy\)"):
        assert_success(Failure(Busy(where=1)))
    with pytest.raises(AssertionError, match=r"expected Failure\(Busy\), got Success"):
        assert_failure(Success(1), Busy)
    with pytest.raises(AssertionError, match=r"(?s)Success value differs.*-\[1, 2\].*\+\[1, 3\]"):
        assert_success(Success([1, 3]), [1, 2])
    assert assert_failure(Failure(Busy(where=2)), Busy, Busy(where=2)) == Busy(where=2)


async def test_assertions_accept_a_run_and_report_its_exception(harness: ActivityHarness) -> None:
    """assert_success takes an ActivityRun; a run that raised fails with its exception."""
    ok = await harness.run(export, Export(rows=2))
    assert assert_success(ok) == 2
    crashed = await harness.run(export, Export(rows=2, fail_at=0))
    with pytest.raises(AssertionError, match="the activity raised ConnectionError: network blip"):
        assert_success(crashed)


async def test_workflow_args_can_change_per_run(harness: ActivityHarness) -> None:
    """run(workflow_args=...) builds that run's state from the given arguments."""
    run = await harness.run(export, Export(rows=1), workflow_args=Tenant("globex"))
    assert run.files == {"globex.txt": b"1 rows"}


def test_close_closes_handlers_and_undoes_overrides(tmp_path: Path) -> None:
    """Closing the harness outside a loop closes the run-state handlers it built."""
    harness = ActivityHarness(AppContainer(), output_root=tmp_path, workflow_args=Tenant("a"))
    asyncio.run(harness.run(export, Export(rows=1)))
    store = harness.container.state_store()
    [record] = store._entries.values()
    harness.close()
    assert record.state.handler.closed == 1
    assert len(store) == 0
    assert not harness.container.settings.overridden


# --- Sync activities: a plain def runs in a thread of the harness's own executor.


@fnact.activity(checkpoint=Cursor)
def export_sync(
    ctx: fnact.ActivityContext[Client, Tenant], job: Export, api: Api = Provide[AppContainer.api]
) -> Result[int, Busy]:
    """The sync twin of ``export``: its blocking steps run in a thread, checkpointing."""
    start = ctx.last_checkpoint(Cursor)
    begin = start.next if start else 0
    ctx.logger.info("export started", begin=begin, thread=threading.current_thread().name)
    for row in range(begin, job.rows):
        if row == job.fail_at and ctx.info.attempt == 1:
            raise ConnectionError("network blip")
        time.sleep(0.001)
        ctx.checkpoint(Cursor(next=row + 1), progress=row + 1)
    ctx.write_output(f"{ctx.state.workflow_args.name}.txt", f"{job.rows - begin} rows")
    ctx.run_on_loop(ctx.outputs.write("by-api.txt", api.name))  # ctx.outputs is async
    return Success(job.rows - begin)


@fnact.activity
def nap_sync(ctx: fnact.ActivityContext, job: Export) -> Result[int, Busy]:
    """Heartbeat in short naps until cancelled; the cancellation is raised in the thread."""
    try:
        for n in range(1000):
            ctx.heartbeat(progress=n)
            time.sleep(0.01)
    except temporalio.exceptions.CancelledError:
        ctx.logger.warning("cleaned up in the thread", cancelled=ctx.is_cancelled)
        raise
    return Success(0)


async def test_a_sync_activity_runs_in_the_harness_thread_pool(harness: ActivityHarness) -> None:
    """A plain def runs in the harness's threads with its context, checkpoints and outputs."""
    run = await harness.run(export_sync, Export(rows=3))
    assert assert_success(run.result) == 3
    assert run.checkpoints == [Cursor(1), Cursor(2), Cursor(3)]
    assert run.progress == [1, 2, 3]
    assert run.log_fields[0]["thread"].startswith("fnact-harness")
    assert run.log_fields[0]["workflow_id"] == "test-workflow"
    assert run.files == {"acme.txt": b"3 rows", "by-api.txt": b"real"}
    assert run.state == StateCounts(builds=1)


async def test_cancelling_a_sync_activity_raises_in_its_thread(harness: ActivityHarness) -> None:
    """Cancelled after three heartbeats, the thread gets Temporal's CancelledError and cleans up."""
    run = await harness.run(nap_sync, Export(rows=0), cancel_after_heartbeats=3)
    assert run.cancelled
    assert isinstance(run.exception, asyncio.CancelledError)
    assert 3 <= len(run.heartbeats) < 100
    assert [(f["message"], f["cancelled"]) for f in run.log_fields] == [
        ("cleaned up in the thread", True)
    ]


async def test_a_sync_activity_retries_and_rehearses_crashes_from_its_checkpoint(
    harness: ActivityHarness,
) -> None:
    """Retries and crash rehearsals carry a sync activity's last checkpoint to the next attempt."""
    runs = await harness.run_retries(export_sync, Export(rows=4, fail_at=2), max_attempts=2)
    assert [type(r.exception).__name__ for r in runs] == ["ConnectionError", "NoneType"]
    assert assert_success(runs[1].result) == 2
    crashed = await harness.rehearse_crash(
        export_sync, Export(rows=5), Crash(after_checkpoint=3, how="exception")
    )
    assert type(crashed.crashed.exception).__name__ == "RehearsedCrash"  # raised in the thread
    assert crashed.resumed_from == Cursor(3)
    assert assert_success(crashed.retry.result) == 2
    killed = await harness.rehearse_crash(
        export_sync, Export(rows=5), Crash(after_checkpoint=3, how="kill")
    )
    assert type(killed.crashed.exception).__name__ == "Killed"
    begun = 0 if killed.resumed_from is None else killed.resumed_from.next
    assert begun < 3  # the throttle held the newer checkpoints back
    assert assert_success(killed.retry.result) == 5 - begun
    assert harness._executor is not None
    harness.close()
    assert harness._executor is None  # close shuts the harness's thread pool down


async def test_run_activity_runs_a_sync_activity(tmp_path: Path) -> None:
    """run_activity runs a plain def activity as a worker would and returns its Result."""
    container = AppContainer()
    container.settings.override(fnact.Settings(output_root=tmp_path))
    result = await run_activity(
        export_sync, Export(rows=2), container=container, workflow_args=Tenant("solo")
    )
    assert assert_success(result) == 2
    await container.state_store().aclose()
