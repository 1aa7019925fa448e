"""The run's handler: a read-only connection to the SQLite database being described."""

# --8<-- [start:imports]
from __future__ import annotations

import sqlite3
from pathlib import Path

from examples.metadata.models import Column, ExtractArgs

# --8<-- [end:imports]


# --8<-- [start:handler]
class Catalog:
    """Reads table and column metadata from one SQLite database file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self.closed = False

    @classmethod
    def open(cls, workflow_args: ExtractArgs) -> Catalog | None:
        """Open the run's database; ``None`` when the file does not exist."""
        path = Path(workflow_args.database)
        return cls(path) if path.is_file() else None

    # --8<-- [end:handler]

    def tables(self, *, include_views: bool) -> list[str]:
        """Return the names of the user tables (and views), sorted."""
        kinds = ("table", "view") if include_views else ("table",)
        placeholders = ",".join("?" * len(kinds))
        rows = self._conn.execute(
            f"SELECT name FROM sqlite_schema WHERE type IN ({placeholders}) "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name",
            kinds,
        ).fetchall()
        return [name for (name,) in rows]

    def columns(self, table: str) -> list[Column] | None:
        """Return a table's columns, or ``None`` when the table does not exist."""
        rows = self._conn.execute("SELECT * FROM pragma_table_info(?)", (table,)).fetchall()
        if not rows:
            return None
        return [
            Column(name=name, type=kind or "ANY", nullable=not notnull, primary_key=bool(pk))
            for _cid, name, kind, notnull, _default, pk in rows
        ]

    # --8<-- [start:close]
    def close(self) -> None:
        """Close the connection (fnact calls this when the run's state is released)."""
        self._conn.close()
        self.closed = True

    # --8<-- [end:close]
