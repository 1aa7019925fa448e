"""For people who write a run-state store: the store protocol and its records.

fnact keeps each workflow run's shared state (its handler and workflow arguments)
in a `StateStore`; `InMemoryStateStore` is the default, one per worker process.
"""

from fnact._state import InMemoryStateStore, RunKey, RunState, StateStats, StateStore

__all__ = ["InMemoryStateStore", "RunKey", "RunState", "StateStats", "StateStore"]
