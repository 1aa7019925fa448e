"""Worker interceptor that carries run facts from a workflow to its activities.

On the workflow side it copies the run's start time and first workflow argument
into the headers of every activity the run schedules; on the activity side it
exposes those headers to fnact for one attempt. Any worker process can then
build a run's state without asking the server. The cost is history size: each
activity's scheduled event carries a copy of the workflow's input.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import temporalio.activity
import temporalio.api.common.v1
import temporalio.exceptions
import temporalio.worker
import temporalio.workflow

from fnact._runinfo import ARGS_HEADER, START_HEADER, reset_headers, set_headers

__all__ = ["RunHeadersInterceptor"]

Payload = temporalio.api.common.v1.Payload

# Exceptions that end a run. Anything else (a bug, an eviction from the cache) fails
# only the workflow task, which Temporal retries: the run goes on.
_RUN_ENDING = (
    temporalio.exceptions.FailureError,
    temporalio.workflow.ContinueAsNewError,
    asyncio.CancelledError,
    msgspec.ValidationError,
)


RunEndCallback = Callable[[str, str], None]
"""Called with (workflow id, run id) from the workflow's thread when a run ends."""


class RunHeadersInterceptor(temporalio.worker.Interceptor):
    """Pass each run's start time and input to its activities in headers.

    Args:
        on_run_end: called when a run this worker executes completes, fails, is
            cancelled or continues as new (not when it is merely evicted from the
            cache). It must be thread-safe and must not block.
    """

    def __init__(self, on_run_end: RunEndCallback | None = None) -> None:
        self._inbound: type[_WorkflowInbound] = type(
            "_WorkflowInbound",
            (_WorkflowInbound,),
            {"on_run_end": staticmethod(on_run_end or _ignore)},
        )

    def intercept_activity(
        self, next: temporalio.worker.ActivityInboundInterceptor
    ) -> temporalio.worker.ActivityInboundInterceptor:
        """Wrap activity execution to expose the run headers."""
        return _ActivityInbound(next)

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor]:
        """Return the workflow interceptor that adds the run headers."""
        return self._inbound


def _ignore(workflow_id: str, run_id: str) -> None:
    """Do nothing when a run ends."""


class _ActivityInbound(temporalio.worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: temporalio.worker.ExecuteActivityInput) -> Any:
        token = set_headers(input.headers)
        try:
            return await super().execute_activity(input)
        finally:
            reset_headers(token)


class _WorkflowOutbound(temporalio.worker.WorkflowOutboundInterceptor):
    run_headers: Mapping[str, Payload] = {}

    def start_activity(
        self, input: temporalio.worker.StartActivityInput
    ) -> temporalio.workflow.ActivityHandle[Any]:
        input.headers = {**input.headers, **self.run_headers}
        return super().start_activity(input)

    def start_local_activity(
        self, input: temporalio.worker.StartLocalActivityInput
    ) -> temporalio.workflow.ActivityHandle[Any]:
        input.headers = {**input.headers, **self.run_headers}
        return super().start_local_activity(input)


class _WorkflowInbound(temporalio.worker.WorkflowInboundInterceptor):
    _outbound: _WorkflowOutbound
    on_run_end: RunEndCallback = staticmethod(_ignore)

    def init(self, outbound: temporalio.worker.WorkflowOutboundInterceptor) -> None:
        self._outbound = _WorkflowOutbound(outbound)
        super().init(self._outbound)

    async def execute_workflow(self, input: temporalio.worker.ExecuteWorkflowInput) -> Any:
        converter = temporalio.workflow.payload_converter()
        headers = {
            START_HEADER: converter.to_payload(temporalio.workflow.info().workflow_start_time)
        }
        if input.args:
            headers[ARGS_HEADER] = converter.to_payload(input.args[0])
        self._outbound.run_headers = headers
        try:
            result = await super().execute_workflow(input)
        except _RUN_ENDING:
            self._ended()
            raise
        self._ended()
        return result

    def _ended(self) -> None:
        info = temporalio.workflow.info()
        self.on_run_end(info.workflow_id, info.run_id)
