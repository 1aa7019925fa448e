"""``import-time``: ``import fnact`` against ``import temporalio.worker, temporalio.client``.

Each statement runs in a fresh interpreter with ``PYTHONDONTWRITEBYTECODE=1``, in rotated
order; the target is the ratio of the medians.
"""

import os
import statistics
import subprocess
import sys
import time

from benchmarks._timing import TIMES, Target, rotated

IMPORT_ROUNDS = 21
"""Rounds of the import-time measurement; each starts a fresh interpreter per statement."""
IMPORT_TIME_GOAL = 1.2


def time_import(statement: str) -> float:
    """Return the wall time, in ms, of a fresh interpreter running ``statement`` and exiting.

    Bytecode is not written (``PYTHONDONTWRITEBYTECODE=1``): every run reads the same
    files, whatever earlier runs left behind.
    """
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], check=True, env=env)
    return (time.perf_counter() - began) * 1000


async def run_import_time() -> list[Target]:
    """Time ``import fnact`` against ``import temporalio.worker, temporalio.client``.

    Each round starts a fresh interpreter for each statement, in rotated order (an
    empty one too, for the interpreter's own start); the target is the ratio of the
    medians over `IMPORT_ROUNDS` rounds. Wall time: a child process has no thread
    CPU time to read, so a busy machine adds noise, which the interleaving shares.
    """
    statements = {
        "python": "pass",
        "temporal": "import temporalio.worker, temporalio.client",
        "fnact": "import fnact",
        "fnact worker": "import fnact.worker",
    }
    times: dict[str, list[float]] = {label: [] for label in statements}
    labels = list(statements)
    for turn in range(IMPORT_ROUNDS):
        for label in rotated(labels, turn):
            times[label].append(time_import(statements[label]))
    ms = {label: statistics.median(values) for label, values in times.items()}
    print(
        f"import-time: median ms over {IMPORT_ROUNDS} fresh interpreters each, bytecode not "
        f"written: python alone {ms['python']:.0f}, import temporalio.worker, temporalio.client "
        f"{ms['temporal']:.0f}, import fnact {ms['fnact']:.0f}, import fnact and its worker "
        f"side (import fnact.worker) {ms['fnact worker']:.0f} "
        f"({ms['fnact worker'] / ms['temporal']:.2f}{TIMES} the temporalio imports)"
    )
    return [
        Target(
            "import-time",
            ms["fnact"] / ms["temporal"],
            IMPORT_TIME_GOAL,
            TIMES,
            higher_is_better=False,
        )
    ]
