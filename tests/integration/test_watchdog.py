"""The blocked-loop watchdog on a real worker: one warning, naming the activity and the line."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import temporalio.client
from dependency_injector import providers

import fnact
import fnact.worker
from tests.apps import watchdog_app
from tests.apps.watchdog_app import BlockTheLoop, block_the_loop, wait_politely

pytestmark = pytest.mark.integration
APP = Path(watchdog_app.__file__)


def blocking_line() -> int:
    """The line number of the blocking call in the app."""
    lines = APP.read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if "# BLOCKING LINE" in line)


async def test_a_blocked_loop_is_reported_once_naming_the_activity_and_the_line(
    client: temporalio.client.Client,
    fnact_task_queue: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """time.sleep(2) on the loop gives one warning: the activity, its ids, the time.sleep line."""
    container = fnact.Container()
    settings = fnact.Settings(output_root=tmp_path, blocked_loop_threshold=timedelta(seconds=0.5))
    container.settings.override(providers.Object(settings))
    workflow_id = f"blocked-{uuid.uuid4().hex[:8]}"
    caplog.set_level(logging.WARNING, logger="fnact.watchdog")
    async with fnact.worker.create_worker(
        client,
        task_queue=fnact_task_queue,
        container=container,
        activities=[block_the_loop, wait_politely],
        workflows=[BlockTheLoop],
    ):
        result = await client.execute_workflow(
            BlockTheLoop.run, 2.0, id=workflow_id, task_queue=fnact_task_queue
        )
    assert result == ["woke", "waited"]
    warnings = [r for r in caplog.records if r.name == "fnact.watchdog"]
    assert len(warnings) == 1, [r.getMessage()[:200] for r in warnings]
    message = warnings[0].getMessage()
    assert "the event loop has not run for" in message
    holding = message.split("the one holding it first: ", 1)[1]
    assert holding.startswith(f"block_the_loop (activity id 2, workflow id {workflow_id})")
    assert f"wait_politely (activity id 1, workflow id {workflow_id})" in holding
    assert f'watchdog_app.py", line {blocking_line()}, in block_the_loop' in message
    assert "time.sleep(seconds)" in message
    fields = warnings[0].fields  # type: ignore[attr-defined]
    assert fields["stalled_seconds"] >= 0.5  # rounded to ms; the stall passed the threshold
    assert [a["activity_type"] for a in fields["activities"]] == ["block_the_loop", "wait_politely"]
