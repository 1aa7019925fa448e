"""Call fnact activities from a workflow and get their `Result` back.

This module is safe inside Temporal's workflow sandbox: it does no I/O and
imports nothing worker-side.

A workflow awaits `execute_activity` and gets the activity's `Result` with its
declared types; ``examples/metadata/workflows.py`` chains three activities this
way, and the tutorial walks through it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar

import temporalio.exceptions
import temporalio.workflow
from returns.result import Result, Success
from temporalio.common import RawValue, RetryPolicy

from fnact._activity import Activity
from fnact._codec import NonFiniteFloatError
from fnact._limits import DEFAULT_PAYLOAD_LIMIT, payload_too_large, payloads_size
from fnact._outcome import failure_from_error

__all__ = ["DEFAULT_START_TO_CLOSE_TIMEOUT", "execute_activity"]

A = TypeVar("A")
R = TypeVar("R")
E = TypeVar("E")
P = ParamSpec("P")

DEFAULT_START_TO_CLOSE_TIMEOUT = timedelta(minutes=10)
"""The start-to-close timeout used when neither the activity nor the call sets a timeout."""


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
    cancellation_type: temporalio.workflow.ActivityCancellationType = (
        temporalio.workflow.ActivityCancellationType.TRY_CANCEL
    ),
    activity_id: str | None = None,
    summary: str | None = None,
) -> Result[R, E]:
    """Run ``activity`` with ``args`` and return its `Result`.

    Options default to those given to `fnact.activity`; each keyword here
    overrides one. A ``Failure(e)`` returned by the activity comes back as
    ``Failure(e)`` with ``e``'s own type. Other failures (timeouts, exceptions
    after the last retry, cancellation) are raised as Temporal raises them.

    Raises:
        ApplicationError: non-retryable, at once, when ``args`` encodes to more than
            Temporal's 2 MiB payload limit (Temporal would fail the workflow task
            and leave the run hanging), or holds NaN or infinity.
    """
    definition = activity.definition
    try:
        payload = temporalio.workflow.payload_converter().to_payload(args)
    except NonFiniteFloatError as exc:
        raise temporalio.exceptions.ApplicationError(
            f"activity {definition.name!r} input: {exc}",
            type="UnencodableInput",
            non_retryable=True,
        ) from None
    size = payloads_size(payload)
    if size > DEFAULT_PAYLOAD_LIMIT:
        raise payload_too_large(
            f"activity {definition.name!r} input",
            size,
            DEFAULT_PAYLOAD_LIMIT,
            advice="store the data elsewhere (under an output path) and pass its path",
        )
    options = definition.options.merged(
        start_to_close_timeout=start_to_close_timeout,
        schedule_to_close_timeout=schedule_to_close_timeout,
        heartbeat_timeout=heartbeat_timeout,
        retry_policy=retry_policy,
    )
    start_to_close = options.start_to_close_timeout
    if start_to_close is None and options.schedule_to_close_timeout is None:
        start_to_close = DEFAULT_START_TO_CLOSE_TIMEOUT
    try:
        value = await temporalio.workflow.execute_activity(
            definition.name,
            RawValue(payload),  # encoded once, above
            result_type=definition.result_type,
            task_queue=task_queue,
            start_to_close_timeout=start_to_close,
            schedule_to_close_timeout=options.schedule_to_close_timeout,
            schedule_to_start_timeout=schedule_to_start_timeout,
            heartbeat_timeout=options.heartbeat_timeout,
            retry_policy=options.retry_policy,
            cancellation_type=cancellation_type,
            activity_id=activity_id,
            summary=summary,
        )
    except temporalio.exceptions.ActivityError as err:
        failure = failure_from_error(
            err, definition.error_types, temporalio.workflow.payload_converter()
        )
        if failure is None:
            raise
        return failure
    return Success(value)
