"""Output paths of a workflow run.

A run's outputs live under ``YYYY/MM/DD/HH/MM/<workflow_id>/<run_id>``, where the
timestamp is the run's start time in UTC. Every activity and every attempt of a
run therefore agrees on the path, and two runs never share one.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import tempfile
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path

from fnact._attempt import attempt_start_time, current_attempt, require_info, start_override
from fnact._outputs._names import output_parts
from fnact._run_facts import is_standalone, run_ids, run_key
from fnact.exceptions import StateError

__all__ = [
    "output_written",
    "PART_NAME",
    "atomic_write",
    "create_part",
    "build_output_path",
    "format_output_path",
    "output_file",
    "remove_run_parts",
    "remove_stale_parts",
    "safe_segment",
]

output_written: ContextVar[Callable[[Path], None] | None] = ContextVar(
    "fnact_output_written", default=None
)
"""Told of each file `ActivityContext.write_output` has written: the harness's crash rehearsal."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._=+@,-]")
_MAX_SEGMENT = 200


def safe_segment(raw: str) -> str:
    r"""Return ``raw`` as one path segment that cannot leave its parent folder.

    Characters outside a small safe set are percent-encoded (so ``/``, ``\\`` and
    NUL never survive), segments made only of dots are encoded, and very long
    ids are shortened with a hash so distinct ids stay distinct.

    >>> safe_segment("orders/../../etc")
    'orders%2F..%2F..%2Fetc'
    >>> safe_segment("..")
    '%2E%2E'
    """
    encoded = _UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), raw)
    if not encoded.strip("."):
        encoded = "%2E" * len(encoded) or "%00empty"
    if len(encoded) > _MAX_SEGMENT:
        digest = hashlib.sha256(raw.encode()).hexdigest()[:16]
        encoded = f"{encoded[: _MAX_SEGMENT - 17]}~{digest}"
    return encoded


def format_output_path(started: datetime, workflow_id: str, run_id: str) -> str:
    """Format a run's output path from its start time and ids.

    >>> from datetime import datetime, timezone
    >>> format_output_path(datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc), "wf", "run")
    '2026/01/02/03/04/wf/run'
    """
    if started.tzinfo is None:
        raise ValueError("format_output_path: started must be timezone-aware")
    utc = started.astimezone(UTC)
    return f"{utc:%Y/%m/%d/%H/%M}/{safe_segment(workflow_id)}/{safe_segment(run_id)}"


def run_start_time() -> datetime:
    """Return the start time of the running activity's workflow run.

    It comes from the activity's headers, else from what the worker read of the
    run; under `fnact.testing.run_started_at`, from the test.

    Raises:
        NotInActivityError: called outside an activity.
        StateError: the start time is unknown (no fnact worker interceptor, no
            client to read the run with, or the run could not be read).
    """
    override = start_override.get()
    if override is not None:
        return override
    info = require_info("the run's start time")
    if is_standalone(info):
        return info.scheduled_time  # a standalone activity is its own run
    attempt = current_attempt()
    started = attempt_start_time(attempt, run_key(info, "its output path"))
    if started is not None:
        return started
    if attempt.error is not None:
        raise attempt.error
    raise StateError(
        f"activity {info.activity_type!r}: the start time of run "
        f"{info.workflow_id}/{info.workflow_run_id} is unknown: this worker has no fnact "
        "interceptor (build it with fnact.worker.create_worker); in a test, use "
        "fnact.testing.run_started_at"
    )


def build_output_path() -> str:
    """Return the running activity's output path, relative to the output root.

    The path is ``"YYYY/MM/DD/HH/MM/<workflow_id>/<run_id>"`` with the run's start
    time in UTC; it works in plain ``@temporalio.activity.defn`` activities too.

    A standalone activity (started by a client, no workflow) is a run of its own:
    ``"YYYY/MM/DD/HH/MM/<activity_id>/<activity_run_id>"`` with its scheduling time.

    Raises:
        NotInActivityError: called outside an activity.
        StateError: the run's start time is unknown (see `run_start_time`).
    """
    info = require_info("fnact.build_output_path()")
    return format_output_path(run_start_time(), *run_ids(info))


def output_file(folder: Path, relative: str) -> Path:
    """Return ``folder / relative``, refusing any ``relative`` that is not a file strictly in it.

    The rules are `output_parts`'s.

    >>> output_file(Path("/out"), "tables/users.json")
    PosixPath('/out/tables/users.json')
    >>> output_file(Path("/out"), "a/.")
    Traceback (most recent call last):
    ...
    ValueError: output file name 'a/.' has the part '.': ...

    Raises:
        ValueError: naming ``relative`` and what is wrong with it.
    """
    return folder.joinpath(*output_parts(relative))


_PART_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"  # as tempfile names its files
_CREATE = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def create_part(path: Path) -> tuple[int, str]:
    """Create a new temporary file beside ``path``; return its descriptor and name.

    Unlike `tempfile.mkstemp` (always 0600), the file gets the mode `open` would
    give it: 0666 less the process's umask (and a folder's default ACL applies).
    """
    for _ in range(tempfile.TMP_MAX):
        name = "".join(secrets.choice(_PART_CHARS) for _ in range(8))
        tmp = os.path.join(path.parent, f".{path.name}.{name}.part")
        try:
            return os.open(tmp, _CREATE, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", str(path))


def atomic_write(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: a temporary file, fsync, then a rename.

    Readers see either no file or the whole file, never a partial one, even if
    the worker is killed mid-write; a second write of the same path replaces the
    first whole. The file's mode is 0666 less the umask, as with `open`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_part(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def remove_stale_parts(path: Path, *, before: datetime) -> int:
    """Remove temporary files of ``path`` that an attempt started before ``before`` left.

    Only an earlier attempt (crashed, or a zombie whose retry already runs) can
    own such a file; a zombie that is still writing fails its rename, harmlessly.
    Returns how many were removed.
    """
    cutoff = before.timestamp()
    removed = 0
    for part in path.parent.glob(f".{path.name}.*.part"):
        try:
            if part.stat().st_mtime < cutoff:
                part.unlink()
                removed += 1
        except FileNotFoundError:
            pass  # its writer finished or removed it meanwhile
    return removed


PART_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.part$")
"""How `create_part` names its temporary files."""


def remove_run_parts(folder: Path) -> int:
    """Remove every temporary file `atomic_write` left under a run's output folder.

    Called when the run has ended: no attempt of it can still commit a file, so
    a temporary file there belongs to a killed attempt or a zombie. Returns how
    many were removed.
    """
    removed = 0
    for parent, _, names in os.walk(folder):
        for name in names:
            if PART_NAME.match(name):
                try:
                    os.unlink(os.path.join(parent, name))
                    removed += 1
                except FileNotFoundError:
                    pass
    return removed
