"""The base container: fnact's own providers beside the user's."""

from __future__ import annotations

import dataclasses
import functools
import logging
import types
import typing
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from dependency_injector import containers, providers

from fnact._clock import SystemClock
from fnact._outputs._root import normalize_root
from fnact._run_facts import RunContextCache
from fnact._state import InMemoryStateStore

__all__ = ["Container", "Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """fnact's settings; override the container's ``settings`` provider to change them.

    Each field is checked when the settings are built, not when a worker first uses it.

    Raises:
        TypeError: a field holds the wrong type, naming the field
            (``Settings.state_ttl must be a timedelta, not str``); a bool is not an int.
        ValueError: a field's value is out of range, naming the field: the durations
            and counts must be positive, `inline_args_limit` and `heartbeat_interval`
            0 or more, `output_root` a path or a URL of a known store.

    Examples:
        >>> from dependency_injector import providers
        >>> container = Container()
        >>> _ = container.settings.override(providers.Object(Settings(output_root=Path("/data"))))
        >>> container.settings().output_root
        PosixPath('/data')
    """

    state_ttl: timedelta = timedelta(minutes=15)
    """A run's state this old is rebuilt before an activity sees it."""
    state_idle_expiry: timedelta = timedelta(minutes=30)
    """A run's state unused for this long is dropped, even if the run never reported its end."""
    state_max_runs: int = 10_000
    """At most this many runs keep a state in one worker; least recently used go first."""
    output_root: Path | str = Path("fnact-output")
    """Where each run's outputs lie: a local folder, or an object store URL.

    A local path (a `Path` or a string) or a ``file://`` URL becomes a `Path`.
    ``s3://bucket/prefix``, ``gs://bucket/prefix``, ``az://container/prefix`` and
    ``memory://`` stay URLs, served through obstore (``fnact[objectstore]``) with
    the credentials and endpoint of the usual environment variables, or by the
    container's ``output_store``.
    """
    leftover_ttl: timedelta = timedelta(hours=1)
    """Unfinished writes older than this are swept: temporary files, incomplete uploads.

    A writer killed after its run ended leaves what no run end sees; each worker
    sweeps its output root at start and every `output_sweep_interval`.
    """
    output_sweep_interval: timedelta = timedelta(minutes=10)
    """How often a worker sweeps its output root for leftovers older than `leftover_ttl`."""
    payload_limit: int = 2 * 1024 * 1024
    """Largest result or checkpoint, in bytes, before fnact fails the activity (non-retryable).

    Temporal rejects payloads over 2 MB by default with a *retryable* error that
    reruns the whole activity; fnact fails first, with the size in the message.
    """
    inline_args_limit: int = 256
    """Largest encoded workflow input, in bytes, copied into each activity's headers.

    A bigger input is read from the run's history instead, once per run per
    worker process, so headers (and the history they are recorded in) stay small
    however big the input and however many activities a run starts. ``0`` never
    copies it.
    """
    run_end_check_interval: timedelta = timedelta(seconds=5)
    """How often a worker asks the server whether the runs it holds state for have ended.

    A worker that did not run the workflow releases a run's state about this long
    after the run ends at most (plus the visibility store's lag). Each check costs
    one ``ListWorkflowExecutions`` call per 100 held runs, none when no run is held.
    When the worker may not list workflows, it checks each held run with
    ``DescribeWorkflowExecution`` instead, once a minute (or this long, if longer).
    """
    heartbeat_interval: timedelta | None = None
    """Send heartbeats at most this often; ``None`` derives it from the heartbeat timeout.

    ``timedelta(0)`` sends every call, which tests use to see each heartbeat.
    """

    blocked_loop_threshold: timedelta | None = timedelta(seconds=1)
    """Warn when a worker's event loop has not run for this long; ``None`` does not watch.

    The warning (logger ``fnact.watchdog``) names the activities running on the loop,
    the one holding it first, and the loop thread's stack down to the blocking call.
    The watchdog's timer also gives the ``fnact_event_loop_lag`` and
    ``fnact_event_loop_blocked`` metrics; ``None`` turns them off too.
    """

    def __post_init__(self) -> None:
        object.__setattr__(self, "output_root", normalize_root(self.output_root))
        for field, kinds in _field_kinds().items():
            value = getattr(self, field)
            if kinds is not None and not _is_instance(value, kinds):
                raise TypeError(
                    f"Settings.{field} must be {_describe(kinds)}, not {type(value).__qualname__}"
                )
            if value is None:
                continue
            zero = timedelta(0) if isinstance(value, timedelta) else 0
            if field in _POSITIVE and value <= zero:
                must = "positive"
            elif field in _NON_NEGATIVE and value < zero:
                must = "0 or more"
            else:
                continue
            if kinds is not None and type(None) in kinds:
                must += ", or None"
            raise ValueError(f"Settings.{field} must be {must}, not {_show(value)}")


_POSITIVE = frozenset(
    {
        "state_ttl",
        "state_idle_expiry",
        "state_max_runs",
        "leftover_ttl",
        "output_sweep_interval",
        "payload_limit",
        "run_end_check_interval",
        "blocked_loop_threshold",
    }
)
"""Settings that must be more than zero (``None`` aside, where the type allows it)."""
_NON_NEGATIVE = frozenset({"inline_args_limit", "heartbeat_interval"})
"""Settings that may be zero but not less."""


@functools.cache
def _field_kinds() -> dict[str, tuple[type, ...] | None]:
    """Return each Settings field's accepted classes, from its annotation (``None``: unchecked).

    `output_root` is left to `normalize_root`, which accepts a path or a URL.
    """
    hints = typing.get_type_hints(Settings)
    kinds: dict[str, tuple[type, ...] | None] = {}
    for field in dataclasses.fields(Settings):
        hint = hints[field.name]
        members = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        checkable = field.name != "output_root" and all(isinstance(m, type) for m in members)
        kinds[field.name] = tuple(members) if checkable else None
    return kinds


def _is_instance(value: object, kinds: tuple[type, ...]) -> bool:
    """Whether ``value`` is one of ``kinds``; a bool is not an int here."""
    if isinstance(value, bool) and bool not in kinds:
        return False
    return isinstance(value, kinds)


def _describe(kinds: tuple[type, ...]) -> str:
    """Name the accepted classes: ``a timedelta``, ``an int``, ``a timedelta or None``."""
    names = [
        "None"
        if kind is type(None)
        else ("an " if kind.__name__[0] in "aeiou" else "a ") + kind.__name__
        for kind in kinds
    ]
    return " or ".join(names)


def _show(value: object) -> str:
    """Show a refused value: a timedelta in seconds, anything else as its repr."""
    if isinstance(value, timedelta):
        return f"{value.total_seconds():g} s"
    return repr(value)


class Container(containers.DeclarativeContainer):
    """Base dependency-injector container holding fnact's providers.

    Subclass it in your application's composition root and add your own
    providers. ``handler`` builds the run's state handler; when the callable it
    provides accepts a ``workflow_args`` keyword, fnact passes the run's workflow
    arguments.

    Providers:
        clock: the source of time (a `Clock`).
        settings: fnact's `Settings`.
        logger: the standard library logger activity records go to.
        state_store: where run states live (a `StateStore`).
        run_context: what this process knows of the runs it serves (a `RunContextCache`).
        handler: builds the run's handler; ``None`` unless you override it.
        output_store: an obstore store that serves ``Settings.output_root`` (its
            credentials and endpoint configured in code); ``None`` builds the store
            from the root's URL and the environment.
    """

    clock: providers.Singleton[SystemClock] = providers.Singleton(SystemClock)
    settings: providers.Object[Settings] = providers.Object(Settings())
    logger: providers.Object[logging.Logger] = providers.Object(logging.getLogger("fnact.activity"))
    state_store: providers.Singleton[InMemoryStateStore] = providers.Singleton(
        InMemoryStateStore,
        clock=clock,
        ttl=settings.provided.state_ttl,
        idle_expiry=settings.provided.state_idle_expiry,
        max_runs=settings.provided.state_max_runs,
    )
    run_context: providers.Singleton[RunContextCache] = providers.Singleton(
        RunContextCache, max_runs=settings.provided.state_max_runs
    )
    handler: providers.Provider[Any] = providers.Object(None)
    output_store: providers.Provider[Any] = providers.Object(None)
