"""The "Log with context" how-to's example: fields on records, and JSON lines on stderr."""

# --8<-- [start:imports]
from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import fnact
from examples.howto.logging_setup import ImportSignups, Signup, import_signups
from fnact.testing import ActivityHarness, assert_success

# --8<-- [end:imports]

ROOT = Path(__file__).resolve().parents[2]
# --8<-- [start:batch]
BATCH = ImportSignups(
    batch="2026-03-03",
    rows=[Signup("ada@example.com", "Ada"), Signup("grace", "Grace"), Signup("al@x.io", "Al")],
)
# --8<-- [end:batch]


@pytest.fixture
def activity_harness(tmp_path: Path) -> Iterator[ActivityHarness]:
    """A harness on fnact's own container: the example's activity needs nothing more."""
    with ActivityHarness(fnact.Container(), output_root=tmp_path) as harness:
        yield harness


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter from the project root and return what it printed."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )


# --8<-- [start:fields]
async def test_records_carry_the_run_and_the_bound_fields(
    activity_harness: ActivityHarness,
) -> None:
    """Each record has the run's identity, the bound batch and its own fields in record.fields."""
    run = await activity_harness.run(import_signups, BATCH)
    assert assert_success(run.result) == 2
    skipped = next(r for r in run.logs if r.levelno == logging.WARNING)
    assert skipped.getMessage() == "skipped row 2"
    assert skipped.fields == {  # type: ignore[attr-defined]
        "workflow_id": "test-workflow",
        "run_id": "test-run",
        "activity_type": "import_signups",
        "activity_id": "test",
        "attempt": 1,
        "task_queue": "test",
        "batch": "2026-03-03",
        "reason": "invalid email",
    }
    assert skipped.reason == "invalid email"  # type: ignore[attr-defined]


# --8<-- [end:fields]


async def test_fields_fill_a_plain_format_string(activity_harness: ActivityHarness) -> None:
    """Fields are record attributes, so %(workflow_id)s works in an ordinary Formatter."""
    run = await activity_harness.run(import_signups, BATCH)
    formatter = logging.Formatter(
        "%(levelname)s %(workflow_id)s %(activity_type)s#%(attempt)s %(message)s",
        defaults={"workflow_id": "-", "activity_type": "-", "attempt": "-"},
    )
    assert formatter.format(run.logs[0]) == "INFO test-workflow import_signups#1 importing signups"
    other = logging.makeLogRecord({"msg": "not from an activity", "levelname": "INFO"})
    assert formatter.format(other) == "INFO - -#- not from an activity"


def test_configured_worker_logs_one_json_object_per_line() -> None:
    """After configure_logging, the activity's records reach stderr as JSON with their fields."""
    done = run_python(
        """
        import asyncio, logging
        import fnact
        from fnact.testing import ActivityHarness
        from examples.howto.logging_setup import ImportSignups, Signup, configure_logging
        from examples.howto.logging_setup import import_signups

        assert logging.getLogger().handlers == []  # importing fnact configured nothing
        configure_logging(logging.INFO)
        rows = [Signup("ada@example.com", "Ada"), Signup("grace", "Grace")]
        with ActivityHarness(fnact.Container(), workflow_id="signups-1") as harness:
            asyncio.run(harness.run(import_signups, ImportSignups("b-7", rows)))
        """
    )
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(line["level"], line["message"]) for line in lines] == [
        ("INFO", "importing signups"),
        ("WARNING", "skipped row 2"),
        ("INFO", "imported signups"),
    ]
    assert {
        "logger": "fnact.activity",
        "workflow_id": "signups-1",
        "activity_type": "import_signups",
        "attempt": 1,
        "batch": "b-7",
        "imported": 1,
        "skipped": 1,
    }.items() <= lines[2].items()


def test_configure_logging_replaces_the_cli_handler_and_keeps_its_level() -> None:
    """Called after fnact worker's plain-text setup, it leaves one JSON handler at that level."""
    done = run_python(
        """
        import logging
        from examples.howto.logging_setup import configure_logging

        logging.basicConfig(level="WARNING", format="%(levelname)s %(message)s")  # as the CLI
        configure_logging()
        logging.getLogger("app").info("hidden: below WARNING")
        logging.getLogger("app").warning("shown")
        print(len(logging.getLogger().handlers))
        """
    )
    assert done.stdout == "1\n"
    [line] = done.stderr.splitlines()
    assert {"level": "WARNING", "logger": "app", "message": "shown"}.items() <= json.loads(
        line
    ).items()
