"""The ``fnact`` command: a dev server, a worker of your code, and live progress of a run.

    fnact dev                      the embedded Temporal dev server, until Ctrl+C
    fnact worker package.mod:spec  a worker of a `WorkerSpec` in your code
    fnact watch WORKFLOW_ID        progress bars of a run's activities, until it closes
    fnact check module:attr ...    recorded runs against today's activity types

Exit status: 0 on success (for ``watch``: the run completed; for ``check``: every
recorded value decodes), 1 on an error, a run that did not complete or an
incompatible value, 2 on a usage error, 130 when interrupted. Errors are
one line on stderr, ``fnact: error: ...``.

Each command is a module (`dev`, `worker`, `watch`, `check`) holding its arguments
and its handler; `main` holds the root parser and the dispatch to them.
"""

from fnact._cli.main import main, run

__all__ = ["main", "run"]
