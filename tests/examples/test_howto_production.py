"""The "Run workers in production" how-to: its shell snippets, its worker, its shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import temporalio.client

import fnact
import fnact.worker
from examples.howto import production_worker
from examples.howto.outputs import ExportOrders, Order, Shop
from examples.howto.workflows import DailyExport
from fnact.worker import DevServer
from tests.examples.conftest import read_until, section, worker_task

HOWTO = Path(__file__).resolve().parents[2] / "examples/howto"
ROOT = HOWTO.parents[1]
BIN = Path(sys.executable).parent
SHOW_CONFIG = """
import json, temporalio.envconfig
config = dict(temporalio.envconfig.ClientConfig.load_client_connect_config())
tls = config.pop("tls", None)
if tls is not None and not isinstance(tls, bool):
    tls = {"cert": tls.client_cert.decode(), "key": tls.client_private_key.decode()}
print(json.dumps({**config, "tls": tls}))
"""


def relocate(text: str, tmp_path: Path) -> str:
    """Point the snippets' machine folders at folders under ``tmp_path``."""
    for folder in ("/etc/temporal/", "/run/secrets/", "/mnt/reports"):
        text = text.replace(folder, f"{tmp_path}{folder}")
    return text


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment without TEMPORAL_* variables or a user's temporal.toml."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    return {**env, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / ".config"), **extra}


@pytest.fixture
def machine(tmp_path: Path) -> Path:
    """A fake machine's secrets and TLS files (and the guide's profile) under ``tmp_path``."""
    (tmp_path / "run/secrets").mkdir(parents=True)
    (tmp_path / "run/secrets/temporal-api-key").write_text("key-123\n")
    tls = tmp_path / "etc/temporal"
    tls.mkdir(parents=True)
    (tls / "client.pem").write_text("CERT")
    (tls / "client.key").write_text("KEY")
    (tls / "temporal.toml").write_text(relocate((HOWTO / "temporal.toml").read_text(), tmp_path))
    return tmp_path


CLOUD = {"target_host": "reports.a1b2c.tmprl.cloud:7233", "namespace": "reports.a1b2c"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("api_key", {**CLOUD, "api_key": "key-123", "tls": True}),
        ("mtls", {**CLOUD, "tls": {"cert": "CERT", "key": "KEY"}}),
        ("profile", {**CLOUD, "tls": {"cert": "CERT", "key": "KEY"}}),
    ],
)
def test_each_way_to_configure_the_client_gives_its_connection(
    machine: Path, name: str, expected: dict[str, Any]
) -> None:
    """Sourcing the guide's shell section yields the client settings fnact.worker.connect uses."""
    script = machine / "show_config.py"
    script.write_text(SHOW_CONFIG)
    done = subprocess.run(
        ["bash", "-c", f'{relocate(section(HOWTO / "production.sh", name), machine)}\n'
         f'exec "{sys.executable}" "{script}"'],
        env=clean_env(machine),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )  # fmt: skip
    assert json.loads(done.stdout) == expected


@pytest.mark.integration
async def test_fnact_worker_runs_the_export_and_stops_on_sigterm(
    temporal_server: DevServer, fnact_task_queue: str, tmp_path: Path
) -> None:
    """The guide's command serves DailyExport, logs JSON lines and exits 0 on SIGTERM."""
    command = relocate(section(HOWTO / "production.sh", "run"), tmp_path)
    command = command.replace("fnact worker", "exec fnact worker").rstrip()
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        f"{command} --task-queue {fnact_task_queue}",
        cwd=ROOT,
        env=clean_env(
            tmp_path,
            PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
            TEMPORAL_ADDRESS=temporal_server.address,
        ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        polling = await asyncio.wait_for(read_until(process.stdout, "polling"), timeout=30)
        assert f"{temporal_server.address} (namespace default)" in polling
        client = await fnact.worker.connect(temporal_server.address)
        report = await client.execute_workflow(
            DailyExport.run,
            ExportOrders("2026-03-03"),
            id=f"daily-export-{uuid.uuid4().hex[:8]}",
            task_queue=fnact_task_queue,
        )
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    assert Path(report.export.path).is_relative_to(tmp_path / "mnt/reports")
    lines = [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]
    exported = next(line for line in lines if line["message"] == "exported orders")
    assert {
        "level": "INFO",
        "logger": "fnact.activity",
        "activity_type": "export_orders",
        "task_queue": fnact_task_queue,
        "attempt": 1,
        "file": "orders-2026-03-03.jsonl",
        "orders": 3,
    }.items() <= exported.items()


class SlowShop(Shop):
    """A shop whose query takes a second, and tells when it started."""

    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def orders(self, day: str) -> list[Order]:
        self.started.set()
        await asyncio.sleep(1)
        return await super().orders(day)


def spec_worker(
    client: temporalio.client.Client, spec: fnact.worker.WorkerSpec, task_queue: str
) -> contextlib.AbstractAsyncContextManager[asyncio.Task[Any]]:
    """Run ``spec`` with fnact.worker.run_worker, as ``fnact worker`` does; yield once it polls."""
    return worker_task(
        lambda on_ready: fnact.worker.run_worker(
            task_queue=task_queue,
            container=spec.container,
            activities=spec.activities,
            workflows=spec.workflows,
            client=client,
            on_ready=on_ready,
            **dict(spec.options),
        )
    )


@pytest.mark.integration
async def test_sigterm_lets_the_running_activity_finish(
    temporal_server: DevServer,
    fnact_task_queue: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGTERM mid-export: the export completes on the stopping worker; another one goes on."""
    monkeypatch.setenv("REPORTS_OUTPUT_ROOT", str(tmp_path / "reports"))
    monkeypatch.setattr(production_worker, "configure_logging", lambda: None)  # keep pytest's
    spec = production_worker.spec()
    shop = SlowShop()
    spec.container.shop.override(shop)
    client = await fnact.worker.connect(temporal_server.address)
    async with spec_worker(client, spec, fnact_task_queue) as stopping:
        handle = await client.start_workflow(
            DailyExport.run,
            ExportOrders("2026-03-03"),
            id=f"daily-export-{uuid.uuid4().hex[:8]}",
            task_queue=fnact_task_queue,
        )
        await asyncio.wait_for(shop.started.wait(), timeout=20)
        os.kill(os.getpid(), signal.SIGTERM)  # run_worker's handler takes it
        await asyncio.wait_for(stopping, timeout=20)
    kinds = [event.WhichOneof("attributes") async for event in handle.fetch_history_events()]
    assert kinds.count("activity_task_scheduled_event_attributes") == 1
    assert kinds.count("activity_task_completed_event_attributes") == 1
    assert "activity_task_failed_event_attributes" not in kinds
    async with spec_worker(client, production_worker.spec(), fnact_task_queue):
        report = await handle.result()
    assert Path(report.checksums).parent == Path(report.export.path).parent
    assert Path(report.export.path).is_relative_to(tmp_path / "reports")
