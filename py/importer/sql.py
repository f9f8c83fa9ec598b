"""Target-table SQL: every statement the importer runs against the user's tables and its rejects table.

Role: the only importer module that writes SQL. Identifiers pass through `quote_identifier()`; values
are always parameters. The job calls these inside `step.transaction` functions, so each batch's rows,
rejects and cursor commit together. The rejects of every run live in one table keyed by run id.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any

from importer.formats import SQL_TYPES
from importer.names import kept_table_name, reserved_prefix, sql_fold, unique_index_name
from importer.names import quote_identifier as q

if TYPE_CHECKING:  # not at run time: the worker reads its tables before pydantic is loaded
    from importer.options import ColumnSpec
    from importer.validate import Reject

REJECTS_TABLE = "importer_rejects"
REJECTS_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {REJECTS_TABLE} (
    run_id     TEXT    NOT NULL,
    row_number INTEGER NOT NULL,
    raw        TEXT    NOT NULL,
    reasons    TEXT    NOT NULL,
    PRIMARY KEY (run_id, row_number)
) WITHOUT ROWID
"""

_to_json = json.JSONEncoder(ensure_ascii=False).encode
"""`json.dumps(value, ensure_ascii=False)`, the same text, without making an encoder per call: a reject's raw
values and reasons took 11 µs a reject in Pyodide that way, 7.5 µs this way (0.07 s of 1M rows at 1%)."""


INSERTED_TABLE = "importer_inserted"
INSERTED_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {INSERTED_TABLE} (
    run_id      TEXT    NOT NULL,
    table_name  TEXT    NOT NULL,
    first_rowid INTEGER NOT NULL,
    last_rowid  INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    PRIMARY KEY (run_id, first_rowid)
) WITHOUT ROWID
"""
"""Which rows each import run put in its table, as rowid ranges (`kind` 'import' for its batches, 'fix' for
its rejects inserted once fixed): what an undo removes. Written in the transaction that inserts the rows.
A row of kind 'created' (the empty range 0..-1) says the run created the table, so its undo may drop it."""
ROWID_NAMES = ("rowid", "_rowid_", "oid")
REPLACED_TABLE = "importer_replaced"
REPLACED_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {REPLACED_TABLE} (
    run_id     TEXT PRIMARY KEY,
    table_name TEXT NOT NULL,
    kept_name  TEXT,
    indexes    TEXT NOT NULL
)
"""
"""Each replace import: the table it replaced, kept under `kept_name` (NULL: it made the table) with the SQL of
its indexes, so an undo can put it back. Deleting the run drops the kept table."""
UNDONE_TABLE = "importer_undone"
UNDONE_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {UNDONE_TABLE} (
    run_id      TEXT PRIMARY KEY,
    undo_run_id TEXT NOT NULL,
    rows        INTEGER NOT NULL,
    at          TEXT NOT NULL
) WITHOUT ROWID
"""
"""Import runs that were undone: by which undo run, how many rows it removed, when."""


def table_names(conn: sqlite3.Connection) -> list[str]:
    """Return the names of the user's tables: not SQLite's, the engine's or the importer's own (the rejects
    table, the shadow table of a replace that is still loading), whatever their case."""
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
    return [r[0] for r in rows if reserved_prefix(r[0]) is None]


def schema_names(conn: sqlite3.Connection) -> set[str]:
    """Return every name in the schema (tables, views, indexes, triggers), folded as SQLite compares them:
    a new table must not take any of them."""
    return {sql_fold(r[0]) for r in conn.execute("SELECT name FROM sqlite_master")}


def index_named(conn: sqlite3.Connection, name: str) -> bool:
    """Return True when an index or trigger (not a table or view) is named `name` (SQLite's comparison)."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type IN ('index', 'trigger') AND name = ? COLLATE NOCASE", (name,)
    ).fetchone()
    return row is not None


def table_exists(conn: sqlite3.Connection, table: str) -> bool:
    """Return True when a table or view named `table` exists (case-insensitive, as SQLite compares)."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ? COLLATE NOCASE", (table,)
    ).fetchone()
    return row is not None


def create_rejects_table(conn: sqlite3.Connection) -> None:
    """Create the shared rejects table and the inserted-rows ledger if they are missing."""
    conn.execute(REJECTS_SCHEMA)
    conn.execute(INSERTED_SCHEMA)


def rowid_name(columns: Sequence[str]) -> str | None:
    """The name that reaches the rowid of a table with `columns` (a column named rowid hides that name; None
    when the table hides all three: rowid, _rowid_ and oid)."""
    taken = {c.lower() for c in columns}
    return next((n for n in ROWID_NAMES if n not in taken), None)


def max_rowid(conn: sqlite3.Connection, table: str, rowid: str) -> int:
    """The largest rowid in `table` (0 when empty): rows inserted next get larger ones, in order."""
    return int(conn.execute(f"SELECT coalesce(max({rowid}), 0) FROM {q(table)}").fetchone()[0])


def record_inserted(conn: sqlite3.Connection, run_id: str, table: str, first: int, last: int, kind: str) -> None:
    """Note that run `run_id` put the rows with rowids `first`..`last` in `table` (nothing when last < first)."""
    if last >= first:
        conn.execute(INSERTED_SCHEMA)  # a run prepared before the ledger existed (an update mid-import)
        conn.execute(f"INSERT INTO {INSERTED_TABLE} (run_id, table_name, first_rowid, last_rowid, kind) "
                     "VALUES (?, ?, ?, ?, ?)", (run_id, table, first, last, kind))


def record_created(conn: sqlite3.Connection, run_id: str, table: str) -> None:
    """Note that run `run_id` created `table` (an empty range of kind 'created'): its undo may drop it."""
    conn.execute(INSERTED_SCHEMA)
    conn.execute(f"INSERT INTO {INSERTED_TABLE} (run_id, table_name, first_rowid, last_rowid, kind) "
                 "VALUES (?, ?, 0, -1, 'created')", (run_id, table))


def created_table(conn: sqlite3.Connection, run_id: str) -> str | None:
    """The table run `run_id` created, if it created one."""
    if not table_exists(conn, INSERTED_TABLE):
        return None
    row = conn.execute(f"SELECT table_name FROM {INSERTED_TABLE} WHERE run_id = ? AND kind = 'created'",
                       (run_id,)).fetchone()
    return None if row is None else str(row[0])


def inserted_ranges(conn: sqlite3.Connection, run_id: str) -> list[tuple[str, int, int, str]]:
    """The (table, first rowid, last rowid, kind) ranges run `run_id` inserted, oldest first."""
    return [tuple(r) for r in conn.execute(
        f"SELECT table_name, first_rowid, last_rowid, kind FROM {INSERTED_TABLE} WHERE run_id = ? "
        "AND kind != 'created' ORDER BY first_rowid", (run_id,))]


def delete_inserted_records(conn: sqlite3.Connection, run_id: str) -> None:
    """Forget the ranges of run `run_id` (when it is deleted or undone)."""
    if table_exists(conn, INSERTED_TABLE):
        conn.execute(f"DELETE FROM {INSERTED_TABLE} WHERE run_id = ?", (run_id,))


def create_target(conn: sqlite3.Connection, table: str, specs: Sequence[ColumnSpec]) -> None:
    """Create `table` (if missing) with one column per spec, and the unique indexes of its unique columns.

    The unique index is the last line of defence behind the batch checks; its name comes from
    `unique_index_name()`, so no two (table, column) pairs share one.
    """
    columns = ", ".join(f"{q(s.name)} {SQL_TYPES[s.type]}" for s in specs)
    conn.execute(f"CREATE TABLE IF NOT EXISTS {q(table)} ({columns})")
    create_unique_indexes(conn, table, specs)


def create_unique_indexes(conn: sqlite3.Connection, table: str, specs: Sequence[ColumnSpec]) -> None:
    """Create (if missing) the unique index of every unique column of `table`."""
    for spec in specs:
        if spec.unique:
            index = q(unique_index_name(table, spec.name))
            conn.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {index} ON {q(table)} ({q(spec.name)})")


def take_place(conn: sqlite3.Connection, shadow: str, table: str, specs: Sequence[ColumnSpec],
               run_id: str | None = None) -> None:
    """Put the loaded `shadow` table in `table`'s place: keep the old table (with `run_id`, for an undo:
    renamed to its kept name, its indexes' SQL and the older runs' ledger moving with it) or drop it, rename
    the shadow, and give its unique indexes the names that belong to `table`. Call it inside the transaction
    that commits the last rows, so the swap and the final cursor commit together."""
    kept = kept_table_name(run_id) if run_id is not None and table_exists(conn, table) else None
    if kept is not None:
        conn.execute(REPLACED_SCHEMA)
        conn.execute(INSERTED_SCHEMA)
        indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                               "AND tbl_name = ? COLLATE NOCASE", (table,)).fetchall()
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {q(name)}")
        conn.execute(f"ALTER TABLE {q(table)} RENAME TO {q(kept)}")
        conn.execute(f"UPDATE {INSERTED_TABLE} SET table_name = ? WHERE table_name = ? COLLATE NOCASE "
                     "AND run_id != ?", (kept, table, run_id))  # the older runs' rows went with the old table
        conn.execute(f"INSERT INTO {REPLACED_TABLE} (run_id, table_name, kept_name, indexes) VALUES (?, ?, ?, ?)",
                     (run_id, table, kept, json.dumps([sql for _, sql in indexes])))
    else:
        conn.execute(f"DROP TABLE IF EXISTS {q(table)}")
        if run_id is not None:
            conn.execute(REPLACED_SCHEMA)
            conn.execute(f"INSERT INTO {REPLACED_TABLE} (run_id, table_name, kept_name, indexes) "
                         "VALUES (?, ?, NULL, '[]')", (run_id, table))
    for spec in specs:
        if spec.unique:
            conn.execute(f"DROP INDEX IF EXISTS {q(unique_index_name(shadow, spec.name))}")
    conn.execute(f"ALTER TABLE {q(shadow)} RENAME TO {q(table)}")
    create_unique_indexes(conn, table, specs)


def replaced_record(conn: sqlite3.Connection, run_id: str) -> tuple[str, str | None, list[str]] | None:
    """(table, kept table or None when there was none, its index SQL) of replacing run `run_id`, or None."""
    if not table_exists(conn, REPLACED_TABLE):
        return None
    row = conn.execute(f"SELECT table_name, kept_name, indexes FROM {REPLACED_TABLE} WHERE run_id = ?",
                       (run_id,)).fetchone()
    return None if row is None else (row[0], row[1], json.loads(row[2]))


def put_back(conn: sqlite3.Connection, run_id: str, table: str, kept: str | None, indexes: Sequence[str]) -> None:
    """Undo a replace: drop `table` and rename the `kept` one back with its indexes and ledger (none kept: the
    replace made the table, so dropping it is all)."""
    conn.execute(f"DROP TABLE IF EXISTS {q(table)}")
    if kept is not None:
        conn.execute(f"ALTER TABLE {q(kept)} RENAME TO {q(table)}")
        for statement in indexes:
            conn.execute(statement)
        conn.execute(f"UPDATE {INSERTED_TABLE} SET table_name = ? WHERE table_name = ?", (table, kept))
    conn.execute(f"DELETE FROM {REPLACED_TABLE} WHERE run_id = ?", (run_id,))


def drop_kept(conn: sqlite3.Connection, run_id: str) -> None:
    """Drop the table replacing run `run_id` kept (when the run is deleted) and forget it."""
    conn.execute(f"DROP TABLE IF EXISTS {q(kept_table_name(run_id))}")
    if table_exists(conn, REPLACED_TABLE):
        conn.execute(f"DELETE FROM {REPLACED_TABLE} WHERE run_id = ?", (run_id,))


def other_runs_in(conn: sqlite3.Connection, table: str, run_id: str) -> list[str]:
    """Runs other than `run_id`, not undone, whose recorded rows are in `table`."""
    if not table_exists(conn, INSERTED_TABLE):
        return []
    conn.execute(UNDONE_SCHEMA)
    return [r for (r,) in conn.execute(
        f"SELECT run_id FROM {INSERTED_TABLE} WHERE table_name = ? COLLATE NOCASE AND run_id != ? "
        f"AND kind != 'created' AND run_id NOT IN (SELECT run_id FROM {UNDONE_TABLE}) GROUP BY run_id "
        "ORDER BY run_id", (table, run_id))]


def count_rows(conn: sqlite3.Connection, table: str) -> int:
    """How many rows `table` has."""
    return int(conn.execute(f"SELECT count(*) FROM {q(table)}").fetchone()[0])


def delete_range(conn: sqlite3.Connection, table: str, rowid: str, first: int, last: int) -> int:
    """Delete the rows of `table` with rowids `first`..`last`; return how many went."""
    return conn.execute(f"DELETE FROM {q(table)} WHERE {rowid} BETWEEN ? AND ?", (first, last)).rowcount


def mark_undone(conn: sqlite3.Connection, run_id: str, undo_run_id: str, rows: int, at: str) -> None:
    """Record that run `run_id` was undone by `undo_run_id`, removing `rows` rows."""
    conn.execute(UNDONE_SCHEMA)
    conn.execute(f"INSERT INTO {UNDONE_TABLE} (run_id, undo_run_id, rows, at) VALUES (?, ?, ?, ?)",
                 (run_id, undo_run_id, rows, at))


def undone_runs(conn: sqlite3.Connection, run_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """For those of `run_ids` that were undone: {run id: {undo_run_id, rows, at}}."""
    if not run_ids or not table_exists(conn, UNDONE_TABLE):
        return {}
    found = conn.execute(f"SELECT run_id, undo_run_id, rows, at FROM {UNDONE_TABLE} WHERE run_id IN "
                         "(SELECT value FROM json_each(?))", (json.dumps(list(run_ids)),))
    return {r: {"undo_run_id": u, "rows": n, "at": at} for r, u, n, at in found}


def run_ranges(conn: sqlite3.Connection, table: str, *, undone: bool) -> list[tuple[int, int]]:
    """The (first, last) rowid ranges that the undone runs (`undone`) or the other runs put in `table`, in rowid
    order: where its rows were removed, or where they are (a hint for the data browser, which checks it; the
    ranges of a replaced table's runs linger under its name, and a deleted run's go)."""
    any_undone = table_exists(conn, UNDONE_TABLE)
    if not table_exists(conn, INSERTED_TABLE) or (undone and not any_undone):
        return []
    runs = f"SELECT run_id FROM {UNDONE_TABLE}" if any_undone else "SELECT NULL WHERE 0"
    return [(int(a), int(b)) for a, b in conn.execute(
        f"SELECT first_rowid, last_rowid FROM {INSERTED_TABLE} WHERE run_id {'' if undone else 'NOT '}IN ({runs}) "
        "AND table_name = ? COLLATE NOCASE AND kind != 'created' ORDER BY first_rowid", (table,))]


def forget_undone(conn: sqlite3.Connection, run_id: str) -> None:
    """Forget the undo of run `run_id` (when it is deleted)."""
    if table_exists(conn, UNDONE_TABLE):
        conn.execute(f"DELETE FROM {UNDONE_TABLE} WHERE run_id = ?", (run_id,))


def drop_table(conn: sqlite3.Connection, table: str) -> None:
    """Drop `table` if it exists (the shadow table of a deleted run)."""
    conn.execute(f"DROP TABLE IF EXISTS {q(table)}")


def table_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """Return the column names of `table`, in order."""
    return [row[1] for row in conn.execute(f"PRAGMA table_info({q(table)})")]


ROWS_PER_INSERT = 100
"""Rows one multi-row INSERT carries: one statement execution per 100 rows instead of per row took a fifth off
the inserts in Pyodide (1M rows: 1.01 against 1.29 s, medians of 4 in alternation under node)."""
MAX_PARAMETERS = 999
"""Parameters one statement may bind on any SQLite (999 before 3.32, 32,766 since)."""


@dataclass(frozen=True, slots=True)
class Insert:
    """The INSERT statements for rows of one shape: `one` inserts a row, `many` inserts `rows` rows at once."""

    one: str
    many: str
    rows: int
    width: int


def insert_statement(table: str, names: Sequence[str]) -> Insert:
    """Return the INSERT statements for rows of `names` into `table`."""
    width = len(names)
    rows = max(1, min(ROWS_PER_INSERT, MAX_PARAMETERS // width)) if width else 1
    head = f"INSERT INTO {q(table)} ({', '.join(q(n) for n in names)}) VALUES "
    marks = "(" + ", ".join("?" * width) + ")"
    return Insert(head + marks, head + ", ".join([marks] * rows), rows, width)


def insert_rows(conn: sqlite3.Connection, insert: Insert, rows: Sequence[Sequence[Any]]) -> None:
    """Insert `rows`, in order: `insert.rows` at a time by the multi-row statement, the rest one by one."""
    whole = len(rows) - len(rows) % insert.rows if insert.rows > 1 else 0
    if whole:
        values = chain.from_iterable(rows[:whole])
        conn.executemany(insert.many, zip(*[values] * (insert.rows * insert.width)))  # noqa: B905 - whole groups
    if whole < len(rows):
        conn.executemany(insert.one, rows[whole:])


def insert_rejects(conn: sqlite3.Connection, run_id: str, rejects: Iterable[Reject]) -> None:
    """Record `rejects` of run `run_id`; a row already recorded for the run is an error (exactly once)."""
    conn.executemany(
        f"INSERT INTO {REJECTS_TABLE} (run_id, row_number, raw, reasons) VALUES (?, ?, ?, ?)",
        (
            (run_id, r.row, _to_json(r.raw), _to_json(r.reasons))
            for r in rejects
        ),
    )


def existing_values(conn: sqlite3.Connection, table: str, column: str, values: list[Any]) -> set[Any]:
    """Return those of `values` already present in `table`.`column` (one query over a JSON array)."""
    rows = conn.execute(
        f"SELECT j.value FROM json_each(?) AS j WHERE EXISTS "
        f"(SELECT 1 FROM {q(table)} AS t WHERE t.{q(column)} = j.value)",
        (json.dumps(values),),
    )
    return {row[0] for row in rows}


def delete_rejects(conn: sqlite3.Connection, run_id: str) -> None:
    """Delete the rejects recorded for run `run_id` (when the run is deleted)."""
    if table_exists(conn, REJECTS_TABLE):
        conn.execute(f"DELETE FROM {REJECTS_TABLE} WHERE run_id = ?", (run_id,))


def select_rejects(conn: sqlite3.Connection, run_id: str) -> Iterator[tuple[int, list[str | None], list[str]]]:
    """Yield (row number, raw values, reasons) of run `run_id`'s rejects in row order."""
    if not table_exists(conn, REJECTS_TABLE):
        return
    rows = conn.execute(
        f"SELECT row_number, raw, reasons FROM {REJECTS_TABLE} WHERE run_id = ? ORDER BY row_number",
        (run_id,),
    )
    for number, raw, reasons in rows:
        yield number, json.loads(raw), json.loads(reasons)


def rejects_after(conn: sqlite3.Connection, run_id: str, after: int, rows: Sequence[int] | None,
                  limit: int) -> list[tuple[int, list[str | None]]]:
    """Up to `limit` (row number, raw values) of run `run_id`'s rejects after row `after`, in row order; only
    rows among `rows` when given."""
    if not table_exists(conn, REJECTS_TABLE):
        return []
    chosen = "" if rows is None else " AND row_number IN (SELECT value FROM json_each(?))"
    params: list[Any] = [run_id, after] + ([json.dumps(sorted(set(rows)))] if rows is not None else []) + [limit]
    found = conn.execute(f"SELECT row_number, raw FROM {REJECTS_TABLE} WHERE run_id = ? AND row_number > ?"
                         f"{chosen} ORDER BY row_number LIMIT ?", params)
    return [(number, json.loads(raw)) for number, raw in found]


def update_reject(conn: sqlite3.Connection, run_id: str, row: int, raw: Sequence[str | None],
                  reasons: Sequence[str]) -> None:
    """Save edited values of a reject and the reasons they would be rejected now (none: it would pass)."""
    conn.execute(f"UPDATE {REJECTS_TABLE} SET raw = ?, reasons = ? WHERE run_id = ? AND row_number = ?",
                 (_to_json(list(raw)), _to_json(list(reasons)),
                  run_id, row))


def delete_reject_rows(conn: sqlite3.Connection, run_id: str, rows: Sequence[int]) -> None:
    """Remove rejects `rows` of run `run_id` (inserted once fixed, or discarded)."""
    conn.execute(f"DELETE FROM {REJECTS_TABLE} WHERE run_id = ? AND row_number IN (SELECT value FROM json_each(?))",
                 (run_id, json.dumps(list(rows))))


def count_rejects(conn: sqlite3.Connection, run_id: str) -> int:
    """Return how many rejects run `run_id` has recorded."""
    if not table_exists(conn, REJECTS_TABLE):
        return 0
    row = conn.execute(f"SELECT count(*) FROM {REJECTS_TABLE} WHERE run_id = ?", (run_id,)).fetchone()
    return int(row[0])


def select_table(conn: sqlite3.Connection, table: str) -> sqlite3.Cursor:
    """Return a cursor over every row of `table` in rowid order (export reads it in chunks)."""
    return conn.execute(f"SELECT * FROM {q(table)}")
