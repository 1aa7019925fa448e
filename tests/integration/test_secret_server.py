"""A secret on the real dev server: only the run's inputs in its history carry it."""

from __future__ import annotations

import logging
import uuid

import pytest
import temporalio.client
from temporalio.client import WorkflowFailureError

import fnact
from tests.apps.scenario_app import Login, SecretLogin

pytestmark = pytest.mark.integration
SENTINEL = "SENTINEL-7f3a9c"


async def test_secret_stays_out_of_logs_heartbeats_failures_and_history(
    client: temporalio.client.Client, worker: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A sentinel secret appears only in the run's input payloads, nowhere else."""
    caplog.set_level(logging.DEBUG)
    handle = await client.start_workflow(
        SecretLogin.run,
        Login(user="ada", password=fnact.Secret(SENTINEL)),
        id=f"secret-{uuid.uuid4().hex[:8]}",
        task_queue=worker,
    )
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    failure_text = f"{caught.value} {caught.value.cause!r} {caught.value.cause}"
    assert "LoginRejected" in failure_text
    assert SENTINEL not in failure_text
    assert caplog.records, "the activity logged"
    for record in caplog.records:
        assert SENTINEL not in record.getMessage()
        assert SENTINEL not in repr(record.__dict__)
    leaking = set()
    async for event in handle.fetch_history_events():
        if SENTINEL.encode() in event.SerializeToString():
            leaking.add(event.WhichOneof("attributes"))
    assert leaking == {
        "workflow_execution_started_event_attributes",
        "activity_task_scheduled_event_attributes",
    }, "only inputs carry the secret (encrypt them with a payload codec)"
