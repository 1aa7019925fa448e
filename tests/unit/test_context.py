"""The activity context: checkpoints, heartbeats from threads, and whole output files."""

from __future__ import annotations

import asyncio
import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from returns.result import Result, Success

import fnact
import fnact.testing
from fnact.testing import ActivityHarness, assert_success
from tests.unit.conftest import HeartbeatSink


class Cursor(msgspec.Struct):
    next: int


class Job(msgspec.Struct):
    parts: int
    size: int = 10
    crash_after: int = -1


@fnact.activity
async def write_parts(ctx: fnact.ActivityContext, job: Job) -> Result[list[str], fnact.Fault]:
    """Write one file per part, skipping parts an earlier attempt committed."""
    made = []
    for part in range(job.parts):
        name = f"part-{part}.bin"
        if ctx.has_output(name):
            continue
        if part == job.crash_after and ctx.info.attempt == 1:
            raise ConnectionError("lost the source mid-way")
        ctx.write_output(name, bytes([part]) * job.size)
        made.append(name)
    return Success(made)


class Login(msgspec.Struct):
    user: str
    password: fnact.Secret


class Saved(msgspec.Struct):
    login: Login


@fnact.activity
async def checkpoint_login(ctx: fnact.ActivityContext, login: Login) -> Result[int, fnact.Fault]:
    ctx.checkpoint(Saved(login))
    return Success(0)


def test_checkpoint_rejects_none() -> None:
    """None is not a checkpoint."""
    with pytest.raises(ValueError, match="must not be None"):
        fnact.ActivityContext(heartbeat=HeartbeatSink()).checkpoint(None)


async def test_heartbeats_from_a_blocking_thread_reach_the_loop() -> None:
    """ctx.heartbeat inside run_blocking is marshalled to the event loop's thread."""
    sink = HeartbeatSink()
    ctx = fnact.ActivityContext(heartbeat=sink)

    def blocking() -> str:
        for n in range(3):
            ctx.heartbeat(progress=n)
        return "done"

    assert await ctx.run_blocking(blocking) == "done"
    await asyncio.sleep(0.01)
    assert [b.progress for b in sink.beats] == [0, 1, 2]
    assert sink.threads == {threading.get_ident()}


async def test_checkpoint_can_carry_progress() -> None:
    """ctx.checkpoint records progress and message in the same heartbeat."""
    sink = HeartbeatSink()
    fnact.ActivityContext(heartbeat=sink).checkpoint(Cursor(next=2), progress=40, message="p2")
    assert sink.beats == [fnact.Heartbeat(40, "p2", Cursor(next=2))]


async def test_retry_skips_parts_already_committed(harness: ActivityHarness) -> None:
    """A retry skips files an earlier attempt committed and writes only the rest, whole."""
    runs = await harness.run_retries(write_parts, Job(parts=4, crash_after=2), max_attempts=2)
    assert isinstance(runs[0].exception, ConnectionError)
    assert sorted(runs[0].files) == ["part-0.bin", "part-1.bin"]
    assert assert_success(runs[1].result) == ["part-2.bin", "part-3.bin"]
    folder = harness.output_path
    assert sorted(p.name for p in folder.iterdir()) == [f"part-{n}.bin" for n in range(4)]
    assert all((folder / f"part-{n}.bin").read_bytes() == bytes([n]) * 10 for n in range(4))


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
async def test_write_output_files_get_the_umask_s_mode(
    harness: ActivityHarness, umask: int, mode: int
) -> None:
    """write_output gives its files 0666 less the umask, as open() would, and leaves no part."""
    previous = os.umask(umask)
    try:
        run = await harness.run(write_parts, Job(parts=1))
    finally:
        os.umask(previous)
    written = harness.output_path / "part-0.bin"
    assert sorted(run.files) == ["part-0.bin"]
    assert stat.S_IMODE(written.stat().st_mode) == mode
    assert os.listdir(harness.output_path) == ["part-0.bin"]


async def test_checkpoint_refuses_a_secret(harness: ActivityHarness) -> None:
    """Putting a Secret in a checkpoint is refused: heartbeat details are stored in clear."""
    run = await harness.run(checkpoint_login, Login(user="ada", password=fnact.Secret("s")))
    assert isinstance(run.exception, TypeError)
    assert "must not contain a Secret" in str(run.exception)
    assert run.heartbeats == []


def test_write_output_dot_leaves_the_run_folder_usable(tmp_path: Path) -> None:
    """write_output('.') is refused, and later writes of the run still work."""
    info = fnact.testing.activity_info()
    ctx = fnact.ActivityContext(
        info=info, output_root=tmp_path, run_started=datetime(2026, 1, 1, tzinfo=UTC)
    )
    for bad in (".", "./", "a/."):
        with pytest.raises(ValueError, match="output file name"):
            ctx.write_output(bad, b"data")
    assert ctx.write_output("ok.txt", b"data").read_bytes() == b"data"
    assert ctx.output_path.is_dir()
