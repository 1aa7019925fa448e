"""How every worker learns that a run it holds state for has ended.

The worker that runs a workflow sees its end directly (the run-headers
interceptor reports it). Activity-only workers never do, so each worker asks the
server, every `Settings.run_end_check_interval`, with one visibility query
(``ListWorkflowExecutions``) per `BATCH` runs its `RunContextCache` knows::

    RunId IN ('…', '…', …) AND ExecutionStatus IN ('Completed', 'Failed', …)

The answer is the held runs of the batch that are closed; each is matched to a
held run by its run id and workflow id. The query names run ids, not workflow
ids: a workflow id can have any number of closed runs (a continue-as-new chain, a
reused id), which would spill over several pages, and a closed run of the held
run's workflow id says nothing about the held run when it is the one that
continued as new *into* it. A held run that continued as new is itself closed
(status ``ContinuedAsNew``) and so is found by its own run id. A paused run is
not closed.

Visibility is eventually consistent: a run that just closed may still show as
running, and the next check finds it. Once per `AUDIT_PERIOD` the query leaves
the status out, and a held run it does not return at all (deleted, past
retention, or not yet visible) is asked about with ``DescribeWorkflowExecution``:
one that no longer exists is released, as before.

When the query fails, the batch's runs are checked with one
``DescribeWorkflowExecution`` call each, a few at a time, as before visibility was
used, and the failure is logged once (until a query succeeds again). The worker
then stays on those calls for `REFUSAL_BACKOFF` when the server refused the query
(no permission to list workflows, a query it does not support) or `RETRY_AFTER`
after another error, and makes them only every `FALLBACK_PERIOD` (or interval, if
longer): one call per held run per minute, as before visibility was used.

A run that is closed (completed, failed, cancelled, terminated, timed out,
continued as new) or no longer exists has its state released and is forgotten,
and the temporary files killed attempts left in its output folder are removed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from datetime import timedelta

import temporalio.api.common.v1
import temporalio.client
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    ListWorkflowExecutionsRequest,
)
from temporalio.service import RPCError, RPCStatusCode

from fnact._outputs._sweep import OutputSweeper
from fnact._run_facts import RunContextCache
from fnact._state import RunKey, StateStore

__all__ = ["RunEndWatcher"]

_log = logging.getLogger("fnact.runend")

BATCH = 100
"""Held runs named in one visibility query: one server call per this many runs and check."""
CONCURRENT_CHECKS = 8
"""At most this many server calls (queries or describes) are in flight at once."""
AUDIT_PERIOD = 60.0
"""Seconds between checks that look for held runs visibility does not know at all."""
REFUSAL_BACKOFF = 600.0
"""Seconds a worker whose query the server refused checks by describe before querying again."""
RETRY_AFTER = 60.0
"""The same after any other failure of the query (unavailable, rate-limited, timed out)."""
FALLBACK_PERIOD = 60.0
"""Seconds between checks by describe (or the interval, if longer) while the query fails."""
CALL_TIMEOUT = timedelta(seconds=30)
"""Deadline of each server call, so a hung call does not stop the checks."""

_STATUS = WorkflowExecutionStatus
_CLOSED_STATUSES = frozenset(
    {
        _STATUS.WORKFLOW_EXECUTION_STATUS_COMPLETED,
        _STATUS.WORKFLOW_EXECUTION_STATUS_FAILED,
        _STATUS.WORKFLOW_EXECUTION_STATUS_CANCELED,
        _STATUS.WORKFLOW_EXECUTION_STATUS_TERMINATED,
        _STATUS.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW,
        _STATUS.WORKFLOW_EXECUTION_STATUS_TIMED_OUT,
    }
)
# Listed by name rather than "!= 'Running'": a paused run is not closed, and servers
# older than the Paused status reject its name.
_CLOSED_FILTER = (
    " AND ExecutionStatus IN "
    "('Completed', 'Failed', 'Canceled', 'Terminated', 'ContinuedAsNew', 'TimedOut')"
)
# Run ids are UUIDs the server made; anything else is described rather than quoted.
_PLAIN_RUN_ID = re.compile(r"[0-9A-Za-z-]{1,64}")
# Refusals that retrying soon will not fix (a namespace not found included).
_REFUSED = frozenset(
    {
        RPCStatusCode.PERMISSION_DENIED,
        RPCStatusCode.UNAUTHENTICATED,
        RPCStatusCode.INVALID_ARGUMENT,
        RPCStatusCode.UNIMPLEMENTED,
        RPCStatusCode.FAILED_PRECONDITION,
        RPCStatusCode.NOT_FOUND,
    }
)


class RunEndWatcher:
    """Release the state of runs that ended, whichever worker ran them.

    Args:
        client: the worker's client (its namespace is the runs' namespace).
        cache: the runs to watch.
        store_provider: returns the state store to release from.
        interval: how often the held runs are checked.
        outputs: removes what killed writers left under an ended run's outputs.
    """

    def __init__(
        self,
        client: temporalio.client.Client,
        cache: RunContextCache,
        store_provider: Callable[[], StateStore],
        interval: timedelta,
        *,
        outputs: OutputSweeper | None = None,
    ) -> None:
        self._outputs = outputs
        self._client = client
        self._cache = cache
        self._store_provider = store_provider
        self._interval = interval.total_seconds()
        self._last_audit = float("-inf")
        self._describe_until = float("-inf")
        self._last_describe_round = float("-inf")
        self._failing = False  # a query failed and none succeeded since: logged already

    async def run(self) -> None:
        """Check the held runs every interval, until cancelled."""
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.check()
            except Exception:
                _log.exception("checking whether held runs ended failed")

    async def check(self) -> int:
        """Check every held run once; release those that ended and return how many.

        Workers sharing one cache (one container) share the work: a check that
        another worker made less than half an interval ago is not repeated.
        """
        now = asyncio.get_running_loop().time()
        cache = self._cache
        if now - cache.last_end_check < self._interval / 2:
            return 0
        describing = now < self._describe_until
        if describing and now - self._last_describe_round < self._fallback_period():
            return 0  # without visibility, describe every FALLBACK_PERIOD only
        cache.last_end_check = now
        runs = cache.runs()
        if not runs:
            return 0
        limit = asyncio.Semaphore(CONCURRENT_CHECKS)
        if describing:
            self._last_describe_round = now
            ended: set[RunKey] = set()
            to_describe = runs
        else:
            ended, to_describe = await self._ask_visibility(runs, now, limit)
        if to_describe:
            described = await asyncio.gather(
                *(self._described_ended(key, limit) for key in to_describe)
            )
            ended.update(key for key, gone in zip(to_describe, described, strict=True) if gone)
        await asyncio.gather(*(self._release(key) for key in ended))
        return len(ended)

    def _fallback_period(self) -> float:
        return max(FALLBACK_PERIOD, self._interval) - self._interval / 2

    async def _ask_visibility(
        self, runs: list[RunKey], now: float, limit: asyncio.Semaphore
    ) -> tuple[set[RunKey], list[RunKey]]:
        """Query visibility about the held runs, `BATCH` at a time.

        Return the runs that are closed, and those to describe: runs whose query
        failed, runs an audit did not find, runs whose id cannot be quoted.
        """
        audit = now - self._last_audit >= AUDIT_PERIOD
        if audit:
            self._last_audit = now
        listable = [key for key in runs if _PLAIN_RUN_ID.fullmatch(key.run_id)]
        to_describe = [key for key in runs if not _PLAIN_RUN_ID.fullmatch(key.run_id)]
        batches = [listable[i : i + BATCH] for i in range(0, len(listable), BATCH)]
        answers = await asyncio.gather(
            *(self._query(batch, audit=audit, limit=limit) for batch in batches)
        )
        ended: set[RunKey] = set()
        for batch, answer in zip(batches, answers, strict=True):
            if answer is None:  # the query failed: ask about each run, now
                to_describe.extend(batch)
                self._last_describe_round = now
            else:
                closed, unknown = answer
                ended |= closed
                to_describe.extend(unknown)
        return ended, to_describe

    async def _release(self, key: RunKey) -> None:
        started = self._cache.start_time(key)
        await self._store_provider().release(key)
        self._cache.forget(key)
        if started is not None and self._outputs is not None:
            await self._outputs.run_ended(started, key.workflow_id, key.run_id)

    async def _query(
        self, batch: Sequence[RunKey], *, audit: bool, limit: asyncio.Semaphore
    ) -> tuple[set[RunKey], list[RunKey]] | None:
        """Ask visibility about a batch of held runs.

        Return the runs that are closed and, on an audit, the runs visibility does
        not know; ``None`` when the query failed.
        """
        held = {key.run_id: key for key in batch}
        query = "RunId IN (" + ", ".join(f"'{run_id}'" for run_id in held) + ")"
        if not audit:
            query += _CLOSED_FILTER
        closed: set[RunKey] = set()
        seen: set[RunKey] = set()
        token = b""
        while True:
            request = ListWorkflowExecutionsRequest(
                namespace=self._client.namespace,
                # One more than can match, so a full answer needs no second (empty) page.
                page_size=len(held) + 1,
                next_page_token=token,
                query=query,
            )
            async with limit:
                self._cache.stats.end_checks += 1
                self._cache.stats.end_check_lists += 1
                try:
                    response = await self._client.workflow_service.list_workflow_executions(
                        request, timeout=CALL_TIMEOUT
                    )
                except RPCError as err:
                    self._query_failed(err)
                    return None
            for info in response.executions:
                key = held.get(info.execution.run_id)
                if key is None or key.workflow_id != info.execution.workflow_id:
                    continue
                seen.add(key)
                if info.status in _CLOSED_STATUSES:
                    closed.add(key)
            token = response.next_page_token
            if not token or not response.executions:
                break
        if self._failing:
            self._failing = False
            _log.info("the visibility query for ended runs works again")
        return closed, [key for key in batch if key not in seen] if audit else []

    def _query_failed(self, err: RPCError) -> None:
        backoff = REFUSAL_BACKOFF if err.status in _REFUSED else RETRY_AFTER
        self._describe_until = asyncio.get_running_loop().time() + backoff
        if self._failing:
            _log.debug("the visibility query for ended runs failed again: %s", err.message)
            return
        self._failing = True
        _log.warning(
            "the visibility query for ended runs (ListWorkflowExecutions in namespace %r) "
            "failed (%s: %s); for the next %.0f s each held run is checked with "
            "DescribeWorkflowExecution instead, every %.0f s. Give the worker permission to "
            "list workflows in the namespace: one query covers %d held runs.",
            self._client.namespace,
            err.status.name,
            err.message,
            backoff,
            max(FALLBACK_PERIOD, self._interval),
            BATCH,
        )

    async def _described_ended(self, key: RunKey, limit: asyncio.Semaphore) -> bool:
        async with limit:
            return await self._ended(key)

    async def _ended(self, key: RunKey) -> bool:
        self._cache.stats.end_checks += 1
        request = DescribeWorkflowExecutionRequest(
            namespace=self._client.namespace,
            execution=temporalio.api.common.v1.WorkflowExecution(
                workflow_id=key.workflow_id, run_id=key.run_id
            ),
        )
        try:
            response = await self._client.workflow_service.describe_workflow_execution(
                request, timeout=CALL_TIMEOUT
            )
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return True  # gone (past retention, or deleted): nothing will use its state
            _log.warning("checking whether run %s ended failed: %s", key, err.message)
            return False
        return response.workflow_execution_info.status in _CLOSED_STATUSES
