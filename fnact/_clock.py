"""Clocks: the container's source of the current time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FakeClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Something that tells the current time as a timezone-aware UTC datetime."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real wall clock, in UTC."""

    __slots__ = ()

    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class FakeClock:
    """A clock that moves only when told to, for tests.

    Examples:
        >>> from datetime import datetime, timedelta, timezone
        >>> clock = FakeClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
        >>> clock.advance(timedelta(minutes=15)).isoformat()
        '2026-01-01T00:15:00+00:00'
    """

    __slots__ = ("_now",)

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 1, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("FakeClock: start must be timezone-aware")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """Return the fake current time."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new time."""
        if delta < timedelta(0):
            raise ValueError("FakeClock.advance: delta must not be negative")
        self._now += delta
        return self._now

    def __repr__(self) -> str:
        return f"FakeClock({self._now.isoformat()})"
