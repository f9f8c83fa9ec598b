"""Exports: the error report of a run, a table as CSV, and a copy of the whole database.

Role: what the worker streams to the user's downloads. CSV exports are generators of `str` chunks (a few
thousand rows each), so a large table never sits in memory.

Safe and faithful (docs/protocol.md, "Exports"):
- every field is quoted (a NULL is an empty unquoted field where the csv module can say so, Python 3.12+),
  so no delimiter of any locale (`x;=1+1`) splits a cell;
- a text cell is neutralised with a leading single quote when a spreadsheet could run it as a formula: it
  starts with tab or carriage return, or its first significant character is = + - or @, after skipping
  whitespace, format and control characters (NBSP, ZWSP, BOM...) and applying NFKC (fullwidth ＝＋－＠);
- unless the whole cell is a plain number (`-2.5`, `+44`, `-1e5`): a spreadsheet reads it as that number,
  never a formula. A phone number with spaces (`+44 20 7946 0000`) is not one: a spreadsheet may take its
  leading `+` as a formula, so it is neutralised like any other text;
- numbers stored as numbers are written as they are (they cannot be formulas).
"""

from __future__ import annotations

import csv
import io
import os
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal

from importer import sql

FORMULA_STARTS = frozenset("=+-@")
RAW_STARTS = ("\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INSIGNIFICANT = frozenset({"Zs", "Zl", "Zp", "Cf", "Cc"})  # spaces, format (ZWSP, BOM, ...) and controls
DEFAULT_CHUNK_ROWS = 5_000
QUOTING: Literal[1] = getattr(csv, "QUOTE_NOTNULL", csv.QUOTE_ALL)  # QUOTE_NOTNULL: Python 3.12+ (Pyodide)


def first_significant(text: str) -> str:
    """The first character of `text` a spreadsheet would act on, NFKC-normalised ("" if there is none)."""
    for char in text:
        if char.isspace() or unicodedata.category(char) in _INSIGNIFICANT:
            continue
        return unicodedata.normalize("NFKC", char)[:1]
    return ""


def neutralise(value: Any) -> Any:
    """Return `value` with a leading single quote if it is text that a spreadsheet could run as a formula."""
    if not isinstance(value, str):
        return value
    if value.startswith(RAW_STARTS) or (first_significant(value) in FORMULA_STARTS
                                        and not PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


def table_csv(conn: sqlite3.Connection, table: str, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[str]:
    """Yield `table` as CSV text in chunks: a header row of column names, then every row, neutralised."""
    cursor = sql.select_table(conn, table)
    header = [d[0] for d in cursor.description]
    yield from _csv_chunks(header, _batches(cursor, chunk_rows))


def query_csv(cursor: sqlite3.Cursor, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[str]:
    """Yield the rows of a query's `cursor` as CSV text in chunks: its column names, then every row, neutralised."""
    header = [d[0] for d in cursor.description or ()]
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


def report_header(plan: Any) -> list[str] | None:
    """The names of a run's original fields, for its error report, from the output of its `prepare` step
    (the plan: `width` and the resolved `options`): each column's name at its source position, `column_N`
    for positions no column names. None when there is no plan (the run failed before `prepare`)."""
    if not isinstance(plan, dict) or not isinstance(plan.get("width"), int):
        return None
    names = [f"column_{i + 1}" for i in range(plan["width"])]
    columns = plan.get("options", {}).get("columns", []) if isinstance(plan.get("options"), dict) else []
    for column in columns:
        source = column.get("source") if isinstance(column, dict) else None
        if isinstance(source, int) and 0 <= source < len(names) and isinstance(column.get("name"), str):
            names[source] = column["name"]
    return names


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
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=QUOTING)
    writer.writerow([neutralise(h) for h in header])
    for chunk in batches:
        writer.writerows([neutralise(v) for v in row] for row in chunk)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()
