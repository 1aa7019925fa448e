"""The headers fnact's workflow side attaches to each activity it schedules.

A run's start time travels with every activity; its input travels too when it is
small (`Settings.inline_args_limit`). Workers read them back per attempt.
"""

from __future__ import annotations

from datetime import datetime

import temporalio.api.common.v1

from fnact._converter import decoder_for

__all__ = ["ARGS_HEADER", "START_HEADER", "decode_start"]

START_HEADER = "fnact-run-start"
"""Header holding the run's start time."""
ARGS_HEADER = "fnact-workflow-args"
"""Header holding the run's first argument, when small enough to copy."""

Payload = temporalio.api.common.v1.Payload


def decode_start(payload: Payload) -> datetime:
    """Decode the run start time header."""
    value: datetime = decoder_for(datetime).decode(payload.data)
    return value
