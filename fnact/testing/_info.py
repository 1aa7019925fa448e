"""Temporal activity info, and the run's start time, for tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import temporalio.activity
import temporalio.testing

from fnact._attempt import start_override

__all__ = ["activity_info", "run_started_at"]


def activity_info(**changes: Any) -> temporalio.activity.Info:
    """Return Temporal activity info for tests, with ``changes`` applied.

    Examples:
        >>> activity_info(attempt=3, workflow_id="orders-1").attempt
        3
    """
    info = temporalio.testing.ActivityEnvironment.default_info()
    defaults = {
        "workflow_id": "test-workflow",
        "workflow_run_id": "test-run",
        "start_to_close_timeout": timedelta(minutes=1),
        "schedule_to_close_timeout": None,
    }
    return dataclasses.replace(info, **{**defaults, **changes})


@contextmanager
def run_started_at(started: datetime) -> Iterator[datetime]:
    """Make ``started`` the workflow run's start time for activities run inside the block.

    Under `temporalio.testing.ActivityEnvironment` there is no worker to tell an
    activity when its run started; inside this block `fnact.build_output_path()`
    and ``ctx.output_path`` use ``started``. Tasks and activity runs started in
    the block see it too.

    Raises:
        ValueError: ``started`` is not timezone-aware.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from temporalio.testing import ActivityEnvironment
        >>> import asyncio, fnact
        >>> async def where() -> str:
        ...     return fnact.build_output_path()
        >>> env = ActivityEnvironment()
        >>> with run_started_at(datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc)):
        ...     asyncio.run(env.run(where))
        '2026/01/02/03/04/test/test-run'
    """
    if started.tzinfo is None:
        raise ValueError("run_started_at: started must be timezone-aware")
    token = start_override.set(started)
    try:
        yield started
    finally:
        start_override.reset(token)
