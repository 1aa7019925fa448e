"""Measure fnact's hot paths and check them against their targets.

Run from the project root::

    .venv/bin/python benchmarks/run.py [--strict] [--only NAME[,NAME]]

Context lines (raw medians) come first, then one ``target <name>: ...`` line per
target ending in ``ok`` or ``MISS``. The script exits 0 unless ``--strict`` is
given and a target is missed. ``--only added-cost`` runs only the per-call
measurement (about 15 s), for quick iterations on fnact's hot path.

Each benchmark is a module of this directory (``bench_<name>.py``); `BENCHMARKS`
lists them in report order.
"""

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from benchmarks._timing import Target  # noqa: E402
from benchmarks.bench_added_cost import bench_added_cost  # noqa: E402
from benchmarks.bench_converters import run_converters  # noqa: E402
from benchmarks.bench_heartbeat_call import run_heartbeat_call  # noqa: E402
from benchmarks.bench_import_time import run_import_time  # noqa: E402
from benchmarks.bench_large_result import bench_large_result  # noqa: E402
from benchmarks.bench_metrics_cost import bench_metrics_cost  # noqa: E402
from benchmarks.bench_output_write import bench_output_write  # noqa: E402
from benchmarks.bench_pydantic_input import bench_pydantic_input  # noqa: E402
from benchmarks.bench_run_context import bench_run_context  # noqa: E402
from benchmarks.bench_run_end import bench_run_end  # noqa: E402
from benchmarks.bench_state_access import run_state_access  # noqa: E402
from benchmarks.bench_state_memory import run_state_memory  # noqa: E402

BENCHMARKS: dict[str, Callable[[], Awaitable[list[Target]]]] = {
    "added-cost": bench_added_cost,
    "metrics-cost": bench_metrics_cost,
    "pydantic-input": bench_pydantic_input,
    "converters": run_converters,
    "state-access": run_state_access,
    "state-memory": run_state_memory,
    "heartbeat-call": run_heartbeat_call,  # starts a dev server
    "import-time": run_import_time,
    "run-context": bench_run_context,  # starts a dev server
    "output-write": bench_output_write,  # starts a moto S3 server
    "large-result": bench_large_result,  # starts a dev server
    "run-end": bench_run_end,  # starts a dev server and two worker processes; about 2 min
}
"""Every benchmark by the name ``--only`` takes, in report order."""
ALIASES = {
    "added-cost-vs-bare": "added-cost",
    "converter-vs-default": "converters",
    "converter-vs-pydantic": "converters",
    "history-per-activity": "run-context",
    "stateful-run": "run-context",
    "history-read": "run-context",
    "output-vs-fsspec": "output-write",
}
"""Target (and context-line) names ``--only`` also takes, by the benchmark that reports them."""


async def main(names: Sequence[str]) -> list[Target]:
    """Run the named benchmarks once each, print their context lines and return the targets.

    Args:
        names: the benchmarks to run, keys of `BENCHMARKS`.

    Returns:
        The targets, in report order.
    """
    targets: list[Target] = []
    for name, benchmark in BENCHMARKS.items():
        if name in names:
            targets.extend(await benchmark())
    return targets


def benchmark_names(value: str) -> list[str]:
    """Parse ``--only``'s comma-separated names into benchmark names.

    Args:
        value: the option's value: benchmark or target names, separated by commas.

    Returns:
        The benchmarks to run.

    Raises:
        argparse.ArgumentTypeError: a name is neither a benchmark's nor a target's.
    """
    names: list[str] = []
    for name in filter(None, (part.strip() for part in value.split(","))):
        name = ALIASES.get(name, name)
        if name not in BENCHMARKS:
            known = ", ".join([*BENCHMARKS, *ALIASES])
            raise argparse.ArgumentTypeError(f"unknown benchmark {name!r} (known: {known})")
        names.append(name)
    if not names:
        raise argparse.ArgumentTypeError("no benchmark named")
    return names


def cli() -> int:
    """Parse the command line, run the benchmarks and print the target lines.

    Returns:
        The exit status: 1 when ``--strict`` is given and a target is missed, else 0.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--strict", action="store_true", help="exit 1 when any target is missed")
    parser.add_argument(
        "--only",
        type=benchmark_names,
        default=list(BENCHMARKS),
        metavar="NAME[,NAME]",
        help=f"run only these benchmarks: {', '.join(BENCHMARKS)} (or a target's name)",
    )
    options = parser.parse_args()
    started = time.perf_counter()
    targets = asyncio.run(main(options.only))
    print(f"(benchmarks took {time.perf_counter() - started:.1f} s)")
    for target in targets:
        print(target.line())
    return 1 if options.strict and not all(target.met for target in targets) else 0


if __name__ == "__main__":
    sys.exit(cli())
