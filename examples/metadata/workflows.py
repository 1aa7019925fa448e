"""The example workflow: chain the three activities, stopping at the first Failure."""

# --8<-- [start:imports]
from __future__ import annotations

from typing import Any, TypeVar

from returns.result import Failure, Result
from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    import fnact.workflow
    from examples.metadata.activities import describe_columns, list_tables, write_metadata
    from examples.metadata.models import (
        DescribeTable,
        ExtractArgs,
        ExtractReport,
        ListTables,
        TableMetadata,
        WriteMetadata,
    )

# --8<-- [end:imports]

# --8<-- [start:unwrap_or_fail]
T = TypeVar("T")


def unwrap_or_fail(result: Result[T, Any], what: str) -> T:
    """Return a Success's value; turn a Failure into a non-retryable workflow failure."""
    if isinstance(result, Failure):
        raise ApplicationError(f"{what}: {result.failure()!r}", non_retryable=True)
    return result.unwrap()


# --8<-- [end:unwrap_or_fail]


@workflow.defn
class ExtractMetadata:
    """Describe every table of a database and write the description as JSON files."""

    @workflow.run
    async def run(self, args: ExtractArgs) -> ExtractReport:
        """Run the extraction; a Failure from any activity fails the workflow."""
        # --8<-- [start:call]
        listed = await fnact.workflow.execute_activity(list_tables, ListTables())
        tables = unwrap_or_fail(listed, "cannot list tables")
        # --8<-- [end:call]
        described: list[TableMetadata] = []
        for table in tables:
            columns = await fnact.workflow.execute_activity(describe_columns, DescribeTable(table))
            described.append(
                TableMetadata(
                    table=table, columns=unwrap_or_fail(columns, f"cannot describe {table}")
                )
            )
        written = await fnact.workflow.execute_activity(write_metadata, WriteMetadata(described))
        report = unwrap_or_fail(written, "cannot write metadata")
        return ExtractReport(
            database=args.database,
            tables=len(described),
            columns=sum(len(t.columns) for t in described),
            output=report,
        )
