"""Standalone activities: an fnact activity started by a client, with no workflow.

Temporal runs a standalone activity with retries, heartbeats and visibility, as a
job queue would. `start_activity` and `execute_activity` start one and return its
outcome as a `Result`: ``Failure(e)`` rebuilt with ``e``'s own type, as
`fnact.workflow.execute_activity` does in a workflow.

On the worker, such an activity's run state is built from its own input (the
input stands for the workflow arguments), keyed by the activity's id and run id,
and released when the activity closes; its outputs lie under its scheduling time,
activity id and activity run id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Generic, TypeVar

import temporalio.client
from returns.result import Result, Success
from temporalio.common import Priority, RetryPolicy

from fnact._activity import Activity
from fnact._outcome import failure_from_error

__all__ = [
    "StandaloneActivity",
    "execute_activity",
    "start_activity",
]

R = TypeVar("R")
E = TypeVar("E")


class StandaloneActivity(Generic[R, E]):
    """A started standalone activity: its id, run id and, awaited, its `Result`.

    Args:
        handle: Temporal's handle of the activity.
        activity: the fnact activity it runs.
        client: the client that started it.
    """

    def __init__(
        self,
        handle: temporalio.client.ActivityHandle[Any],
        activity: Activity[Any, R, E],
        client: temporalio.client.Client,
    ) -> None:
        self.handle = handle
        self._definition = activity.definition
        self._client = client

    @property
    def id(self) -> str:
        """The activity's id."""
        return self.handle.id

    @property
    def run_id(self) -> str | None:
        """The activity's run id."""
        return self.handle.run_id

    async def result(self) -> Result[R, E]:
        """Wait for the activity to close and return its outcome.

        Returns:
            ``Success(value)``, or ``Failure(e)`` for an error type the activity declares.

        Raises:
            temporalio.client.ActivityFailureError: it failed in any other way (an
                exception on its last attempt, a timeout, a cancellation).
        """
        try:
            value: R = await self.handle.result()
        except temporalio.client.ActivityFailureError as exc:
            failure = failure_from_error(
                exc.cause,
                self._definition.error_types,
                self._client.data_converter.payload_converter,
            )
            if failure is None:
                raise
            return failure
        return Success(value)


async def start_activity(
    client: temporalio.client.Client,
    activity: Activity[Any, R, E],
    args: Any,
    /,
    *,
    id: str,
    task_queue: str,
    start_to_close_timeout: timedelta | None = None,
    schedule_to_close_timeout: timedelta | None = None,
    heartbeat_timeout: timedelta | None = None,
    retry_policy: RetryPolicy | None = None,
    summary: str | None = None,
    priority: Priority = Priority.default,
) -> StandaloneActivity[R, E]:
    """Start ``activity`` with ``args`` as a standalone activity (no workflow).

    Options the call leaves out come from `fnact.activity`'s defaults.

    Args:
        client: a client whose converter encodes ``args`` (one from `fnact.worker.connect`).
        activity: the fnact activity to run.
        args: its input; it is also what its context's ``state.workflow_args`` holds.
        id: the activity's id, unique among running standalone activities.
        task_queue: the task queue its workers poll.
        start_to_close_timeout: the longest one attempt may run.
        schedule_to_close_timeout: the longest all attempts may take together.
        heartbeat_timeout: the longest between two heartbeats.
        retry_policy: how Temporal retries it.
        summary: a summary shown in the Web UI.
        priority: its priority.
    """
    definition = activity.definition
    options = definition.options.for_call(
        start_to_close_timeout=start_to_close_timeout,
        schedule_to_close_timeout=schedule_to_close_timeout,
        heartbeat_timeout=heartbeat_timeout,
        retry_policy=retry_policy,
    )
    handle: temporalio.client.ActivityHandle[Any] = await client.start_activity(
        definition.name,
        args=_args(args),
        id=id,
        task_queue=task_queue,
        result_type=definition.result_type,
        start_to_close_timeout=options.start_to_close_timeout,
        schedule_to_close_timeout=options.schedule_to_close_timeout,
        heartbeat_timeout=options.heartbeat_timeout,
        retry_policy=options.retry_policy,
        summary=summary,
        priority=priority,
    )
    return StandaloneActivity(handle, activity, client)


async def execute_activity(
    client: temporalio.client.Client,
    activity: Activity[Any, R, E],
    args: Any,
    /,
    *,
    id: str,
    task_queue: str,
    start_to_close_timeout: timedelta | None = None,
    schedule_to_close_timeout: timedelta | None = None,
    heartbeat_timeout: timedelta | None = None,
    retry_policy: RetryPolicy | None = None,
    summary: str | None = None,
    priority: Priority = Priority.default,
) -> Result[R, E]:
    """Run ``activity`` as a standalone activity and return its `Result`.

    The options are `start_activity`'s.

    Raises:
        temporalio.client.ActivityFailureError: it failed other than with a declared error.
    """
    started = await start_activity(
        client,
        activity,
        args,
        id=id,
        task_queue=task_queue,
        start_to_close_timeout=start_to_close_timeout,
        schedule_to_close_timeout=schedule_to_close_timeout,
        heartbeat_timeout=heartbeat_timeout,
        retry_policy=retry_policy,
        summary=summary,
        priority=priority,
    )
    return await started.result()


def _args(args: Any) -> Sequence[Any]:
    return [args]
