"""A worker set up for operations: Prometheus metrics, health probes, a drain on SIGTERM.

    fnact worker examples.howto.operations:spec

`scan_table` checkpoints after every row, so a worker that drains mid-scan hands
the rest to another worker. The how-to guide "Operate fnact in production" shows
these pieces; `operations.yaml` beside it is that guide's Kubernetes Deployment.
"""

# --8<-- [start:imports]
from __future__ import annotations

import asyncio
import os
from datetime import timedelta

import msgspec
from returns.result import Result, Success
from temporalio import activity, workflow
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

with workflow.unsafe.imports_passed_through():
    import fnact
    import fnact.worker
    import fnact.workflow

# --8<-- [end:imports]


# --8<-- [start:scan]
class ScanTable(msgspec.Struct, frozen=True):
    """Input of `scan_table`: which table, and how many rows it has."""

    table: str
    rows: int


class Cursor(msgspec.Struct, frozen=True):
    """Where a retry resumes: the next row to scan."""

    next_row: int


class ScanReport(msgspec.Struct, frozen=True):
    """What `scan_table` did in the attempt that finished the scan."""

    table: str
    rows: int
    resumed_at: int
    """The row the finishing attempt started from (0 when nothing was handed over)."""
    attempt: int


@fnact.activity(
    start_to_close_timeout=timedelta(minutes=10),
    heartbeat_timeout=timedelta(seconds=10),
    checkpoint=Cursor,
)
async def scan_table(
    ctx: fnact.ActivityContext, scan: ScanTable
) -> Result[ScanReport, fnact.Fault]:
    """Scan the table a row at a time, checkpointing after each row."""
    resumed = ctx.last_checkpoint(Cursor)
    begin = resumed.next_row if resumed else 0
    for row in range(begin, scan.rows):
        await asyncio.sleep(0.1)  # reading the row
        ctx.checkpoint(Cursor(next_row=row + 1), progress=row + 1)
        ctx.logger.debug("scanned row", row=row)
    return Success(ScanReport(scan.table, scan.rows, begin, activity.info().attempt))


@workflow.defn
class NightlyScan:
    """Scan one table."""

    @workflow.run
    async def run(self, scan: ScanTable) -> ScanReport:
        """Run `scan_table` until it completes, on whichever worker."""
        result = await fnact.workflow.execute_activity(scan_table, scan)
        return result.unwrap()


# --8<-- [end:scan]


# --8<-- [start:spec]
METRICS_ADDRESS = "0.0.0.0:9464"
"""Where the Prometheus endpoint listens unless ``$METRICS_ADDRESS`` says otherwise."""
HEALTH_PORT = 8080
"""The port of the health probes."""


def spec() -> fnact.worker.WorkerSpec:
    """Build the worker when ``fnact worker`` starts it."""
    # Temporal's metrics and fnact's, served for Prometheus to scrape.
    metrics = PrometheusConfig(bind_address=os.environ.get("METRICS_ADDRESS", METRICS_ADDRESS))
    grace = timedelta(seconds=float(os.environ.get("GRACEFUL_SHUTDOWN_SECONDS", "60")))
    return fnact.worker.WorkerSpec(
        task_queue="scans",
        container=fnact.Container(),
        activities=[scan_table],
        workflows=[NightlyScan],
        runtime=Runtime(telemetry=TelemetryConfig(metrics=metrics)),
        health_port=HEALTH_PORT,  # /healthz and /readyz, for the pod's probes
        # On SIGTERM: readiness goes false, polling stops, running activities get `grace`.
        worker_options=fnact.worker.WorkerOptions(graceful_shutdown_timeout=grace),
    )


# --8<-- [end:spec]
