"""The base container: fnact's own providers beside the user's."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from dependency_injector import containers, providers

from fnact._clock import SystemClock
from fnact._state import InMemoryStateStore

__all__ = ["Container", "Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """fnact's settings; override the container's ``settings`` provider to change them.

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
    output_root: Path = Path("fnact-output")
    """The folder under which each run's output path lies."""
    payload_limit: int = 2 * 1024 * 1024
    """Largest result or checkpoint, in bytes, before fnact fails the activity (non-retryable).

    Temporal rejects payloads over 2 MB by default with a *retryable* error that
    reruns the whole activity; fnact fails first, with the size in the message.
    """
    heartbeat_interval: timedelta | None = None
    """Send heartbeats at most this often; ``None`` derives it from the heartbeat timeout.

    ``timedelta(0)`` sends every call, which tests use to see each heartbeat.
    """


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
        handler: builds the run's handler; ``None`` unless you override it.
    """

    clock = providers.Singleton(SystemClock)
    settings = providers.Object(Settings())
    logger = providers.Object(logging.getLogger("fnact.activity"))
    state_store = providers.Singleton(
        InMemoryStateStore,
        clock=clock,
        ttl=settings.provided.state_ttl,
        idle_expiry=settings.provided.state_idle_expiry,
        max_runs=settings.provided.state_max_runs,
    )
    handler: providers.Provider[Any] = providers.Object(None)
