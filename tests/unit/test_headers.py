"""The run headers fnact's workflow side attaches to every activity it schedules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import fnact.worker
from fnact._headers import decode_start


def test_the_start_header_decodes_to_the_instant_the_workflow_side_encoded() -> None:
    """A start time the workflow side encodes, in any zone, decodes to the same aware instant."""
    converter = fnact.worker.data_converter.payload_converter
    started = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    for zone in (UTC, timezone(timedelta(hours=-7))):
        decoded = decode_start(converter.to_payload(started.astimezone(zone)))
        assert decoded == started
        assert decoded.tzinfo is not None
