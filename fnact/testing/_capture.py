"""Capture of what one harness attempt logs, heartbeats and writes under its output path."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fnact._heartbeat import Heartbeat
from fnact._outputs._local import is_checksum_name
from fnact._paths import output_written

__all__ = ["Capture", "read_files"]


class _LogRecords(logging.Handler):
    """Keeps every record logged, once each."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._seen: set[int] = set()

    def emit(self, record: logging.LogRecord) -> None:
        """Keep ``record`` unless it was kept already."""
        if id(record) not in self._seen:  # attached to a logger and its ancestor
            self._seen.add(id(record))
            self.records.append(record)


class Capture:
    """Records an attempt's heartbeats, log records and output files while `recording`.

    Args:
        output_path: the run's output folder, whose changed files the attempt reports.
        loggers: the loggers whose records (from DEBUG up) the attempt reports.
        on_output: told of each completed ``write_output``, once it is recorded.
    """

    def __init__(
        self,
        output_path: Path | None,
        loggers: Iterable[logging.Logger],
        on_output: Callable[[], None],
    ) -> None:
        self.output_path = output_path
        self.heartbeats: list[Heartbeat] = []
        """Every heartbeat sent, in order."""
        self.timed: list[tuple[float, Heartbeat]] = []
        """Every heartbeat sent, with when (`time.monotonic`) it was sent."""
        self.writes: list[str] = []
        """Every completed ``write_output``, as a path under the output path."""
        self._on_output = on_output
        self._handler = _LogRecords()
        self._levels = {logger: logger.level for logger in loggers}
        self._before: dict[str, tuple[int, int]] = {}

    @property
    def logs(self) -> list[logging.LogRecord]:
        """The records logged while the block ran."""
        return self._handler.records

    def heartbeat(self, details: tuple[Any, ...]) -> bool:
        """Record a heartbeat's details; return whether it carries a new checkpoint."""
        if not details or not isinstance(details[0], Heartbeat):
            return False
        beat = details[0]
        previous = self.heartbeats[-1].checkpoint if self.heartbeats else None
        self.heartbeats.append(beat)
        self.timed.append((time.monotonic(), beat))
        return beat.checkpoint is not None and beat.checkpoint is not previous

    def changed_files(self) -> dict[str, bytes]:
        """Return the files written or changed under the output path, by relative path."""
        folder = self.output_path
        if folder is None:
            return {}
        after = _snapshot(folder)
        return {
            name: (folder / name).read_bytes()
            for name, stamp in sorted(after.items())
            if self._before.get(name) != stamp
        }

    @contextmanager
    def recording(self) -> Iterator[None]:
        """Record while the block runs, then restore the loggers' levels."""
        self._before = _snapshot(self.output_path)
        for logger in self._levels:
            logger.addHandler(self._handler)
            logger.setLevel(logging.DEBUG)
        observing = output_written.set(self._wrote)
        try:
            yield
        finally:
            output_written.reset(observing)
            for logger, level in self._levels.items():
                logger.removeHandler(self._handler)
                logger.setLevel(level)

    def _wrote(self, path: Path) -> None:
        """Record a completed ``write_output`` and pass it on to ``on_output``."""
        if self.output_path is not None:
            self.writes.append(str(path.relative_to(self.output_path)))
        self._on_output()


def read_files(folder: Path | None) -> dict[str, bytes]:
    """Return the files under ``folder``, by relative path."""
    if folder is None:
        return {}
    return {str(path.relative_to(folder)): path.read_bytes() for path in _files(folder)}


def _files(folder: Path | None) -> Iterator[Path]:
    """Yield every file under ``folder`` but checksum files (none when it does not exist)."""
    if folder is not None and folder.is_dir():
        yield from (p for p in folder.rglob("*") if p.is_file() and not is_checksum_name(p.name))


def _snapshot(folder: Path | None) -> dict[str, tuple[int, int]]:
    """Return each file's modification time and size under ``folder``, by relative path."""
    if folder is None:
        return {}
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size) for p in _files(folder)
    }
