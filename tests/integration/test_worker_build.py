"""Worker factory behaviour: configuration errors, signals, converters."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import temporalio.client
import temporalio.converter

import fnact
import fnact.worker
from fnact.exceptions import WorkerConfigurationError
from fnact.worker import DevServer
from tests.apps.scenario_app import Container, echo, multiply
from tests.integration.conftest import WorkerProcess

pytestmark = pytest.mark.integration


def test_sigterm_shuts_the_worker_down_cleanly(
    temporal_server: DevServer, fnact_task_queue: str, tmp_path: Path
) -> None:
    """A worker run by run_worker exits 0 promptly on SIGTERM."""
    worker = WorkerProcess(temporal_server, fnact_task_queue, tmp_path / "progress")
    started = time.monotonic()
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=20) == 0
    assert time.monotonic() - started < 15
    worker.stop()


async def test_configuration_errors_name_the_culprit(client: temporalio.client.Client) -> None:
    """Bad containers, empty workers, duplicate names and non-activities are refused clearly."""
    with pytest.raises(WorkerConfigurationError, match=r"fnact\.Container subclass, not str"):
        fnact.worker.create_worker(client, task_queue="q", container="nope", activities=[echo])  # type: ignore[arg-type]
    with pytest.raises(WorkerConfigurationError, match="at least one activity or workflow"):
        fnact.worker.create_worker(client, task_queue="q", container=Container())
    with pytest.raises(WorkerConfigurationError, match="two activities are named 'multiply'"):
        fnact.worker.create_worker(
            client, task_queue="q", container=Container(), activities=[multiply, multiply]
        )
    with pytest.raises(WorkerConfigurationError, match="neither an fnact activity nor"):
        fnact.worker.create_worker(
            client, task_queue="q", container=Container(), activities=[print]
        )


async def test_client_without_fnact_converter_is_upgraded(temporal_server: DevServer) -> None:
    """A plain client given to create_worker still gets fnact's msgspec converter."""
    plain = await temporalio.client.Client.connect(temporal_server.address)
    worker = fnact.worker.create_worker(
        plain, task_queue="q", container=Container(), activities=[echo]
    )
    converter = worker.client.data_converter
    assert converter.payload_converter_class is fnact.worker.data_converter.payload_converter_class
    assert converter.payload_codec is None


async def test_connect_keeps_a_converter_of_its_own_behind_fnacts(
    temporal_server: DevServer,
) -> None:
    """connect() never drops the app's converter: pydantic's stays behind fnact's msgspec one."""
    from temporalio.contrib.pydantic import PydanticPayloadConverter, pydantic_data_converter

    from fnact._converter import CoexistingPayloadConverter

    client = await fnact.worker.connect(
        temporal_server.address, data_converter=pydantic_data_converter
    )
    converter_class = client.data_converter.payload_converter_class
    assert issubclass(converter_class, CoexistingPayloadConverter)
    assert converter_class.fallback_class is PydanticPayloadConverter
    default = await fnact.worker.connect(
        temporal_server.address, data_converter=temporalio.converter.DataConverter.default
    )
    assert default.data_converter.payload_converter_class is (
        fnact.worker.data_converter.payload_converter_class
    )
