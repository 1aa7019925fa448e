"""Heartbeats: typed progress and checkpoints, throttled, with an auto-heartbeater.

`activity.heartbeat()` costs tens of microseconds of worker CPU per call. A
`Heartbeater` records the newest progress and checkpoint on every call (well
under a microsecond) and sends them at most once per interval, always before the
heartbeat deadline, and once more when the attempt fails or is cancelled.

The auto-heartbeater beats for an activity whose body does not, so Temporal can
detect a dead worker and deliver cancellation. It stops beating when the body has
reported no progress for the stall timeout, so a stuck coroutine is retried
through Temporal's heartbeat timeout instead of being kept alive forever.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import dataclasses
import functools
import inspect
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar, overload

import msgspec
import msgspec.structs
import temporalio.activity
import temporalio.common

from fnact._converter import decoder_for, non_finite_path, to_payload
from fnact._limits import payloads_size
from fnact._outcome import checkpoint_decode_error, payload_too_large, unencodable
from fnact._secret import Secret

__all__ = [
    "Heartbeat",
    "Heartbeater",
    "HeartbeatSink",
    "auto_heartbeater",
    "current_heartbeater",
    "decode_checkpoint",
    "send_interval",
]

P = ParamSpec("P")
T = TypeVar("T")

_log = logging.getLogger("fnact.heartbeat")
_encoder = msgspec.json.Encoder()
# Bytes a heartbeat adds around its checkpoint and message: the JSON keys and progress,
# the payload's metadata and the Payloads framing. Only sizes within this of the limit
# are measured exactly.
_HEARTBEAT_SLACK = 256


def _refuse_secrets(value: Any) -> Any:
    if isinstance(value, Secret):
        raise TypeError(
            "a checkpoint must not contain a Secret: heartbeat details are stored in "
            "Temporal's history in clear"
        )
    raise TypeError(f"Encoding objects of type {type(value).__qualname__} is unsupported")


_checkpoint_encoder = msgspec.json.Encoder(enc_hook=_refuse_secrets)


class Heartbeat(msgspec.Struct, omit_defaults=True):
    """The details fnact sends with each heartbeat."""

    progress: float | None = None
    """Progress reported by the activity, in a unit it chooses (often percent)."""
    message: str | None = None
    """A short human-readable note about what the activity is doing."""
    checkpoint: Any = None
    """The newest checkpoint (a msgspec Struct), kept in every later heartbeat."""


HeartbeatSink = Callable[[Heartbeat], None]
"""Where heartbeats go: Temporal's ``activity.heartbeat`` in a worker."""


def _temporal_sink(beat: Heartbeat) -> None:
    temporalio.activity.heartbeat(beat)


def send_interval(heartbeat_timeout: timedelta | None) -> float:
    """Return how often (seconds) to send heartbeats for ``heartbeat_timeout``.

    A third of the timeout leaves room for two missed sends before the deadline;
    with no timeout, once a second is enough to learn of cancellation.

    >>> send_interval(timedelta(seconds=30))
    10.0
    >>> send_interval(None)
    1.0
    """
    if heartbeat_timeout is None:
        return 1.0
    return max(heartbeat_timeout.total_seconds() / 3, 0.01)


_current: contextvars.ContextVar[Heartbeater | None] = contextvars.ContextVar(
    "fnact_heartbeater", default=None
)


def current_heartbeater() -> Heartbeater | None:
    """Return the heartbeater of the running attempt, if fnact manages one."""
    return _current.get()


class Heartbeater:
    """Records the newest heartbeat details and sends them, throttled.

    Args:
        interval: send at most once per this many seconds.
        sink: where heartbeats go.
        auto_interval: beat on its own this often while `run_with_heartbeats`
            runs a body (``None``: no auto beats).
        stall_timeout: stop auto beats after this long without progress (``None``: never).
        name: the activity's name, for the stall log.
        payload_limit: the largest checkpoint, in encoded bytes.
        heartbeat_counter: counts each heartbeat sent (a worker passes its metric).
        checkpoint_histogram: records each new checkpoint's size in bytes.
    """

    __slots__ = (
        "_checkpoint_histogram",
        "_checkpoint_size",
        "_dirty",
        "_flush_handle",
        "_heartbeat_counter",
        "_last_progress",
        "_last_sent",
        "_loop",
        "_new_checkpoint",
        "_sink",
        "_stalled",
        "_thread",
        "auto_interval",
        "checkpoint",
        "interval",
        "message",
        "name",
        "payload_limit",
        "progress",
        "sent",
        "stall_timeout",
    )

    def __init__(
        self,
        *,
        interval: float,
        sink: Callable[[Heartbeat], None] | None = None,
        auto_interval: float | None = None,
        stall_timeout: float | None = None,
        name: str = "activity",
        payload_limit: int = 2 * 1024 * 1024,  # DEFAULT_PAYLOAD_LIMIT, spelled out for the docs
        heartbeat_counter: temporalio.common.MetricCounter | None = None,
        checkpoint_histogram: temporalio.common.MetricHistogram | None = None,
    ) -> None:
        self.interval: float = interval
        self.payload_limit: int = payload_limit
        self.auto_interval: float | None = auto_interval
        self.stall_timeout: float | None = stall_timeout
        self.name: str = name
        self.progress: float | None = None
        self.message: str | None = None
        self.checkpoint: Any = None
        self._checkpoint_size = 0
        self._new_checkpoint = False
        self._heartbeat_counter = heartbeat_counter
        self._checkpoint_histogram = checkpoint_histogram
        self.sent: int = 0
        self._sink = sink or _temporal_sink
        self._dirty = False
        self._last_sent = float("-inf")
        self._last_progress = time.monotonic()
        self._stalled = False
        self._flush_handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.get_ident()
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None

    def record(
        self,
        progress: float | None,
        message: str | None,
        checkpoint: Any = None,
        checkpoint_size: int | None = None,
    ) -> None:
        """Record progress (and a checkpoint); send now or before the next deadline.

        Safe to call from another thread (a sync activity's, a `run_blocking` one):
        the size check runs (and raises) in the calling thread, then the record is
        handed to the event loop with ``call_soon_threadsafe``, in the calling thread's
        context (the attempt's, copied into the thread). A progress record returns at
        once; a checkpoint returns once the loop has recorded it, and what recording
        it raised (a test's heartbeat listener, say) is raised in the calling thread.

        Raises:
            ApplicationError: non-retryable, the heartbeat this record would send
                (progress, message and checkpoint together) is over the payload limit.
        """
        if message is not None or checkpoint is not None:
            self._check_size(progress, message, checkpoint, checkpoint_size)
        loop = self._loop
        if loop is not None and threading.get_ident() != self._thread:
            if checkpoint is None:
                loop.call_soon_threadsafe(self._record, progress, message, None, None)
                return
            recorded: concurrent.futures.Future[None] = concurrent.futures.Future()
            loop.call_soon_threadsafe(
                self._record_into, recorded, progress, message, checkpoint, checkpoint_size
            )
            recorded.result()
            return
        self._record(progress, message, checkpoint, checkpoint_size)

    def _record_into(
        self,
        recorded: concurrent.futures.Future[None],
        progress: float | None,
        message: str | None,
        checkpoint: Any,
        checkpoint_size: int | None,
    ) -> None:
        try:
            self._record(progress, message, checkpoint, checkpoint_size)
        except BaseException as exc:
            recorded.set_exception(exc)
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
        else:
            recorded.set_result(None)

    def _check_size(
        self, progress: float | None, message: str | None, checkpoint: Any, size: int | None
    ) -> None:
        if checkpoint is not None and size is None:
            size = len(_checkpoint_encoder.encode(checkpoint))
        message = self.message if message is None else message
        checkpoint_size = self._checkpoint_size if size is None else size
        # A character takes at most 6 bytes in JSON (\uXXXX): measure only when it could matter.
        bound = checkpoint_size + 6 * len(message or "") + _HEARTBEAT_SLACK
        if bound <= self.payload_limit:
            return
        beat = Heartbeat(
            self.progress if progress is None else progress,
            message,
            self.checkpoint if checkpoint is None else checkpoint,
        )
        total = payloads_size(to_payload(beat))
        if total > self.payload_limit:
            raise payload_too_large(
                f"activity {self.name!r} heartbeat (checkpoint {checkpoint_size:,} bytes and "
                f"message {len((message or '').encode()):,} bytes)",
                total,
                self.payload_limit,
            )

    def _record(
        self,
        progress: float | None,
        message: str | None,
        checkpoint: Any,
        checkpoint_size: int | None,
    ) -> None:
        now = time.monotonic()
        if progress is not None:
            self.progress = progress
        if message is not None:
            self.message = message
        if checkpoint is not None:
            self.checkpoint = checkpoint
            self._new_checkpoint = True
            self._checkpoint_size = (
                len(_checkpoint_encoder.encode(checkpoint))
                if checkpoint_size is None
                else checkpoint_size
            )
        self._dirty = True
        self._last_progress = now
        self._stalled = False
        if now - self._last_sent >= self.interval:
            self.flush()
        elif self._flush_handle is None and self._loop is not None:
            self._flush_handle = self._loop.call_at(
                self._loop.time() + self.interval - (now - self._last_sent), self._timed_flush
            )

    def check_checkpoint(self, value: object) -> int:
        """Refuse a checkpoint that holds a Secret or is over the payload limit; return its size.

        Raises:
            TypeError: ``value`` contains a `Secret` or cannot be encoded.
            ApplicationError: non-retryable, ``value`` is over the payload limit or
                holds NaN or infinity.
        """
        data = _checkpoint_encoder.encode(value)
        if b"null" in data and (where := non_finite_path(value)) is not None:
            raise unencodable(
                f"activity {self.name!r} checkpoint has NaN or infinity at `{where}`: JSON "
                "cannot carry it (it would resume as null)",
                kind="Checkpoint",
            )
        size = len(data)
        if size + _HEARTBEAT_SLACK > self.payload_limit:
            total = payloads_size(to_payload(Heartbeat(self.progress, None, value)))
            if total > self.payload_limit:
                raise payload_too_large(
                    f"activity {self.name!r} checkpoint", total, self.payload_limit
                )
        return size

    def flush(self) -> None:
        """Send the newest details now if any were recorded since the last send."""
        if self._dirty:
            self._send()

    def beat(self) -> None:
        """Send the newest details now, whether or not anything changed."""
        self._send()

    @property
    def stalled(self) -> bool:
        """Whether no progress was reported for longer than the stall timeout."""
        if self.stall_timeout is None:
            return False
        return time.monotonic() - self._last_progress > self.stall_timeout

    async def run_auto(self) -> None:
        """Beat every auto interval until cancelled; stop beating while stalled."""
        period = self.auto_interval or self.interval
        while True:
            await asyncio.sleep(period)
            if self.stalled:
                if not self._stalled:
                    self._stalled = True
                    _log.warning(
                        "activity %s stalled: no progress for %.1fs; auto-heartbeat stopped "
                        "so Temporal's heartbeat timeout retries it",
                        self.name,
                        self.stall_timeout,
                    )
                continue
            self.beat()

    def close(self) -> None:
        """Cancel a pending timed flush."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None

    def _timed_flush(self) -> None:
        self._flush_handle = None
        self.flush()

    def _send(self) -> None:
        self._dirty = False
        self._last_sent = time.monotonic()
        self.sent += 1
        self._sink(Heartbeat(self.progress, self.message, self.checkpoint))
        counter = self._heartbeat_counter
        if counter is not None:
            counter.add(1)
        histogram = self._checkpoint_histogram
        if histogram is not None and self._new_checkpoint:
            histogram.record(self._checkpoint_size)
        self._new_checkpoint = False


def decode_checkpoint(details: Any, checkpoint_type: type[T]) -> T | None:
    """Decode the checkpoint in an earlier attempt's heartbeat details.

    Raises:
        ApplicationError: non-retryable, when the checkpoint no longer decodes as
            ``checkpoint_type`` (for example after the type changed in a deploy).
    """
    if not details:
        return None
    last = details[0]
    raw = last.get("checkpoint") if isinstance(last, dict) else None
    if raw is None:
        return None
    try:
        if isinstance(raw, dict) and isinstance(checkpoint_type, type):
            _refuse_unknown_fields(raw, checkpoint_type)
        value: T = decoder_for(checkpoint_type).decode(_encoder.encode(raw))
    except msgspec.ValidationError as exc:
        raise checkpoint_decode_error(checkpoint_type.__qualname__, exc) from None
    return value


def _refuse_unknown_fields(raw: dict[str, Any], checkpoint_type: type) -> None:
    """Reject fields the type no longer has: a renamed field must not decode as its default."""
    if issubclass(checkpoint_type, msgspec.Struct):
        known = {f.encode_name for f in msgspec.structs.fields(checkpoint_type)}
    elif dataclasses.is_dataclass(checkpoint_type):
        known = {f.name for f in dataclasses.fields(checkpoint_type)}
    else:
        return
    unknown = sorted(set(raw) - known)
    if unknown:
        raise msgspec.ValidationError(f"unknown field(s) {', '.join(map(repr, unknown))}")


async def run_with_heartbeats(body: Awaitable[T], heartbeater: Heartbeater) -> T:
    """Await ``body`` with ``heartbeater`` current, auto-beating if it has an auto interval.

    The newest details are flushed once more when ``body`` raises or is
    cancelled, so a retry resumes from the latest checkpoint.
    """
    token = _current.set(heartbeater)
    auto = heartbeater.auto_interval is not None
    beats = asyncio.create_task(heartbeater.run_auto()) if auto else None
    try:
        return await body
    except BaseException:
        heartbeater.flush()
        raise
    finally:
        heartbeater.close()
        if beats is not None:
            beats.cancel()
        _current.reset(token)


@overload
def auto_heartbeater(fn: Callable[P, Awaitable[T]], /) -> Callable[P, Awaitable[T]]: ...


@overload
def auto_heartbeater(
    *, stall_timeout: timedelta | None = None
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]: ...


def auto_heartbeater(
    fn: Callable[P, Awaitable[T]] | None = None,
    /,
    *,
    stall_timeout: timedelta | None = None,
) -> Any:
    """Heartbeat for an async activity while it runs, including plain Temporal activities.

    Beats every third of the activity's heartbeat timeout (once a second when it
    has none), stops when the activity returns, raises or is cancelled, and stops
    beating once no progress was reported for ``stall_timeout``. Progress counts
    when reported through an `ActivityContext` (``ctx.heartbeat``,
    ``ctx.checkpoint``); in a plain activity, ``fnact.ActivityContext()`` gives one.

    Put it under ``@activity.defn`` (Temporal's decorator outermost); the
    "Write long-running activities" how-to shows it running.
    """

    def decorate(function: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        if not inspect.iscoroutinefunction(function):
            raise TypeError(
                f"auto_heartbeater: {function.__qualname__} must be an `async def` function"
            )

        @functools.wraps(function)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            info = temporalio.activity.info()
            interval = send_interval(info.heartbeat_timeout)
            heartbeater = Heartbeater(
                interval=interval,
                auto_interval=interval,
                stall_timeout=stall_timeout.total_seconds() if stall_timeout else None,
                name=info.activity_type,
            )
            return await run_with_heartbeats(function(*args, **kwargs), heartbeater)

        # Temporal reads argument types through the signature: keep the function's own.
        wrapper.__signature__ = inspect.signature(function)  # type: ignore[attr-defined]
        return wrapper

    return decorate if fn is None else decorate(fn)
