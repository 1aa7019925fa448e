"""fnact's Settings check every field when built: a wrong type or value names the field."""

from __future__ import annotations

import dataclasses
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import fnact
from fnact._outputs._sweep import OutputSweeper
from fnact._paths import format_output_path

WRONG_TYPES: dict[str, tuple[Any, str]] = {
    "state_ttl": ("15m", "must be a timedelta, not str"),
    "state_idle_expiry": (1800, "must be a timedelta, not int"),
    "state_max_runs": (10.5, "must be an int, not float"),
    "output_root": (42, "must be a path or a URL string"),
    "leftover_ttl": (3600.0, "must be a timedelta, not float"),
    "output_sweep_interval": (None, "must be a timedelta, not NoneType"),
    "payload_limit": ("2MB", "must be an int, not str"),
    "inline_args_limit": (True, "must be an int, not bool"),
    "run_end_check_interval": (60, "must be a timedelta, not int"),
    "heartbeat_interval": (1.0, "must be a timedelta or None, not float"),
    "blocked_loop_threshold": ("1s", "must be a timedelta or None, not str"),
}
"""For each field, a value of the wrong type and what the TypeError says of it."""

INVALID_VALUES: dict[str, tuple[Any, str]] = {
    "state_ttl": (timedelta(0), "must be positive, not 0 s"),
    "state_idle_expiry": (timedelta(seconds=-1), "must be positive, not -1 s"),
    "state_max_runs": (0, "must be positive, not 0"),
    "output_root": ("ftp://host/out", "the scheme 'ftp' names no store"),
    "leftover_ttl": (timedelta(0), "must be positive, not 0 s"),
    "output_sweep_interval": (timedelta(minutes=-10), "must be positive, not -600 s"),
    "payload_limit": (-1, "must be positive, not -1"),
    "inline_args_limit": (-1, "must be 0 or more, not -1"),
    "run_end_check_interval": (timedelta(0), "must be positive, not 0 s"),
    "heartbeat_interval": (timedelta(seconds=-0.5), "must be 0 or more, or None, not -0.5 s"),
    "blocked_loop_threshold": (timedelta(0), "must be positive, or None, not 0 s"),
}
"""For each field, an invalid value of the right type and what the ValueError says of it."""

EDGES: list[tuple[str, Any]] = [
    ("state_max_runs", 1),
    ("payload_limit", 1),
    ("inline_args_limit", 0),
    ("heartbeat_interval", timedelta(0)),
    ("heartbeat_interval", None),
    ("blocked_loop_threshold", None),
    ("state_ttl", timedelta(microseconds=1)),
]
"""Values at the edge of what each field accepts."""

FIELDS = sorted(field.name for field in dataclasses.fields(fnact.Settings))


def test_every_field_has_a_wrong_type_and_an_invalid_value_case() -> None:
    """The cases below cover every field of Settings, so a new field needs its own."""
    assert sorted(WRONG_TYPES) == FIELDS
    assert sorted(INVALID_VALUES) == FIELDS


@pytest.mark.parametrize(("field", "value", "message"), [(f, *c) for f, c in WRONG_TYPES.items()])
def test_a_wrong_type_is_a_type_error_naming_the_field(
    field: str, value: Any, message: str
) -> None:
    """A value of the wrong type fails at construction with a TypeError naming the field."""
    with pytest.raises(TypeError) as caught:
        fnact.Settings(**{field: value})
    assert str(caught.value).startswith(f"Settings.{field} {message}")


@pytest.mark.parametrize(
    ("field", "value", "message"), [(f, *c) for f, c in INVALID_VALUES.items()]
)
def test_an_invalid_value_is_a_value_error_naming_the_field(
    field: str, value: Any, message: str
) -> None:
    """A value of the right type but out of range fails at construction, naming the field."""
    with pytest.raises(ValueError, match=rf"^Settings\.{field}\b") as caught:
        fnact.Settings(**{field: value})
    assert message in str(caught.value)


@pytest.mark.parametrize(("field", "value"), EDGES)
def test_values_at_the_edge_are_accepted(field: str, value: Any) -> None:
    """The smallest allowed value of each bounded field, and None where allowed, are kept."""
    assert getattr(fnact.Settings(**{field: value}), field) == value


def test_the_defaults_pass_their_own_checks() -> None:
    """Settings() builds, and replacing one field re-checks the whole, as the harness does."""
    settings = fnact.Settings()
    assert dataclasses.replace(settings, state_max_runs=5).state_max_runs == 5
    with pytest.raises(TypeError, match=r"^Settings\.state_max_runs must be an int, not str$"):
        dataclasses.replace(settings, state_max_runs="5")


@pytest.mark.parametrize("root", ["/data/out", "file:///data/out", Path("/data/out")])
def test_a_local_output_root_in_any_form_becomes_a_path(root: str | Path) -> None:
    """A str path, a file:// URL and a Path all become the same Path; a bucket URL stays."""
    assert fnact.Settings(output_root=root).output_root == Path("/data/out")
    assert fnact.Settings(output_root="s3://bucket/out").output_root == "s3://bucket/out"


async def test_run_end_cleanup_works_under_a_str_output_root(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Under a str root the run-end cleanup and the age sweep remove leftovers, logging no error."""
    settings = fnact.Settings(output_root=str(tmp_path))
    sweeper = OutputSweeper(settings.output_root, leftover_ttl=settings.leftover_ttl)
    started = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    run_folder = tmp_path / format_output_path(started, "wf", "run")
    run_folder.mkdir(parents=True)
    leftover = run_folder / ".report.csv.abcd1234.part"
    leftover.write_bytes(b"half")
    kept = run_folder / "report.csv"
    kept.write_bytes(b"whole")
    old = tmp_path / ".old.csv.efgh5678.part"
    old.write_bytes(b"stale")
    stale = (datetime.now(UTC) - 2 * settings.leftover_ttl).timestamp()
    os.utime(old, (stale, stale))
    with caplog.at_level(logging.WARNING, logger="fnact.outputs"):
        assert await sweeper.run_ended(started, "wf", "run") == 1
        assert await sweeper.sweep_old() == 1
    assert not leftover.exists()
    assert not old.exists()
    assert kept.read_bytes() == b"whole"
    assert caplog.records == []
