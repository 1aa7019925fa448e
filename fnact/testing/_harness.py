"""Run fnact activities in-process and see everything they did.

`ActivityHarness` runs an activity through the same adapter a worker uses,
inside Temporal's `ActivityEnvironment`, and returns an `ActivityRun`: the
`Result` (or the exception), every heartbeat and checkpoint, the log records
with their fields, the run-state lifecycle counts and the files written under
the run's output path. It can override providers (undone on `close`), drive a
fake clock, simulate retries that carry the last checkpoint forward, and cancel
or shut down the worker mid-activity.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar

import msgspec
import msgspec.structs
import temporalio.testing
from dependency_injector import containers, providers
from returns.result import Failure, Result, Success
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ApplicationError

from fnact._activity import Activity
from fnact._adapter import build_adapter
from fnact._attempt import reset_attempt, set_attempt
from fnact._clock import FakeClock
from fnact._container import Settings
from fnact._converter import data_converter
from fnact._headers import ARGS_HEADER, START_HEADER
from fnact._heartbeat import Heartbeat
from fnact._outcome import failure_from_details
from fnact._paths import format_output_path, output_written
from fnact._state import StateStats
from fnact.testing._info import activity_info
from fnact.testing._rehearsal import (
    Crash,
    CrashRehearsal,
    Killed,
    RehearsedCrash,
    reached_server,
    throttle_interval,
)

__all__ = ["ActivityHarness", "ActivityRun", "StateCounts"]

A = TypeVar("A")
R = TypeVar("R")
E = TypeVar("E")
P = ParamSpec("P")

DEFAULT_RUN_START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
_converter = data_converter.payload_converter
_HEARTBEAT_FIELDS = frozenset(f.encode_name for f in msgspec.structs.fields(Heartbeat))
_ACCEPTED_DETAILS = (
    "a list of one item: a fnact.Heartbeat (as in run.heartbeats), a checkpoint (a msgspec "
    "Struct), or a Heartbeat in builtins form (a dict of progress, message and checkpoint)"
)
_MISSING_ARGS = (
    "pass workflow_args= to ActivityHarness(...), to its run(...) or to run_activity(...)"
)


@dataclasses.dataclass(frozen=True, slots=True)
class StateCounts:
    """What the run-state store did during one attempt."""

    builds: int = 0
    refreshes: int = 0
    releases: int = 0
    closes: int = 0

    @classmethod
    def between(cls, before: StateStats, after: StateStats) -> StateCounts:
        """Return the difference of two snapshots of a store's counters."""
        return cls(
            builds=after.builds - before.builds,
            refreshes=after.refreshes - before.refreshes,
            releases=after.releases - before.releases,
            closes=after.closes - before.closes,
        )


@dataclasses.dataclass(slots=True)
class ActivityRun(Generic[R, E]):
    """Everything one in-process attempt of an activity did."""

    attempt: int
    """The attempt number Temporal would have given it."""
    result: Result[R, E] | None
    """The Result the workflow would see, or ``None`` when the attempt raised."""
    exception: BaseException | None
    """The exception that escaped the attempt (Temporal would retry it), if any."""
    heartbeats: list[Heartbeat]
    """Every heartbeat sent, in order (unthrottled in the harness)."""
    logs: list[logging.LogRecord]
    """Records logged through ``ctx.logger`` and fnact's loggers."""
    state: StateCounts
    """Run-state builds, refreshes, releases and handler closes during the attempt."""
    files: dict[str, bytes]
    """Files written or changed under the run's output path, by relative path."""
    output_path: Path
    """The run's output folder."""
    cancelled: bool = False
    """Whether the attempt ended by cancellation."""
    writes: list[str] = dataclasses.field(default_factory=list)
    """Every ``write_output`` that completed, in order (paths under the output path)."""
    handed_over: Heartbeat | None = None
    """The heartbeat Temporal would hand the next attempt: the last one sent, or, after a
    rehearsed kill, the last one that reached the server under the throttle."""

    @property
    def checkpoints(self) -> list[Any]:
        """The checkpoints recorded, in order (one per change)."""
        seen: list[Any] = []
        for beat in self.heartbeats:
            if beat.checkpoint is not None and (not seen or seen[-1] is not beat.checkpoint):
                seen.append(beat.checkpoint)
        return seen

    @property
    def progress(self) -> list[float]:
        """The progress values reported, in order (one per change)."""
        seen: list[float] = []
        for beat in self.heartbeats:
            if beat.progress is not None and (not seen or seen[-1] != beat.progress):
                seen.append(beat.progress)
        return seen

    @property
    def log_fields(self) -> list[dict[str, Any]]:
        """The structured fields of each log record (message under ``"message"``)."""
        return [{"message": r.getMessage(), **getattr(r, "fields", {})} for r in self.logs]

    def unwrap(self) -> Result[R, E]:
        """Return the Result, re-raising the attempt's exception if it had one."""
        if self.exception is not None:
            raise self.exception
        assert self.result is not None
        return self.result


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._seen: set[int] = set()

    def emit(self, record: logging.LogRecord) -> None:
        if id(record) not in self._seen:  # attached to a logger and its ancestor
            self._seen.add(id(record))
            self.records.append(record)


class ActivityHarness:
    """Run activities in-process against ``container``, as a worker would.

    Args:
        container: your application's container (a `fnact.Container` subclass).
        output_root: the output root for the runs (a temporary folder in tests).
        clock: the clock the container uses; a new `FakeClock` by default.
        workflow_args: the run's workflow arguments (``ctx.state.workflow_args``).
        workflow_id: the run's workflow id.
        run_id: the run's run id.
        run_started: the run's start time (it shapes the output path).

    The "Test an activity" how-to shows it in use; the pytest plugin's
    ``activity_harness`` fixture builds one per test.
    """

    def __init__(
        self,
        container: containers.Container,
        *,
        output_root: Path | str | None = None,
        clock: FakeClock | None = None,
        workflow_args: Any = None,
        workflow_id: str = "test-workflow",
        run_id: str = "test-run",
        run_started: datetime = DEFAULT_RUN_START,
    ) -> None:
        self.container: Any = container
        self.clock: FakeClock = clock or FakeClock()
        self.workflow_args = workflow_args
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.run_started = run_started
        self._overridden: list[providers.Provider[Any]] = []
        settings: Settings = self.container.settings()
        self._heartbeat_interval = settings.heartbeat_interval  # a worker's throttle
        changes: dict[str, Any] = {"heartbeat_interval": timedelta(0)}
        if output_root is not None:
            changes["output_root"] = Path(output_root)
        self._override(self.container.settings, dataclasses.replace(settings, **changes))
        self._override(self.container.clock, self.clock)

    @property
    def output_root(self) -> Path:
        """The output root the runs write under."""
        root: Path = self.container.settings().output_root
        return root

    @property
    def output_path(self) -> Path:
        """The run's output folder (root / YYYY/MM/DD/HH/MM/workflow_id/run_id)."""
        relative = format_output_path(self.run_started, self.workflow_id, self.run_id)
        return self.output_root / relative

    def override(self, **overrides: Any) -> Self:
        """Override providers by name for every later run, until `close`.

        A value that is a provider replaces the provider; anything else is
        provided as is. Sync and async providers alike.
        """
        for name, value in overrides.items():
            provider = getattr(self.container, name, None)
            if not isinstance(provider, providers.Provider):
                raise AttributeError(
                    f"ActivityHarness.override: the container has no provider named {name!r}"
                )
            self._override(provider, value)
        return self

    def _override(self, provider: providers.Provider[Any], value: Any) -> None:
        replacement = value if isinstance(value, providers.Provider) else providers.Object(value)
        provider.override(replacement)
        self._overridden.append(provider)

    def close(self) -> None:
        """Close the run states the runs built and undo every override, newest first.

        Handlers are closed with their ``close()``/``aclose()``; from inside a
        running event loop use `aclose` instead.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self.container.state_store().aclose())
        self._reset()

    async def aclose(self) -> None:
        """Close the run states the runs built and undo every override."""
        await self.container.state_store().aclose()
        self._reset()

    def _reset(self) -> None:
        while self._overridden:
            self._overridden.pop().reset_last_overriding()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def run(
        self,
        activity: Activity[Concatenate[Any, A, P], R, E],
        args: A,
        /,
        *,
        attempt: int = 1,
        retry_policy: RetryPolicy | None = None,
        heartbeat_timeout: timedelta | None = None,
        heartbeat_details: Sequence[Any] | None = None,
        cancel_after_heartbeats: int | None = None,
        cancel_after: float | None = None,
        shutdown_after_heartbeats: int | None = None,
        shutdown_after: float | None = None,
        workflow_args: Any = None,
        crash: Crash | None = None,
    ) -> ActivityRun[R, E]:
        """Run one attempt of ``activity`` and return what it did.

        Args:
            activity: the fnact activity.
            args: its input (encoded and decoded strictly, as in a worker).
            attempt: the attempt number.
            retry_policy: the retry policy the attempt runs under.
            heartbeat_timeout: the attempt's heartbeat timeout (turns auto-heartbeat on).
            heartbeat_details: an earlier attempt's last heartbeat, as ``[beat]``: a
                `Heartbeat` (such as ``run.heartbeats[-1]``), a checkpoint (a msgspec
                Struct, standing for a heartbeat carrying it) or a heartbeat in builtins
                form (``{"checkpoint": {...}}``). The attempt sees it as a worker's retry
                would: encoded, then decoded without a type.
            cancel_after_heartbeats: cancel the attempt once it sent this many heartbeats.
            cancel_after: cancel the attempt after this many seconds.
            shutdown_after_heartbeats: signal worker shutdown after this many heartbeats.
            shutdown_after: signal worker shutdown after this many seconds.
            workflow_args: the run's workflow arguments for this attempt (default: the
                harness's ``workflow_args``).
            crash: make the attempt die at this point (see `rehearse_crash`).

        Raises:
            ValueError: the attempt ended before reaching ``crash``'s point.
        """
        details = _as_retry_sees(heartbeat_details)
        definition = activity.definition
        adapter = build_adapter(definition, self.container)
        env = temporalio.testing.ActivityEnvironment()
        env.payload_converter = _converter
        env.info = activity_info(
            activity_type=definition.name,
            workflow_id=self.workflow_id,
            workflow_run_id=self.run_id,
            attempt=attempt,
            retry_policy=retry_policy,
            heartbeat_timeout=heartbeat_timeout,
            heartbeat_details=details,
        )
        heartbeats: list[Heartbeat] = []
        timed: list[tuple[float, Heartbeat]] = []
        writes: list[str] = []
        crash_point = _CrashPoint(crash, env)

        def on_heartbeat(*details: Any) -> None:
            if details and isinstance(details[0], Heartbeat):
                beat = details[0]
                previous = heartbeats[-1].checkpoint if heartbeats else None
                heartbeats.append(beat)
                timed.append((time.monotonic(), beat))
                if beat.checkpoint is not None and beat.checkpoint is not previous:
                    crash_point.checkpointed()
            if cancel_after_heartbeats is not None and len(heartbeats) >= cancel_after_heartbeats:
                env.cancel()
            if (
                shutdown_after_heartbeats is not None
                and len(heartbeats) >= shutdown_after_heartbeats
            ):
                env.worker_shutdown()
                env.cancel()

        env.on_heartbeat = on_heartbeat
        loop = asyncio.get_running_loop()
        timers = []
        if cancel_after is not None:
            timers.append(loop.call_later(cancel_after, env.cancel))
        if shutdown_after is not None:
            timers.append(loop.call_later(shutdown_after, _shutdown, env))
        headers = {START_HEADER: _converter.to_payload(self.run_started)}
        run_args = self.workflow_args if workflow_args is None else workflow_args
        if run_args is not None:
            headers[ARGS_HEADER] = _converter.to_payload(run_args)
        store = self.container.state_store()
        before = dataclasses.replace(store.stats)
        files_before = _snapshot(self.output_path)
        capture = _Capture()
        loggers = {logging.getLogger("fnact"), self.container.logger()}
        levels = {logger: logger.level for logger in loggers}
        for logger in loggers:
            logger.addHandler(capture)
            logger.setLevel(logging.DEBUG)
        output_root = self.output_path

        def on_output(path: Path) -> None:
            writes.append(str(path.relative_to(output_root)))
            crash_point.wrote()

        observing = output_written.set(on_output)
        token = set_attempt(headers, missing_args_advice=_MISSING_ARGS)
        result: Result[R, E] | None = None
        error: BaseException | None = None
        cancelled = False
        try:
            value = await env.run(adapter, RawValue(_converter.to_payload(args)))
            result = Success(
                _converter.from_payload(_converter.to_payload(value), definition.result_type)
            )
        except ApplicationError as exc:
            error_type = definition.error_types.get(exc.type or "")
            failure = (
                None if error_type is None else failure_from_details(exc, error_type, _converter)
            )
            if failure is not None:
                result = failure
            else:
                error = exc
        except asyncio.CancelledError as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the test itself is being cancelled, not the activity
            cancelled = True
            error = exc
        except (Exception, Killed) as exc:
            error = exc
        finally:
            reset_attempt(token)
            output_written.reset(observing)
            for timer in timers:
                timer.cancel()
            for logger in loggers:
                logger.removeHandler(capture)
                logger.setLevel(levels[logger])
        handed_over = heartbeats[-1] if heartbeats else None
        if crash is not None:
            if crash_point.died_at is None:
                raise ValueError(
                    f"ActivityHarness: the attempt ended before the crash point "
                    f"({crash.describe()}): it recorded {crash_point.checkpoints} checkpoint(s) "
                    f"and wrote {crash_point.outputs} output(s)"
                )
            if crash.how == "kill":
                throttle = throttle_interval(heartbeat_timeout, self._heartbeat_interval)
                handed_over = reached_server(timed, crash_point.died_at, throttle)
        return ActivityRun(
            attempt=attempt,
            result=result,
            exception=error,
            heartbeats=heartbeats,
            logs=capture.records,
            state=StateCounts.between(before, store.stats),
            files=_changed(self.output_path, files_before),
            output_path=self.output_path,
            cancelled=cancelled,
            writes=writes,
            handed_over=handed_over,
        )

    async def rehearse_crash(
        self,
        activity: Activity[Concatenate[Any, A, P], R, E],
        args: A,
        crash: Crash,
        /,
        *,
        heartbeat_timeout: timedelta | None = None,
        retry_policy: RetryPolicy | None = None,
        workflow_args: Any = None,
    ) -> CrashRehearsal[R, E]:
        """Run an attempt that dies at ``crash``, then the retry Temporal would start.

        The retry (attempt 2) gets the heartbeat the server holds when the first
        attempt dies: its newest after an exception, a cancellation or a worker
        shutdown, which fnact flushes; after a kill, the last one that went out
        under the throttle (fnact's send interval, a third of ``heartbeat_timeout``,
        and the worker's 1 s), so checkpoints recorded since are lost, as they are
        when a worker's process dies. The returned `CrashRehearsal` holds both
        attempts and every output write.

        Raises:
            ValueError: the first attempt ended before reaching the crash point.
        """
        first = await self.run(
            activity, args, attempt=1, crash=crash, heartbeat_timeout=heartbeat_timeout,
            retry_policy=retry_policy, workflow_args=workflow_args,
        )  # fmt: skip
        details = [first.handed_over] if first.handed_over is not None else []
        retry = await self.run(
            activity, args, attempt=2, heartbeat_details=details,
            heartbeat_timeout=heartbeat_timeout, retry_policy=retry_policy,
            workflow_args=workflow_args,
        )  # fmt: skip
        writes = [(1, path) for path in first.writes] + [(2, path) for path in retry.writes]
        outputs = {
            str(path.relative_to(self.output_path)): path.read_bytes()
            for path in _files(self.output_path)
        }
        return CrashRehearsal(crash, first, retry, first.handed_over, writes, outputs)

    async def run_retries(
        self,
        activity: Activity[Concatenate[Any, A, P], R, E],
        args: A,
        /,
        *,
        max_attempts: int,
        heartbeat_timeout: timedelta | None = None,
        between: Any = None,
    ) -> list[ActivityRun[R, E]]:
        """Run attempts 1..``max_attempts`` the way Temporal would retry them.

        The next attempt starts after an exception (unless non-retryable) or a
        retryable ``Failure``, with the last heartbeat details of the one before,
        so ``ctx.last_checkpoint`` sees the newest checkpoint. ``between``, if
        given, is called with each finished attempt (for example to advance the
        clock).
        """
        policy = RetryPolicy(maximum_attempts=max_attempts)
        runs: list[ActivityRun[R, E]] = []
        details: list[Any] = []
        for attempt in range(1, max_attempts + 1):
            run = await self.run(
                activity, args, attempt=attempt, retry_policy=policy,
                heartbeat_timeout=heartbeat_timeout, heartbeat_details=details,
            )  # fmt: skip
            runs.append(run)
            if between is not None:
                between(run)
            if not _retried(run, activity):
                break
            if run.handed_over is not None:
                details = [run.handed_over]  # what Temporal hands the next attempt
        return runs


def _as_retry_sees(details: Sequence[Any] | None) -> list[Any]:
    """Return ``details`` as the next attempt of a worker sees them.

    fnact sends one `Heartbeat` per beat; Temporal encodes it with the worker's
    converter and hands the next attempt the last one, decoded without a type: a
    dict of ``progress``, ``message`` and ``checkpoint``.

    Raises:
        TypeError: ``details`` is not a list, or its item is none of those accepted.
        ValueError: ``details`` has more than one item, or a dict that is not a heartbeat.
    """
    where = "ActivityHarness.run: heartbeat_details"
    if details is None:
        return []
    if isinstance(details, dict | msgspec.Struct):
        raise TypeError(
            f"{where} must be {_ACCEPTED_DETAILS}; got a {type(details).__qualname__} "
            "outside a list: pass [it]"
        )
    if isinstance(details, str | bytes) or not isinstance(details, Sequence):
        raise TypeError(f"{where} must be {_ACCEPTED_DETAILS}; got {type(details).__qualname__}")
    if not details:
        return []
    if len(details) > 1:
        raise ValueError(
            f"{where} has {len(details)} items: fnact sends one Heartbeat per beat and a retry "
            "sees the last one, so pass one, such as [run.heartbeats[-1]]"
        )
    item = details[0]
    if isinstance(item, Heartbeat):
        beat = item
    elif isinstance(item, msgspec.Struct) or (
        dataclasses.is_dataclass(item) and not isinstance(item, type)
    ):
        beat = Heartbeat(checkpoint=item)  # the checkpoint itself
    elif isinstance(item, dict):
        unknown = sorted(map(repr, set(item) - _HEARTBEAT_FIELDS))
        if unknown:
            raise ValueError(
                f"{where}[0] is a dict with the key(s) {', '.join(unknown)}, which a Heartbeat "
                "does not have (progress, message, checkpoint); for a checkpoint, pass "
                '[{"checkpoint": ...}] or the checkpoint Struct itself'
            )
        try:
            beat = msgspec.convert(item, Heartbeat)
        except msgspec.ValidationError as exc:
            raise ValueError(f"{where}[0] is not a Heartbeat in builtins form: {exc}") from None
    else:
        raise TypeError(f"{where} must be {_ACCEPTED_DETAILS}; got [{type(item).__qualname__}]")
    decoded: list[Any] = _converter.from_payloads(_converter.to_payloads([beat]))
    return decoded


class _CrashPoint:
    """Counts an attempt's checkpoints and outputs, and strikes where its `Crash` says."""

    def __init__(self, crash: Crash | None, env: temporalio.testing.ActivityEnvironment) -> None:
        self.crash = crash
        self.env = env
        self.checkpoints = 0
        self.outputs = 0
        self.died_at: float | None = None

    def checkpointed(self) -> None:
        self.checkpoints += 1
        if self.crash is not None and self.crash.after_checkpoint == self.checkpoints:
            self.strike()

    def wrote(self) -> None:
        self.outputs += 1
        if self.crash is not None and self.crash.after_output == self.outputs:
            self.strike()

    def strike(self) -> None:
        assert self.crash is not None
        if self.died_at is not None:
            return
        self.died_at = time.monotonic()
        how = self.crash.how
        if how == "exception":
            raise RehearsedCrash(f"rehearsed crash {self.crash.describe()}")
        if how == "kill":
            raise Killed
        if how == "worker_shutdown":
            self.env.worker_shutdown()
        self.env.cancel()  # delivered at the body's next await, as Temporal's is


def _shutdown(env: temporalio.testing.ActivityEnvironment) -> None:
    env.worker_shutdown()
    env.cancel()


def _retried(run: ActivityRun[Any, Any], activity: Activity[Any, Any, Any]) -> bool:
    if run.cancelled:
        return False
    if run.exception is not None:
        return not (isinstance(run.exception, ApplicationError) and run.exception.non_retryable)
    if isinstance(run.result, Failure):
        return not bool(getattr(run.result.failure(), "non_retryable", True))
    return False


def _files(folder: Path) -> Iterator[Path]:
    if folder.is_dir():
        yield from (p for p in folder.rglob("*") if p.is_file())


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size) for p in _files(folder)
    }


def _changed(folder: Path, before: dict[str, tuple[int, int]]) -> dict[str, bytes]:
    after = _snapshot(folder)
    return {
        name: (folder / name).read_bytes()
        for name, stamp in sorted(after.items())
        if before.get(name) != stamp
    }
