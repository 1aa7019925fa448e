"""Example application: extract table and column metadata from a SQLite database."""
