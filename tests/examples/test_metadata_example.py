"""The metadata example: its workflow on the dev server, and its command line."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import temporalio.client
from dependency_injector import providers
from temporalio.client import WorkflowFailureError

import fnact
import fnact.worker
from examples.metadata.__main__ import build_container, create_database
from examples.metadata.activities import (
    Catalog,
    describe_columns,
    list_tables,
    write_metadata,
)
from examples.metadata.models import ExtractArgs, ExtractReport
from examples.metadata.workflows import ExtractMetadata
from tests.object_stores import S3Server

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


async def run_extract(
    client: temporalio.client.Client, queue: str, container: object, database: Path
) -> ExtractReport:
    async with fnact.worker.create_worker(
        client,
        task_queue=queue,
        container=container,  # type: ignore[arg-type]
        activities=[list_tables, describe_columns, write_metadata],
        workflows=[ExtractMetadata],
    ):
        return await client.execute_workflow(
            ExtractMetadata.run,
            ExtractArgs(database=str(database)),
            id=f"extract-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )


async def test_workflow_writes_one_json_file_per_table(
    client: temporalio.client.Client, fnact_task_queue: str, tmp_path: Path
) -> None:
    """The workflow describes every table and writes its columns as JSON under the run's path."""
    database = create_database(tmp_path / "shop.db")
    report = await run_extract(
        client, fnact_task_queue, build_container(tmp_path / "out"), database
    )
    assert (report.tables, report.columns) == (3, 11)
    folder = Path(report.output.folder)
    assert folder.is_relative_to(tmp_path / "out")
    assert sorted(report.output.files) == [
        "customers.json",
        "index.json",
        "order_lines.json",
        "orders.json",
    ]
    orders = json.loads((folder / "tables" / "orders.json").read_text())
    assert orders["table"] == "orders"
    assert [c["name"] for c in orders["columns"]] == [
        "id",
        "customer_id",
        "total_cents",
        "placed_at",
    ]
    assert orders["columns"][0]["primary_key"] is True
    assert json.loads((folder / "index.json").read_text()) == {
        "tables": ["customers", "order_lines", "orders"]
    }
    assert not list(folder.rglob("*.part")), "no temporary files are left behind"


async def test_missing_database_fails_the_workflow_without_retries(
    client: temporalio.client.Client, fnact_task_queue: str, tmp_path: Path
) -> None:
    """A missing database is a Failure(DatabaseMissing): the workflow fails with its message."""
    with pytest.raises(WorkflowFailureError) as caught:
        await run_extract(
            client, fnact_task_queue, build_container(tmp_path / "out"), tmp_path / "nope.db"
        )
    assert "DatabaseMissing" in str(caught.value.cause)
    assert not (tmp_path / "out").exists()


async def test_handler_override_changes_what_activities_read(
    client: temporalio.client.Client, fnact_task_queue: str, tmp_path: Path
) -> None:
    """Overriding the handler provider points every activity at another database."""
    real = create_database(tmp_path / "shop.db")
    other = tmp_path / "other.db"
    import sqlite3

    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE only_one (x INTEGER)")
    container = build_container(tmp_path / "out")
    with container.handler.override(providers.Factory(Catalog, path=other)):
        report = await run_extract(client, fnact_task_queue, container, real)
    assert (report.tables, report.columns) == (1, 1)


def test_command_line_runs_end_to_end(tmp_path: Path) -> None:
    """`python -m examples.metadata` runs the workflow on its own dev server and prints the UI."""
    result = subprocess.run(
        [
            sys.executable, "-m", "examples.metadata", "--no-serve",
            "--database", str(tmp_path / "shop.db"), "--output", str(tmp_path / "out"),
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "3 tables, 11 columns described" in result.stdout
    assert "Temporal Web UI: http://127.0.0.1:" in result.stdout
    assert len(list((tmp_path / "out").rglob("index.json"))) == 1
    # Its activities' log lines show the bound fields.
    (listed,) = [line for line in result.stderr.splitlines() if "listed tables" in line]
    assert " INFO fnact.activity: listed tables workflow_id=extract-metadata-" in listed
    for field in ("activity_type=list_tables", "attempt=1", "count=3", "run_id="):
        assert field in listed, listed


def test_command_line_writes_to_an_s3_root(
    tmp_path: Path, s3_server: S3Server, s3_env: dict[str, str]
) -> None:
    """`--output s3://bucket/prefix` puts the example's JSON files in the bucket."""
    bucket = s3_server.create_bucket()
    result = subprocess.run(
        [
            sys.executable, "-m", "examples.metadata", "--no-serve",
            "--database", str(tmp_path / "shop.db"), "--output", f"s3://{bucket}/metadata",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"JSON files in s3://{bucket}/metadata/" in result.stdout
    listed = s3_server.boto3_client().list_objects_v2(Bucket=bucket, Prefix="metadata/")
    names = sorted(item["Key"].rsplit("/", 1)[1] for item in listed["Contents"])
    assert names == ["customers.json", "index.json", "order_lines.json", "orders.json"]
