"""Worker versioning passes through fnact: a worker of a deployment version runs the run."""

# --8<-- [start:imports]
from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
import temporalio.client
import temporalio.service
from dependency_injector import providers
from temporalio.api.workflowservice.v1 import SetWorkerDeploymentCurrentVersionRequest
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.worker import WorkerDeploymentConfig

import fnact
import fnact.worker
from examples.howto.operations import NightlyScan, ScanReport, ScanTable, scan_table

# --8<-- [end:imports]

pytestmark = pytest.mark.integration


async def make_current(client: temporalio.client.Client, version: WorkerDeploymentVersion) -> None:
    """Make ``version`` its deployment's current version, once its worker has polled."""
    request = SetWorkerDeploymentCurrentVersionRequest(
        namespace=client.namespace,
        deployment_name=version.deployment_name,
        build_id=version.build_id,
        identity="fnact-test",
    )
    for _ in range(100):
        try:
            await client.workflow_service.set_worker_deployment_current_version(request)
            return
        except temporalio.service.RPCError:  # the version is not known yet
            await asyncio.sleep(0.1)
    raise AssertionError(f"{version} never became current")


# --8<-- [start:deployment]
async def test_a_deployment_version_given_to_create_worker_runs_the_workflow(
    client: temporalio.client.Client, fnact_task_queue: str, tmp_path: Path
) -> None:
    """WorkerDeploymentConfig reaches Temporal: the run records the worker's build id."""
    version = WorkerDeploymentVersion(f"scans-{uuid.uuid4().hex[:6]}", "1.4.0")
    container = fnact.Container()
    container.settings.override(providers.Object(fnact.Settings(output_root=tmp_path)))
    worker = fnact.worker.create_worker(
        client, task_queue=fnact_task_queue, container=container,
        activities=[scan_table], workflows=[NightlyScan],
        deployment_config=WorkerDeploymentConfig(
            version=version,  # WorkerDeploymentVersion("scans", "1.4.0")
            use_worker_versioning=True,
            default_versioning_behavior=VersioningBehavior.AUTO_UPGRADE,
        ),
    )  # fmt: skip
    # --8<-- [end:deployment]
    async with worker:
        await make_current(client, version)
        handle = await client.start_workflow(
            NightlyScan.run, ScanTable("orders", rows=2), id=f"versioned-{uuid.uuid4().hex[:8]}",
            task_queue=fnact_task_queue,
        )  # fmt: skip
        assert await handle.result() == ScanReport("orders", 2, resumed_at=0, attempt=1)
    description = await handle.describe()
    info = description.raw_description.workflow_execution_info.versioning_info
    assert info.deployment_version.deployment_name == version.deployment_name
    assert info.deployment_version.build_id == "1.4.0"
