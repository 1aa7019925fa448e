"""Temporal activity info for tests."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import temporalio.activity
import temporalio.testing

__all__ = ["activity_info"]


def activity_info(**changes: Any) -> temporalio.activity.Info:
    """Return Temporal activity info for tests, with ``changes`` applied.

    >>> activity_info(attempt=3, workflow_id="orders-1").attempt
    3
    """
    info = temporalio.testing.ActivityEnvironment.default_info()
    defaults = {
        "workflow_id": "test-workflow",
        "workflow_run_id": "test-run",
        "start_to_close_timeout": timedelta(minutes=1),
        "schedule_to_close_timeout": None,
    }
    return dataclasses.replace(info, **{**defaults, **changes})
