"""Watching a standalone activity (one a client started, no workflow) until it closes."""

from __future__ import annotations

import asyncio
from typing import TextIO

import temporalio.client
from temporalio.client import ActivityExecutionStatus

from fnact._cli.watch.model import ActivityRow, read_progress

__all__ = ["watch_activity"]


async def watch_activity(
    client: temporalio.client.Client,
    activity_id: str,
    *,
    run_id: str | None,
    interval: float,
    out: TextIO,
) -> ActivityExecutionStatus:
    """Print a line each time the activity's state, attempt or progress changes; return its status.

    Raises:
        temporalio.service.RPCError: the activity cannot be described (``NOT_FOUND``: no such id).
    """
    handle = client.get_activity_handle(activity_id, run_id=run_id)
    last = ""
    while True:
        described = await handle.describe(include_heartbeat_details=True, include_last_failure=True)
        status = described.status
        closed = status is not ActivityExecutionStatus.RUNNING
        state = (
            status.name.lower().replace("canceled", "cancelled")
            if closed or described.run_state is None
            else described.run_state.name.lower()
        )
        details = described.raw_info.heartbeat_details.payloads
        progress, message = read_progress(list(details))
        row = ActivityRow(
            run_id=described.activity_run_id or "",
            activity_id=described.activity_id,
            activity_type=described.activity_type,
            state=state,
            attempt=described.attempt,
            progress=progress,
            message=message,
            scheduled_at=described.schedule_time,
            closed_at=described.close_time,
        )
        line = row.line()
        if line != last:
            print(line, file=out, flush=True)
            last = line
        if closed:
            print(f"activity {activity_id} {state}", file=out, flush=True)
            return status
        await asyncio.sleep(interval)
