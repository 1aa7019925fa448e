"""How a worker learns a run's start time and input without carrying them in every activity.

Activity headers carry only the run's start time, plus the input when it is
small (`Settings.inline_args_limit`). Whatever an activity needs and its headers
lack is read from the run's first history event (``WorkflowExecutionStarted``)
through the worker's own client: once per run per worker process, concurrent
requests joined, transient errors retried. This works for any workflow, however
it was started and whichever SDK or worker runs it.

The cache keeps each run's start time (a few dozen bytes) until the run ends.
It keeps a run's input only between the run's start on this process's workflow
worker and the first read (a hand-off, bounded in bytes); otherwise the input
goes into the run's state when it is built and is not kept here.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime

import temporalio.activity
import temporalio.api.common.v1
import temporalio.client
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.service import RPCError, RPCStatusCode

from fnact._state import RunKey
from fnact.exceptions import StateError

__all__ = [
    "RunContextCache",
    "RunContextStats",
    "RunFacts",
    "is_standalone",
    "read_run",
    "run_ids",
    "run_key",
]

Payload = temporalio.api.common.v1.Payload

_log = logging.getLogger("fnact.runcontext")

# Codes that retrying cannot fix: the run is gone or this client may not read it.
_FINAL = frozenset(
    {
        RPCStatusCode.NOT_FOUND,
        RPCStatusCode.PERMISSION_DENIED,
        RPCStatusCode.UNAUTHENTICATED,
        RPCStatusCode.INVALID_ARGUMENT,
        RPCStatusCode.FAILED_PRECONDITION,
        RPCStatusCode.UNIMPLEMENTED,
    }
)
READ_ATTEMPTS = 4
"""How many times one history read is tried before the activity attempt fails (retryably)."""
_BACKOFF = 0.2


class _ReadAbandonedError(Exception):
    """The task reading a run was cancelled; readers that joined it read again."""


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What the run's first history event says about it."""

    start_time: datetime
    """When the run started (``WorkflowExecutionStarted``'s event time), in UTC."""
    input: Payload | None
    """The run's first workflow argument, decoded by the client's payload codec."""


@dataclass(slots=True)
class RunContextStats:
    """Counters of what a `RunContextCache` did; tests and operators read them."""

    reads: int = 0
    """History reads sent to the server (a read tried again counts once)."""
    read_errors: int = 0
    """Reads that failed for good."""
    joined: int = 0
    """Requests that waited for a read already in flight instead of sending one."""
    handoffs: int = 0
    """Reads answered by the input this process's workflow worker handed over."""
    forgotten: int = 0
    """Runs dropped because they ended (or the cache was full)."""
    end_checks: int = 0
    """Server calls made to learn whether held runs ended."""
    end_check_lists: int = 0
    """Of `end_checks`, the visibility queries (``ListWorkflowExecutions``, one per 100 runs).

    The others are ``DescribeWorkflowExecution`` calls, one per run.
    """


def is_standalone(info: temporalio.activity.Info) -> bool:
    """Whether the activity was started by a client, not by a workflow."""
    return info.workflow_id is None and bool(info.activity_run_id)


def run_ids(info: temporalio.activity.Info) -> tuple[str, str]:
    """Return the ids naming the activity's run: the workflow's, or a standalone activity's own."""
    if is_standalone(info):
        return info.activity_id, info.activity_run_id or ""
    return info.workflow_id or "", info.workflow_run_id or ""


def run_key(info: temporalio.activity.Info, what: str) -> RunKey:
    """Return the key of the run the activity belongs to.

    A workflow's activity belongs to the workflow run; a standalone activity is a run
    of its own, keyed by its activity id and activity run id.

    Raises:
        StateError: non-retryable, the activity has neither a workflow run nor a run id.
    """
    if is_standalone(info):
        return RunKey(info.activity_id, info.activity_run_id or "")
    if info.workflow_id is None or info.workflow_run_id is None:
        raise StateError(
            f"activity {info.activity_type!r} (id {info.activity_id!r}) is a standalone "
            f"activity: {what} needs a workflow run, and no workflow started this activity",
            non_retryable=True,
        )
    return RunKey(info.workflow_id, info.workflow_run_id)


async def read_run(
    client: temporalio.client.Client, namespace: str, key: RunKey, *, attempts: int = READ_ATTEMPTS
) -> RunFacts:
    """Read a run's start time and input from its first history event.

    Raises:
        StateError: non-retryable when the run cannot be read (not found, no
            permission); retryable when the server stayed unavailable.
    """
    request = GetWorkflowExecutionHistoryRequest(
        namespace=namespace,
        execution=temporalio.api.common.v1.WorkflowExecution(
            workflow_id=key.workflow_id, run_id=key.run_id
        ),
        maximum_page_size=1,
    )
    response = None
    for attempt in range(1, max(attempts, 1) + 1):
        try:
            response = await client.workflow_service.get_workflow_execution_history(request)
            break
        except RPCError as err:
            if err.status in _FINAL:
                raise StateError(
                    f"run {key} cannot be read from namespace {namespace!r} "
                    f"({err.status.name}): {err.message}",
                    non_retryable=True,
                ) from err
            if attempt == attempts:
                raise StateError(
                    f"reading run {key} failed {attempts} times ({err.status.name}): {err.message}"
                ) from err
            _log.warning("reading run %s failed (%s); trying again", key, err.status.name)
            await asyncio.sleep(_BACKOFF * 2 ** (attempt - 1))
    assert response is not None  # every failed try raised
    events = response.history.events
    if not events or events[0].event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        raise StateError(f"run {key} has no WorkflowExecutionStarted event", non_retryable=True)
    first = events[0]
    payloads = list(first.workflow_execution_started_event_attributes.input.payloads)
    codec = client.data_converter.payload_codec
    if payloads and codec is not None:
        payloads = list(await codec.decode(payloads[:1]))
    return RunFacts(
        start_time=first.event_time.ToDatetime(tzinfo=UTC),
        input=payloads[0] if payloads else None,
    )


@dataclass(slots=True)
class RunContextCache:
    """Start times of the runs a worker process serves, and the reads that learn them.

    One per container (its ``run_context`` provider), shared by the container's
    workers. Every run it knows is a run this process may hold state for, so the
    worker watches these runs and forgets each one when it ends.

    Args:
        max_runs: at most this many runs are remembered; least recently used go first.
    """

    max_runs: int = 10_000
    max_handoff_bytes: int = 64 * 1024 * 1024
    stats: RunContextStats = field(default_factory=RunContextStats)
    """Workers of this container now running; the last to stop closes the states."""
    last_end_check: float = float("-inf")
    """Event-loop time of the last check for ended runs (see `RunEndWatcher`)."""
    _starts: OrderedDict[RunKey, datetime] = field(
        default_factory=OrderedDict, repr=False, init=False
    )
    _pending: dict[RunKey, asyncio.Future[RunFacts]] = field(
        default_factory=dict, repr=False, init=False
    )
    _handoffs: OrderedDict[RunKey, RunFacts] = field(
        default_factory=OrderedDict, repr=False, init=False
    )
    _handoff_bytes: int = field(default=0, repr=False, init=False)

    def __post_init__(self) -> None:
        if self.max_runs < 1:
            raise ValueError("RunContextCache: max_runs must be at least 1")

    def __len__(self) -> int:
        return len(self._starts)

    def runs(self) -> list[RunKey]:
        """Return the runs this cache remembers, least recently used first."""
        return list(self._starts)

    def start_time(self, key: RunKey) -> datetime | None:
        """Return the run's start time if this process learned it."""
        return self._starts.get(key)

    def touch(self, key: RunKey) -> bool:
        """Mark the run as used; return whether this cache knows it."""
        if key not in self._starts:
            return False
        self._starts.move_to_end(key)
        return True

    def remember(self, key: RunKey, start_time: datetime) -> None:
        """Record the run's start time (from a header or a read) and mark the run as used."""
        starts = self._starts
        if key in starts:
            starts.move_to_end(key)
            return
        starts[key] = start_time
        if len(starts) > self.max_runs:
            starts.popitem(last=False)
            self.stats.forgotten += 1

    def hand_off(self, key: RunKey, facts: RunFacts) -> None:
        """Keep a run's input that this process's workflow worker started, for its first read.

        The next `read` of the run takes it instead of asking the server. Inputs
        held this way are bounded by ``max_handoff_bytes``, oldest dropped first.
        """
        self.remember(key, facts.start_time)
        size = facts.input.ByteSize() if facts.input is not None else 0
        if key in self._handoffs or size > self.max_handoff_bytes:
            return
        self._handoffs[key] = facts
        self._handoff_bytes += size
        while self._handoff_bytes > self.max_handoff_bytes:
            self._drop_handoff(next(iter(self._handoffs)))

    def _drop_handoff(self, key: RunKey) -> RunFacts | None:
        facts = self._handoffs.pop(key, None)
        if facts is not None and facts.input is not None:
            self._handoff_bytes -= facts.input.ByteSize()
        return facts

    def forget(self, key: RunKey) -> bool:
        """Drop what is known of the run; return whether anything was."""
        self._drop_handoff(key)
        if self._starts.pop(key, None) is None:
            return False
        self.stats.forgotten += 1
        return True

    async def read(self, key: RunKey) -> RunFacts:
        """Read the run's first history event through the running activity's worker client.

        Concurrent reads of one run share a single server call; the start time is
        remembered, the input is returned and not kept.

        Raises:
            StateError: as `read_run`, or no client is available (outside a worker).
        """
        handed = self._drop_handoff(key)
        if handed is not None:
            self.stats.handoffs += 1
            return handed
        while (pending := self._pending.get(key)) is not None:
            self.stats.joined += 1
            try:
                return await asyncio.shield(pending)
            except _ReadAbandonedError:
                continue  # the reader was cancelled: read (or join) again
        future: asyncio.Future[RunFacts] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            try:
                client = temporalio.activity.client()
            except RuntimeError as err:
                raise StateError(
                    f"run {key}: its start time and input are not in the activity's headers "
                    "and there is no client to read them with; in a test use "
                    "fnact.testing.run_started_at or fnact.testing.ActivityHarness",
                    non_retryable=True,
                ) from err
            self.stats.reads += 1
            facts = await read_run(client, temporalio.activity.info().namespace, key)
        except asyncio.CancelledError:
            future.set_exception(_ReadAbandonedError())
            future.exception()
            raise
        except BaseException as exc:
            if isinstance(exc, StateError) and exc.non_retryable:
                self.stats.read_errors += 1
            future.set_exception(exc)
            future.exception()  # joined readers re-raise it; mark it seen when there are none
            raise
        finally:
            del self._pending[key]
        self.remember(key, facts.start_time)
        future.set_result(facts)
        return facts

    async def prefetch_start(self, info: temporalio.activity.Info) -> StateError | None:
        """Make sure the run start time of ``info``'s run is known, or return why it cannot be.

        Called before an activity body that may ask for its output path, when
        the headers carry no start time. A failure is returned, not raised: the
        body may never need the start time.
        """
        if is_standalone(info):
            return None  # its start time is its own, in its info
        try:
            key = run_key(info, "its output path")
        except StateError as err:
            return err
        if self.touch(key):
            return None
        try:
            await self.read(key)
        except StateError as err:
            return err
        return None
