"""One-call in-process activity runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar

from dependency_injector import containers
from returns.result import Result
from temporalio.common import RetryPolicy

from fnact._activity import Activity
from fnact.testing._harness import DEFAULT_RUN_START, ActivityHarness

__all__ = ["run_activity"]

A = TypeVar("A")
R = TypeVar("R")
E = TypeVar("E")
P = ParamSpec("P")


async def run_activity(
    activity: Activity[Concatenate[Any, A, P], R, E],
    args: A,
    /,
    *,
    container: containers.Container,
    workflow_args: Any = None,
    run_started: datetime = DEFAULT_RUN_START,
    workflow_id: str = "test-workflow",
    run_id: str = "test-run",
    attempt: int = 1,
    retry_policy: RetryPolicy | None = None,
    heartbeat_timeout: timedelta | None = None,
) -> Result[R, E]:
    """Run ``activity`` once, in-process, as a worker bound to ``container`` would.

    Input and output go through fnact's msgspec converter, dependencies come from
    ``container`` (with its overrides), the run's state is built from
    ``workflow_args``, and a ``Failure`` comes back as the typed ``Failure`` a
    workflow would see. An exception escaping the attempt is raised. Use
    `ActivityHarness` to see heartbeats, logs, state and files as well.
    """
    harness = ActivityHarness(
        container,
        workflow_args=workflow_args,
        workflow_id=workflow_id,
        run_id=run_id,
        run_started=run_started,
    )
    try:
        run = await harness.run(
            activity,
            args,
            attempt=attempt,
            retry_policy=retry_policy,
            heartbeat_timeout=heartbeat_timeout,
        )
    finally:
        harness._reset()  # the run state stays in the caller's container, as in a worker
    return run.unwrap()
