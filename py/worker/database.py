"""Opening the app's SQLite database with the pragmas OPFS durability and speed need, and checking a database
file the user picked before it may take the database's place (`check_database_file`)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from urllib.parse import quote

from durable.migrations import LATEST, current_version
from importer.sql import table_names

PAGE_SIZE = 65536
"""Each page write is one OPFS sync-handle call, and the per-call cost dominates: 64 KB pages cut a
4 MB batch's COMMIT from ~350 ms to ~40 ms in headless chromium (4 KB pages are SQLite's default).
Only takes effect when the database file is created."""

CACHE_KIB = 65536
"""64 MB page cache, so a batch's pages are written once at COMMIT instead of spilling mid-batch."""

SQLITE_MAGIC = b"SQLite format 3\x00"
JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")
"""How a rollback journal (`FILE-journal`) starts."""
ENGINE_TABLES = ("durable_runs", "durable_steps", "durable_logs", "durable_schema_version")
IMPORTER_COLUMNS = {
    "importer_rejects": {"run_id", "row_number", "raw", "reasons"},
    "importer_inserted": {"run_id", "table_name", "first_rowid", "last_rowid", "kind"},
    "importer_replaced": {"run_id", "table_name", "kept_name", "indexes"},
    "importer_undone": {"run_id", "undo_run_id", "rows", "at"},
}
"""The columns this build reads in each importer table (a table may have more; it may be missing)."""


def open_database(path: str) -> sqlite3.Connection:
    """Open `path` in autocommit mode with journal_mode TRUNCATE (MEMORY/OFF corrupt on a kill)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
    conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    mode = conn.execute("PRAGMA journal_mode=TRUNCATE").fetchone()[0]
    if mode.lower() != "truncate":
        raise RuntimeError(f"SQLite refused journal_mode TRUNCATE (got {mode}).")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


class DatabaseFileError(Exception):
    """A picked database file this build cannot use; the message is one sentence for the user."""


@dataclass(frozen=True)
class DatabaseSummary:
    """What a checked database file holds: its runs (and how many were left unfinished), tables, schema."""

    runs: int
    unfinished: int
    tables: list[str]
    schema: int
    size: int


def check_database_file(path: str, name: str, known_jobs: set[str]) -> DatabaseSummary:
    """Check the database file at `path` (the picked file `name`, copied) without writing to it: SQLite's
    header, a size its header agrees with, not in WAL mode, `PRAGMA integrity_check`, the engine's schema at
    a version this build reads, only jobs in `known_jobs`, and the importer's tables with their columns.
    Returns what it holds; raises DatabaseFileError with one sentence saying what is wrong and what to do."""
    with open(path, "rb") as f:
        header = f.read(100)
        f.seek(0, 2)
        size = f.tell()
    _check_header(header, size, name)
    try:
        conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise DatabaseFileError(f"'{name}' could not be opened as a SQLite database ({exc}).") from None
    try:
        return _check_contents(conn, name, size, known_jobs)
    except sqlite3.DatabaseError as exc:
        raise DatabaseFileError(f"'{name}' is damaged: SQLite could not read it ({exc}). Copy it again from "
                                "where it was saved, then pick the copy.") from None
    finally:
        conn.close()


def _check_header(header: bytes, size: int, name: str) -> None:
    if size == 0:
        raise DatabaseFileError(f"'{name}' is empty: pick the .sqlite file that the page or csv-import saved.")
    if header[:8] == JOURNAL_MAGIC:
        raise DatabaseFileError(f"'{name}' is a SQLite journal, not a database: it holds a write that was never "
                                "finished. Where it was saved, open the database beside it once with sqlite3 (e.g. "
                                "sqlite3 FILE 'PRAGMA quick_check'), which rolls that write back, then pick the "
                                "database file.")
    if size < 100 or header[:16] != SQLITE_MAGIC:
        raise DatabaseFileError(f"'{name}' is not a SQLite database (it does not start with SQLite's header): "
                                "pick the .sqlite file that the page or csv-import saved.")
    if header[18] == 2 or header[19] == 2:
        raise DatabaseFileError(f"'{name}' is in WAL mode, so its latest changes may be in a '-wal' file beside "
                                "it, which a page cannot read: run sqlite3 on it with 'PRAGMA "
                                "journal_mode=DELETE' where it was saved, then pick it again.")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages, changes, valid_for = (int.from_bytes(header[i:i + 4], "big") for i in (28, 24, 92))
    expected = pages * page_size if pages and changes == valid_for else None
    if page_size < 512 or size % page_size or (expected is not None and expected != size):
        said = f"its header says {expected:,} bytes" if expected else f"pages of {page_size:,} bytes"
        raise DatabaseFileError(f"'{name}' is cut short or damaged: {said}, but the file has {size:,}. Copy it "
                                "again from where it was saved, then pick the copy.")


def _check_contents(conn: sqlite3.Connection, name: str, size: int, known_jobs: set[str]) -> DatabaseSummary:
    problems = [str(row[0]) for row in conn.execute("PRAGMA integrity_check(3)")]
    if problems != ["ok"]:
        raise DatabaseFileError(f"'{name}' is damaged (SQLite's integrity check: {'; '.join(problems)}). Copy "
                                "it again from where it was saved, then pick the copy.")
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    schema = current_version(conn)
    if schema == 0 or not set(ENGINE_TABLES) <= present:
        raise DatabaseFileError(f"'{name}' is a SQLite database, but not one this app or csv-import made (it "
                                "has no import history): open it with sqlite3 or Datasette instead.")
    if schema > LATEST:
        raise DatabaseFileError(f"'{name}' was made by a newer version of this app (database schema {schema}; "
                                f"this page reads up to {LATEST}): reload the page to update it, then pick the "
                                "file again.")
    jobs = {str(r[0]) for r in conn.execute("SELECT DISTINCT job FROM durable_runs")}
    if jobs - known_jobs:
        raise DatabaseFileError(f"'{name}' holds runs of jobs this version does not know "
                                f"({', '.join(sorted(jobs - known_jobs))}): it was made by another version of "
                                "this app; update the page, or continue it where it was made.")
    for table, needed in IMPORTER_COLUMNS.items():
        if table in present:
            columns = {str(r[1]) for r in conn.execute(f'PRAGMA table_info("{table}")')}
            if not needed <= columns:
                raise DatabaseFileError(f"'{name}' has an importer table of another version ({table} lacks "
                                        f"{', '.join(sorted(needed - columns))}): it was made by another "
                                        "version of this app.")
    runs = int(conn.execute("SELECT count(*) FROM durable_runs").fetchone()[0])
    unfinished = int(conn.execute(
        "SELECT count(*) FROM durable_runs WHERE status IN ('pending', 'running')").fetchone()[0])
    return DatabaseSummary(runs, unfinished, table_names(conn), schema, size)
