"""``converters``: fnact's msgspec converter against Temporal's default and pydantic converters.

Encode + decode round trips of 10,000 typed 8-field records and of one 10-field value,
timed in thread CPU time over interleaved rounds. The targets are the median per-round
ratios ``converter-vs-default`` and ``converter-vs-pydantic``.
"""

import dataclasses
import statistics
import time
from typing import Any

import temporalio.converter

from benchmarks._models import (
    DEFAULT,
    MSGSPEC,
    PYDANTIC,
    RecordClass,
    RecordModel,
    RecordStruct,
    WideClass,
    WideStruct,
    record_fields,
    wide_fields,
)
from benchmarks._timing import TIMES, Target, frozen_heap, no_gc, rotated

RECORDS = 10_000
"""Records in the list payload of the converter measurements."""
CONVERTER_ROUNDS = 9
"""Timed rounds of the converter comparison, after one warm-up round."""
CONVERTER_STRETCHES = 4
"""Stretches per round of the converter comparison; each runs every case, in rotated order."""
CONVERTER_CALLS = {"msgspec": 2}
"""Round trips of the 10,000-record list per stretch, by converter, when more than one."""
SINGLE_CALLS = {"msgspec": 2_000, "default": 400}
"""Round trips per stretch of the single 10-field value, by converter."""

DEFAULT_RATIO_GOAL = 25.0
PYDANTIC_RATIO_GOAL = 3.0


def round_trip(converter: temporalio.converter.PayloadConverter, value: Any, hint: Any) -> Any:
    """Encode ``value`` into one payload and decode it back as ``hint``.

    Args:
        converter: the payload converter under test.
        value: the value to encode.
        hint: the type hint to decode with; ``None`` decodes untyped.

    Returns:
        The decoded value.
    """
    payloads = converter.to_payloads([value])
    return converter.from_payloads(payloads, None if hint is None else [hint])[0]


@dataclasses.dataclass(frozen=True, slots=True)
class RoundTrip:
    """One case of the converter comparison: a value, its converter and how often per round."""

    label: str
    """How the context line names the case."""
    converter: temporalio.converter.PayloadConverter
    value: Any
    hint: Any
    """The type hint to decode with; ``None`` decodes untyped."""
    calls: int
    """Round trips per stretch, so every stretch is long enough to time."""
    once_per_round: bool = False
    """Run in one stretch per round rather than in every stretch (the slowest case)."""

    def per_round(self) -> int:
        """Return how many round trips the case makes per round."""
        return self.calls if self.once_per_round else self.calls * CONVERTER_STRETCHES

    def run(self) -> None:
        """Make `calls` round trips."""
        converter, value, hint = self.converter, self.value, self.hint
        for _ in range(self.calls):
            round_trip(converter, value, hint)


def bench_converters() -> tuple[Target, Target]:
    """Time list and single-value round trips through msgspec, default and pydantic.

    A round is `CONVERTER_STRETCHES` stretches, each running every case in rotated
    order (the slow default-converter list in one stretch per round only); each case's
    stretch is timed in thread CPU time with the garbage collector off over a frozen
    heap (see `frozen_heap`). A case's figure per round is its CPU time per round
    trip; the context lines give medians over `CONVERTER_ROUNDS` rounds, and a ratio is
    the median of its per-round ratios, so both sides of a ratio share each round's speed.

    Returns:
        The ``converter-vs-default`` and ``converter-vs-pydantic`` targets, as ratios.
    """
    rows = [record_fields(index) for index in range(RECORDS)]
    wide = wide_fields()
    many = f"{RECORDS:,} records of 8 fields"
    cases = [
        RoundTrip(
            f"msgspec, {many}",
            MSGSPEC,
            [RecordStruct(**row) for row in rows],
            list[RecordStruct],
            CONVERTER_CALLS["msgspec"],
        ),
        RoundTrip(
            f"default, dataclasses, {many}",
            DEFAULT,
            [RecordClass(**row) for row in rows],
            list[RecordClass],
            1,
            once_per_round=True,  # half a second or so: once per round is long enough
        ),
        RoundTrip(f"default, plain dicts (untyped), {many}", DEFAULT, rows, None, 1),
        RoundTrip(
            f"pydantic, BaseModel, {many}",
            PYDANTIC,
            [RecordModel(**row) for row in rows],
            list[RecordModel],
            1,
        ),
        RoundTrip(
            "msgspec, one 10-field Struct",
            MSGSPEC,
            WideStruct(**wide),
            WideStruct,
            SINGLE_CALLS["msgspec"],
        ),
        RoundTrip(
            "default, one 10-field dataclass",
            DEFAULT,
            WideClass(**wide),
            WideClass,
            SINGLE_CALLS["default"],
        ),
    ]
    for case in cases:
        if round_trip(case.converter, case.value, case.hint) != case.value:
            raise AssertionError(f"{case.label}: the round trip changed the value")
    samples: dict[str, list[float]] = {case.label: [] for case in cases}
    each = [case for case in cases if not case.once_per_round]
    once = [case for case in cases if case.once_per_round]
    with frozen_heap():
        for turn in range(-1, CONVERTER_ROUNDS):  # round -1 warms decoders and type adapters
            spent = {case.label: 0 for case in cases}
            for stretch in range(CONVERTER_STRETCHES):
                order = rotated(each, turn + stretch)
                if stretch == turn % CONVERTER_STRETCHES:
                    position = turn % (len(order) + 1)
                    order[position:position] = once
                for case in order:
                    with no_gc():
                        began = time.thread_time_ns()
                        case.run()
                        spent[case.label] += time.thread_time_ns() - began
            if turn >= 0:
                for case in cases:
                    samples[case.label].append(spent[case.label] / case.per_round() / 1000)

    def ratio(slow: RoundTrip, fast: RoundTrip) -> float:
        pairs = zip(samples[slow.label], samples[fast.label], strict=True)
        return statistics.median(s / f for s, f in pairs)

    fast, default, _, pydantic_, single_fast, single_default = cases
    for case in cases:
        print(
            f"converters: {case.label}: {statistics.median(samples[case.label]):,.1f} µs per "
            f"round trip (thread CPU time, median of {CONVERTER_ROUNDS} rounds)"
        )
    print(
        f"converters: 10-field single value: msgspec "
        f"{ratio(single_default, single_fast):.1f}{TIMES} faster"
    )
    return (
        Target(
            "converter-vs-default",
            ratio(default, fast),
            DEFAULT_RATIO_GOAL,
            TIMES,
            higher_is_better=True,
        ),
        Target(
            "converter-vs-pydantic",
            ratio(pydantic_, fast),
            PYDANTIC_RATIO_GOAL,
            TIMES,
            higher_is_better=True,
        ),
    )


async def run_converters() -> list[Target]:
    """Run the converter comparison, which is synchronous, as a benchmark of the runner."""
    return list(bench_converters())
