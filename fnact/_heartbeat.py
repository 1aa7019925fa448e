"""Heartbeats with typed progress details."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import temporalio.activity

__all__ = ["Heartbeat", "HeartbeatSink", "temporal_sink"]


class Heartbeat(msgspec.Struct, frozen=True, omit_defaults=True):
    """The details fnact sends with a heartbeat: progress and a message."""

    progress: float | None = None
    """Progress reported by the activity, in whatever unit it chooses (often percent)."""
    message: str | None = None
    """A short human-readable note about what the activity is doing."""


HeartbeatSink = Callable[[Heartbeat], None]
"""Where an `ActivityContext` sends heartbeats."""


def temporal_sink(beat: Heartbeat) -> None:
    """Send ``beat`` to Temporal as the running activity's heartbeat details."""
    temporalio.activity.heartbeat(beat)
