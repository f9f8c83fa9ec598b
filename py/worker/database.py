"""Opening the app's SQLite database with the pragmas OPFS durability needs."""

from __future__ import annotations

import sqlite3


def open_database(path: str) -> sqlite3.Connection:
    """Open `path` in autocommit mode with journal_mode TRUNCATE (MEMORY/OFF corrupt on a kill)."""
    conn = sqlite3.connect(path, isolation_level=None)
    mode = conn.execute("PRAGMA journal_mode=TRUNCATE").fetchone()[0]
    if mode.lower() != "truncate":
        raise RuntimeError(f"SQLite refused journal_mode TRUNCATE (got {mode}).")
    conn.execute("PRAGMA synchronous=FULL")
    return conn
