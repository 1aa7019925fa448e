"""The code of the how-to guide "Test a workflow against a real server".

See docs/how-to/test-a-workflow.md.
"""

# --8<-- [start:imports]
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from dependency_injector import providers
from temporalio.client import Client, WorkflowFailureError

from examples.metadata.activities import (
    Container,
    describe_columns,
    list_tables,
    write_metadata,
)
from examples.metadata.models import ExtractArgs
from examples.metadata.workflows import ExtractMetadata
from fnact.testing import StartWorker

# --8<-- [end:imports]

# --8<-- [start:setup]
pytestmark = pytest.mark.integration

ACTIVITIES = [list_tables, describe_columns, write_metadata]


# --8<-- [end:setup]


# --8<-- [start:workflow]
async def test_extract_metadata_describes_every_table(
    fnact_worker: StartWorker, temporal_client: Client, shop: ExtractArgs, tmp_path: Path
) -> None:
    """ExtractMetadata describes the shop's three tables and writes one JSON file per table."""
    queue = await fnact_worker(activities=ACTIVITIES, workflows=[ExtractMetadata])
    report = await temporal_client.execute_workflow(
        ExtractMetadata.run, shop, id=f"extract-{uuid.uuid4()}", task_queue=queue
    )
    assert (report.tables, report.columns) == (3, 11)
    assert sorted(report.output.files) == [
        "customers.json",
        "index.json",
        "order_lines.json",
        "orders.json",
    ]
    assert Path(report.output.folder).is_relative_to(tmp_path / "output")


# --8<-- [end:workflow]


# --8<-- [start:failure]
async def test_a_missing_database_fails_the_workflow(
    fnact_worker: StartWorker, temporal_client: Client, tmp_path: Path
) -> None:
    """A Failure(DatabaseMissing) from list_tables fails the workflow, naming the fault."""
    queue = await fnact_worker(activities=ACTIVITIES, workflows=[ExtractMetadata])
    missing = ExtractArgs(database=str(tmp_path / "missing.db"))
    with pytest.raises(WorkflowFailureError) as failed:
        await temporal_client.execute_workflow(
            ExtractMetadata.run, missing, id=f"extract-{uuid.uuid4()}", task_queue=queue
        )
    assert "DatabaseMissing" in str(failed.value.cause)


# --8<-- [end:failure]


# --8<-- [start:override]
async def test_a_worker_uses_the_containers_overrides(
    fnact_worker: StartWorker,
    temporal_client: Client,
    fnact_container: Container,
    shop: ExtractArgs,
) -> None:
    """Overrides made on fnact_container before the worker starts reach its activities."""
    fnact_container.json_indent.override(providers.Object(0))  # pyright: ignore[reportUnknownMemberType]
    queue = await fnact_worker(activities=ACTIVITIES, workflows=[ExtractMetadata])
    report = await temporal_client.execute_workflow(
        ExtractMetadata.run, shop, id=f"extract-{uuid.uuid4()}", task_queue=queue
    )
    index = Path(report.output.folder) / "index.json"
    assert index.read_bytes() == b'{"tables": ["customers", "order_lines", "orders"]}'


# --8<-- [end:override]
