"""Output paths: format, hostile ids, atomic writes."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

import fnact
from fnact._paths import atomic_write, format_output_path, output_file, safe_segment
from fnact.exceptions import NotInActivityError

START = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_path_has_the_documented_shape() -> None:
    """The path is YYYY/MM/DD/HH/MM/<workflow_id>/<run_id> from the run's start in UTC."""
    assert format_output_path(START, "orders", "r-1") == "2026/03/04/05/06/orders/r-1"


def test_start_time_is_converted_to_utc() -> None:
    """A start time in another zone gives the same path as its UTC equivalent."""
    local = START.astimezone(timezone(timedelta(hours=-7)))
    assert format_output_path(local, "w", "r") == format_output_path(START, "w", "r")


def test_naive_start_time_is_rejected() -> None:
    """A naive datetime is refused rather than guessed."""
    with pytest.raises(ValueError, match="timezone-aware"):
        format_output_path(datetime(2026, 1, 1), "w", "r")


@pytest.mark.parametrize(
    "hostile",
    ["../../etc", "..", ".", "", "a/b", "/abs", "nul\x00byte", "back\\slash", "x" * 600, "é/ü"],
)
def test_hostile_ids_stay_under_the_root(tmp_path: Path, hostile: str) -> None:
    """Ids with separators, dots, NUL or huge lengths map to one safe segment under the root."""
    relative = format_output_path(START, hostile, hostile)
    target = (tmp_path / relative).resolve()
    assert target.is_relative_to(tmp_path.resolve())
    segments = relative.split("/")
    assert len(segments) == 7
    assert all(s not in ("", ".", "..") and "\x00" not in s for s in segments)
    assert all(len(s.encode()) <= 255 for s in segments)


def test_distinct_ids_stay_distinct() -> None:
    """Encoding never maps two different ids to the same segment."""
    ids = ["a/b", "a%2Fb", "a_b", "..", "%2E%2E", "x" * 600, "x" * 601]
    assert len({safe_segment(i) for i in ids}) == len(ids)


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/../../b", "", "a\x00b", "a\\..\\b"])
def test_output_file_refuses_escaping_names(tmp_path: Path, name: str) -> None:
    """A file name that could leave the run's folder is refused with its name in the error."""
    with pytest.raises(ValueError, match="output file name"):
        output_file(tmp_path, name)


def test_atomic_write_replaces_whole_and_leaves_no_temp(tmp_path: Path) -> None:
    """Writing twice leaves exactly the second content and no temporary files."""
    target = tmp_path / "deep" / "out.json"
    atomic_write(target, b"first")
    atomic_write(target, b"second")
    assert target.read_bytes() == b"second"
    assert os.listdir(target.parent) == ["out.json"]


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_atomic_write_respects_the_umask_and_names_parts_as_cleanup_expects(
    tmp_path: Path, umask: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file's mode is 0666 less the umask; its temporary file is one remove_run_parts finds."""
    from fnact import _paths

    seen: list[str] = []
    replace = os.replace

    def spy(src: str, dst: str) -> None:
        seen.append(os.path.basename(src))
        assert stat.S_IMODE(os.stat(src).st_mode) == 0o666 & ~umask
        replace(src, dst)

    monkeypatch.setattr(_paths.os, "replace", spy)
    previous = os.umask(umask)
    try:
        target = atomic_write(tmp_path / "out.json", b"{}")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    [part] = seen
    assert part.startswith(".out.json.")
    assert _paths.PART_NAME.match(part)


def test_build_output_path_outside_an_activity_says_so() -> None:
    """build_output_path() outside an activity raises NotInActivityError."""
    with pytest.raises(NotInActivityError, match=r"fnact\.build_output_path"):
        fnact.build_output_path()


def test_stale_temporary_files_of_an_earlier_attempt_are_removed(tmp_path: Path) -> None:
    """Temp files older than the attempt's start go; a newer one (still being written) stays."""
    import os
    from datetime import datetime

    from fnact._paths import remove_stale_parts

    target = atomic_write(tmp_path / "out.json", b"{}")
    old = tmp_path / ".out.json.abc123.part"
    new = tmp_path / ".out.json.def456.part"
    other = tmp_path / ".other.json.abc123.part"
    for part in (old, new, other):
        part.write_bytes(b"partial")
    os.utime(old, (1_000_000, 1_000_000))
    os.utime(other, (1_000_000, 1_000_000))
    started = datetime.fromtimestamp(2_000_000, UTC)
    assert remove_stale_parts(target, before=started) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".other.json.abc123.part",
        ".out.json.def456.part",
        "out.json",
    ]
