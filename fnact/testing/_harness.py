"""Run fnact activities in-process and see everything they did.

`ActivityHarness` runs an activity through the same adapter a worker uses,
inside Temporal's `ActivityEnvironment`, and returns an `ActivityRun`: the
`Result` (or the exception), every heartbeat and checkpoint, the log records
with their fields, the run-state lifecycle counts and the files written under
the run's output path. It can override providers (undone on `close`), drive a
fake clock, simulate retries that carry the last checkpoint forward, and cancel
or shut down the worker mid-activity.

Why one module of about 500 lines: `ActivityHarness.run` is composed of named steps
(capture, retries, crash rehearsal and run records live in their own modules); what
stays here is the harness's public surface with its documented options.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import functools
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, NamedTuple, ParamSpec, Self, TypeVar

import temporalio.converter
import temporalio.testing
from dependency_injector import containers, providers
from returns.result import Result, Success
from temporalio.api.common.v1 import Payload
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ApplicationError

from fnact._activity import Activity, ActivityDefinition
from fnact._adapter import AdapterFn, build_adapter
from fnact._attempt import reset_attempt, set_attempt
from fnact._clock import FakeClock
from fnact._container import Settings
from fnact._converter import NonFiniteFloatError, data_converter, with_fnact_converter
from fnact._headers import ARGS_HEADER, START_HEADER
from fnact._outcome import failure_from_details
from fnact._outputs._run_outputs import Outputs
from fnact._paths import format_output_path
from fnact.exceptions import OutputError
from fnact.testing._capture import Capture
from fnact.testing._info import activity_info
from fnact.testing._rehearsal import Crash, CrashPoint, CrashRehearsal, Killed, rehearse
from fnact.testing._retries import as_retry_sees, handed_over, run_attempts
from fnact.testing._run import ActivityRun, StateCounts

__all__ = ["ActivityHarness", "ActivityRun", "StateCounts"]

A = TypeVar("A")
R = TypeVar("R")
E = TypeVar("E")
P = ParamSpec("P")

DEFAULT_RUN_START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
_converter = data_converter.payload_converter
_MISSING_ARGS = (
    "pass workflow_args= to ActivityHarness(...), to its run(...) or to run_activity(...)"
)


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
        data_converter: the app's data converter (``pydantic_data_converter``, say).
            Inputs and ``workflow_args`` are encoded, and results decoded, as the
            app's workflows do: with fnact's converter in front of this one. By
            default, fnact's converter alone.

    A sync activity (a plain ``def``) runs in a thread of the harness's own
    ``ThreadPoolExecutor``, as on a worker; `close` shuts it down.

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
        data_converter: temporalio.converter.DataConverter | None = None,
    ) -> None:
        self.container: Any = container
        self.clock: FakeClock = clock or FakeClock()
        self.workflow_args = workflow_args
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.run_started = run_started
        self._converter: temporalio.converter.PayloadConverter = (
            _converter
            if data_converter is None
            else with_fnact_converter(data_converter).payload_converter
        )
        self._own_converter = data_converter is not None
        self._overridden: list[providers.Provider[Any]] = []
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        settings: Settings = self.container.settings()
        self._heartbeat_interval = settings.heartbeat_interval  # a worker's throttle
        changes: dict[str, Any] = {"heartbeat_interval": timedelta(0)}
        if output_root is not None:
            changes["output_root"] = output_root  # Settings checks it: a path or a URL
        self._override(self.container.settings, dataclasses.replace(settings, **changes))
        self._override(self.container.clock, self.clock)

    @property
    def output_root(self) -> Path | str:
        """The output root the runs write under: a folder, or an object store URL."""
        root: Path | str = self.container.settings().output_root
        return root

    @property
    def output_prefix(self) -> str:
        """The run's prefix under the output root: ``YYYY/MM/DD/HH/MM/workflow_id/run_id``."""
        return format_output_path(self.run_started, self.workflow_id, self.run_id)

    @property
    def outputs(self) -> Outputs:
        """The run's outputs, as the activity's ``ctx.outputs`` sees them (any root)."""
        return Outputs(self.output_root, self.output_prefix, store=_output_store(self.container))

    @property
    def output_path(self) -> Path:
        """The run's output folder (root / YYYY/MM/DD/HH/MM/workflow_id/run_id).

        Raises:
            OutputError: the output root is on object storage: use `outputs`.
        """
        root = self.output_root
        if not isinstance(root, Path):
            raise OutputError(
                f"ActivityHarness.output_path is a local folder, and the output root is {root}: "
                "read the run's outputs with harness.outputs"
            )
        return root / self.output_prefix

    def _local_output_path(self) -> Path | None:
        root = self.output_root
        return root / self.output_prefix if isinstance(root, Path) else None

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
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None
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
        details = as_retry_sees(heartbeat_details)
        adapter = build_adapter(
            activity.definition, self.container, executor=self._executor_for(activity.definition)
        )
        env = self._environment(
            activity.definition, attempt, retry_policy, heartbeat_timeout, details
        )
        crash_point = CrashPoint(crash, env)
        capture = Capture(self._local_output_path(), self._loggers(), on_output=crash_point.wrote)
        env.on_heartbeat = _heartbeat_listener(
            env, capture, crash_point, cancel_after_heartbeats, shutdown_after_heartbeats
        )
        store = self.container.state_store()
        before = dataclasses.replace(store.stats)
        with (
            _timers(env, cancel_after, shutdown_after),
            capture.recording(),
            self._headers(workflow_args),
        ):
            ending = await _attempt(activity.definition, adapter, env, args, self._converter)
        crash_point.check_reached()
        return ActivityRun(
            attempt=attempt,
            result=ending.result,
            exception=ending.exception,
            heartbeats=capture.heartbeats,
            logs=capture.logs,
            state=StateCounts.between(before, store.stats),
            files=capture.changed_files(),
            output_path=self._local_output_path(),
            cancelled=ending.cancelled,
            writes=capture.writes,
            handed_over=handed_over(
                capture, crash_point, heartbeat_timeout, self._heartbeat_interval
            ),
        )

    def _executor_for(
        self, definition: ActivityDefinition
    ) -> concurrent.futures.ThreadPoolExecutor | None:
        """Return the harness's own thread pool for a sync activity (made on first use)."""
        if definition.is_async:
            return None
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                thread_name_prefix="fnact-harness"
            )
        return self._executor

    def _environment(
        self,
        definition: ActivityDefinition,
        attempt: int,
        retry_policy: RetryPolicy | None,
        heartbeat_timeout: timedelta | None,
        heartbeat_details: list[Any],
    ) -> temporalio.testing.ActivityEnvironment:
        """Return Temporal's activity environment for the attempt, with fnact's converter."""
        env = temporalio.testing.ActivityEnvironment()
        env.payload_converter = self._converter
        env.info = activity_info(
            activity_type=definition.name,
            workflow_id=self.workflow_id,
            workflow_run_id=self.run_id,
            attempt=attempt,
            retry_policy=retry_policy,
            heartbeat_timeout=heartbeat_timeout,
            heartbeat_details=heartbeat_details,
        )
        return env

    def _loggers(self) -> set[logging.Logger]:
        """Return the loggers whose records a run captures: fnact's and the container's."""
        return {logging.getLogger("fnact"), self.container.logger()}

    @contextmanager
    def _headers(self, workflow_args: Any) -> Iterator[None]:
        """Give the attempt the run headers a workflow sends: its start time and input."""
        headers = {START_HEADER: _converter.to_payload(self.run_started)}
        run_args = self.workflow_args if workflow_args is None else workflow_args
        if run_args is not None:
            headers[ARGS_HEADER] = self._encode_workflow_args(run_args)
        token = set_attempt(headers, missing_args_advice=_MISSING_ARGS)
        try:
            yield
        finally:
            reset_attempt(token)

    def _encode_workflow_args(self, run_args: Any) -> Payload:
        """Encode the run's workflow arguments as the workflow's converter would.

        Raises:
            TypeError: the converter cannot encode them; the message names
                ``workflow_args`` and their type.
            NonFiniteFloatError: they hold NaN or infinity; the message names where.
        """
        try:
            return self._converter.to_payload(run_args)
        except NonFiniteFloatError as exc:
            raise NonFiniteFloatError(f"ActivityHarness workflow_args: {exc}") from None
        except Exception as exc:  # msgspec's TypeError, Temporal's RuntimeError, pydantic's
            which, advice = ("the app's converter", "")
            if not self._own_converter:
                which = "fnact's converter"
                advice = "; give the app's converter: ActivityHarness(..., data_converter=...)"
            raise TypeError(
                f"ActivityHarness workflow_args: {which} cannot encode a value of type "
                f"{type(run_args).__qualname__.rpartition('<locals>.')[2]} ({exc}){advice}"
            ) from exc

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
        run_attempt = functools.partial(self.run, activity, args)
        return await rehearse(
            run_attempt, self._local_output_path(), crash, heartbeat_timeout=heartbeat_timeout,
            retry_policy=retry_policy, workflow_args=workflow_args,
        )  # fmt: skip

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
        run_attempt = functools.partial(self.run, activity, args)
        return await run_attempts(
            run_attempt, max_attempts=max_attempts, heartbeat_timeout=heartbeat_timeout,
            between=between,
        )  # fmt: skip


class _Ending(NamedTuple):
    """How an attempt ended: with a Result, or with the exception that escaped it."""

    result: Result[Any, Any] | None = None
    exception: BaseException | None = None
    cancelled: bool = False


async def _attempt(
    definition: ActivityDefinition,
    adapter: AdapterFn,
    env: temporalio.testing.ActivityEnvironment,
    args: Any,
    converter: temporalio.converter.PayloadConverter,
) -> _Ending:
    """Run the adapter once in ``env``, as a worker would, and return how it ended.

    ``converter`` is the workflow's: it encodes the input and decodes the outcome.
    """
    try:
        value = await env.run(adapter, RawValue(converter.to_payload(args)))
        return _Ending(
            Success(converter.from_payload(converter.to_payload(value), definition.result_type))
        )
    except ApplicationError as exc:
        error_type = definition.error_types.get(exc.type or "")
        failure = None if error_type is None else failure_from_details(exc, error_type, converter)
        return _Ending(result=failure) if failure is not None else _Ending(exception=exc)
    except asyncio.CancelledError as exc:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # the test itself is being cancelled, not the activity
        return _Ending(exception=exc, cancelled=True)
    except (Exception, Killed) as exc:
        return _Ending(exception=exc)


def _heartbeat_listener(
    env: temporalio.testing.ActivityEnvironment,
    capture: Capture,
    crash_point: CrashPoint,
    cancel_after_heartbeats: int | None,
    shutdown_after_heartbeats: int | None,
) -> Callable[..., None]:
    """Return what hears each heartbeat: it records it and interrupts the attempt on cue."""

    def on_heartbeat(*details: Any) -> None:
        if capture.heartbeat(details):
            crash_point.checkpointed()
        sent = len(capture.heartbeats)
        if cancel_after_heartbeats is not None and sent >= cancel_after_heartbeats:
            env.cancel()
        if shutdown_after_heartbeats is not None and sent >= shutdown_after_heartbeats:
            _shutdown(env)

    return on_heartbeat


@contextmanager
def _timers(
    env: temporalio.testing.ActivityEnvironment,
    cancel_after: float | None,
    shutdown_after: float | None,
) -> Iterator[None]:
    """Cancel the attempt, or shut its worker down, after the given seconds."""
    loop = asyncio.get_running_loop()
    timers = []
    if cancel_after is not None:
        timers.append(loop.call_later(cancel_after, env.cancel))
    if shutdown_after is not None:
        timers.append(loop.call_later(shutdown_after, _shutdown, env))
    try:
        yield
    finally:
        for timer in timers:
            timer.cancel()


def _shutdown(env: temporalio.testing.ActivityEnvironment) -> None:
    """Signal the worker's shutdown to the attempt, then cancel it, as a worker does."""
    env.worker_shutdown()
    env.cancel()


def _output_store(container: Any) -> Any:
    """Return the container's configured output store, if it has one."""
    provider = getattr(container, "output_store", None)
    return None if provider is None else provider()
