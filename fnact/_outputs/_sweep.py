"""Leftovers of killed writers: removed when their run ends, and swept by age on every store.

A writer killed mid-write leaves a temporary file (local root), a spool file (the
worker's temporary folder) or an incomplete multipart upload (S3). When a run ends
no attempt of it can still commit, so everything unfinished under its prefix goes.
A zombie that starts writing after its run ended leaves what no run end sees: each
worker sweeps its root at start and every `Settings.output_sweep_interval`, removing
what is older than `Settings.leftover_ttl`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fnact._outputs._object_store import sweep_spool
from fnact._outputs._root import backend_for
from fnact._paths import format_output_path

__all__ = ["OutputSweeper"]

_log = logging.getLogger("fnact.outputs")


class OutputSweeper:
    """Remove what killed writers left under one output root.

    Args:
        root: the output root (`Settings.output_root`).
        store: the container's ``output_store`` (``None``: built from ``root``).
        leftover_ttl: unfinished writes older than this are swept by `sweep_old`.
    """

    def __init__(self, root: Path | str, store: Any = None, *, leftover_ttl: timedelta) -> None:
        self._root = root
        self._store = store
        self._ttl = leftover_ttl

    async def run_ended(self, started: datetime, workflow_id: str, run_id: str) -> int:
        """Remove every unfinished write under an ended run's prefix; return how many."""
        prefix = format_output_path(started, workflow_id, run_id)
        try:
            return await backend_for(self._root, self._store).sweep(prefix, before=None)
        except Exception:
            _log.exception("removing unfinished writes under %s/%s failed", self._root, prefix)
            return 0

    async def sweep_old(self, now: datetime | None = None) -> int:
        """Remove unfinished writes older than the TTL anywhere under the root; return how many."""
        before = (now or datetime.now(UTC)) - self._ttl
        removed = await asyncio.to_thread(sweep_spool, before=before)
        removed += await backend_for(self._root, self._store).sweep("", before=before)
        return removed

    async def run(self, interval: timedelta) -> None:
        """Sweep now and then every ``interval``, until cancelled."""
        while True:
            try:
                removed = await self.sweep_old()
                if removed:
                    _log.info("swept %d unfinished write(s) under %s", removed, self._root)
            except Exception:
                _log.exception("sweeping %s for unfinished writes failed", self._root)
            await asyncio.sleep(interval.total_seconds())
