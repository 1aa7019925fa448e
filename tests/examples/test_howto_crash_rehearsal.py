"""Crash rehearsal on the how-to's two loaders: it passes the idempotent one, catches the other."""

from __future__ import annotations

# --8<-- [start:imports]
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from examples.howto.crash_rehearsal import (
    Container,
    Ledger,
    LoadPages,
    NextPage,
    load_pages,
    load_pages_naively,
)
from fnact.testing import ActivityHarness, Crash, RehearsedCrash

# --8<-- [end:imports]


# --8<-- [start:setup]
@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[ActivityHarness]:
    """A harness of the example's container, writing under the test's folder."""
    async with ActivityHarness(Container(), output_root=tmp_path) as harness:
        yield harness


def ledger_of(harness: ActivityHarness) -> Ledger:
    """The ledger both attempts wrote to."""
    ledger: Ledger = harness.container.ledger()
    return ledger


# --8<-- [end:setup]


# --8<-- [start:rehearse]
@pytest.mark.parametrize("how", ["kill", "exception", "cancellation", "worker_shutdown"])
async def test_a_crash_after_page_3_loads_every_page_once(
    harness: ActivityHarness, how: str
) -> None:
    """However attempt 1 dies after its third checkpoint, each page is loaded and written once."""
    rehearsal = await harness.rehearse_crash(
        load_pages, LoadPages(pages=6), Crash(after_checkpoint=3, how=how),  # type: ignore[arg-type]
        heartbeat_timeout=timedelta(seconds=30),
    )  # fmt: skip
    assert rehearsal.crashed.result is None, "attempt 1 died"
    assert rehearsal.retry.unwrap().unwrap() == 6
    assert rehearsal.written_more_than_once == {}
    assert rehearsal.leftover_parts == []
    assert sorted(rehearsal.outputs) == [f"page-{n:04d}.json" for n in range(6)]
    assert ledger_of(harness).calls == [("put", n) for n in range(6)]


# --8<-- [end:rehearse]


async def test_a_kill_hands_over_the_last_checkpoint_sent_not_the_last_recorded(
    harness: ActivityHarness,
) -> None:
    """Checkpoints recorded within the throttle are lost with the process: the retry goes back."""
    rehearsal = await harness.rehearse_crash(
        load_pages, LoadPages(pages=6), Crash(after_checkpoint=3, how="kill"),
        heartbeat_timeout=timedelta(seconds=30),
    )  # fmt: skip
    assert rehearsal.crashed.checkpoints == [NextPage(1), NextPage(2), NextPage(3)]
    # Only the first went out: the next could go 10 s later (a third of the timeout).
    assert rehearsal.resumed_from == NextPage(1)
    assert rehearsal.retry.checkpoints[0] == NextPage(2)


async def test_an_exception_hands_over_the_newest_checkpoint(harness: ActivityHarness) -> None:
    """An attempt that raises sends its newest checkpoint first: nothing is redone."""
    rehearsal = await harness.rehearse_crash(
        load_pages_naively, LoadPages(pages=6), Crash(after_checkpoint=3, how="exception"),
        heartbeat_timeout=timedelta(seconds=30),
    )  # fmt: skip
    assert isinstance(rehearsal.crashed.exception, RehearsedCrash)
    assert rehearsal.resumed_from == NextPage(3)
    assert rehearsal.written_more_than_once == {}


# --8<-- [start:catch]
async def test_the_rehearsal_catches_the_naive_loader(harness: ActivityHarness) -> None:
    """Killed after page 3, the naive loader appends pages 1 and 2 twice and rewrites them."""
    rehearsal = await harness.rehearse_crash(
        load_pages_naively, LoadPages(pages=6), Crash(after_checkpoint=3, how="kill"),
        heartbeat_timeout=timedelta(seconds=30),
    )  # fmt: skip
    assert rehearsal.written_more_than_once == {"page-0001.json": 2, "page-0002.json": 2}
    ledger = ledger_of(harness)
    assert [page for _, page in ledger.calls] == [0, 1, 2, 1, 2, 3, 4, 5]
    assert ledger.rows[1] == 200  # counted twice


# --8<-- [end:catch]


async def test_a_crash_after_an_output_strikes_once_it_is_whole(harness: ActivityHarness) -> None:
    """Killed right after its second file, before that page's checkpoint: the file is whole."""
    rehearsal = await harness.rehearse_crash(
        load_pages, LoadPages(pages=4), Crash(after_output=2, how="kill"),
        heartbeat_timeout=timedelta(seconds=30),
    )  # fmt: skip
    assert rehearsal.crashed.writes == ["page-0000.json", "page-0001.json"]
    assert rehearsal.resumed_from == NextPage(1)
    assert rehearsal.written_more_than_once == {}  # page 1's file told the retry to skip it
    assert ledger_of(harness).calls == [("put", n) for n in range(4)]


async def test_a_crash_point_the_attempt_never_reaches_is_an_error(
    harness: ActivityHarness,
) -> None:
    """Asking for a crash after checkpoint 9 of a 2-page load names what the attempt did."""
    with pytest.raises(ValueError, match=r"before the crash point \(after checkpoint 9\)"):
        await harness.rehearse_crash(load_pages, LoadPages(pages=2), Crash(after_checkpoint=9))


def test_a_crash_names_one_point() -> None:
    """A Crash with both points, or none, or an unknown way to die, is refused."""
    with pytest.raises(ValueError, match="exactly one of"):
        Crash(after_checkpoint=1, after_output=1)
    with pytest.raises(ValueError, match="how must be one of"):
        Crash(after_output=1, how="meteor")  # type: ignore[arg-type]
