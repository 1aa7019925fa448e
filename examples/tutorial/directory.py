"""The user directory the activity reads: in memory here, a database or an API in real life."""

# --8<-- [start:directory]
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    """One entry of the directory."""

    name: str
    email: str


STAFF = {
    "ada": Person("Ada Lovelace", "ada@example.com"),
    "grace": Person("Grace Hopper", "grace@example.com"),
}


class Directory:
    """A connection to the user directory."""

    def __init__(self, people: Mapping[str, Person]) -> None:
        self._people = dict(people)
        self.closed = False

    def find(self, user_id: str) -> Person | None:
        """Return the person with this id, or ``None``."""
        return self._people.get(user_id)

    def close(self) -> None:
        """Close the connection; fnact calls this when the run's state is released."""
        self.closed = True


# --8<-- [end:directory]
