"""Timing helpers the benchmarks share: the collector's state, rotation, medians, targets.

`timed_call_rounds` and `scale_to_fastest_rounds` are the per-call method of
``added-cost`` and ``metrics-cost``; `Target` is one ``target`` line of the report.
"""

import dataclasses
import gc
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

REPEATS = 7
"""Timed repeats per measurement; every figure is the median of these."""
CALL_ROUNDS = 41
"""Timed rounds of the per-call measurements; each runs every side once, in rotated order."""
CALL_WARM_UP_ROUNDS = 2
"""Untimed rounds of the per-call measurements before the timed ones."""
CALL_STRETCHES = 10
"""Stretches per round of the per-call measurements; each runs every side, in rotated order."""
CALLS_PER_STRETCH = 100
"""Activity calls per side and stretch in the per-call measurements."""
FASTEST_ROUNDS = 3
"""The per-call rounds whose speed every round is scaled to (see `scale_to_fastest_rounds`)."""

TIMES = "\N{MULTIPLICATION SIGN}"
"""The unit of ratios in the report."""

T = TypeVar("T")


@contextmanager
def no_gc() -> Iterator[None]:
    """Collect garbage, then keep the collector off for the duration of the block.

    Yields:
        Nothing; the block runs with the garbage collector disabled.
    """
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Collect garbage and move every object alive now out of the collector's reach.

    ``gc.freeze()`` puts them in the permanent generation, so the collections
    `no_gc` starts each timed stretch with only walk what the benchmark itself
    allocated since: they are quick, and every stretch starts from the same state.

    Yields:
        Nothing; on exit the frozen objects go back to the collector.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def rotated(sides: list[T], turn: int) -> list[T]:
    """Return ``sides`` rotated by ``turn``, so no side always runs first or last in a round.

    Args:
        sides: the sides of a comparison.
        turn: the round's index.

    Returns:
        The sides, starting with the one at ``turn`` modulo their number.
    """
    shift = turn % len(sides)
    return sides[shift:] + sides[:shift]


def median_ns(fn: Callable[[], object], calls: int, repeats: int = REPEATS) -> float:
    """Time ``calls`` calls of ``fn`` ``repeats`` times; return the median ns per call.

    Args:
        fn: the operation to time.
        calls: calls per timed repeat.
        repeats: timed repeats.

    Returns:
        The median over the repeats of the time per call, in nanoseconds.
    """
    fn()  # warm caches (decoders, type adapters) outside the timing
    per_call: list[float] = []
    for _ in range(repeats):
        with no_gc():
            start = time.perf_counter_ns()
            for _ in range(calls):
                fn()
            per_call.append((time.perf_counter_ns() - start) / calls)
    return statistics.median(per_call)


def percentile(values: list[float], fraction: float) -> float:
    """Return the ``fraction`` quantile of ``values`` (``0.9`` for the 90th percentile).

    Args:
        values: the samples.
        fraction: the quantile, between 0 and 1.

    Returns:
        The quantile, interpolated between samples.
    """
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


def scale_to_fastest_rounds(
    samples: dict[str, list[float]],
) -> tuple[dict[str, list[float]], float]:
    """Scale every round's figures to the speed of the run's `FASTEST_ROUNDS` fastest rounds.

    A round's factor is its total (the sum of its sides' figures) over the mean total
    of the fastest rounds; each figure of the round is divided by it. On a shared
    machine the host slows every side of a round alike, for seconds at a time, and
    thread CPU time counts that slowdown: scaled, the rounds measure the same thing.

    Args:
        samples: per side, one figure per round, rounds in the same order for every side.

    Returns:
        The scaled figures, and the largest factor (how much slower the slowest round ran).
    """
    totals = [sum(figures) for figures in zip(*samples.values(), strict=True)]
    reference = statistics.fmean(sorted(totals)[:FASTEST_ROUNDS])
    factors = [total / reference for total in totals]
    scaled = {
        label: [figure / factor for figure, factor in zip(figures, factors, strict=True)]
        for label, figures in samples.items()
    }
    return scaled, max(factors)


async def timed_call_rounds(
    sides: Mapping[str, Callable[[int], Awaitable[None]]],
) -> dict[str, list[float]]:
    """Return each side's thread CPU µs per call in each of `CALL_ROUNDS` rounds.

    A round is `CALL_STRETCHES` stretches of `CALLS_PER_STRETCH` calls of every side,
    in rotated order, with the garbage collector off over a frozen heap, so a round's
    sides share its noise; `CALL_WARM_UP_ROUNDS` untimed rounds come first.
    """
    samples: dict[str, list[float]] = {label: [] for label in sides}
    labels = list(sides)
    with frozen_heap():
        for turn in range(-CALL_WARM_UP_ROUNDS, CALL_ROUNDS):
            spent = dict.fromkeys(labels, 0)
            with no_gc():
                for stretch in range(CALL_STRETCHES):
                    # Short stretches, every side in each: a round's sides share its noise.
                    for label in rotated(labels, turn + stretch):
                        began = time.thread_time_ns()
                        await sides[label](CALLS_PER_STRETCH)
                        spent[label] += time.thread_time_ns() - began
            if turn >= 0:
                for label in labels:
                    samples[label].append(spent[label] / CALL_STRETCHES / CALLS_PER_STRETCH / 1000)
    return samples


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """A measured figure and the goal it is held to (``None``: reported, held to none)."""

    name: str
    measured: float
    goal: float | None
    unit: str
    higher_is_better: bool
    digits: int = 2

    @property
    def met(self) -> bool:
        """Whether the measured figure meets the goal; always, when it has none."""
        if self.goal is None:
            return True
        if self.higher_is_better:
            return self.measured >= self.goal
        return self.measured <= self.goal

    def line(self) -> str:
        """Return the report line: ``target <name>: <measured> (goal <goal>) ok|MISS``.

        A target without a goal ends ``(reported, no goal)``.
        """
        sep = "" if self.unit == TIMES else " "
        relation = "≥" if self.higher_is_better else "≤"
        measured = f"{self.measured:.{self.digits}f}{sep}{self.unit}"
        if self.goal is None:
            return f"target {self.name}: {measured} (reported, no goal)"
        goal = f"{relation} {self.goal:g}{sep}{self.unit}"
        return f"target {self.name}: {measured} (goal {goal}) {'ok' if self.met else 'MISS'}"
