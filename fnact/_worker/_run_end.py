"""How every worker learns that a run it holds state for has ended.

The worker that runs a workflow sees its end directly (the run-headers
interceptor reports it). Activity-only workers never do, so each worker asks the
server: every `Settings.run_end_check_interval`, one ``DescribeWorkflowExecution``
call per run its `RunContextCache` knows, a few at a time. A run that is no
longer running (completed, failed, cancelled, terminated, timed out, continued
as new) or no longer exists has its state released and is forgotten, and the
temporary files killed attempts left in its output folder are removed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

import temporalio.api.common.v1
import temporalio.client
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.service import RPCError, RPCStatusCode

from fnact._outputs._sweep import OutputSweeper
from fnact._run_facts import RunContextCache
from fnact._state import RunKey, StateStore

__all__ = ["RunEndWatcher"]

_log = logging.getLogger("fnact.runend")

CONCURRENT_CHECKS = 8
"""At most this many checks are in flight at once."""


class RunEndWatcher:
    """Release the state of runs that ended, whichever worker ran them.

    Args:
        client: the worker's client (its namespace is the runs' namespace).
        cache: the runs to watch.
        store_provider: returns the state store to release from.
        interval: how often each run is checked.
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
        loop = asyncio.get_running_loop()
        cache = self._cache
        if loop.time() - cache.last_end_check < self._interval / 2:
            return 0
        cache.last_end_check = loop.time()
        runs = cache.runs()
        if not runs:
            return 0
        limit = asyncio.Semaphore(CONCURRENT_CHECKS)

        async def check_one(key: RunKey) -> bool:
            async with limit:
                if not await self._ended(key):
                    return False
            started = self._cache.start_time(key)
            await self._store_provider().release(key)
            self._cache.forget(key)
            if started is not None and self._outputs is not None:
                await self._outputs.run_ended(started, key.workflow_id, key.run_id)
            return True

        ended = await asyncio.gather(*(check_one(key) for key in runs))
        return sum(ended)

    async def _ended(self, key: RunKey) -> bool:
        self._cache.stats.end_checks += 1
        request = DescribeWorkflowExecutionRequest(
            namespace=self._client.namespace,
            execution=temporalio.api.common.v1.WorkflowExecution(
                workflow_id=key.workflow_id, run_id=key.run_id
            ),
        )
        try:
            response = await self._client.workflow_service.describe_workflow_execution(request)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return True  # gone (past retention, or deleted): nothing will use its state
            _log.warning("checking whether run %s ended failed: %s", key, err.message)
            return False
        status = response.workflow_execution_info.status
        return status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
