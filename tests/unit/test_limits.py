"""Limits and hostile input: sizes as Temporal counts them, output names, NaN, error paths."""

from __future__ import annotations

import asyncio
import math
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import msgspec
import pytest
from returns.result import Result, Success
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

import fnact
import fnact.testing
from fnact._adapter import build_adapter
from fnact._converter import NonFiniteFloatError, data_converter, to_payload
from fnact._limits import payloads_size
from fnact._paths import output_file, remove_run_parts
from fnact.testing import ActivityHarness, assert_success, run_activity

LIMIT = 20_000


def heartbeat_size(beat: fnact.Heartbeat) -> int:
    """Return the size Temporal measures for a heartbeat carrying ``beat``."""
    return Payloads(payloads=[data_converter.payload_converter.to_payload(beat)]).ByteSize()


def message_for_total(total: int, checkpoint: Any = None) -> str:
    """Return a message that makes the heartbeat exactly ``total`` bytes, as Temporal counts."""
    n = total - 100
    while heartbeat_size(fnact.Heartbeat(None, "m" * n, checkpoint)) < total:
        n += 1
    assert heartbeat_size(fnact.Heartbeat(None, "m" * n, checkpoint)) == total
    return "m" * n


class Blob(msgspec.Struct):
    """A checkpoint with padding."""

    pad: str


def test_payloads_size_is_what_temporal_measures() -> None:
    """The size counts metadata and framing, as the Payloads message encodes."""
    for n in (0, 1, 127, 128, 20_000, 2 * 1024 * 1024):
        payload = to_payload("x" * n)
        assert payloads_size(payload) == Payloads(payloads=[payload]).ByteSize()
        assert payloads_size(payload) > len(payload.data)
    two = [to_payload(1), to_payload("a")]
    assert payloads_size(*two) == Payloads(payloads=two).ByteSize()


@pytest.mark.parametrize(("delta", "accepted"), [(-1, True), (0, True), (1, False)])
def test_heartbeat_at_the_limit_is_sent_and_one_byte_over_is_refused(
    delta: int, accepted: bool
) -> None:
    """Limit - 1 and limit are sent; limit + 1 fails non-retryable before anything is sent."""
    beats: list[fnact.Heartbeat] = []
    beater = fnact.Heartbeater(interval=0.0, sink=beats.append, payload_limit=LIMIT, name="x")
    message = message_for_total(LIMIT + delta)
    if accepted:
        beater.record(None, message)
        assert heartbeat_size(beats[-1]) == LIMIT + delta
    else:
        with pytest.raises(ApplicationError) as caught:
            beater.record(None, message)
        assert caught.value.non_retryable
        assert caught.value.type == "PayloadTooLarge"
        assert f"{LIMIT + 1:,} bytes, over the {LIMIT:,}-byte payload limit" in str(caught.value)
        assert beats == []


def test_checkpoint_and_message_are_measured_together() -> None:
    """Each under the limit alone, together over it: the record is refused."""
    beats: list[fnact.Heartbeat] = []
    ctx = fnact.ActivityContext(
        heartbeat=fnact.Heartbeater(interval=0.0, sink=beats.append, payload_limit=LIMIT, name="x")
    )
    ctx.checkpoint(Blob(pad="c" * 15_000))
    ctx.heartbeat(message="m" * 4_000)  # 19 KB together: fine
    with pytest.raises(ApplicationError, match=r"checkpoint 15,\d{3} bytes and message 6,000"):
        ctx.heartbeat(message="m" * 6_000)
    with pytest.raises(ApplicationError, match="payload limit"):
        ctx.checkpoint(Blob(pad="c" * 17_000))  # with the 4 KB message kept: over
    assert [len(b.message or "") for b in beats] == [0, 4_000]


@pytest.mark.parametrize(("delta", "accepted"), [(0, True), (1, False)])
def test_checkpoint_at_the_limit_is_kept_and_one_byte_over_is_refused(
    delta: int, accepted: bool
) -> None:
    """A checkpoint whose heartbeat is exactly the limit is sent; one byte more is refused."""
    n = LIMIT - 100
    while heartbeat_size(fnact.Heartbeat(None, None, Blob("c" * n))) < LIMIT + delta:
        n += 1
    beats: list[fnact.Heartbeat] = []
    beater = fnact.Heartbeater(interval=0.0, sink=beats.append, payload_limit=LIMIT, name="x")
    ctx = fnact.ActivityContext(heartbeat=beater)
    if accepted:
        ctx.checkpoint(Blob("c" * n))
        assert heartbeat_size(beats[-1]) == LIMIT
    else:
        with pytest.raises(ApplicationError, match="checkpoint"):
            ctx.checkpoint(Blob("c" * n))
        assert beats == []


async def test_oversized_heartbeat_from_a_thread_raises_in_that_thread() -> None:
    """A thread's oversized heartbeat raises where it was called; nothing is sent."""
    beats: list[fnact.Heartbeat] = []
    beater = fnact.Heartbeater(interval=0.0, sink=beats.append, payload_limit=LIMIT, name="x")
    ctx = fnact.ActivityContext(heartbeat=beater)
    caught: list[BaseException] = []

    def work() -> None:
        ctx.heartbeat(message="ok")
        try:
            ctx.heartbeat(message="m" * LIMIT)
        except ApplicationError as exc:
            caught.append(exc)
            raise

    with pytest.raises(ApplicationError, match="payload limit"):
        await ctx.run_blocking(work)
    await asyncio.sleep(0.01)  # let the marshalled record land
    assert len(caught) == 1
    assert [b.message for b in beats] == ["ok"]
    assert threading.active_count() >= 1


REFUSED = [".", "./", "a/.", "..", "a/..", "../a", "a/../b", "...", "", "a//b", "a/", "/abs",
           "./a", "a\\b", "a\0b"]  # fmt: skip
ACCEPTED = ["a", "a.json", ".hidden", "a/b", "a/b/c.txt", "a.b/c..d", "..a", "a.."]


@pytest.mark.parametrize("name", REFUSED)
def test_output_names_that_are_not_files_strictly_under_the_folder_are_refused(
    tmp_path: Path, name: str
) -> None:
    """Each refused name gets a ValueError that quotes it, and nothing is written."""
    with pytest.raises(ValueError, match="output file name") as caught:
        output_file(tmp_path, name)
    assert repr(name) in str(caught.value)


@pytest.mark.parametrize("name", ACCEPTED)
def test_file_names_under_the_folder_are_accepted(tmp_path: Path, name: str) -> None:
    """Real file names (dots inside names included) resolve strictly under the folder."""
    path = output_file(tmp_path, name)
    assert path.is_relative_to(tmp_path)
    assert path != tmp_path


def test_run_end_removes_every_temporary_file_of_the_run(tmp_path: Path) -> None:
    """At the run's end every .part left by killed attempts goes; real files stay."""
    (tmp_path / "a").mkdir()
    parts = [tmp_path / ".x.json.abcd1234.part", tmp_path / "a" / ".y.bin.zz9_k2m0.part"]
    for part in parts:
        part.write_bytes(b"partial")
    keep = [tmp_path / "x.json", tmp_path / "a" / "notes.part", tmp_path / ".a.part"]
    for file in keep:
        file.write_bytes(b"whole")
    assert remove_run_parts(tmp_path) == 2
    assert not any(p.exists() for p in parts)
    assert all(f.exists() for f in keep)
    assert remove_run_parts(tmp_path / "missing") == 0


class Score(msgspec.Struct):
    """A record with a float."""

    name: str
    score: float


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_refused_naming_the_field(bad: float) -> None:
    """JSON has no NaN: encoding refuses it with the $ path, instead of writing null."""
    with pytest.raises(NonFiniteFloatError, match=r"`\$\.rows\[1\]\.score`"):
        to_payload({"rows": [Score("a", 1.0), Score("b", bad)]})
    assert to_payload(Score("c", 2.5)).data == b'{"name":"c","score":2.5}'
    assert to_payload({"x": None}).data == b'{"x":null}'


def test_missing_top_level_field_message_has_a_path() -> None:
    """A missing field at the top level still names the $ path."""
    converter = data_converter.payload_converter
    with pytest.raises(msgspec.ValidationError, match=r"missing required field `score` - at `\$`"):
        converter.from_payload(
            Payload(metadata={"encoding": b"json/plain"}, data=b'{"name":"a"}'), Score
        )
    with pytest.raises(msgspec.ValidationError, match=r"- at `\$\.score`"):
        converter.from_payload(
            Payload(metadata={"encoding": b"json/plain"}, data=b'{"name":"a","score":"x"}'), Score
        )


class Missing(fnact.Fault):
    """Declared, never returned."""


@fnact.activity
async def score_of(ctx: fnact.ActivityContext, name: str) -> Result[Score, Missing]:
    """Return a NaN score: JSON cannot carry it."""
    return Success(Score(name, math.nan))


@fnact.activity
async def count_of(ctx: fnact.ActivityContext, item: Score) -> Result[int, Missing]:
    """Take a Score."""
    return Success(1)


async def test_nan_result_fails_once_naming_the_field() -> None:
    """A NaN in a result fails non-retryable with its path, instead of arriving as null."""
    with pytest.raises(ApplicationError) as caught:
        await run_activity(score_of, "a", container=fnact.Container())
    assert caught.value.non_retryable
    assert caught.value.type == "UnencodableResult"
    assert "`$.score`" in caught.value.message


async def test_missing_top_level_input_field_names_the_path() -> None:
    """An activity input missing a top-level field fails once, with `$` in the message."""
    harness = fnact.testing.ActivityHarness(fnact.Container())
    adapter = build_adapter(count_of.definition, harness.container)
    env = ActivityEnvironment()
    raw = RawValue(Payload(metadata={"encoding": b"json/plain"}, data=b'{"name":"a"}'))
    with pytest.raises(ApplicationError) as caught:
        await env.run(adapter, raw)
    assert caught.value.non_retryable
    assert "Object missing required field `score` - at `$`" in caught.value.message


class Job(msgspec.Struct):
    parts: int
    size: int = 10
    crash_after: int = -1


@fnact.activity
async def big_result(ctx: fnact.ActivityContext, job: Job) -> Result[str, fnact.Fault]:
    return Success("x" * job.size)


@fnact.activity
async def big_checkpoint(ctx: fnact.ActivityContext, job: Job) -> Result[int, fnact.Fault]:
    ctx.checkpoint(
        Job(parts=0, size=job.size, crash_after=-1) if job.size < 10 else ["y" * job.size]
    )
    return Success(0)


async def test_result_over_the_payload_limit_fails_without_retry(harness: ActivityHarness) -> None:
    """A result over the limit fails non-retryable, naming its size and the limit."""
    harness.override(settings=replace(harness.container.settings(), payload_limit=1000))
    ok = await harness.run(big_result, Job(parts=0, size=900))
    assert assert_success(ok.result) == "x" * 900
    run = await harness.run(big_result, Job(parts=0, size=5000))
    assert isinstance(run.exception, ApplicationError)
    assert run.exception.non_retryable
    assert run.exception.type == "PayloadTooLarge"
    assert "'big_result' result is 5,032 bytes, over the 1,000-byte payload limit" in str(
        run.exception
    )


async def test_default_limit_is_two_megabytes(harness: ActivityHarness) -> None:
    """Without configuration the limit is Temporal's 2 MB."""
    run = await harness.run(big_result, Job(parts=0, size=2 * 1024 * 1024))
    assert isinstance(run.exception, ApplicationError)
    assert "over the 2,097,152-byte payload limit" in str(run.exception)


async def test_checkpoint_over_the_limit_fails_without_retry(harness: ActivityHarness) -> None:
    """A checkpoint over the limit fails non-retryable before it is sent."""
    settings = harness.container.settings()
    harness.override(settings=replace(settings, payload_limit=1000, heartbeat_interval=None))
    run = await harness.run(big_checkpoint, Job(parts=0, size=5000), heartbeat_timeout=None)
    assert isinstance(run.exception, ApplicationError)
    assert run.exception.type == "PayloadTooLarge"
    assert "checkpoint" in str(run.exception)
    assert run.heartbeats == []
