"""Unit fixtures and helpers: a harness writing under the test's folder, a heartbeat sink."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import fnact
from fnact.testing import ActivityHarness


@pytest.fixture
def harness(tmp_path: Path) -> ActivityHarness:
    """Return a harness of a plain container whose outputs go under the test's folder."""
    return ActivityHarness(fnact.Container(), output_root=tmp_path)


class HeartbeatSink:
    """Receives every heartbeat unthrottled, and notes the threads they were sent from."""

    def __init__(self) -> None:
        self.beats: list[fnact.Heartbeat] = []
        self.threads: set[int] = set()

    def __call__(self, beat: fnact.Heartbeat) -> None:
        self.beats.append(beat)
        self.threads.add(threading.get_ident())
