"""Values that cross the Temporal boundary in the metadata example."""

from __future__ import annotations

import msgspec

import fnact


class ExtractArgs(msgspec.Struct, frozen=True):
    """The workflow's input: which database to describe."""

    database: str
    include_views: bool = False


class ListTables(msgspec.Struct, frozen=True):
    """Input of `list_tables`."""

    name_prefix: str = ""


class DescribeTable(msgspec.Struct, frozen=True):
    """Input of `describe_columns`."""

    table: str


class Column(msgspec.Struct, frozen=True):
    """One column of a table."""

    name: str
    type: str
    nullable: bool
    primary_key: bool


class TableMetadata(msgspec.Struct, frozen=True):
    """A table and its columns."""

    table: str
    columns: list[Column]


class WriteMetadata(msgspec.Struct, frozen=True):
    """Input of `write_metadata`."""

    tables: list[TableMetadata]


class WriteReport(msgspec.Struct, frozen=True):
    """What `write_metadata` wrote."""

    folder: str
    files: list[str]


class ExtractReport(msgspec.Struct, frozen=True):
    """The workflow's result."""

    database: str
    tables: int
    columns: int
    output: WriteReport


class DatabaseMissing(fnact.Fault):
    """The database file does not exist; retrying will not help."""

    path: str


class TableMissing(fnact.Fault):
    """A table disappeared between listing and describing it."""

    table: str
