"""Which payloads Temporal's external storage will offload, so fnact's size checks spare them.

With ``DataConverter(external_storage=ExternalStorage(...))`` Temporal stores any
payload of at least ``payload_size_threshold`` bytes through a driver and sends a
small reference instead. fnact's size checks (an activity's input in the workflow,
its result, its checkpoint) refuse only what Temporal would really send over the
limit. A ``driver_selector`` may still pass a payload through: fnact counts every
payload at or over the threshold as offloaded.

The workflow side learns its worker's threshold per run, from fnact's workflow
interceptor; this module is safe inside the workflow sandbox.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = [
    "checkpoint_limit",
    "clear_run_threshold",
    "offload_threshold",
    "run_threshold",
    "set_run_threshold",
    "will_offload",
]

_run_thresholds: dict[str, int] = {}
"""Offload threshold of the worker running each workflow run here, by run id."""


def offload_threshold(data_converter: Any) -> int | None:
    """Return the size from which ``data_converter`` offloads payloads, or ``None``.

    >>> offload_threshold(None) is None
    True
    """
    storage = getattr(data_converter, "external_storage", None)
    if storage is None or not storage.drivers:
        return None
    threshold: int = storage.payload_size_threshold
    return threshold


def will_offload(payload_bytes: int, threshold: int | None) -> bool:
    """Whether a payload of ``payload_bytes`` (its ``ByteSize()``) is stored externally.

    >>> will_offload(3_000_000, 256 * 1024), will_offload(3_000_000, None)
    (True, False)
    """
    return threshold is not None and payload_bytes >= threshold


def checkpoint_limit(limit: int, threshold: int | None) -> int:
    """Return the largest checkpoint to allow when payloads from ``threshold`` are offloaded.

    With a threshold at or under the limit, every payload over the limit is
    offloaded: no checkpoint is too large to send.

    >>> checkpoint_limit(2_097_152, 262_144) > 2**40, checkpoint_limit(2_097_152, None)
    (True, 2097152)
    """
    if threshold is not None and threshold <= limit:
        return sys.maxsize
    return limit


def set_run_threshold(run_id: str, threshold: int) -> None:
    """Record the offload threshold of the worker running ``run_id``."""
    _run_thresholds[run_id] = threshold


def clear_run_threshold(run_id: str) -> None:
    """Forget ``run_id``'s threshold: the run ended on this worker."""
    _run_thresholds.pop(run_id, None)


def run_threshold(run_id: str) -> int | None:
    """Return the offload threshold recorded for ``run_id``, or ``None``."""
    return _run_thresholds.get(run_id)
