"""A fleet of worker processes: one runs the workflows, two others run the activities."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import temporalio.client

from fnact.worker import DevServer
from tests.apps.run_context_app import FanOut, Load
from tests.integration.conftest import ChildWorker, assert_seen

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
RUNS = 300
FAN_OUT = 4
END_CHECK_SECONDS = 2.0


class FleetProcess(ChildWorker):
    """One worker process of the fleet, and the status file it keeps up to date."""

    def __init__(self, server: DevServer, role: str, queue: str, folder: Path) -> None:
        self.status_file = folder / f"{role}-{uuid.uuid4().hex[:6]}.json"
        super().__init__(
            "tests.apps.fleet_process", role, server.address, queue, str(self.status_file),
            env={"FNACT_TEST_END_CHECK": str(END_CHECK_SECONDS)},
            log=folder / f"{self.status_file.stem}.log", clean_exit=True,
        )  # fmt: skip

    def status(self) -> dict[str, Any]:
        """Return the process's latest status."""
        result: dict[str, Any] = json.loads(self.status_file.read_text())
        return result


@pytest.fixture
def fleet(temporal_server: DevServer, tmp_path: Path) -> Iterator[tuple[str, list[FleetProcess]]]:
    """Start one workflow-only and two activity-only worker processes; yield the base queue."""
    queue = f"fleet-{uuid.uuid4().hex[:8]}"
    started: list[FleetProcess] = []
    try:
        started.append(FleetProcess(temporal_server, "workflows", queue, tmp_path))
        for _ in range(2):
            started.append(FleetProcess(temporal_server, "activities", f"{queue}-act", tmp_path))
        yield queue, started
    finally:
        for process in started:
            process.stop()


@pytest.mark.timeout(240)
async def test_fleet_builds_once_per_run_per_process_and_releases_everywhere(
    client: temporalio.client.Client, fleet: tuple[str, list[FleetProcess]]
) -> None:
    """300 runs x 4 stateful activities across three processes: right results, 0 states after."""
    queue, (workflows, *activity_workers) = fleet
    loads = [
        Load(name=f"run-{i}", pad="p" * (1000 + i), fan_out=FAN_OUT, queue=f"{queue}-act")
        for i in range(RUNS)
    ]
    handles = await asyncio.gather(
        *(
            client.start_workflow(FanOut.run, load, id=f"{queue}-{i}", task_queue=queue)
            for i, load in enumerate(loads)
        )
    )
    results = await asyncio.gather(*(handle.result() for handle in handles))
    for load, seen in zip(loads, results, strict=True):
        assert_seen(seen, load, FAN_OUT)
    ended = asyncio.get_running_loop().time()

    def settled() -> bool:
        return all(
            p.status()["live"] == 0 and p.status()["known_runs"] == 0
            for p in (workflows, *activity_workers)
        )

    while not settled():
        # The bound: a check interval, plus one round of checks and the status file's lag.
        assert asyncio.get_running_loop().time() - ended < 2 * END_CHECK_SECONDS + 5
        await asyncio.sleep(0.1)
    print(f"fleet settled {asyncio.get_running_loop().time() - ended:.1f} s after the last run")
    run_keys = {f"{h.id}/{h.result_run_id}" for h in handles}
    served: set[str] = set()
    for process in activity_workers:
        status = process.status()
        assert status["builds"], "each activity worker served some runs"
        assert set(status["builds"].values()) == {1}  # at most once per run per process
        assert status["closes"] == status["builds"]  # closed exactly once
        assert status["reads"] <= len(status["builds"])  # one history read per run, at most
        served |= set(status["builds"])
    assert served == run_keys
    assert workflows.status()["builds"] == {}
