"""The context every fnact activity receives as its first argument."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, ParamSpec

import temporalio.activity
from typing_extensions import TypeVar

from fnact._attempt import cancellation_reason, require_info
from fnact._heartbeat import (
    Heartbeat,
    Heartbeater,
    current_heartbeater,
    decode_checkpoint,
    send_interval,
)
from fnact._logging import BoundLogger
from fnact._outputs._root import backend_for, is_local_root
from fnact._outputs._run_outputs import Outputs
from fnact._paths import (
    atomic_write,
    format_output_path,
    output_file,
    output_written,
    remove_stale_parts,
    run_start_time,
)
from fnact._run_facts import run_ids
from fnact._state import RunState
from fnact.exceptions import OutputError, StateError

__all__ = ["ActivityContext"]

# Defaults let a stateless activity write plain `ActivityContext` under mypy --strict.
H = TypeVar("H", default=None)
W = TypeVar("W", default=None)
C = TypeVar("C")
R = TypeVar("R")
P = ParamSpec("P")

_activity_logger = logging.getLogger("fnact.activity")


class ActivityContext(Generic[H, W]):
    """What an activity knows and can do about its own execution.

    ``H`` is the type of the run's handler and ``W`` the type of the run's
    workflow arguments; together they type `state`. An activity that does not
    use the run's state annotates its context as plain ``ActivityContext``.

    Inside a worker fnact builds the context. In a unit test, build one
    directly (or with `fnact.testing`) and await the activity with it.

    Examples:
        >>> import asyncio
        >>> from datetime import datetime, timezone
        >>> from fnact import ActivityContext
        >>> from fnact.state import RunState
        >>> ctx = ActivityContext(state=RunState("db", {"day": 1}, datetime.now(timezone.utc)))
        >>> ctx.state.workflow_args
        {'day': 1}
    """

    __slots__ = (
        "_cancelled",
        "_heartbeater",
        "_info",
        "_logger",
        "_logger_base",
        "_loop",
        "_output_path",
        "_output_root",
        "_output_store",
        "_outputs",
        "_payload_limit",
        "_run_started",
        "_state",
    )

    def __init__(
        self,
        *,
        info: temporalio.activity.Info | None = None,
        state: RunState[H, W] | None = None,
        output_root: str | Path = ".",
        output_store: Any = None,
        logger: logging.Logger | None = None,
        heartbeat: Callable[[Heartbeat], None] | Heartbeater | None = None,
        cancelled: asyncio.Event | None = None,
        run_started: datetime | None = None,
        payload_limit: int = 2 * 1024 * 1024,  # DEFAULT_PAYLOAD_LIMIT, spelled out for the docs
    ) -> None:
        """Build a context.

        Args:
            info: Temporal's activity info; read from the running activity when omitted.
            state: the run's state, for activities that declare one.
            output_root: the folder the run's output path is under, or an object store
                URL (``s3://bucket/prefix``, ``gs://``, ``az://``, ``memory://``).
            output_store: an obstore store serving ``output_root`` (the container's
                ``output_store``); built from ``output_root`` when omitted.
            logger: the standard library logger records go to.
            heartbeat: a `Heartbeater`, or a function receiving every heartbeat
                unthrottled (handy in tests); Temporal's heartbeat, throttled, when omitted.
            cancelled: an event that signals cancellation; Temporal's when omitted.
            run_started: the run's start time; read from the activity's headers when omitted.
            payload_limit: the largest checkpoint, in encoded bytes.
        """
        self._info = info
        self._state = state
        self._output_root = output_root  # converted when first used: Path() costs ~1 µs
        self._output_store = output_store
        self._outputs: Outputs | None = None
        base = logger or _activity_logger
        self._logger_base: Callable[[], logging.Logger] = lambda: base
        self._logger: BoundLogger | None = None
        self._heartbeater: Heartbeater | None = (
            Heartbeater(interval=0.0, sink=heartbeat) if callable(heartbeat) else heartbeat
        )
        self._cancelled = cancelled
        self._run_started = run_started
        self._payload_limit = payload_limit
        self._output_path: Path | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def _for_attempt(
        cls,
        info: temporalio.activity.Info | None,
        state: RunState[H, W] | None,
        output_root: str | Path,
        logger: Callable[[], logging.Logger],
        heartbeater: Heartbeater | None,
        payload_limit: int,
        output_store: Any = None,
    ) -> ActivityContext[H, W]:
        """Build the context fnact's adapter passes to an attempt, skipping `__init__`'s checks.

        ``logger`` is the container's provider, called when the activity first logs.
        """
        ctx = cls.__new__(cls)
        ctx._info = info
        ctx._state = state
        ctx._output_root = output_root
        ctx._output_store = output_store
        ctx._outputs = None
        ctx._logger_base = logger
        ctx._logger = None
        ctx._heartbeater = heartbeater
        ctx._cancelled = None
        ctx._run_started = None
        ctx._payload_limit = payload_limit
        ctx._output_path = None
        ctx._loop = None
        return ctx

    @property
    def info(self) -> temporalio.activity.Info:
        """Temporal's information about this activity attempt."""
        if self._info is None:
            self._info = require_info("ActivityContext.info")
        return self._info

    @property
    def state(self) -> RunState[H, W]:
        """The run's shared state: its ``handler`` and its ``workflow_args``.

        Raises:
            StateError: the activity's context annotation declares no state.
        """
        state = self._state
        if state is None:
            raise StateError(
                f"activity {self._name()!r} has no run state: annotate its context "
                "parameter as ActivityContext[HandlerType, WorkflowArgsType]"
            )
        return state

    @property
    def logger(self) -> BoundLogger:
        """A logger whose records carry the run's ids, the activity type and attempt."""
        if self._logger is None:
            info = self.info
            self._logger = BoundLogger(
                self._logger_base(),
                {
                    "workflow_id": info.workflow_id,
                    "run_id": info.workflow_run_id,
                    "activity_type": info.activity_type,
                    "activity_id": info.activity_id,
                    "attempt": info.attempt,
                    "task_queue": info.task_queue,
                },
            )
        return self._logger

    def _run_prefix(self) -> str:
        started = self._run_started or run_start_time()
        return format_output_path(started, *run_ids(self.info))

    @property
    def outputs(self) -> Outputs:
        """This run's outputs on the output root, local or object storage: write, read, list.

        Every output is whole or absent, carries its SHA-256 (checked on read), and
        stays under the run's prefix ``YYYY/MM/DD/HH/MM/<workflow_id>/<run_id>``.
        """
        if self._outputs is None:
            info = self.info
            self._outputs = Outputs._for_attempt(
                backend_for(self._output_root, self._output_store),
                self._run_prefix(),
                info.started_time if info.attempt > 1 else None,
            )
        return self._outputs

    def _require_local(self, what: str, replacement: str) -> None:
        if not is_local_root(self._output_root, self._output_store):
            where = self._output_root if self._output_store is None else "a configured store"
            raise OutputError(
                f"{what} works on a local output root, and this worker's outputs are on "
                f"{where}: use {replacement}"
            )

    @property
    def output_path(self) -> Path:
        """This run's output folder: ``<output root>/YYYY/MM/DD/HH/MM/<workflow_id>/<run_id>``.

        The folder is not created; activities create what they write. Only for a
        local output root: on object storage, use `outputs`.

        Raises:
            OutputError: the output root is on object storage.
        """
        if self._output_path is None:
            self._require_local("ctx.output_path", "ctx.outputs (write, read, exists, list, ref)")
            self._output_path = Path(self._output_root) / self._run_prefix()
        return self._output_path

    def write_output(self, relative: str, data: bytes | str) -> Path:
        """Write a file under `output_path` atomically and return its path.

        The file appears whole or not at all; writing it again (on a retry)
        replaces it whole, and removes the temporary file an earlier attempt
        killed mid-write left behind. ``relative`` may contain folders but cannot
        leave the output path. Only for a local output root: on object storage,
        use ``await ctx.outputs.write(relative, data)``.

        Raises:
            OutputError: the output root is on object storage.
        """
        self._require_local("ctx.write_output", "await ctx.outputs.write(name, data)")
        target = output_file(self.output_path, relative)
        written = atomic_write(target, data.encode() if isinstance(data, str) else data)
        if self.info.attempt > 1:
            remove_stale_parts(written, before=self.info.started_time)
        observer = output_written.get()
        if observer is not None:
            observer(written)
        return written

    @property
    def heartbeater(self) -> Heartbeater:
        """The attempt's heartbeater (built on first use)."""
        if self._heartbeater is None:
            self._heartbeater = current_heartbeater() or Heartbeater(
                interval=send_interval(self.info.heartbeat_timeout),
                name=self.info.activity_type,
                payload_limit=self._payload_limit,
            )
        return self._heartbeater

    def has_output(self, relative: str) -> bool:
        """Whether an earlier attempt already committed this file under `output_path`.

        Files written with `write_output` appear whole or not at all, so an
        existing file is a finished one: skip the work that produces it. Only for
        a local output root: on object storage, use ``await ctx.outputs.exists(relative)``.

        Raises:
            OutputError: the output root is on object storage.
        """
        self._require_local("ctx.has_output", "await ctx.outputs.exists(name)")
        return output_file(self.output_path, relative).is_file()

    def heartbeat(self, *, progress: float | None = None, message: str | None = None) -> None:
        """Report progress: cheap to call often, sent to Temporal at most once per interval.

        The newest details always reach Temporal before the heartbeat deadline,
        and once more if the attempt fails or is cancelled. Safe to call from a
        thread started by `run_blocking` and from a sync activity's thread: the
        heartbeat is handed to the worker's event loop, which sends it.
        """
        self.heartbeater.record(progress, message)

    def checkpoint(
        self, value: object, *, progress: float | None = None, message: str | None = None
    ) -> None:
        """Record a checkpoint (a msgspec Struct) a retry can resume from.

        The checkpoint travels in the heartbeat details; the next attempt reads
        it with `last_checkpoint`. Like `heartbeat`, it is throttled, and it can
        report progress in the same heartbeat. From a sync activity's thread (or a
        `run_blocking` one), the checkpoint is checked in the calling thread, and
        the call returns once the event loop has recorded it.

        Raises:
            TypeError: ``value`` contains a `Secret` (heartbeat details are stored in clear).
            ApplicationError: non-retryable, ``value`` is over the payload limit.
        """
        if value is None:
            raise ValueError("ActivityContext.checkpoint: value must not be None")
        heartbeater = self.heartbeater
        size = heartbeater.check_checkpoint(value)
        heartbeater.record(progress, message, value, size)

    def last_checkpoint(self, checkpoint_type: type[C]) -> C | None:
        """Return the newest checkpoint an earlier attempt got to the server, or ``None``.

        Raises:
            ApplicationError: non-retryable, naming ``checkpoint_type``, when the
                recorded checkpoint no longer decodes as that type.
        """
        return decode_checkpoint(self.info.heartbeat_details, checkpoint_type)

    async def run_blocking(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run blocking ``fn`` in a thread while the event loop keeps heartbeating.

        A blocked event loop stops every heartbeat on it, for every activity of
        the worker; run blocking calls here instead. ``fn`` may call
        `heartbeat` and `checkpoint`.
        """
        _ = self.heartbeater  # built here, on the loop, so the thread's beats reach it
        self._loop = asyncio.get_running_loop()  # for run_on_loop in the thread
        return await asyncio.to_thread(fn, *args, **kwargs)

    def run_on_loop(self, awaitable: Awaitable[R], /) -> R:
        """Run ``awaitable`` on the worker's event loop from a sync activity; return its result.

        A sync activity's body (or a `run_blocking` function) runs in a thread, where
        the context's async API (`outputs`, say) cannot be awaited:
        ``ctx.run_on_loop(ctx.outputs.write(name, data))`` waits for it in the thread
        while the loop runs it. Called outside a worker (a unit test calling the sync
        activity directly), it runs ``awaitable`` with `asyncio.run`.

        Raises:
            RuntimeError: called on the event loop's own thread, where it would block
                the loop: await ``awaitable`` instead.
        """
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None:
            if inspect.iscoroutine(awaitable):
                awaitable.close()  # never awaited: no warning about it
            raise RuntimeError(
                "ActivityContext.run_on_loop: called on a running event loop's thread, "
                "where it would block the loop; await the awaitable instead"
            )
        if loop is None:
            return asyncio.run(_awaited(awaitable))
        return asyncio.run_coroutine_threadsafe(_awaited(awaitable), loop).result()

    def _flush(self) -> None:
        if self._heartbeater is not None:
            self._heartbeater.flush()

    def _finish(self) -> None:
        """Send pending details and stop timers: the attempt is over."""
        if self._heartbeater is not None:
            self._heartbeater.flush()
            self._heartbeater.close()

    @property
    def is_cancelled(self) -> bool:
        """Whether Temporal has asked this activity to stop.

        An activity only learns of cancellation through heartbeats: heartbeat
        regularly (or use auto-heartbeat) to receive it.
        """
        if self._cancelled is not None:
            return self._cancelled.is_set()
        return temporalio.activity.is_cancelled()

    @property
    def cancellation_reason(self) -> str | None:
        """Why Temporal is cancelling this attempt, or ``None`` while it is not.

        ``"paused"`` (``temporal activity pause``: the activity resumes from its
        newest checkpoint when unpaused), ``"reset"`` (``temporal activity reset``:
        it starts again from scratch), ``"cancel_requested"`` (the workflow cancelled
        it), ``"timed_out"``, ``"worker_shutdown"`` or ``"not_found"``. Read it in a
        body that catches `asyncio.CancelledError`, before re-raising it.
        """
        if self._cancelled is not None:
            return "cancel_requested" if self._cancelled.is_set() else None
        return cancellation_reason()

    async def wait_for_cancel(self) -> None:
        """Wait until Temporal asks this activity to stop."""
        if self._cancelled is not None:
            await self._cancelled.wait()
        else:
            await temporalio.activity.wait_for_cancelled()

    def _name(self) -> str:
        info: Any = self._info
        return "<unknown>" if info is None else str(info.activity_type)

    def __repr__(self) -> str:
        return f"ActivityContext(activity={self._name()!r})"


async def _awaited(awaitable: Awaitable[R]) -> R:
    return await awaitable
