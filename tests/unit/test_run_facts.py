"""The run context cache: one read per run, joined, retried, and clear when it cannot read."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
import temporalio.converter
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History, HistoryEvent
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryResponse
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import ActivityEnvironment

import fnact
import fnact.state
import fnact.worker
from fnact import _run_facts
from fnact._run_facts import RunContextCache, read_run
from fnact.exceptions import StateError

STARTED = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
KEY = fnact.state.RunKey("orders", "run-1")


def started_event(data: bytes = b'{"day":1}') -> HistoryEvent:
    """Return a WorkflowExecutionStarted event with ``data`` as its input."""
    event = HistoryEvent(event_id=1, event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
    event.event_time.FromDatetime(STARTED)
    event.workflow_execution_started_event_attributes.input.payloads.append(
        Payload(metadata={"encoding": b"json/plain"}, data=data)
    )
    return event


class FakeService:
    """A workflow service that fails with the given codes, then answers with one event."""

    def __init__(self, failures: Sequence[RPCStatusCode] = (), delay: float = 0) -> None:
        self.failures = list(failures)
        self.delay = delay
        self.calls = 0

    async def get_workflow_execution_history(self, request: Any) -> Any:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.failures:
            raise RPCError("boom", self.failures.pop(0), b"")
        return GetWorkflowExecutionHistoryResponse(history=History(events=[started_event()]))


@dataclasses.dataclass
class FakeClient:
    """Just what read_run uses of a client."""

    workflow_service: FakeService
    data_converter: temporalio.converter.DataConverter = fnact.worker.data_converter
    namespace: str = "default"


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry at once, so the tests do not sleep."""
    monkeypatch.setattr(_run_facts, "_BACKOFF", 0.0)


async def test_read_returns_start_time_and_input() -> None:
    """The first history event gives the run's start time and its first argument."""
    facts = await read_run(FakeClient(FakeService()), "default", KEY)  # type: ignore[arg-type]
    assert facts.start_time == STARTED
    assert facts.input is not None
    assert facts.input.data == b'{"day":1}'


async def test_transient_errors_are_retried() -> None:
    """UNAVAILABLE and DEADLINE_EXCEEDED are tried again; the read then succeeds."""
    service = FakeService([RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED])
    facts = await read_run(FakeClient(service), "default", KEY)  # type: ignore[arg-type]
    assert facts.start_time == STARTED
    assert service.calls == 3


async def test_a_server_that_stays_down_gives_a_retryable_error() -> None:
    """After its attempts a read fails retryably: Temporal retries the activity."""
    service = FakeService([RPCStatusCode.UNAVAILABLE] * 10)
    with pytest.raises(StateError, match=r"reading run orders/run-1 failed 4 times") as caught:
        await read_run(FakeClient(service), "default", KEY)  # type: ignore[arg-type]
    assert not caught.value.non_retryable
    assert service.calls == 4


@pytest.mark.parametrize("code", [RPCStatusCode.NOT_FOUND, RPCStatusCode.PERMISSION_DENIED])
async def test_an_unreadable_run_fails_for_good_naming_it(code: RPCStatusCode) -> None:
    """Not found or not allowed is final: one call, a non-retryable error naming the run."""
    service = FakeService([code])
    with pytest.raises(StateError, match=r"run orders/run-1 cannot be read") as caught:
        await read_run(FakeClient(service), "default", KEY)  # type: ignore[arg-type]
    assert caught.value.non_retryable
    assert code.name in str(caught.value)
    assert service.calls == 1


async def test_concurrent_reads_of_one_run_share_one_call() -> None:
    """Twenty activities asking at once cost one server call; the start time is then cached."""
    service = FakeService(delay=0.05)
    env = ActivityEnvironment(client=FakeClient(service))  # type: ignore[arg-type]
    env.info = dataclasses.replace(env.info, workflow_id="orders", workflow_run_id="run-1")
    cache = RunContextCache()

    async def ask() -> datetime:
        return (await cache.read(KEY)).start_time

    results = await asyncio.gather(*(env.run(ask) for _ in range(20)))
    assert results == [STARTED] * 20
    assert service.calls == 1
    assert cache.stats.reads == 1
    assert cache.stats.joined == 19
    assert cache.start_time(KEY) == STARTED


async def test_cancelled_reader_does_not_fail_those_that_joined_it() -> None:
    """When the task that sent the read is cancelled, a waiting reader reads again."""
    service = FakeService(delay=0.1)
    env = ActivityEnvironment(client=FakeClient(service))  # type: ignore[arg-type]
    cache = RunContextCache()
    first = asyncio.ensure_future(env.run(cache.read, KEY))
    await asyncio.sleep(0.02)
    second = asyncio.ensure_future(env.run(cache.read, KEY))
    await asyncio.sleep(0.02)
    first.cancel()
    facts = await second
    assert facts.start_time == STARTED
    assert service.calls == 2


def test_cache_is_bounded_and_forgets_the_least_recently_used() -> None:
    """Past max_runs the oldest run is forgotten; forget() drops a run."""
    cache = RunContextCache(max_runs=2)
    a, b, c = (fnact.state.RunKey("w", r) for r in "abc")
    cache.remember(a, STARTED)
    cache.remember(b, STARTED)
    assert cache.touch(a)
    cache.remember(c, STARTED)
    assert cache.runs() == [a, c]
    assert cache.forget(a)
    assert not cache.forget(a)
    assert len(cache) == 1


async def test_plain_activity_path_under_activity_environment_needs_run_started_at() -> None:
    """Without a worker the start time comes from run_started_at, else a clear error says so."""
    import fnact.testing

    async def where() -> str:
        return fnact.build_output_path()

    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id="orders", workflow_run_id="run-1")
    with fnact.testing.run_started_at(STARTED):
        assert await env.run(where) == "2026/03/04/05/06/orders/run-1"
    with pytest.raises(StateError, match=r"fnact.testing.run_started_at"):
        await env.run(where)
    with (
        pytest.raises(ValueError, match="timezone-aware"),
        fnact.testing.run_started_at(datetime(2026, 1, 1)),
    ):
        pass


async def test_handed_off_input_answers_one_read_without_the_server() -> None:
    """A run started in this process answers the first read itself; later reads ask the server."""
    service = FakeService()
    env = ActivityEnvironment(client=FakeClient(service))  # type: ignore[arg-type]
    cache = RunContextCache()
    payload = Payload(metadata={"encoding": b"json/plain"}, data=b'{"day":2}')
    cache.hand_off(KEY, _run_facts.RunFacts(STARTED, payload))
    assert cache.start_time(KEY) == STARTED
    first = await env.run(cache.read, KEY)
    assert first.input is payload
    assert (service.calls, cache.stats.handoffs) == (0, 1)
    await env.run(cache.read, KEY)
    assert service.calls == 1


def test_hand_offs_are_bounded_in_bytes_and_dropped_when_the_run_ends() -> None:
    """Past max_handoff_bytes the oldest inputs go; forget() drops a run's input too."""
    cache = RunContextCache(max_handoff_bytes=100)
    keys = [fnact.state.RunKey("w", str(n)) for n in range(3)]
    for key in keys:
        cache.hand_off(key, _run_facts.RunFacts(STARTED, Payload(data=b"x" * 40)))
    assert list(cache._handoffs) == keys[1:]
    assert cache._handoff_bytes <= 100
    cache.forget(keys[1])
    assert list(cache._handoffs) == keys[2:]
    cache.hand_off(
        fnact.state.RunKey("w", "big"), _run_facts.RunFacts(STARTED, Payload(data=b"x" * 500))
    )
    assert fnact.state.RunKey("w", "big") not in cache._handoffs
