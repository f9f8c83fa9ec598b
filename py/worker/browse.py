"""Read-only queries of the data browser: the user's tables, their row counts, and a paged, sorted,
filtered view of one. Identifiers pass through the importer's quote_identifier; values are parameters."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from importer import quote_identifier as q
from importer.sql import table_columns, table_names


class UnknownTableError(LookupError):
    """The table or column named in a request does not exist."""


@dataclass(frozen=True)
class View:
    """What to show of a table: a page, an optional sort column and an optional text filter."""

    table: str
    limit: int = 50
    offset: int = 0
    order_by: str | None = None
    descending: bool = False
    filter: str | None = None


def list_tables(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every user table with its columns and row count."""
    return [{"name": name, "columns": table_columns(conn, name),
             "rows": conn.execute(f"SELECT count(*) FROM {q(name)}").fetchone()[0]}
            for name in table_names(conn)]


def rows(conn: sqlite3.Connection, view: View) -> dict[str, Any]:
    """One page of `view.table`: `{columns, rows, total}`; raises UnknownTableError."""
    if view.table not in table_names(conn):
        raise UnknownTableError(f"There is no table '{view.table}'.")
    columns = table_columns(conn, view.table)
    where, params = "", []
    if view.filter:
        where = " WHERE " + " OR ".join(f"CAST({q(c)} AS TEXT) LIKE ? ESCAPE '\\'" for c in columns)
        pattern = "%" + view.filter.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params = [pattern] * len(columns)
    order = " ORDER BY rowid"
    if view.order_by is not None:
        if view.order_by not in columns:
            raise UnknownTableError(f"Table '{view.table}' has no column '{view.order_by}'.")
        order = f" ORDER BY {q(view.order_by)} {'DESC' if view.descending else 'ASC'}, rowid"
    base = f"FROM {q(view.table)}{where}"
    total = conn.execute(f"SELECT count(*) {base}", params).fetchone()[0]
    page = conn.execute(f"SELECT * {base}{order} LIMIT ? OFFSET ?", [*params, view.limit, view.offset])
    return {"columns": columns, "rows": [list(r) for r in page], "total": total}


_READ_ONLY = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}


class QueryError(ValueError):
    """A query that is not a single read-only statement, or that SQLite rejected."""


@contextmanager
def read_only(conn: sqlite3.Connection) -> Iterator[None]:
    """While inside, an authorizer refuses anything but reading (writes, ATTACH, PRAGMA)."""

    def authorize(action: int, *args: object) -> int:
        return sqlite3.SQLITE_OK if action in _READ_ONLY else sqlite3.SQLITE_DENY

    conn.set_authorizer(authorize)
    try:
        yield
    finally:
        conn.set_authorizer(None)


def query(conn: sqlite3.Connection, statement: str, params: list[Any], limit: int, offset: int = 0) -> dict[str, Any]:
    """Run one read-only SELECT; returns `{columns, rows, truncated}`: at most `limit` rows after skipping
    `offset`, and `truncated` when more follow.

    The statement runs under `read_only`, so a typed query can never change the database; raises
    QueryError with SQLite's message.
    """
    try:
        with read_only(conn):
            cursor = conn.execute(statement, params)
            skipped = 0
            while skipped < offset and (chunk := cursor.fetchmany(min(offset - skipped, 10_000))):
                skipped += len(chunk)
            rows = cursor.fetchmany(limit + 1)
            columns = [d[0] for d in cursor.description or ()]
    except (sqlite3.Error, sqlite3.Warning) as exc:
        raise QueryError(f"The query failed: {exc}") from None
    return {"columns": columns, "rows": [list(r) for r in rows[:limit]], "truncated": len(rows) > limit}


def query_cursor(conn: sqlite3.Connection, statement: str, params: list[Any]) -> sqlite3.Cursor:
    """Start one read-only query for streaming (the caller holds `read_only` while reading it)."""
    try:
        return conn.execute(statement, params)
    except (sqlite3.Error, sqlite3.Warning) as exc:
        raise QueryError(f"The query failed: {exc}") from None
