"""The example's three activities: list tables, describe columns, write JSON files."""

# --8<-- [start:imports]
from __future__ import annotations

from datetime import timedelta

import msgspec
from dependency_injector import providers
from dependency_injector.wiring import Provide
from returns.result import Failure, Result, Success

import fnact
from examples.metadata.catalog import Catalog
from examples.metadata.models import (
    Column,
    DatabaseMissing,
    DescribeTable,
    ExtractArgs,
    ListTables,
    TableMissing,
    WriteMetadata,
    WriteReport,
)

# --8<-- [end:imports]


class Container(fnact.Container):
    """The example's composition root: fnact's providers plus the app's own."""

    handler = providers.Factory(Catalog.open)
    json_indent = providers.Object(2)


# --8<-- [start:list_tables]
Ctx = fnact.ActivityContext[Catalog | None, ExtractArgs]


@fnact.activity(start_to_close_timeout=timedelta(seconds=30))
async def list_tables(ctx: Ctx, args: ListTables) -> Result[list[str], DatabaseMissing]:
    """List the database's tables whose names start with ``args.name_prefix``."""
    catalog = ctx.state.handler
    if catalog is None:
        return Failure(DatabaseMissing(path=ctx.state.workflow_args.database))
    tables = catalog.tables(include_views=ctx.state.workflow_args.include_views)
    ctx.logger.info("listed tables", count=len(tables))
    return Success([t for t in tables if t.startswith(args.name_prefix)])


# --8<-- [end:list_tables]


@fnact.activity(start_to_close_timeout=timedelta(seconds=30))
async def describe_columns(
    ctx: Ctx, args: DescribeTable
) -> Result[list[Column], TableMissing | DatabaseMissing]:
    """Describe the columns of one table."""
    catalog = ctx.state.handler
    if catalog is None:
        return Failure(DatabaseMissing(path=ctx.state.workflow_args.database))
    columns = catalog.columns(args.table)
    if columns is None:
        return Failure(TableMissing(table=args.table))
    ctx.logger.info("described table", table=args.table, columns=len(columns))
    return Success(columns)


@fnact.activity(start_to_close_timeout=timedelta(seconds=30))
async def write_metadata(
    ctx: fnact.ActivityContext,
    args: WriteMetadata,
    indent: int = Provide[Container.json_indent],
) -> Result[WriteReport, fnact.Fault]:
    """Write one JSON file per table, plus an index, under the run's outputs (any store)."""
    files: list[str] = []
    for table in args.tables:
        body = msgspec.json.format(msgspec.json.encode(table), indent=indent)
        await ctx.outputs.write(f"tables/{table.table}.json", body)
        files.append(f"{table.table}.json")
    index = {"tables": [t.table for t in args.tables]}
    await ctx.outputs.write(
        "index.json", msgspec.json.format(msgspec.json.encode(index), indent=indent)
    )
    folder = f"{ctx.outputs.root.rstrip('/')}/{ctx.outputs.prefix}"
    ctx.logger.info("wrote metadata", files=len(files) + 1, folder=folder)
    return Success(WriteReport(folder=folder, files=[*files, "index.json"]))
