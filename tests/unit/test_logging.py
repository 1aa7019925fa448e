"""Idempotent outputs, size guard, secrets in logs and checkpoints, JSON logging."""

from __future__ import annotations

import io
import json
import logging
import os
import stat
import sys
from dataclasses import replace
from pathlib import Path

import msgspec
import pytest
from dependency_injector import providers
from returns.result import Result, Success
from temporalio.exceptions import ApplicationError

import fnact
import fnact.worker
from fnact.testing import ActivityHarness, assert_success


class Job(msgspec.Struct):
    parts: int
    size: int = 10
    crash_after: int = -1


class Login(msgspec.Struct):
    user: str
    password: fnact.Secret


class Saved(msgspec.Struct):
    login: Login


class App(fnact.Container):
    calls = providers.Singleton(list)


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


@fnact.activity
async def big_result(ctx: fnact.ActivityContext, job: Job) -> Result[str, fnact.Fault]:
    return Success("x" * job.size)


@fnact.activity
async def big_checkpoint(ctx: fnact.ActivityContext, job: Job) -> Result[int, fnact.Fault]:
    ctx.checkpoint(
        Job(parts=0, size=job.size, crash_after=-1) if job.size < 10 else ["y" * job.size]
    )
    return Success(0)


@fnact.activity
async def use_login(ctx: fnact.ActivityContext, login: Login) -> Result[str, fnact.Fault]:
    ctx.logger.info("logging in %s with %s", login.user, login.password, password=login.password)
    ctx.logger.info("login object", login=login)
    ctx.heartbeat(message=f"connected as {login.user} using {login.password}")
    return Success(f"{login.user}:{len(login.password.reveal())}")


@fnact.activity
async def checkpoint_login(ctx: fnact.ActivityContext, login: Login) -> Result[int, fnact.Fault]:
    ctx.checkpoint(Saved(login))
    return Success(0)


@pytest.fixture
def harness(tmp_path: Path) -> ActivityHarness:
    return ActivityHarness(App(), output_root=tmp_path)


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


async def test_secret_never_reaches_logs_or_heartbeats(harness: ActivityHarness) -> None:
    """A Secret in the input is usable but masked in messages, fields, reprs and heartbeats."""
    run = await harness.run(use_login, Login(user="ada", password=fnact.Secret("SENTINEL-42")))
    assert assert_success(run.result) == "ada:11"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(fnact.worker.JSONFormatter())
    for record in run.logs:
        handler.emit(record)
        assert "SENTINEL" not in record.getMessage()
        assert "SENTINEL" not in repr(record.__dict__)
    assert "SENTINEL" not in stream.getvalue()
    assert "********" in stream.getvalue()
    assert all("SENTINEL" not in msgspec.json.encode(b).decode() for b in run.heartbeats)


async def test_checkpoint_refuses_a_secret(harness: ActivityHarness) -> None:
    """Putting a Secret in a checkpoint is refused: heartbeat details are stored in clear."""
    run = await harness.run(checkpoint_login, Login(user="ada", password=fnact.Secret("s")))
    assert isinstance(run.exception, TypeError)
    assert "must not contain a Secret" in str(run.exception)
    assert run.heartbeats == []


def test_json_formatter_writes_one_line_with_fields() -> None:
    """JSONFormatter writes one JSON object per record with bound fields at the top level."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(fnact.worker.JSONFormatter())
    logger = logging.getLogger("fnact.tests.json")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        fnact.BoundLogger(logger, {"workflow_id": "wf"}).info("fetched %d", 3, rows=3)
        try:
            raise ValueError("boom")
        except ValueError:
            fnact.BoundLogger(logger).exception("failed")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "fetched 3"
    assert (first["workflow_id"], first["rows"], first["level"]) == ("wf", 3, "INFO")
    assert "ValueError: boom" in second["exception"]


async def test_text_lines_carry_the_activity_s_fields(harness: ActivityHarness) -> None:
    """TextFormatter puts the run's ids, the activity and its attempt after the message."""
    run = await harness.run(use_login, Login(user="ada", password=fnact.Secret("SENTINEL-42")))
    assert_success(run.result)
    formatter = fnact.worker.TextFormatter("%(levelname)s %(name)s: %(message)s")
    lines = [formatter.format(record) for record in run.logs]
    assert lines[0].startswith("INFO fnact.activity: logging in ada with ******** ")
    for line in lines:
        for field in ("workflow_id=", "run_id=", "activity_type=use_login", "attempt=1"):
            assert field in line
        assert "SENTINEL" not in line


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_fnact_worker_logs_text_or_json_lines(
    log_format: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fnact worker --log-format` prints each record's fields, as text or as JSON."""
    from fnact._cli.worker import configure_logging

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", root.level)
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging("INFO", log_format)
    fnact.BoundLogger(logging.getLogger("fnact.activity"), {"workflow_id": "wf-7"}).info(
        "listed tables", attempt=2
    )
    line = stream.getvalue().strip()
    if log_format == "json":
        record = json.loads(line)
        assert (record["message"], record["workflow_id"], record["attempt"]) == (
            "listed tables",
            "wf-7",
            2,
        )
    else:
        assert line.endswith("INFO fnact.activity: listed tables workflow_id=wf-7 attempt=2")
