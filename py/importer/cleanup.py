"""Cleanup: what deleting an import run removes (its staged copy and, optionally, its rejects).

Role: the job's `on_delete` hook does this inside the engine's delete transaction; the worker can also
call `cleanup_run` directly (e.g. for runs deleted before the hook existed). The imported table is the
user's data and is never dropped here.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from importer import sql
from importer.staging import remove_staged

if TYPE_CHECKING:
    from importer.job import ImportEnv


def cleanup_run(
    env: ImportEnv,
    run_id: str,
    *,
    conn: sqlite3.Connection | None = None,
    staged_path: str | None = None,
) -> bool:
    """Delete run `run_id`'s staged copy, and its rejects when `conn` is given; return True if a file went.

    Call inside a transaction of your own when passing `conn` (the delete is one statement).
    """
    if conn is not None:
        sql.delete_rejects(conn, run_id)
    return remove_staged(env.staged_path(run_id, staged_path))
