"""The "Handle secrets" how-to's example: masking in-process, encryption on the dev server."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import temporalio.client
from cryptography.fernet import Fernet, InvalidToken
from returns.result import Failure
from temporalio.client import HeaderCodecBehavior, WorkflowFailureError

import fnact
import fnact.worker
from examples.howto.secrets_app import (
    Container,
    Login,
    LoginRejected,
    PartnerApi,
    SyncArgs,
    count_invoices,
)
from examples.howto.secrets_codec import FernetCodec, connect_encrypted, serve
from examples.howto.workflows import SyncInvoices
from fnact.testing import ActivityHarness, assert_success
from fnact.worker import DevServer
from tests.examples.conftest import worker_task

SENTINEL = "SENTINEL-c0ffee-51"
PARTNER = PartnerApi(passwords={"ada": SENTINEL}, invoices={"acme": 42})


def container() -> Container:
    """The example's container, with a partner that knows ada and the sentinel password."""
    built = Container()
    built.partner_api.override(PARTNER)
    return built


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[ActivityHarness]:
    """A harness on the example's container."""
    with ActivityHarness(container(), output_root=tmp_path) as harness:
        yield harness


def as_json_lines(records: list[logging.LogRecord]) -> str:
    """Format ``records`` the way a worker set up with fnact.worker.JSONFormatter prints them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(fnact.worker.JSONFormatter())
    for record in records:
        handler.emit(record)
    return stream.getvalue()


async def test_the_activity_uses_the_secret_but_never_shows_it(harness: ActivityHarness) -> None:
    """With the right password it logs in, and its log record shows only the mask."""
    args = SyncArgs("acme", Login("ada", fnact.Secret(SENTINEL)))
    run = await harness.run(count_invoices, args)
    assert assert_success(run.result) == 42
    assert SENTINEL not in repr(args)
    text = as_json_lines(run.logs)
    assert '"password":"********"' in text
    assert SENTINEL not in text
    assert all(SENTINEL not in repr(record.__dict__) for record in run.logs)


async def test_a_rejected_login_comes_back_masked(harness: ActivityHarness) -> None:
    """The Failure's details carry the Login with its password replaced by the mask."""
    wrong = f"{SENTINEL}-wrong"
    run = await harness.run(count_invoices, SyncArgs("acme", Login("ada", fnact.Secret(wrong))))
    assert isinstance(run.result, Failure)
    rejected = run.result.failure()
    assert rejected == LoginRejected(login=Login("ada", fnact.Secret("********")))
    assert wrong not in repr(rejected)


async def test_the_codec_round_trips_and_rotates_keys() -> None:
    """A payload encrypted under the old key decodes once a new key is put first."""
    old, new = Fernet.generate_key(), Fernet.generate_key()
    payload = fnact.worker.data_converter.payload_converter.to_payload({"password": SENTINEL})
    [encrypted] = await FernetCodec([old]).encode([payload])
    assert encrypted.metadata["encoding"] == b"binary/encrypted"
    assert SENTINEL.encode() not in encrypted.SerializeToString()
    assert await FernetCodec([new, old]).decode([encrypted]) == [payload]
    [re_encrypted] = await FernetCodec([new, old]).encode([payload])
    with pytest.raises(InvalidToken):
        await FernetCodec([old]).decode([re_encrypted])
    assert await FernetCodec([new]).decode([payload]) == [payload]  # clear ones pass


@pytest.mark.integration
class TestOnTheDevServer:
    """The example's worker, started by ``serve``, on the dev server with a fresh key."""

    @pytest.fixture
    async def queue(
        self, temporal_server: DevServer, fnact_task_queue: str, monkeypatch: pytest.MonkeyPatch
    ) -> AsyncIterator[str]:
        """Run ``serve`` (configured from the environment) on a fresh task queue."""
        monkeypatch.setenv("PAYLOAD_KEYS", Fernet.generate_key().decode())
        monkeypatch.setenv("TEMPORAL_ADDRESS", temporal_server.address)
        async with worker_task(
            lambda on_ready: serve(container(), task_queue=fnact_task_queue, on_ready=on_ready)
        ):
            yield fnact_task_queue

    async def leaking_events(self, handle: temporalio.client.WorkflowHandle[Any, Any]) -> set[str]:
        """Return the kinds of the run's history events whose bytes contain the sentinel."""
        return {
            str(event.WhichOneof("attributes"))
            async for event in handle.fetch_history_events()
            if SENTINEL.encode() in event.SerializeToString()
        }

    async def test_no_event_of_the_history_holds_the_secret(
        self, temporal_server: DevServer, queue: str
    ) -> None:
        """With the codec, the run succeeds and the sentinel is in none of its events."""
        client = await connect_encrypted(temporal_server.address)
        assert client.config()["header_codec_behavior"] is HeaderCodecBehavior.CODEC
        handle = await client.start_workflow(
            SyncInvoices.run,
            SyncArgs("acme", Login("ada", fnact.Secret(SENTINEL))),
            id=f"sync-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
        assert await handle.result() == 42
        assert await self.leaking_events(handle) == set()
        history = await handle.fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        [payload] = started.input.payloads
        assert payload.metadata["encoding"] == b"binary/encrypted"

    async def test_a_rejected_login_fails_without_the_secret(
        self, temporal_server: DevServer, queue: str
    ) -> None:
        """A wrong password fails the run; the failure and every event are free of it."""
        client = await connect_encrypted(temporal_server.address)
        handle = await client.start_workflow(
            SyncInvoices.run,
            SyncArgs("acme", Login("ada", fnact.Secret(f"{SENTINEL}-wrong"))),
            id=f"sync-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        assert "LoginRejected" in str(failed.value.cause)
        assert SENTINEL not in f"{failed.value} {failed.value.cause}"
        assert await self.leaking_events(handle) == set()

    async def test_without_the_codec_the_inputs_hold_the_secret(
        self, temporal_server: DevServer, queue: str
    ) -> None:
        """A client without the codec leaves the workflow's input in clear in the history."""
        clear = await fnact.worker.connect(temporal_server.address)
        handle = await clear.start_workflow(
            SyncInvoices.run,
            SyncArgs("acme", Login("ada", fnact.Secret(SENTINEL))),
            id=f"sync-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
        # The worker decodes clear payloads too (passed through), so the run works, but its
        # inputs now sit in the history in clear: the workflow's, and the activity's.
        encrypted = await connect_encrypted(temporal_server.address)
        assert await encrypted.get_workflow_handle(handle.id, result_type=int).result() == 42
        assert await self.leaking_events(handle) == {"workflow_execution_started_event_attributes"}
