"""Run fnact activities in-process, through the same adapter a worker uses."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar

import temporalio.activity
import temporalio.testing
from dependency_injector import containers
from returns.result import Failure, Result, Success
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ApplicationError

from fnact._activity import Activity
from fnact._adapter import build_adapter
from fnact._codec import data_converter
from fnact._runinfo import ARGS_HEADER, START_HEADER, reset_headers, set_headers

__all__ = ["activity_info", "run_activity"]

A = TypeVar("A")
R = TypeVar("R")
E = TypeVar("E")
P = ParamSpec("P")

DEFAULT_RUN_START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def activity_info(**changes: Any) -> temporalio.activity.Info:
    """Return Temporal activity info for tests, with ``changes`` applied.

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

    Input and output go through fnact's msgspec converter, dependencies come
    from ``container`` (with its overrides), the run's state is built from
    ``workflow_args``, and a ``Failure`` comes back as the typed ``Failure`` a
    workflow would see. Exceptions propagate as they would in the worker.
    """
    definition = activity.definition
    converter = data_converter.payload_converter
    adapter = build_adapter(definition, container)
    env = temporalio.testing.ActivityEnvironment()
    env.payload_converter = converter
    env.info = activity_info(
        activity_type=definition.name,
        workflow_id=workflow_id,
        workflow_run_id=run_id,
        attempt=attempt,
        retry_policy=retry_policy,
        heartbeat_timeout=heartbeat_timeout,
    )
    headers = {START_HEADER: converter.to_payload(run_started)}
    if workflow_args is not None:
        headers[ARGS_HEADER] = converter.to_payload(workflow_args)
    token = set_headers(headers)
    try:
        value = await env.run(adapter, RawValue(converter.to_payload(args)))
    except ApplicationError as err:
        error_type = definition.error_types.get(err.type or "")
        if error_type is None or not err.details:
            raise
        # Round-trip the error through the converter, as the workflow would see it.
        error = converter.from_payload(converter.to_payload(err.details[0]), error_type)
        return Failure(error)
    finally:
        reset_headers(token)
    decoded = converter.from_payload(converter.to_payload(value), definition.result_type)
    return Success(decoded)
