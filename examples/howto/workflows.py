"""Workflows of the how-to guides' examples.

Temporal's workflow sandbox re-imports this module for every run, so the activity
modules come in passed through, and the module does no I/O.
"""

# --8<-- [start:imports]
from __future__ import annotations

from datetime import timedelta

import msgspec
from returns.result import Failure
from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    import fnact.workflow
    from examples.howto.outputs import Checksums, ExportedFile, ExportOrders, export_orders
    from examples.howto.secrets_app import SyncArgs, count_invoices

# --8<-- [end:imports]


# --8<-- [start:daily_export]
class DailyExportReport(msgspec.Struct, frozen=True):
    """What `DailyExport` wrote: the orders file and its checksums file."""

    export: ExportedFile
    checksums: str


@workflow.defn
class DailyExport:
    """Export a day's orders, then write their checksums in the same folder."""

    @workflow.run
    async def run(self, args: ExportOrders) -> DailyExportReport:
        """Run the export (an fnact activity), then the checksums (a plain one)."""
        exported = await fnact.workflow.execute_activity(export_orders, args)
        if isinstance(exported, Failure):
            raise ApplicationError(f"export failed: {exported.failure()!r}", non_retryable=True)
        file = exported.unwrap()
        checksums = await workflow.execute_activity_method(
            Checksums.write_checksums, [file.name], start_to_close_timeout=timedelta(minutes=1)
        )
        return DailyExportReport(export=file, checksums=checksums)


# --8<-- [end:daily_export]


@workflow.defn
class SyncInvoices:
    """Count an account's invoices at a partner, logging in with the run's credentials."""

    @workflow.run
    async def run(self, args: SyncArgs) -> int:
        """Return the invoice count; a rejected login fails the run (its message masked)."""
        counted = await fnact.workflow.execute_activity(count_invoices, args)
        if isinstance(counted, Failure):
            raise ApplicationError(f"rejected: {counted.failure()!r}", non_retryable=True)
        return counted.unwrap()
