"""Run the metadata example end to end on an embedded Temporal dev server.

    python -m examples.metadata [--database PATH] [--output DIR_OR_URL] [--serve | --no-serve]

It creates a small SQLite database, starts the dev server (with its Web UI) and
a worker, runs the ``ExtractMetadata`` workflow, and prints the result and where
to see the run. With ``--serve`` (the default on a terminal) it keeps the server
up until Ctrl+C so the Web UI stays reachable.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sqlite3
import sys
import uuid
from pathlib import Path

from dependency_injector import providers

import fnact
import fnact.worker
from examples.metadata.activities import (
    Container,
    describe_columns,
    list_tables,
    write_metadata,
)
from examples.metadata.models import ExtractArgs, ExtractReport
from examples.metadata.workflows import ExtractMetadata

TASK_QUEUE = "fnact-example-metadata"

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
    total_cents INTEGER NOT NULL, placed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS order_lines (
    order_id INTEGER NOT NULL REFERENCES orders(id), sku TEXT NOT NULL,
    quantity INTEGER NOT NULL, PRIMARY KEY (order_id, sku)
);
CREATE VIEW IF NOT EXISTS big_orders AS SELECT * FROM orders WHERE total_cents > 10000;
"""


def create_database(path: Path) -> Path:
    """Create (or reuse) the example's SQLite database at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA)
    return path


def build_container(output_root: Path | str) -> Container:
    """Build the example's container with its output root."""
    container = Container()
    container.settings.override(providers.Object(fnact.Settings(output_root=output_root)))  # pyright: ignore[reportUnknownMemberType]
    return container


async def run_example(database: Path, output_root: Path | str, *, serve: bool) -> ExtractReport:
    """Start the dev server and a worker, run the workflow once and return its result."""
    with fnact.worker.DevServer() as server:
        client = await fnact.worker.connect(server.address)
        worker = fnact.worker.create_worker(
            client,
            task_queue=TASK_QUEUE,
            container=build_container(output_root),
            activities=[list_tables, describe_columns, write_metadata],
            workflows=[ExtractMetadata],
        )
        async with worker:
            workflow_id = f"extract-metadata-{uuid.uuid4().hex[:8]}"
            report = await client.execute_workflow(
                ExtractMetadata.run,
                ExtractArgs(database=str(database)),
                id=workflow_id,
                task_queue=TASK_QUEUE,
            )
            print(f"workflow {workflow_id} completed:")
            print(f"  {report.tables} tables, {report.columns} columns described")
            print(f"  JSON files in {report.output.folder}: {', '.join(report.output.files)}")
            print(f"Temporal Web UI: {server.ui_url}")
            print(f"  this run: {server.ui_url}/namespaces/default/workflows/{workflow_id}")
            if serve:
                print("Serving the Web UI; press Ctrl+C to stop.")
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.Event().wait()
    return report


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the example."""
    parser = argparse.ArgumentParser(prog="python -m examples.metadata", description=__doc__)
    parser.add_argument("--database", type=Path, default=Path("fnact-example/shop.db"))
    parser.add_argument(
        "--output",
        default="fnact-example/output",
        help="a folder, or an object store URL such as s3://bucket/prefix (fnact[s3])",
    )
    parser.add_argument(
        "--serve",
        action=argparse.BooleanOptionalAction,
        default=sys.stdin.isatty() and sys.stdout.isatty(),
        help="keep the dev server and Web UI up until Ctrl+C (default: on a terminal)",
    )
    options = parser.parse_args(argv)
    # The activities' log lines on stderr, each ending with its fields (workflow_id=...).
    handler = logging.StreamHandler()
    handler.setFormatter(fnact.worker.TextFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    database = create_database(options.database.resolve())
    try:
        output = options.output if "://" in options.output else Path(options.output).resolve()
        asyncio.run(run_example(database, output, serve=options.serve))
    except KeyboardInterrupt:
        print("stopped")
    return 0


if __name__ == "__main__":
    code = main()
    # Exit without the interpreter's teardown, which temporalio's threads can crash
    # (temporalio/sdk-python#300); flush first so nothing printed is lost.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
