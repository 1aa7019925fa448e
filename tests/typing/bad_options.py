"""Deliberate type errors in fnact's typed options; mypy must report each tagged line.

``tests/typing/test_typed_options.py`` runs mypy on this file and checks that it reports
an error on exactly the lines whose comment starts with ``E:`` followed by the error code
or a fragment of the message. Nothing here runs: pytest only imports the module (for
doctests).
"""

from __future__ import annotations

from typing import Any

import msgspec
import temporalio.client
from returns.result import Result, Success
from temporalio.runtime import Runtime

import fnact
import fnact.workflow
from fnact._worker._options import WorkerOptions
from fnact.worker import WorkerSpec, connect, create_worker, run_worker


async def misspelled_and_mistyped(c: temporalio.client.Client, k: Any) -> None:
    create_worker(c, task_queue="q", container=k, max_concurent_activities=5)  # E: call-arg
    create_worker(c, task_queue="q", container=k, max_concurrent_activities="5")  # E: arg-type
    create_worker(c, task_queue="q", container=k, graceful_shutdown_timeout=10)  # E: arg-type
    await run_worker(task_queue="q", container=k, max_cached_workflows=1.5)  # E: arg-type
    await connect("localhost:7233", tls="yes")  # E: arg-type
    await connect("localhost:7233", runtme=Runtime.default())  # E: call-arg


def bad_specs(k: Any) -> None:
    WorkerSpec(task_queue="q", container=k, tls="yes")  # E: arg-type
    WorkerSpec(task_queue="q", container=k, worker_options={"debug_mod": True})  # E: unknown-key
    WorkerSpec(task_queue="q", container=k, worker_options={"debug_mode": 1})  # E: typeddict-item


def bad_dict() -> WorkerOptions:
    return {"max_concurrent_activities": 5, "identity": 7}  # E: typeddict-item


class Rows(msgspec.Struct, frozen=True):
    """The input of the sync activity below."""

    path: str


@fnact.activity
def sync_rows(ctx: fnact.ActivityContext, args: Rows) -> Result[int, fnact.Fault]:
    """A sync activity: its direct call returns the Result, typed from its signature."""
    return Success(len(args.path))


def returns_a_number(ctx: fnact.ActivityContext, args: Rows) -> int:
    """Not an activity: it returns no Result."""
    return 0


def takes_text(text: str) -> None:
    """Needs text; a sync activity's Result[int, ...] holds an int."""


async def misuse_sync_activities(ctx: fnact.ActivityContext) -> None:
    await sync_rows(ctx, Rows("a.csv"))  # E: misc
    sync_rows(ctx, "a.csv")  # E: arg-type
    await fnact.workflow.execute_activity(sync_rows, "a.csv")  # E: arg-type
    result = await fnact.workflow.execute_activity(sync_rows, Rows("a.csv"))
    takes_text(result.unwrap())  # E: arg-type
    fnact.activity(returns_a_number)  # E: arg-type
    fnact.activity(max_concurrent="3")  # E: call-overload
