"""Exports: the error report of a run, a table as CSV, and a copy of the whole database.

Role: what the worker streams to the user's downloads. CSV exports are generators of `str` chunks (a few
thousand rows each), so a large table never sits in memory. Every exported text cell that starts with
= + - @ tab or carriage return gets a leading single quote, so a spreadsheet shows it as text instead of
running it as a formula. Numbers stored as numbers are written as they are (they cannot be formulas).
"""

from __future__ import annotations

import csv
import io
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from importer import sql

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DEFAULT_CHUNK_ROWS = 5_000


def neutralise(value: Any) -> Any:
    """Return `value` with a leading single quote if it is text that a spreadsheet could run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def table_csv(conn: sqlite3.Connection, table: str, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[str]:
    """Yield `table` as CSV text in chunks: a header row of column names, then every row, neutralised."""
    cursor = sql.select_table(conn, table)
    header = [d[0] for d in cursor.description]
    yield from _csv_chunks(header, _batches(cursor, chunk_rows))


def rejects_csv(
    conn: sqlite3.Connection,
    run_id: str,
    *,
    header: Sequence[str] | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[str]:
    """Yield the error report of run `run_id` as CSV text in chunks.

    Columns: `row_number`, `reasons` (joined with " | "), then the row's original fields (named after
    `header` when given, else unnamed). Rows whose fields could not be parsed have none.
    """
    rows = ([number, " | ".join(reasons), *raw] for number, raw, reasons in sql.select_rejects(conn, run_id))
    first = list(header) if header is not None else None

    def batches() -> Iterator[list[list[Any]]]:
        chunk: list[list[Any]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= chunk_rows:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    yield from _csv_chunks(["row_number", "reasons", *(first or [])], batches())


def copy_database(conn: sqlite3.Connection, path: str | os.PathLike[str]) -> int:
    """Copy the whole database behind `conn` to a new SQLite file at `path`; return its size in bytes.

    Uses SQLite's online backup, so the copy is consistent even while the engine is idle between batches.
    An existing file at `path` is replaced.
    """
    if os.path.exists(path):
        os.remove(path)
    target = sqlite3.connect(path)
    try:
        conn.backup(target)
    finally:
        target.close()
    return os.path.getsize(path)


def _batches(cursor: sqlite3.Cursor, size: int) -> Iterator[list[Any]]:
    while chunk := cursor.fetchmany(size):
        yield chunk


def _csv_chunks(header: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[str]:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for chunk in batches:
        writer.writerows([neutralise(v) for v in row] for row in chunk)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()
