"""Heartbeater throttling, stall detection, checkpoints and the auto-heartbeater."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import msgspec
import pytest
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

import fnact
import fnact.testing
from fnact._heartbeat import decode_checkpoint, run_with_heartbeats, send_interval
from tests.unit.conftest import HeartbeatSink


class Cursor(msgspec.Struct):
    next: int


async def test_tight_loop_sends_once_then_the_newest_before_the_deadline() -> None:
    """A thousand calls inside one interval send the first at once and the newest later."""
    sink = HeartbeatSink()
    beater = fnact.Heartbeater(interval=0.05, sink=sink)
    for n in range(1000):
        beater.record(float(n), f"item {n}")
    assert [b.progress for b in sink.beats] == [0.0]
    await asyncio.sleep(0.1)
    assert [b.progress for b in sink.beats] == [0.0, 999.0]
    assert sink.beats[-1].message == "item 999"


async def test_checkpoint_is_kept_in_later_heartbeats() -> None:
    """Once recorded, a checkpoint travels with every later heartbeat."""
    sink = HeartbeatSink()
    ctx = fnact.ActivityContext(heartbeat=sink)
    ctx.checkpoint(Cursor(next=3))
    ctx.heartbeat(progress=50, message="Halfway done")
    assert sink.beats[-1] == fnact.Heartbeat(50, "Halfway done", Cursor(next=3))


async def test_failure_flushes_the_newest_details() -> None:
    """When the body raises, the newest unsent checkpoint is sent before the error propagates."""
    sink = HeartbeatSink()
    beater = fnact.Heartbeater(interval=60, sink=sink)

    async def body() -> None:
        beater.record(None, None, Cursor(next=1))
        beater.record(None, None, Cursor(next=2))
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await run_with_heartbeats(body(), beater)
    assert [b.checkpoint for b in sink.beats] == [Cursor(next=1), Cursor(next=2)]


async def test_auto_beats_until_the_body_returns() -> None:
    """Auto beats keep going while the body runs and stop when it returns."""
    sink = HeartbeatSink()
    beater = fnact.Heartbeater(interval=0.01, auto_interval=0.01, sink=sink)
    await run_with_heartbeats(asyncio.sleep(0.1), beater)
    sent = len(sink.beats)
    assert sent >= 3
    await asyncio.sleep(0.05)
    assert len(sink.beats) == sent


async def test_stalled_body_stops_auto_beats_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With no progress past the stall timeout, beats stop and one warning is logged."""
    caplog.set_level(logging.WARNING, logger="fnact.heartbeat")
    sink = HeartbeatSink()
    beater = fnact.Heartbeater(
        interval=0.01, auto_interval=0.01, sink=sink, stall_timeout=0.05, name="export"
    )
    task = asyncio.create_task(run_with_heartbeats(asyncio.sleep(10), beater))
    await asyncio.sleep(0.15)
    stalled_at = len(sink.beats)
    await asyncio.sleep(0.1)
    assert len(sink.beats) == stalled_at
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1, "one warning per stall, however long it lasts"
    assert "activity export stalled" in warnings[0]
    beater.record(1.0, "moving again")
    await asyncio.sleep(0.05)
    assert len(sink.beats) > stalled_at + 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_checkpoint_decodes_typed_or_none() -> None:
    """The last checkpoint decodes to its type; no details means None."""
    assert decode_checkpoint([], Cursor) is None
    assert decode_checkpoint([{"progress": 3}], Cursor) is None
    assert decode_checkpoint([{"checkpoint": {"next": 7}}], Cursor) == Cursor(next=7)


def test_changed_checkpoint_type_is_a_clear_non_retryable_error() -> None:
    """A checkpoint of an older shape raises a non-retryable error naming the type."""
    with pytest.raises(ApplicationError) as caught:
        decode_checkpoint([{"checkpoint": {"next": "page-2"}}], Cursor)
    assert caught.value.non_retryable
    assert caught.value.type == "CheckpointDecodeError"
    assert "does not decode as Cursor" in caught.value.message
    assert "$.next" in caught.value.message


def test_send_interval_is_a_third_of_the_timeout() -> None:
    """Auto beats every third of the heartbeat timeout, or each second without one."""
    assert send_interval(timedelta(seconds=9)) == 3.0
    assert send_interval(None) == 1.0


async def test_auto_heartbeater_on_a_plain_activity() -> None:
    """fnact.auto_heartbeater beats for a plain @activity.defn and stops when it returns."""

    @activity.defn
    @fnact.auto_heartbeater
    async def export(rows: int) -> int:
        await asyncio.sleep(0.1)
        return rows

    env = ActivityEnvironment()
    env.info = fnact.testing.activity_info(heartbeat_timeout=timedelta(milliseconds=30))
    beats: list[object] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    assert await env.run(export, 5) == 5
    sent = len(beats)
    assert sent >= 3
    await asyncio.sleep(0.05)
    assert len(beats) == sent


def test_auto_heartbeater_rejects_sync_functions() -> None:
    """Only async functions can be auto-heartbeated."""

    def sync() -> None: ...

    with pytest.raises(TypeError, match="must be an `async def` function"):
        fnact.auto_heartbeater(sync)  # type: ignore[arg-type]


def test_checkpoint_with_a_field_the_type_lost_is_refused() -> None:
    """A renamed field is refused instead of decoding silently as the new field's default."""

    class Renamed(msgspec.Struct):
        after: int = 0

    with pytest.raises(ApplicationError, match=r"unknown field\(s\) 'next'"):
        decode_checkpoint([{"checkpoint": {"next": 4}}], Renamed)


def test_oversized_heartbeat_message_fails_without_retry() -> None:
    """A heartbeat message too large to send fails non-retryable before it is recorded."""
    sink = HeartbeatSink()
    beater = fnact.Heartbeater(interval=0.0, sink=sink, payload_limit=4000, name="export")
    beater.record(None, "x" * 3000)
    with pytest.raises(ApplicationError) as caught:
        beater.record(None, "x" * 4000)
    assert caught.value.non_retryable
    assert "'export' heartbeat (checkpoint 0 bytes and message 4,000 bytes)" in caught.value.message
    assert [b.message for b in sink.beats] == ["x" * 3000]
