"""The operations guide's manifests agree with its worker: probes, ports, grace, task queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from examples.howto import operations
from tests.prometheus import free_port

MANIFESTS = Path(operations.__file__).with_suffix(".yaml")


@pytest.fixture
def spec(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The guide's worker spec, its metrics on a free local port."""
    monkeypatch.setenv("METRICS_ADDRESS", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("GRACEFUL_SHUTDOWN_SECONDS", "60")
    return operations.spec()


def test_the_deployment_probes_scrapes_and_drains_the_worker_it_runs(spec: Any) -> None:
    """Probes hit the spec's health port; the pod outlives the worker's graceful shutdown."""
    deployment, scaler = yaml.safe_load_all(MANIFESTS.read_text())
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["command"] == ["fnact", "worker", "examples.howto.operations:spec"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["health"] == spec.health_port == operations.HEALTH_PORT
    assert ports["metrics"] == int(operations.METRICS_ADDRESS.rsplit(":", 1)[1])
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(ports["metrics"])
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    env = {e["name"]: e["value"] for e in container["env"]}
    grace = spec.worker_options["graceful_shutdown_timeout"].total_seconds()
    assert float(env["GRACEFUL_SHUTDOWN_SECONDS"]) == grace
    assert pod["spec"]["terminationGracePeriodSeconds"] > grace
    (trigger,) = scaler["spec"]["triggers"]
    assert trigger["type"] == "temporal"
    assert trigger["metadata"]["taskQueue"] == spec.task_queue
    assert trigger["metadata"]["namespace"] == env["TEMPORAL_NAMESPACE"]
    assert scaler["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
