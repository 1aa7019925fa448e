"""Polling a run until it closes: describing it, following its history, updating a view."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Protocol

import temporalio.client
import temporalio.converter
import temporalio.service
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.client import WorkflowExecutionStatus

from fnact._cli.watch.model import ActivityRow, RunHistory, read_activity

__all__ = ["View", "decode_details", "watch_run"]


async def decode_details(
    info: PendingActivityInfo, codec: temporalio.converter.PayloadCodec | None
) -> PendingActivityInfo:
    """Return ``info`` with its heartbeat details run back through ``codec`` (if any)."""
    if codec is None or not info.heartbeat_details.payloads:
        return info
    try:
        decoded = await codec.decode(list(info.heartbeat_details.payloads))
    except Exception:  # not encoded with this codec: show no details rather than fail
        decoded = []
    plain = PendingActivityInfo()
    plain.CopyFrom(info)
    del plain.heartbeat_details.payloads[:]
    plain.heartbeat_details.payloads.extend(decoded)
    return plain


class View(Protocol):
    """Where `watch_run` shows each look at the run."""

    def update(
        self, run_id: str, status: WorkflowExecutionStatus, rows: Sequence[ActivityRow]
    ) -> None:
        """Show the run's status and its activities."""

    def close(self, status: WorkflowExecutionStatus, reason: str | None) -> None:
        """Show that the run closed with ``status`` (and why, when it did not complete)."""


class _HistoryReader:
    """Follows one run's history in the background, long-polling for new events."""

    def __init__(self, client: temporalio.client.Client, workflow_id: str, run_id: str) -> None:
        self.history = RunHistory(run_id)
        self.read = asyncio.Event()
        """Set once the events the run had when the reader started are applied."""
        self._request = GetWorkflowExecutionHistoryRequest(
            namespace=client.namespace,
            execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
            wait_new_event=True,
        )
        self._service = client.workflow_service
        self._task = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        try:
            while True:
                response = await self._service.get_workflow_execution_history(self._request)
                for event in response.history.events:
                    self.history.apply(event)
                self.read.set()
                if self.history.closed or not response.next_page_token:
                    return
                self._request.next_page_token = response.next_page_token
        finally:
            self.read.set()  # a reader that failed does not hold the view up

    async def wait_read(self, within: float) -> None:
        """Wait up to ``within`` seconds for the events the run had when the reader started."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.read.wait(), within)

    async def finish(self, within: float) -> None:
        """Wait up to ``within`` seconds for the run's last events."""
        with contextlib.suppress(TimeoutError, temporalio.service.RPCError):
            await asyncio.wait_for(asyncio.shield(self._task), within)

    def stop(self) -> None:
        self._task.cancel()


async def watch_run(
    client: temporalio.client.Client,
    workflow_id: str,
    *,
    run_id: str | None,
    interval: float,
    view: View,
) -> WorkflowExecutionStatus:
    """Describe the run every ``interval`` seconds and show it until it closes.

    Without ``run_id`` it follows the workflow's latest run, across continue-as-new.

    Raises:
        temporalio.service.RPCError: describing the workflow failed (``NOT_FOUND``
            when there is no such workflow or run).
    """
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    reader: _HistoryReader | None = None
    try:
        while True:
            description = await handle.describe()
            if reader is None or reader.history.run_id != description.run_id:
                if reader is not None:
                    reader.stop()
                reader = _HistoryReader(client, workflow_id, description.run_id)
                await reader.wait_read(within=5.0)  # label rows by summary from the first look
            status = description.status or WorkflowExecutionStatus.RUNNING
            if status is WorkflowExecutionStatus.CONTINUED_AS_NEW and run_id is None:
                status = WorkflowExecutionStatus.RUNNING  # the next describe finds the new run
            closed = status is not WorkflowExecutionStatus.RUNNING
            if closed:
                await reader.finish(within=5.0)  # the history's end: outcomes and reason
            codec = client.data_converter.payload_codec
            pending = [
                read_activity(description.run_id, await decode_details(info, codec))
                for info in description.raw_description.pending_activities
            ]
            view.update(description.run_id, status, reader.history.rows(pending))
            if closed:
                view.close(status, reader.history.outcome)
                return status
            await asyncio.sleep(interval)
    finally:
        if reader is not None:
            reader.stop()
