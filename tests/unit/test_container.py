"""fnact's Settings, held by the base container: bad values fail when built, naming the field."""

from __future__ import annotations

from datetime import timedelta

import pytest

import fnact


def test_settings_refuse_a_negative_inline_limit_and_a_zero_interval() -> None:
    """Bad run-context settings fail when the Settings are built, naming the field."""
    with pytest.raises(ValueError, match=r"Settings\.inline_args_limit"):
        fnact.Settings(inline_args_limit=-1)
    with pytest.raises(ValueError, match=r"Settings\.run_end_check_interval"):
        fnact.Settings(run_end_check_interval=timedelta(0))


def test_the_blocked_loop_threshold_must_be_positive() -> None:
    """A zero threshold is refused, naming the setting; None turns the watchdog off."""
    with pytest.raises(ValueError, match=r"Settings\.blocked_loop_threshold must be positive"):
        fnact.Settings(blocked_loop_threshold=timedelta(0))
    assert fnact.Settings(blocked_loop_threshold=None).blocked_loop_threshold is None
