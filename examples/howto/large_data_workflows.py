"""Workflows of the large-data guide: pass a reference, or pass the data itself.

`SalesReport` passes an `fnact.OutputRef` from one activity to the next: the sales stay
in the output root and only the reference enters the history. `SalesReportInline` passes
the sales themselves, which needs Temporal's external storage once they pass 2 MiB.
Temporal's workflow sandbox re-imports this module for every run, so the activity
module comes in passed through, and the module does no I/O.
"""

# --8<-- [start:imports]
from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from returns.result import Failure, Result
from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    import fnact
    import fnact.workflow
    from examples.howto.object_storage import (
        ExportDay,
        Manifest,
        RegionTotals,
        export_sales,
        fetch_sales,
        total_by_region,
        total_sales,
        write_manifest,
    )

# --8<-- [end:imports]

# --8<-- [start:value]
T = TypeVar("T")


def _value(result: Result[T, Any], step: str) -> T:
    """Return a step's value; fail the run, naming the step, on a `Failure`."""
    if isinstance(result, Failure):
        raise ApplicationError(f"{step} failed: {result.failure()!r}", non_retryable=True)
    return result.unwrap()


# --8<-- [end:value]


# --8<-- [start:by_reference]
class SalesReportResult(msgspec.Struct, frozen=True):
    """What `SalesReport` produced: the exported sales, their totals, the run's outputs."""

    sales: fnact.OutputRef
    totals: RegionTotals
    outputs: list[str]


@workflow.defn
class SalesReport:
    """Export a day's sales, total them by reference, then write the run's checksums."""

    @workflow.run
    async def run(self, args: ExportDay) -> SalesReportResult:
        """Pass the export's reference, not its rows, to the next activity."""
        sales = _value(await fnact.workflow.execute_activity(export_sales, args), "export")
        totals = _value(await fnact.workflow.execute_activity(total_by_region, sales), "totals")
        outputs = _value(await fnact.workflow.execute_activity(write_manifest, Manifest()), "sums")
        return SalesReportResult(sales=sales, totals=totals, outputs=outputs)


# --8<-- [end:by_reference]


# --8<-- [start:by_value]
@workflow.defn
class SalesReportInline:
    """Fetch a day's sales as a value and total them: large payloads go to external storage."""

    @workflow.run
    async def run(self, args: ExportDay) -> RegionTotals:
        """Pass the rows themselves from one activity to the next."""
        sales = _value(await fnact.workflow.execute_activity(fetch_sales, args), "fetch")
        return _value(await fnact.workflow.execute_activity(total_sales, sales), "totals")


# --8<-- [end:by_value]
