"""The run state store: one shared state per workflow run.

A run's state holds the handler instance (for example a database client built
with credentials) and the run's workflow arguments. It is keyed by workflow id
*and* run id, built once however many activities ask at the same time, rebuilt
when older than its TTL, released when the run fails or ends, and bounded in
count and idle time. Handlers are closed exactly once, and never while an
activity still holds them.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from fnact._clock import Clock
from fnact.exceptions import StateError

__all__ = [
    "InMemoryStateStore",
    "RunKey",
    "RunState",
    "StateBuilder",
    "StateStats",
    "StateStore",
    "close_handler",
]

H = TypeVar("H")
W = TypeVar("W")
H_co = TypeVar("H_co", covariant=True)
W_co = TypeVar("W_co", covariant=True)

_log = logging.getLogger("fnact.state")


@dataclass(frozen=True, slots=True)
class RunKey:
    """Identifies one workflow run: its workflow id and run id."""

    workflow_id: str
    run_id: str

    def __str__(self) -> str:
        return f"{self.workflow_id}/{self.run_id}"


@dataclass(frozen=True, slots=True)
class RunState(Generic[H_co, W_co]):
    """The shared state of one workflow run, as activities see it."""

    handler: H_co
    """The handler instance built by the container's ``handler`` provider."""
    workflow_args: W_co
    """The run's workflow input, decoded to the type the activity declares."""
    built_at: datetime
    """When this state was built, by the container's clock."""


StateBuilder = Callable[[], Awaitable[tuple[Any, Any]]]
"""Builds a run's ``(handler, workflow_args)``; called at most once per build.

The public signatures spell it out: the reference renders them as written.
"""


@dataclass(slots=True)
class StateStats:
    """Counters of what a state store did; tests and operators read them."""

    builds: int = 0
    hits: int = 0
    """Attempts that found their run's state built (or being built by another)."""
    refreshes: int = 0
    releases: int = 0
    evictions: int = 0
    closes: int = 0
    close_errors: int = 0


class StateStore(Protocol):
    """Where a worker keeps run states.

    The protocol deals only in run keys and builder callbacks, so a store may keep
    what it can share (for example build metadata) outside the worker process.
    Handlers themselves are live objects and stay in the process that built them.
    """

    stats: StateStats

    def lease(
        self, key: RunKey, build: Callable[[], Awaitable[tuple[Any, Any]]]
    ) -> AbstractAsyncContextManager[RunState[Any, Any]]:
        """Hold the run's current state for one activity attempt, building it if needed.

        ``build`` returns the run's ``(handler, workflow_args)``; the store calls it
        at most once per build, however many attempts wait for it.
        """
        ...

    async def release(self, key: RunKey) -> bool:
        """Drop the run's state; return whether there was one."""
        ...

    async def sweep(self) -> int:
        """Drop idle states; return how many were dropped."""
        ...

    async def aclose(self) -> None:
        """Drop every state, closing their handlers."""
        ...

    def __len__(self) -> int:
        """Return how many runs have a state."""
        ...


async def close_handler(handler: object) -> bool:
    """Close ``handler`` with ``aclose()`` or ``close()`` when it has one; return whether it had."""
    closer = getattr(handler, "aclose", None) or getattr(handler, "close", None)
    if not callable(closer):
        return False
    outcome = closer()
    if inspect.isawaitable(outcome):
        await outcome
    return True


class _BuildAbandonedError(Exception):
    """The task building a state was cancelled; waiters try again."""


def _fail(future: asyncio.Future[_Record], error: BaseException) -> None:
    future.set_exception(error)
    future.exception()  # waiters re-raise it; mark it retrieved when there are none


@dataclass(slots=True, eq=False)
class _Record:
    key: RunKey
    state: RunState[Any, Any]
    last_used: datetime
    users: int = 0
    retired: bool = False
    closed: bool = False


@dataclass(slots=True)
class InMemoryStateStore:
    """The default `StateStore`: states live in this worker process.

    Args:
        clock: the source of time for TTL and idle expiry.
        ttl: a state this old is rebuilt before an activity sees it.
        idle_expiry: a state not used for this long is dropped.
        max_runs: at most this many runs keep a state; least recently used go first.
    """

    clock: Clock
    ttl: timedelta = timedelta(minutes=15)
    idle_expiry: timedelta = timedelta(minutes=30)
    max_runs: int = 10_000
    stats: StateStats = field(default_factory=StateStats)
    _entries: OrderedDict[RunKey, _Record] = field(
        default_factory=OrderedDict, repr=False, init=False
    )
    _pending: dict[RunKey, asyncio.Future[_Record]] = field(
        default_factory=dict, repr=False, init=False
    )

    def __post_init__(self) -> None:
        if self.ttl <= timedelta(0):
            raise ValueError("InMemoryStateStore: ttl must be positive")
        if self.idle_expiry <= timedelta(0):
            raise ValueError("InMemoryStateStore: idle_expiry must be positive")
        if self.max_runs < 1:
            raise ValueError("InMemoryStateStore: max_runs must be at least 1")

    def __len__(self) -> int:
        return len(self._entries)

    @asynccontextmanager
    async def lease(
        self, key: RunKey, build: Callable[[], Awaitable[tuple[Any, Any]]]
    ) -> AsyncIterator[RunState[Any, Any]]:
        """Hold the run's current state for one activity attempt, building it if needed."""
        record = await self._acquire(key, build)
        try:
            yield record.state
        finally:
            record.users -= 1
            if record.retired and record.users == 0:
                await self._close(record)

    async def get(
        self, key: RunKey, build: Callable[[], Awaitable[tuple[Any, Any]]]
    ) -> RunState[Any, Any]:
        """Return the run's current state without holding it."""
        async with self.lease(key, build) as state:
            return state

    async def release(self, key: RunKey) -> bool:
        """Drop the run's state; return whether there was one."""
        record = self._entries.pop(key, None)
        if record is None:
            return False
        self.stats.releases += 1
        await self._retire(record)
        return True

    async def sweep(self) -> int:
        """Drop states idle for longer than ``idle_expiry``; return how many."""
        expired = self._take_expired(self.clock.now())
        for record in expired:
            await self._retire(record)
        return len(expired)

    async def aclose(self) -> None:
        """Drop every state, closing their handlers."""
        records = list(self._entries.values())
        self._entries.clear()
        for record in records:
            await self._retire(record)

    async def _acquire(self, key: RunKey, build: StateBuilder) -> _Record:
        now = self.clock.now()
        for expired in self._take_expired(now):
            await self._retire(expired)
        record = self._entries.get(key)
        if record is not None:
            if now - record.state.built_at < self.ttl:
                record.last_used = now
                record.users += 1
                self._entries.move_to_end(key)
                self.stats.hits += 1
                return record
            del self._entries[key]
            self.stats.refreshes += 1
            await self._retire(record)
        while (pending := self._pending.get(key)) is not None:
            try:
                built = await asyncio.shield(pending)
            except _BuildAbandonedError:
                continue  # the builder was cancelled: build (or wait) again
            built.users += 1
            self.stats.hits += 1
            return built
        return await self._build(key, build)

    async def _build(self, key: RunKey, build: StateBuilder) -> _Record:
        future: asyncio.Future[_Record] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            handler, workflow_args = await build()
        except asyncio.CancelledError:
            _fail(future, _BuildAbandonedError())
            raise
        except Exception as exc:
            error = StateError(
                f"building the state of run {key} failed: {exc}"
                if isinstance(exc, StateError)
                else f"building the state of run {key} failed: {exc!r}",
                non_retryable=getattr(exc, "non_retryable", False),
            )
            error.__cause__ = exc
            _fail(future, error)
            raise error from exc
        finally:
            del self._pending[key]
        now = self.clock.now()
        record = _Record(key, RunState(handler, workflow_args, now), last_used=now, users=1)
        self.stats.builds += 1
        self._entries[key] = record
        future.set_result(record)
        overflow: list[_Record] = []
        while len(self._entries) > self.max_runs:
            _, oldest = self._entries.popitem(last=False)
            self.stats.evictions += 1
            overflow.append(oldest)
        for oldest in overflow:
            await self._retire(oldest)
        return record

    def _take_expired(self, now: datetime) -> list[_Record]:
        expired: list[_Record] = []
        deadline = now - self.idle_expiry
        while self._entries:
            record = next(iter(self._entries.values()))
            if record.last_used > deadline:
                break
            del self._entries[record.key]
            self.stats.evictions += 1
            expired.append(record)
        return expired

    async def _retire(self, record: _Record) -> None:
        record.retired = True
        if record.users == 0:
            await self._close(record)

    async def _close(self, record: _Record) -> None:
        if record.closed:
            return
        record.closed = True
        try:
            if await close_handler(record.state.handler):
                self.stats.closes += 1
        except Exception:
            self.stats.close_errors += 1
            _log.exception("closing the handler of run %s failed", record.key)
