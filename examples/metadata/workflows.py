"""The example workflow: chain the three activities, stopping at the first Failure."""

from __future__ import annotations

from returns.result import Failure, Success
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


@workflow.defn
class ExtractMetadata:
    """Describe every table of a database and write the description as JSON files."""

    @workflow.run
    async def run(self, args: ExtractArgs) -> ExtractReport:
        """Run the extraction; a Failure from any activity fails the workflow."""
        match await fnact.workflow.execute_activity(list_tables, ListTables()):
            case Success(names):
                tables = names
            case Failure(error):
                raise ApplicationError(f"cannot list tables: {error!r}", non_retryable=True)
        described = []
        for table in tables:
            match await fnact.workflow.execute_activity(describe_columns, DescribeTable(table)):
                case Success(columns):
                    described.append(TableMetadata(table=table, columns=columns))
                case Failure(error):
                    raise ApplicationError(f"cannot describe {table}: {error!r}", non_retryable=True)
        match await fnact.workflow.execute_activity(write_metadata, WriteMetadata(described)):
            case Success(report):
                return ExtractReport(
                    database=args.database,
                    tables=len(described),
                    columns=sum(len(t.columns) for t in described),
                    output=report,
                )
            case Failure(error):
                raise ApplicationError(f"cannot write metadata: {error!r}", non_retryable=True)
