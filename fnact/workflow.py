"""Call fnact activities from a workflow and get their `Result` back.

This module is safe inside Temporal's workflow sandbox: it does no I/O and
imports nothing worker-side.

A workflow awaits `execute_activity` and gets the activity's `Result` with its
declared types; ``examples/metadata/workflows.py`` chains three activities this
way, and the tutorial walks through it. `start_activity` returns an
`ActivityHandle` instead, to await later or to fan out with ``asyncio.gather``.
`execute_local_activity` and `start_local_activity` run the same activities as
local activities, in the workflow's worker, run state included.

Every function takes the keyword options of its namesake in
``temporalio.workflow``; the activity's input, name and result type come from
the activity itself, and its decorator's options are the defaults. An fnact
activity given to ``temporalio.workflow.execute_activity`` or any other of
temporalio's activity calls fails the workflow at once with a non-retryable
``ApplicationError`` of type ``PlainActivityCall`` naming `execute_activity`.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

import temporalio.exceptions
import temporalio.workflow
from returns.result import Result, Success
from temporalio.common import Priority, RawValue, RetryPolicy
from temporalio.workflow import ActivityCancellationType, EventGroup, VersioningIntent

from fnact._activity import DEFAULT_START_TO_CLOSE_TIMEOUT, Activity, ActivityDefinition
from fnact._converter import NonFiniteFloatError
from fnact._limits import DEFAULT_PAYLOAD_LIMIT, payloads_size
from fnact._offload import run_threshold, will_offload
from fnact._outcome import failure_from_error, payload_too_large, unencodable

__all__ = [
    "DEFAULT_START_TO_CLOSE_TIMEOUT",
    "ActivityHandle",
    "execute_activity",
    "execute_local_activity",
    "start_activity",
    "start_local_activity",
]

A = TypeVar("A")
R = TypeVar("R")
E = TypeVar("E")
P = ParamSpec("P")


class ActivityHandle(Generic[R, E]):
    """A started fnact activity: await it for its `Result`.

    Returned by `start_activity` and `start_local_activity`. Awaiting the handle
    gives what `execute_activity` would have returned, so a list of handles can
    be given to ``asyncio.gather``. It can be awaited more than once.
    """

    __slots__ = ("_error_types", "_handle")

    def __init__(
        self,
        handle: temporalio.workflow.ActivityHandle[Any],
        error_types: Mapping[str, type[Any]],
    ) -> None:
        self._handle = handle
        self._error_types = error_types

    @property
    def temporal_handle(self) -> temporalio.workflow.ActivityHandle[Any]:
        """The SDK's handle (an `asyncio.Task`), whose result is the raw value."""
        return self._handle

    def cancel(self, msg: Any | None = None) -> bool:
        """Request cancellation of the activity, as ``ActivityHandle.cancel`` does."""
        return self._handle.cancel(msg)

    def done(self) -> bool:
        """Whether the activity has ended (completed, failed or been cancelled)."""
        return self._handle.done()

    def __await__(self) -> Generator[Any, None, Result[R, E]]:
        return self._result().__await__()

    async def _result(self) -> Result[R, E]:
        try:
            value = await self._handle
        except temporalio.exceptions.FailureError as err:
            # An ActivityError whose cause is the ApplicationError; a local
            # activity's ApplicationError arrives unwrapped.
            failure = failure_from_error(
                err, self._error_types, temporalio.workflow.payload_converter()
            )
            if failure is None:
                raise
            return failure
        return Success(value)

    def __repr__(self) -> str:
        return f"<fnact.workflow.ActivityHandle {self._handle.get_name()!r}>"


@dataclass(frozen=True, slots=True)
class _Scheduling:
    """What every call sends: the encoded input and the merged options."""

    arg: RawValue
    start_to_close_timeout: timedelta | None
    schedule_to_close_timeout: timedelta | None
    heartbeat_timeout: timedelta | None
    retry_policy: RetryPolicy | None


def _schedule(
    definition: ActivityDefinition,
    args: Any,
    *,
    start_to_close_timeout: timedelta | None,
    schedule_to_close_timeout: timedelta | None,
    heartbeat_timeout: timedelta | None,
    retry_policy: RetryPolicy | None,
) -> _Scheduling:
    """Encode ``args`` once, check it, and merge the call's options over the activity's."""
    try:
        payload = temporalio.workflow.payload_converter().to_payload(args)
    except NonFiniteFloatError as exc:
        raise unencodable(f"activity {definition.name!r} input: {exc}", kind="Input") from None
    size = payloads_size(payload)
    if size > DEFAULT_PAYLOAD_LIMIT and not will_offload(
        payload.ByteSize(), run_threshold(temporalio.workflow.info().run_id)
    ):
        raise payload_too_large(
            f"activity {definition.name!r} input",
            size,
            DEFAULT_PAYLOAD_LIMIT,
            advice="write the data with ctx.outputs in an activity and pass its OutputRef, "
            "or configure Temporal's external storage (fnact.worker.ObjectStoreDriver)",
        )
    options = definition.options.for_call(
        start_to_close_timeout=start_to_close_timeout,
        schedule_to_close_timeout=schedule_to_close_timeout,
        heartbeat_timeout=heartbeat_timeout,
        retry_policy=retry_policy,
    )
    return _Scheduling(
        arg=RawValue(payload),  # encoded once, here
        start_to_close_timeout=options.start_to_close_timeout,
        schedule_to_close_timeout=options.schedule_to_close_timeout,
        heartbeat_timeout=options.heartbeat_timeout,
        retry_policy=options.retry_policy,
    )


def start_activity(
    activity: Activity[Concatenate[Any, A, P], R, E],
    args: A,
    /,
    *,
    task_queue: str | None = None,
    start_to_close_timeout: timedelta | None = None,
    schedule_to_close_timeout: timedelta | None = None,
    schedule_to_start_timeout: timedelta | None = None,
    heartbeat_timeout: timedelta | None = None,
    retry_policy: RetryPolicy | None = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    activity_id: str | None = None,
    versioning_intent: VersioningIntent | None = None,
    summary: str | None = None,
    event_groups: Sequence[EventGroup] | None = None,
    priority: Priority = Priority.default,
) -> ActivityHandle[R, E]:
    """Schedule ``activity`` with ``args`` and return its handle at once.

    Awaiting the handle gives the activity's `Result`, as `execute_activity`
    does. Options default to those given to `fnact.activity`; each keyword
    overrides one, and the others (``priority``, ``summary``, ...) are passed to
    `temporalio.workflow.start_activity` unchanged.

    Args:
        activity: the fnact activity (a function decorated with `fnact.activity`).
        args: the activity's input: the value of its second parameter, encoded once
            by the workflow's payload converter.
        task_queue: the task queue to run the activity on; the workflow's own by default.
        start_to_close_timeout: the longest one attempt may take; the decorator's by
            default, or `DEFAULT_START_TO_CLOSE_TIMEOUT` when no timeout is set at all.
        schedule_to_close_timeout: the longest the activity may take from being
            scheduled to completing, retries included; the decorator's by default.
        schedule_to_start_timeout: the longest the activity may wait in the task queue
            before a worker starts it.
        heartbeat_timeout: the longest an attempt may go without a heartbeat before
            Temporal times it out; the decorator's by default.
        retry_policy: how failed attempts are retried; the decorator's by default,
            else Temporal's default.
        cancellation_type: how the activity is treated when the workflow cancels it.
        activity_id: a unique id for the activity; rarely needed.
        versioning_intent: whether the activity should run on a worker with a
            compatible Build Id (Worker Versioning; deprecated by Temporal).
        summary: a single-line summary shown in the UI and CLI.
        event_groups: event groups to associate the command with, besides those
            active in the current scope.
        priority: the activity's priority.

    Returns:
        A handle; awaiting it gives the activity's `Result`.

    Raises:
        ApplicationError: non-retryable, at once, when ``args`` encodes to more than
            Temporal's 2 MiB payload limit (Temporal would fail the workflow task
            and leave the run hanging), or holds NaN or infinity.
    """
    definition = activity.definition
    plan = _schedule(
        definition,
        args,
        start_to_close_timeout=start_to_close_timeout,
        schedule_to_close_timeout=schedule_to_close_timeout,
        heartbeat_timeout=heartbeat_timeout,
        retry_policy=retry_policy,
    )
    handle = temporalio.workflow.start_activity(
        definition.name,
        plan.arg,
        result_type=definition.result_type,
        task_queue=task_queue,
        start_to_close_timeout=plan.start_to_close_timeout,
        schedule_to_close_timeout=plan.schedule_to_close_timeout,
        schedule_to_start_timeout=schedule_to_start_timeout,
        heartbeat_timeout=plan.heartbeat_timeout,
        retry_policy=plan.retry_policy,
        cancellation_type=cancellation_type,
        activity_id=activity_id,
        versioning_intent=versioning_intent,
        summary=summary,
        event_groups=event_groups,
        priority=priority,
    )
    return ActivityHandle(handle, definition.error_types)


async def execute_activity(
    activity: Activity[Concatenate[Any, A, P], R, E],
    args: A,
    /,
    *,
    task_queue: str | None = None,
    start_to_close_timeout: timedelta | None = None,
    schedule_to_close_timeout: timedelta | None = None,
    schedule_to_start_timeout: timedelta | None = None,
    heartbeat_timeout: timedelta | None = None,
    retry_policy: RetryPolicy | None = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    activity_id: str | None = None,
    versioning_intent: VersioningIntent | None = None,
    summary: str | None = None,
    event_groups: Sequence[EventGroup] | None = None,
    priority: Priority = Priority.default,
) -> Result[R, E]:
    """Run ``activity`` with ``args`` and return its `Result`.

    Options default to those given to `fnact.activity`; each keyword here
    overrides one, and the others are those of
    `temporalio.workflow.execute_activity`. A ``Failure(e)`` returned by the
    activity comes back as ``Failure(e)`` with ``e``'s own type. Other failures
    (timeouts, exceptions after the last retry, cancellation) are raised as
    Temporal raises them.

    Args:
        activity: the fnact activity (a function decorated with `fnact.activity`).
        args: the activity's input: the value of its second parameter, encoded once
            by the workflow's payload converter.
        task_queue: the task queue to run the activity on; the workflow's own by default.
        start_to_close_timeout: the longest one attempt may take; the decorator's by
            default, or `DEFAULT_START_TO_CLOSE_TIMEOUT` when no timeout is set at all.
        schedule_to_close_timeout: the longest the activity may take from being
            scheduled to completing, retries included; the decorator's by default.
        schedule_to_start_timeout: the longest the activity may wait in the task queue
            before a worker starts it.
        heartbeat_timeout: the longest an attempt may go without a heartbeat before
            Temporal times it out; the decorator's by default.
        retry_policy: how failed attempts are retried; the decorator's by default,
            else Temporal's default.
        cancellation_type: how the activity is treated when the workflow cancels it.
        activity_id: a unique id for the activity; rarely needed.
        versioning_intent: whether the activity should run on a worker with a
            compatible Build Id (Worker Versioning; deprecated by Temporal).
        summary: a single-line summary shown in the UI and CLI.
        event_groups: event groups to associate the command with, besides those
            active in the current scope.
        priority: the activity's priority.

    Returns:
        ``Success`` with the activity's value, or ``Failure`` with its fault.

    Raises:
        ApplicationError: non-retryable, at once, when ``args`` encodes to more than
            Temporal's 2 MiB payload limit (Temporal would fail the workflow task
            and leave the run hanging), or holds NaN or infinity.
    """
    return await start_activity(
        activity,
        args,
        task_queue=task_queue,
        start_to_close_timeout=start_to_close_timeout,
        schedule_to_close_timeout=schedule_to_close_timeout,
        schedule_to_start_timeout=schedule_to_start_timeout,
        heartbeat_timeout=heartbeat_timeout,
        retry_policy=retry_policy,
        cancellation_type=cancellation_type,
        activity_id=activity_id,
        versioning_intent=versioning_intent,
        summary=summary,
        event_groups=event_groups,
        priority=priority,
    )


def start_local_activity(
    activity: Activity[Concatenate[Any, A, P], R, E],
    args: A,
    /,
    *,
    start_to_close_timeout: timedelta | None = None,
    schedule_to_close_timeout: timedelta | None = None,
    schedule_to_start_timeout: timedelta | None = None,
    retry_policy: RetryPolicy | None = None,
    local_retry_threshold: timedelta | None = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    activity_id: str | None = None,
    summary: str | None = None,
    event_groups: Sequence[EventGroup] | None = None,
) -> ActivityHandle[R, E]:
    """Start ``activity`` as a local activity and return its handle at once.

    The workflow's own worker runs it, through the same adapter as a regular
    activity: dependencies, run state (``ctx.state``) and the `Result` work the
    same way, so the worker must list the activity. Local activities have no
    heartbeat timeout, so the decorator's ``heartbeat_timeout`` is not used; its
    timeouts and retry policy are the defaults, and the other keywords are those
    of `temporalio.workflow.start_local_activity`.

    Args:
        activity: the fnact activity (a function decorated with `fnact.activity`).
        args: the activity's input: the value of its second parameter, encoded once
            by the workflow's payload converter.
        start_to_close_timeout: the longest one attempt may take; the decorator's by
            default, or `DEFAULT_START_TO_CLOSE_TIMEOUT` when no timeout is set at all.
        schedule_to_close_timeout: the longest the activity may take from being
            scheduled to completing, retries included; the decorator's by default.
        schedule_to_start_timeout: the longest the activity may wait before it starts.
        retry_policy: how failed attempts are retried; the decorator's by default,
            else Temporal's default.
        local_retry_threshold: a retry whose backoff is longer than this is scheduled
            with a workflow timer instead of being retried locally.
        cancellation_type: how the activity is treated when the workflow cancels it.
        activity_id: a unique id for the activity; rarely needed.
        summary: a single-line summary shown in the UI and CLI.
        event_groups: event groups to associate the command with, besides those
            active in the current scope.

    Returns:
        A handle; awaiting it gives the activity's `Result`.

    Raises:
        ApplicationError: non-retryable, at once, when ``args`` encodes to more than
            Temporal's 2 MiB payload limit, or holds NaN or infinity.
    """
    definition = activity.definition
    plan = _schedule(
        definition,
        args,
        start_to_close_timeout=start_to_close_timeout,
        schedule_to_close_timeout=schedule_to_close_timeout,
        heartbeat_timeout=None,
        retry_policy=retry_policy,
    )
    handle = temporalio.workflow.start_local_activity(
        definition.name,
        plan.arg,
        result_type=definition.result_type,
        start_to_close_timeout=plan.start_to_close_timeout,
        schedule_to_close_timeout=plan.schedule_to_close_timeout,
        schedule_to_start_timeout=schedule_to_start_timeout,
        retry_policy=plan.retry_policy,
        local_retry_threshold=local_retry_threshold,
        cancellation_type=cancellation_type,
        activity_id=activity_id,
        summary=summary,
        event_groups=event_groups,
    )
    return ActivityHandle(handle, definition.error_types)


async def execute_local_activity(
    activity: Activity[Concatenate[Any, A, P], R, E],
    args: A,
    /,
    *,
    start_to_close_timeout: timedelta | None = None,
    schedule_to_close_timeout: timedelta | None = None,
    schedule_to_start_timeout: timedelta | None = None,
    retry_policy: RetryPolicy | None = None,
    local_retry_threshold: timedelta | None = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    activity_id: str | None = None,
    summary: str | None = None,
    event_groups: Sequence[EventGroup] | None = None,
) -> Result[R, E]:
    """Run ``activity`` as a local activity and return its `Result`.

    The local twin of `execute_activity`; see `start_local_activity` for what
    differs.

    Args:
        activity: the fnact activity (a function decorated with `fnact.activity`).
        args: the activity's input: the value of its second parameter, encoded once
            by the workflow's payload converter.
        start_to_close_timeout: the longest one attempt may take; the decorator's by
            default, or `DEFAULT_START_TO_CLOSE_TIMEOUT` when no timeout is set at all.
        schedule_to_close_timeout: the longest the activity may take from being
            scheduled to completing, retries included; the decorator's by default.
        schedule_to_start_timeout: the longest the activity may wait before it starts.
        retry_policy: how failed attempts are retried; the decorator's by default,
            else Temporal's default.
        local_retry_threshold: a retry whose backoff is longer than this is scheduled
            with a workflow timer instead of being retried locally.
        cancellation_type: how the activity is treated when the workflow cancels it.
        activity_id: a unique id for the activity; rarely needed.
        summary: a single-line summary shown in the UI and CLI.
        event_groups: event groups to associate the command with, besides those
            active in the current scope.

    Returns:
        ``Success`` with the activity's value, or ``Failure`` with its fault.

    Raises:
        ApplicationError: non-retryable, at once, when ``args`` encodes to more than
            Temporal's 2 MiB payload limit, or holds NaN or infinity.
    """
    return await start_local_activity(
        activity,
        args,
        start_to_close_timeout=start_to_close_timeout,
        schedule_to_close_timeout=schedule_to_close_timeout,
        schedule_to_start_timeout=schedule_to_start_timeout,
        retry_policy=retry_policy,
        local_retry_threshold=local_retry_threshold,
        cancellation_type=cancellation_type,
        activity_id=activity_id,
        summary=summary,
        event_groups=event_groups,
    )
