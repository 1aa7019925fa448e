"""Logging: records carry the run's fields, as text or JSON lines, and never a secret."""

from __future__ import annotations

import io
import json
import logging
import sys

import msgspec
import pytest
from returns.result import Result, Success

import fnact
import fnact.worker
from fnact.testing import ActivityHarness, assert_success


class Login(msgspec.Struct):
    user: str
    password: fnact.Secret


@fnact.activity
async def use_login(ctx: fnact.ActivityContext, login: Login) -> Result[str, fnact.Fault]:
    ctx.logger.info("logging in %s with %s", login.user, login.password, password=login.password)
    ctx.logger.info("login object", login=login)
    ctx.heartbeat(message=f"connected as {login.user} using {login.password}")
    return Success(f"{login.user}:{len(login.password.reveal())}")


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
