"""Which heartbeat reaches the server when a process dies: the throttle, simulated."""

from __future__ import annotations

from datetime import timedelta

import fnact
from fnact.testing._rehearsal import reached_server, throttle_interval


def beats(*times: float) -> list[tuple[float, fnact.Heartbeat]]:
    """Heartbeats recorded at ``times``, each carrying its index as progress."""
    return [(at, fnact.Heartbeat(progress=float(i))) for i, at in enumerate(times)]


def test_the_first_beat_goes_out_at_once_and_the_rest_wait_for_the_throttle() -> None:
    """Beats within the throttle wait, replaced by newer ones, and are lost with the process."""
    recorded = beats(0.0, 0.1, 0.2, 0.3)
    sent = reached_server(recorded, died_at=0.35, throttle=1.0)
    assert sent is not None
    assert sent.progress == 0.0
    later = reached_server(recorded, died_at=1.5, throttle=1.0)  # the waiting one went out at 1 s
    assert later is not None
    assert later.progress == 3.0


def test_beats_further_apart_than_the_throttle_all_go_out() -> None:
    """Each beat a throttle after the last reaches the server; the newest wins."""
    sent = reached_server(beats(0.0, 1.5, 3.0), died_at=3.0, throttle=1.0)
    assert sent is not None
    assert sent.progress == 2.0
    assert reached_server([], died_at=1.0, throttle=1.0) is None


def test_the_throttle_is_fnacts_send_interval_or_the_workers_whichever_is_longer() -> None:
    """A third of the heartbeat timeout, at least the worker's 1 s (less for a short timeout)."""
    assert throttle_interval(timedelta(seconds=30), None) == 10.0
    assert throttle_interval(None, None) == 1.0
    assert throttle_interval(timedelta(seconds=30), timedelta(seconds=2)) == 2.0
    assert throttle_interval(timedelta(seconds=1), None) == 0.8
