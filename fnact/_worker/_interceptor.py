"""Worker interceptor that tells activities about their run, in a few bytes.

On the workflow side it adds the run's start time to the headers of every
activity the run schedules, and the run's input only when it encodes to at most
`Settings.inline_args_limit` bytes: headers stay small however big the input and
however wide the fan-out. On the activity side it records those headers (and the
worker's `RunContextCache`) for one attempt; what they lack is read from the run's
history, once per run per process. The workflow side also reports a run's end so
the worker that ran it releases the run's state at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

import msgspec
import temporalio.activity
import temporalio.api.common.v1
import temporalio.exceptions
import temporalio.worker
import temporalio.workflow

from fnact._adapter import FNACT_ADAPTER
from fnact._attempt import current_attempt, set_attempt
from fnact._headers import ARGS_HEADER, START_HEADER
from fnact._offload import clear_run_threshold, set_run_threshold
from fnact._outcome import state_error
from fnact._run_facts import RunContextCache
from fnact.exceptions import StateError

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

RunEndCallback = Callable[[str, str, datetime], None]
"""Called with (workflow id, run id, start time) from the workflow's thread when a run ends."""
RunStartCallback = Callable[[str, str, datetime, Payload], None]
"""Called with (workflow id, run id, start time, encoded input) when a run starts here."""


class RunHeadersInterceptor(temporalio.worker.Interceptor):
    """Pass each run's start time (and its input, when small) to its activities in headers.

    Args:
        on_run_end: called when a run this worker executes completes, fails, is
            cancelled or continues as new (not when it is merely evicted from the
            cache). It must be thread-safe and must not block.
        inline_args_limit: the largest encoded input, in bytes, copied into headers.
        cache: the worker's run context cache, given to each activity attempt.
        offload_threshold: the size from which the worker's data converter stores
            payloads externally (``None``: it does not), for fnact's size checks.
    """

    def __init__(
        self,
        on_run_end: RunEndCallback | None = None,
        *,
        on_run_start: RunStartCallback | None = None,
        inline_args_limit: int = 0,
        cache: RunContextCache | None = None,
        offload_threshold: int | None = None,
    ) -> None:
        self._cache = cache
        self._inbound: type[_WorkflowInbound] = type(
            "_WorkflowInbound",
            (_WorkflowInbound,),
            {
                "on_run_end": staticmethod(on_run_end or _ignore),
                "on_run_start": staticmethod(on_run_start or _ignore_start),
                "inline_limit": inline_args_limit,
                "offload_threshold": offload_threshold,
            },
        )

    def intercept_activity(
        self, next: temporalio.worker.ActivityInboundInterceptor
    ) -> temporalio.worker.ActivityInboundInterceptor:
        """Wrap activity execution to expose the run's facts."""
        return _ActivityInbound(next, self._cache)

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor]:
        """Return the workflow interceptor that adds the run headers."""
        return self._inbound


def _ignore(workflow_id: str, run_id: str, started: datetime) -> None:
    """Do nothing when a run ends."""


def _ignore_start(workflow_id: str, run_id: str, started: datetime, payload: Payload) -> None:
    """Do nothing when a run starts."""


class _ActivityInbound(temporalio.worker.ActivityInboundInterceptor):
    def __init__(
        self, next: temporalio.worker.ActivityInboundInterceptor, cache: RunContextCache | None
    ) -> None:
        self.next = next  # all the base class's __init__ does
        self._cache = cache

    def execute_activity(
        self, input: temporalio.worker.ExecuteActivityInput
    ) -> Coroutine[Any, Any, Any]:
        # The attempt's record is set in the attempt's own task (temporalio's worker
        # runs each activity task in a task of its own), so it needs no reset; its
        # headers are read only when asked for.
        set_attempt(input.headers, self._cache)
        if getattr(input.fn, FNACT_ADAPTER, False):
            # fnact's adapter learns what it needs, and maps its errors, itself.
            return self.next.execute_activity(input)
        return self._execute_plain(input)

    async def _execute_plain(self, input: temporalio.worker.ExecuteActivityInput) -> Any:
        cache = self._cache
        try:
            if cache is not None and START_HEADER not in input.headers:
                # A plain activity may call fnact.build_output_path(), which cannot wait.
                current_attempt().error = await cache.prefetch_start(temporalio.activity.info())
            return await self.next.execute_activity(input)
        except StateError as exc:
            if exc.non_retryable:
                raise state_error(exc) from exc
            raise


class _WorkflowOutbound(temporalio.worker.WorkflowOutboundInterceptor):
    inbound: _WorkflowInbound

    def start_activity(
        self, input: temporalio.worker.StartActivityInput
    ) -> temporalio.workflow.ActivityHandle[Any]:
        input.headers = {**input.headers, **self.inbound.run_headers()}
        return super().start_activity(input)

    def start_local_activity(
        self, input: temporalio.worker.StartLocalActivityInput
    ) -> temporalio.workflow.ActivityHandle[Any]:
        input.headers = {**input.headers, **self.inbound.run_headers()}
        return super().start_local_activity(input)


class _WorkflowInbound(temporalio.worker.WorkflowInboundInterceptor):
    on_run_end: RunEndCallback = staticmethod(_ignore)
    on_run_start: RunStartCallback = staticmethod(_ignore_start)
    inline_limit: int = 0
    offload_threshold: int | None = None
    _headers: dict[str, Payload] | None = None
    _input: Payload | None = None

    def init(self, outbound: temporalio.worker.WorkflowOutboundInterceptor) -> None:
        wrapped = _WorkflowOutbound(outbound)
        wrapped.inbound = self
        super().init(wrapped)

    def run_headers(self) -> dict[str, Payload]:
        """Return the headers for this run's activities, built on first use."""
        headers = self._headers
        if headers is None:
            converter = temporalio.workflow.payload_converter()
            headers = {
                START_HEADER: converter.to_payload(temporalio.workflow.info().workflow_start_time)
            }
            if self._input is not None:
                headers[ARGS_HEADER] = self._input
            self._headers = headers
        return headers

    async def execute_workflow(self, input: temporalio.worker.ExecuteWorkflowInput) -> Any:
        run_id = temporalio.workflow.info().run_id
        if self.offload_threshold is not None:
            set_run_threshold(run_id, self.offload_threshold)
        try:
            return await self._execute_workflow(input)
        finally:
            clear_run_threshold(run_id)

    async def _execute_workflow(self, input: temporalio.worker.ExecuteWorkflowInput) -> Any:
        if input.args:
            payload = temporalio.workflow.payload_converter().to_payload(input.args[0])
            if payload.ByteSize() <= self.inline_limit:
                self._input = payload
                self._headers = None  # handlers that ran first built them without the input
            elif not temporalio.workflow.unsafe.is_replaying():
                # Activities this process runs for the run can skip the history read.
                info = temporalio.workflow.info()
                self.on_run_start(info.workflow_id, info.run_id, info.workflow_start_time, payload)
        try:
            result = await super().execute_workflow(input)
        except _RUN_ENDING:
            self._ended()
            raise
        self._ended()
        return result

    def _ended(self) -> None:
        info = temporalio.workflow.info()
        self.on_run_end(info.workflow_id, info.run_id, info.workflow_start_time)
