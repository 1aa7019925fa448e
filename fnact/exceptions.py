"""Exceptions raised by fnact.

Expected outcomes of an activity are `returns.result.Result` values, not
exceptions. The exceptions here mean misconfiguration or misuse, and all of
them share one base::

    FnactError
    ├── ActivityDefinitionError   a decorated function has a wrong signature
    ├── DependencyError           a dependency cannot be resolved
    ├── DevServerError            the embedded Temporal dev server cannot start
    ├── NotInActivityError        an activity-only call made outside an activity
    ├── OutputError               an output cannot be written or read as asked
    │   ├── OutputIntegrityError  an output's bytes do not match the SHA-256 written with it
    │   └── OutputNotFoundError   no committed output has that name
    ├── StateError                the run's state cannot be built or read
    └── WorkerConfigurationError  a worker cannot be built as asked
"""

from __future__ import annotations

__all__ = [
    "ActivityDefinitionError",
    "DependencyError",
    "DevServerError",
    "FnactError",
    "NotInActivityError",
    "OutputError",
    "OutputIntegrityError",
    "OutputNotFoundError",
    "StateError",
    "WorkerConfigurationError",
]


class FnactError(Exception):
    """Base class of every exception fnact raises."""


class ActivityDefinitionError(FnactError, TypeError):
    """A function decorated with `fnact.activity` has a wrong signature."""


class DependencyError(FnactError, LookupError):
    """A dependency an activity declares cannot be resolved."""


class DevServerError(FnactError, RuntimeError):
    """The embedded Temporal dev server cannot be found or started.

    Raised by `fnact.worker.DevServer`; its home is `fnact.exceptions`.
    """


class NotInActivityError(FnactError, RuntimeError):
    """An activity-only function was called outside a running activity."""


class OutputError(FnactError, RuntimeError):
    """An output cannot be written or read as asked (a local-only call on an object store)."""


class OutputIntegrityError(OutputError):
    """An output's bytes do not match the SHA-256 written with it: the object is corrupt."""


class OutputNotFoundError(OutputError, FileNotFoundError):
    """No committed output has the name asked for."""


class StateError(FnactError, RuntimeError):
    """The run's shared state cannot be built, refreshed or read.

    ``non_retryable`` marks a cause retrying cannot fix (the run's workflow
    arguments do not match the type the activity declares).
    """

    def __init__(self, message: str, *, non_retryable: bool = False) -> None:
        super().__init__(message)
        self.non_retryable = non_retryable


class WorkerConfigurationError(FnactError, ValueError):
    """A worker cannot be built with the given activities, workflows or container."""
