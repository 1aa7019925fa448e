"""What the three versions share: the orders database, its credentials, and the values.

`OrdersDB` is a small client of one shop's orders database (a SQLite file here). Like
most database clients it connects on first use, and connecting needs credentials, which
come from a `Vault` (a stand-in for a secrets manager). The database checks them against
its ``accounts`` table, so a rotated password really is rejected.
"""

# --8<-- [start:imports]
from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

# --8<-- [end:imports]


# --8<-- [start:values]
@dataclass(frozen=True)
class SummaryArgs:
    """The workflow's input: which shop database, and which customer."""

    database: str
    customer_id: int


@dataclass(frozen=True)
class Order:
    """One order of a customer."""

    id: int
    total_cents: int


@dataclass(frozen=True)
class Summary:
    """The workflow's result."""

    customer_id: int
    orders: int
    total_cents: int


# --8<-- [end:values]


def summarize(customer_id: int, orders: Sequence[Order]) -> Summary:
    """Count a customer's orders and add up their totals."""
    return Summary(customer_id, len(orders), sum(order.total_cents for order in orders))


# --8<-- [start:credentials]
@dataclass(frozen=True)
class Credentials:
    """A database login."""

    user: str
    password: str


# --8<-- [end:credentials]


class LoginRejectedError(Exception):
    """The database refused the credentials (a wrong or rotated password)."""

    def __init__(self, user: str) -> None:
        super().__init__(f"the orders database rejected the login of {user!r}")
        self.user = user


class Vault:
    """Hands out the current database credentials, counting how often it was asked."""

    def __init__(self, user: str, password: str) -> None:
        self.current = Credentials(user, password)
        self.fetches = 0

    @classmethod
    def from_env(cls) -> Vault:
        """Build the vault client from ``ORDERS_DB_USER`` and ``ORDERS_DB_PASSWORD``."""
        return cls(
            os.environ.get("ORDERS_DB_USER", "reports"), os.environ.get("ORDERS_DB_PASSWORD", "")
        )

    def fetch(self, database: str) -> Credentials:
        """Return the credentials for ``database`` as they are now."""
        self.fetches += 1
        return self.current

    def rotate(self, password: str) -> None:
        """Store a new password (after the database's own password changed)."""
        self.current = Credentials(self.current.user, password)


# --8<-- [start:client]
class OrdersDB:
    """A client of one shop's orders database; it logs in on first use."""

    def __init__(self, path: str, credentials: Credentials) -> None:
        self.path = path
        self.credentials = credentials
        self.closed = False
        self._conn: sqlite3.Connection | None = None

    def orders_of(self, customer_id: int) -> list[Order] | None:
        """Return the customer's orders, or ``None`` when there is no such customer.

        Raises:
            LoginRejectedError: the database refused this client's credentials.
        """
        # --8<-- [end:client]
        conn = self._connect()
        if conn.execute("SELECT 1 FROM customers WHERE id = ?", (customer_id,)).fetchone() is None:
            return None
        rows = conn.execute(
            "SELECT id, total_cents FROM orders WHERE customer_id = ? ORDER BY id", (customer_id,)
        ).fetchall()
        return [Order(order_id, total) for order_id, total in rows]

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            login = (self.credentials.user, self.credentials.password)
            query = "SELECT 1 FROM accounts WHERE user = ? AND password = ?"
            if conn.execute(query, login).fetchone() is None:
                conn.close()
                raise LoginRejectedError(self.credentials.user)
            self._conn = conn
        return self._conn

    def close(self) -> None:
        """Close the connection, if it was opened."""
        if self._conn is not None:
            self._conn.close()
        self.closed = True


def create_shop(
    path: Path,
    *,
    orders: Mapping[int, Sequence[int]],
    user: str = "reports",
    password: str = "s3cret",
) -> str:
    """Create a shop database at ``path`` and return its path as a string.

    ``orders`` maps each customer id to the totals (in cents) of that customer's orders.
    """
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.executescript(
            """
            CREATE TABLE accounts (user TEXT PRIMARY KEY, password TEXT NOT NULL);
            CREATE TABLE customers (id INTEGER PRIMARY KEY);
            CREATE TABLE orders (
                id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, total_cents INTEGER NOT NULL
            );
            """
        )
        conn.execute("INSERT INTO accounts VALUES (?, ?)", (user, password))
        for customer_id, totals in orders.items():
            conn.execute("INSERT INTO customers VALUES (?)", (customer_id,))
            conn.executemany(
                "INSERT INTO orders (customer_id, total_cents) VALUES (?, ?)",
                [(customer_id, total) for total in totals],
            )
    return str(path)


def change_password(database: str, user: str, password: str) -> None:
    """Change ``user``'s password in the database itself (the first half of a rotation)."""
    with closing(sqlite3.connect(database)) as conn, conn:
        conn.execute("UPDATE accounts SET password = ? WHERE user = ?", (password, user))
