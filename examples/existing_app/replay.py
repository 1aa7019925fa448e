"""Replay recorded histories of the app's workflow, as the app's workers would run it.

    python -m examples.existing_app.replay HISTORY.json [...]

replays each history exported with the Temporal CLI (``temporal workflow show
--workflow-id ID --output json > ID.json``) and stops with the error of the first one the
workflow code no longer replays.
"""

# --8<-- [start:imports]
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

import fnact.worker
from examples.existing_app.workflows import ShipOrder

# --8<-- [end:imports]


# --8<-- [start:replayer]
def build_replayer() -> Replayer:
    """Build a replayer of the app's workflows, configured as the app's workers are."""
    return Replayer(
        workflows=[ShipOrder],
        data_converter=pydantic_data_converter,
        plugins=[fnact.worker.Plugin()],
    )


async def replay_files(paths: list[Path]) -> None:
    """Replay each exported history (named ``<workflow id>.json``); raise on the first failure."""
    replayer = build_replayer()
    for path in paths:
        history = WorkflowHistory.from_json(path.stem, path.read_text())
        await replayer.replay_workflow(history)


# --8<-- [end:replayer]


if __name__ == "__main__":
    asyncio.run(replay_files([Path(arg) for arg in sys.argv[1:]]))
