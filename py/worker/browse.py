"""Read-only queries of the data browser: the user's tables, their row counts, and a paged, sorted,
filtered view of one. Identifiers pass through the importer's quote_identifier; values are parameters."""

from __future__ import annotations

import bisect
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from importer import quote_identifier as q
from importer.sql import UNDONE_TABLE, rowid_name, run_ranges, table_columns, table_names


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
    """Every user table with its columns and row count (counted once per change of the table, see `_known`)."""
    return [{"name": name, "columns": table_columns(conn, name),
             "rows": _known(conn, name, rowid_name(table_columns(conn, name)), None).total}
            for name in table_names(conn)]


def rows(conn: sqlite3.Connection, view: View) -> dict[str, Any]:
    """One page of `view.table`: `{columns, rows, total}`; raises UnknownTableError.

    The rows are exactly those of `SELECT * ... ORDER BY <sort column> [DESC], rowid LIMIT limit OFFSET
    offset` (rowid order without a sort column), but found without walking `offset` rows where that can be
    bounded (docs/protocol.md, "Paging"): in rowid order a page starts from the rowid of its first row
    (computed when the table's gaps are known, else from an anchor every ANCHOR_EVERY rows); sorted, a page in
    the second half is read from the other end. The total is counted once per change of the table.
    """
    if view.table not in table_names(conn):
        raise UnknownTableError(f"There is no table '{view.table}'.")
    columns = table_columns(conn, view.table)
    if view.order_by is not None and view.order_by not in columns:
        raise UnknownTableError(f"Table '{view.table}' has no column '{view.order_by}'.")
    rowid = rowid_name(columns)
    where, params = _filter(columns, view.filter)
    known = _known(conn, view.table, rowid, view.filter)
    end = min(view.offset + view.limit, known.total)
    if view.offset >= end:
        page: list[Any] = []
    elif rowid is not None and view.order_by is None:
        page = _rowid_page(conn, view, rowid, where, params, known, end)
    else:
        page = _sorted_page(conn, view, rowid, where, params, known.total, end)
    return {"columns": columns, "rows": [list(r) for r in page], "total": known.total}


ANCHOR_EVERY = 1000
"""Rows between two anchors: a page in rowid order skips fewer than this many rows after its anchor."""
MATCHES_KEPT = 100_000
"""A filter matching at most this many rows keeps every matching rowid (a page is then read by rowid, however
far apart its rows are); past that, an anchor every ANCHOR_EVERY matches."""
_MAX_KNOWN = 64  # views remembered per connection (each filter typed is one)


@dataclass
class _Known:
    """What is known of a view: its row count and, once a page needed them, its anchors (the rowids of its
    rows 0, `every`, 2 * `every`, ... in rowid order). Valid while `stamp` holds."""

    stamp: tuple[Any, ...]
    total: int
    spans: list[tuple[int, int]] | None = None
    """The whole table with its gaps known: (offset, rowid) where each run of consecutive rowids starts."""
    anchors: list[int] | None = None
    every: int = ANCHOR_EVERY


_cache: dict[int, tuple[sqlite3.Connection, dict[tuple[str, str | None], _Known]]] = {}


def _filter(columns: list[str], text: str | None) -> tuple[str, list[Any]]:
    """The WHERE clause (with its parameters) keeping rows where any column's text contains `text`."""
    if not text:
        return "", []
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return (" WHERE (" + " OR ".join(f"CAST({q(c)} AS TEXT) LIKE ? ESCAPE '\\'" for c in columns) + ")",
            [pattern] * len(columns))


def _stamp(conn: sqlite3.Connection, table: str, rowid: str | None) -> tuple[Any, ...] | None:
    """What changes whenever the rows of `table` may have changed, read in O(log n); None when it cannot be
    told (a table that hides its rowid is counted on every request).

    The user's tables are written only by the jobs: rows are appended (the largest rowid grows), removed by
    an undo (recorded in the importer's undone table), or the table is replaced or dropped (the schema
    version changes); `sql.query` cannot write. A writer that deletes or updates rows some other way must
    call `forget`.
    """
    if rowid is None:
        return None
    low = conn.execute(f"SELECT min({rowid}) FROM {q(table)}").fetchone()[0]
    high = conn.execute(f"SELECT max({rowid}) FROM {q(table)}").fetchone()[0]
    schema = conn.execute("PRAGMA schema_version").fetchone()[0]
    undone = (conn.execute(f"SELECT count(*), max(at) FROM {UNDONE_TABLE}").fetchone()
              if UNDONE_TABLE in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")} else None)
    return (schema, low, high, undone)


def forget(conn: sqlite3.Connection) -> None:
    """Drop what is remembered of `conn`'s tables (after a write `_stamp` would not see)."""
    _cache.pop(id(conn), None)


def _known(conn: sqlite3.Connection, table: str, rowid: str | None, text: str | None) -> _Known:
    """What is known of `table` filtered by `text`: remembered, or found again when the table changed.

    Unfiltered, the count is SQLite's (it counts b-tree pages, not rows), and a table whose gaps are known
    (none, or those undone runs left: `_spans`) needs nothing else; filtered, one pass over the matches counts
    them and keeps their anchors.
    """
    stamp = _stamp(conn, table, rowid)
    held = _cache.get(id(conn))
    if held is None or held[0] is not conn:
        if len(_cache) >= 4:  # connections closed long ago
            _cache.pop(next(iter(_cache)))
        held = _cache[id(conn)] = (conn, {})
    views = held[1]
    known = views.get((table, text or None))
    if known is not None and stamp is not None and known.stamp == stamp:
        return known
    where, params = _filter(table_columns(conn, table), text)
    if where and rowid is not None:
        known = _matches(conn, table, rowid, where, params, stamp or ())
    else:
        total = conn.execute(f"SELECT count(*) FROM {q(table)}{where}", params).fetchone()[0]
        known = _Known(stamp or (), total)
        if stamp is not None and rowid is not None and not where and total:
            known.spans = _spans(conn, table, rowid, stamp[1], stamp[2], total)
    if stamp is not None:
        if len(views) >= _MAX_KNOWN:
            views.pop(next(iter(views)))
        views[(table, text or None)] = known
    return known


def _spans(conn: sqlite3.Connection, table: str, rowid: str, low: int, high: int,
           total: int) -> list[tuple[int, int]] | None:
    """(offset, rowid) where each run of consecutive rowids of `table` starts, or None when its gaps are not
    known. The table holds `total` rows with rowids `low`..`high`. Its gaps are read from the importer's ledger:
    the ranges of undone runs, or else what the other runs' ranges leave between them (an undone run that was
    then deleted left no range); either is trusted only when proven (`_proven_gaps`)."""
    gaps: list[list[int]] | None = []
    if high - low + 1 > total:
        gaps = _proven_gaps(conn, table, rowid, low, high, total, run_ranges(conn, table, undone=True))
        if gaps is None:
            kept, between, after = run_ranges(conn, table, undone=False), [], low
            for first, last in kept:
                between.append((after, first - 1))
                after = max(after, last + 1)
            gaps = _proven_gaps(conn, table, rowid, low, high, total, [*between, (after, high)])
    if gaps is None:
        return None
    spans, offset, start = [], 0, low
    for first, last in gaps:
        spans.append((offset, start))
        offset, start = offset + first - start, last + 1
    spans.append((offset, start))
    return spans


def _proven_gaps(conn: sqlite3.Connection, table: str, rowid: str, low: int, high: int, total: int,
                 ranges: list[tuple[int, int]]) -> list[list[int]] | None:
    """`ranges` (in order of their first rowid) clipped to `low`..`high` and merged, when they are exactly the
    rowids missing from `table`: each is empty (one seek) and together they are as wide as the `high - low + 1
    - total` rowids missing, so every other rowid in `low`..`high` holds a row. Else None."""
    gaps: list[list[int]] = []
    for first, last in ranges:
        first, last = max(first, low), min(last, high)
        if first > last:
            continue
        if gaps and first <= gaps[-1][1] + 1:  # overlapping or touching: one gap
            gaps[-1][1] = max(gaps[-1][1], last)
        else:
            gaps.append([first, last])
    if not gaps or sum(last - first + 1 for first, last in gaps) != high - low + 1 - total:
        return None
    occupied = conn.execute(
        f"SELECT EXISTS (SELECT 1 FROM json_each(?) AS g WHERE EXISTS (SELECT 1 FROM main.{q(table)} "
        f"WHERE {rowid} BETWEEN json_extract(g.value, '$[0]') AND json_extract(g.value, '$[1]')))",
        [json.dumps(gaps)]).fetchone()[0]
    return None if occupied else gaps


def _matches(conn: sqlite3.Connection, table: str, rowid: str, where: str, params: list[Any],
             stamp: tuple[Any, ...]) -> _Known:
    """One pass over a filtered view: its count, and every matching rowid (at most MATCHES_KEPT of them) or
    else the rowid of every ANCHOR_EVERY-th match."""
    cursor = conn.execute(f"SELECT {rowid} FROM {q(table)}{where} ORDER BY {rowid}", params)
    kept: list[int] = []
    every, seen = 1, 0
    while chunk := cursor.fetchmany(10_000):
        if every == 1:
            kept.extend(r[0] for r in chunk)
            if len(kept) > MATCHES_KEPT:
                kept, every = kept[::ANCHOR_EVERY], ANCHOR_EVERY
        else:
            kept.extend(r[0] for r in chunk[-seen % every::every])
        seen += len(chunk)
    return _Known(stamp, seen, anchors=kept, every=every)


def _stepped_anchors(conn: sqlite3.Connection, table: str, rowid: str, first: int) -> list[int]:
    """The rowid of every ANCHOR_EVERY-th row of `table`, each found from the one before by skipping
    ANCHOR_EVERY rows in SQLite (a pass that reads no column), all in one statement: a query per anchor
    cost Pyodide about as much again as the skipping (2M rows, node: 0.21-0.30 s, 0.11-0.12 s as one)."""
    # main.: the table, even one named like the walk
    step = f"SELECT {rowid} FROM main.{q(table)} WHERE {rowid} >= walk.at ORDER BY {rowid} LIMIT 1 OFFSET ?"
    return [row[0] for row in conn.execute(
        f"WITH RECURSIVE walk(at) AS (SELECT ? UNION ALL SELECT ({step}) FROM walk WHERE at IS NOT NULL) "
        "SELECT at FROM walk WHERE at IS NOT NULL", (first, ANCHOR_EVERY))]


def _rowid_page(conn: sqlite3.Connection, view: View, rowid: str, where: str, params: list[Any], known: _Known,
                end: int) -> list[Any]:
    """Rows `view.offset` to `end` of the view in rowid order, from the rowid they start at."""
    base = f"SELECT * FROM {q(view.table)}"
    tail = " AND " if where else " WHERE "
    if known.spans is not None:  # the page's first rowid, from the span it starts in
        span_offset, span_rowid = known.spans[bisect.bisect_right(known.spans, (view.offset, 2**63)) - 1]
        return conn.execute(f"{base} WHERE {rowid} >= ? ORDER BY {rowid} LIMIT ?",
                            [span_rowid + view.offset - span_offset, end - view.offset]).fetchall()
    if known.anchors is not None and known.every == 1:
        return conn.execute(f"{base} WHERE {rowid} IN (SELECT value FROM json_each(?)) ORDER BY {rowid}",
                            [json.dumps(known.anchors[view.offset:end])]).fetchall()
    if view.offset < ANCHOR_EVERY:
        return conn.execute(f"{base}{where} ORDER BY {rowid} LIMIT ? OFFSET ?",
                            [*params, end - view.offset, view.offset]).fetchall()
    if known.total - end < ANCHOR_EVERY:  # near the end: from the end, backwards
        page = conn.execute(f"{base}{where} ORDER BY {rowid} DESC LIMIT ? OFFSET ?",
                            [*params, end - view.offset, known.total - end]).fetchall()
        return page[::-1]
    if known.anchors is None:  # the whole table, with gaps: unfiltered views count without anchors
        known.anchors = _stepped_anchors(conn, view.table, rowid, known.stamp[1])
    anchor = known.anchors[view.offset // known.every]
    return conn.execute(f"{base}{where}{tail}{rowid} >= ? ORDER BY {rowid} LIMIT ? OFFSET ?",
                        [*params, anchor, end - view.offset, view.offset % known.every]).fetchall()


def _sorted_page(conn: sqlite3.Connection, view: View, rowid: str | None, where: str, params: list[Any],
                 total: int, end: int) -> list[Any]:
    """Rows `view.offset` to `end` of the view sorted by `view.order_by` (rowid order when None), ties in
    rowid order; a page past the middle is read backwards from the end (the exact reverse order), so the
    first and last pages skip nothing. Pages in the middle walk `offset` rows: bounded only by an index on
    the sort column, and not even then in SQLite (docs/protocol.md, "Paging")."""
    tie = rowid or "rowid"  # a table hiding all three rowid names: its column named rowid, as before
    key = q(view.order_by) if view.order_by is not None else None
    forward = f"{key} {'DESC' if view.descending else 'ASC'}, {tie}" if key else tie
    backward = f"{key} {'ASC' if view.descending else 'DESC'}, {tie} DESC" if key else f"{tie} DESC"
    base = f"SELECT * FROM {q(view.table)}{where}"
    if view.offset <= total - end or rowid is None:  # its column named rowid may tie: only forwards is exact
        return conn.execute(f"{base} ORDER BY {forward} LIMIT ? OFFSET ?",
                            [*params, end - view.offset, view.offset]).fetchall()
    page = conn.execute(f"{base} ORDER BY {backward} LIMIT ? OFFSET ?",
                        [*params, end - view.offset, total - end]).fetchall()
    return page[::-1]


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
