"""The engine's schema, as an append-only list of migrations.

Version N is `MIGRATIONS[N - 1]`. The pending migrations run in one transaction together with their rows in
`durable_schema_version`, so a database is always at exactly one version. A shipped migration is never
edited: change the schema by appending. Every engine table is prefixed `durable_` so the engine shares
its database with the application's own tables. Statements stay within SQLite 3.39 (Pyodide).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from durable.errors import SchemaTooNewError

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: runs, their labels, steps and logs.
    (
        """CREATE TABLE durable_runs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            job TEXT NOT NULL,
            status TEXT NOT NULL
                CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
            input TEXT NOT NULL,
            output TEXT,
            error TEXT,
            idempotency_key TEXT,
            concurrency_key TEXT,
            labels TEXT NOT NULL DEFAULT '{}',
            progress_current,
            progress_total,
            progress_message TEXT,
            attempt INTEGER NOT NULL DEFAULT 0 CHECK (attempt >= 0),
            cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT,
            updated_at TEXT NOT NULL,
            CHECK ((status IN ('completed', 'failed', 'cancelled')) = (finished_at IS NOT NULL))
        )""",
        """CREATE UNIQUE INDEX durable_runs_idempotency
            ON durable_runs (job, idempotency_key) WHERE idempotency_key IS NOT NULL""",
        "CREATE INDEX durable_runs_status ON durable_runs (status, seq)",
        "CREATE INDEX durable_runs_job ON durable_runs (job, seq)",
        """CREATE INDEX durable_runs_concurrency
            ON durable_runs (concurrency_key, status) WHERE concurrency_key IS NOT NULL""",
        """CREATE TABLE durable_run_labels (
            run_id TEXT NOT NULL REFERENCES durable_runs (id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (run_id, key)
        ) WITHOUT ROWID""",
        "CREATE INDEX durable_run_labels_pair ON durable_run_labels (key, value)",
        """CREATE TABLE durable_steps (
            run_id TEXT NOT NULL REFERENCES durable_runs (id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL CHECK (ordinal >= 0),
            name TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('run', 'transaction')),
            status TEXT NOT NULL CHECK (status IN ('completed', 'failed')),
            output TEXT,
            error TEXT,
            attempts INTEGER NOT NULL CHECK (attempts >= 1),
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            PRIMARY KEY (run_id, ordinal)
        ) WITHOUT ROWID""",
        """CREATE TABLE durable_logs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL REFERENCES durable_runs (id) ON DELETE CASCADE,
            step TEXT,
            level TEXT NOT NULL CHECK (level IN ('info', 'warning', 'error')),
            message TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX durable_logs_run ON durable_logs (run_id, id)",
    ),
    # 2: the single-engine lease, and the app version that last ran each run.
    (
        "ALTER TABLE durable_runs ADD COLUMN app_version TEXT",
        """CREATE TABLE durable_lease (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            owner TEXT NOT NULL,
            heartbeat_at TEXT NOT NULL,
            app_version TEXT
        )""",
    ),
    # 3: recoveries without progress (a run that hangs the engine on every resume is failed, not resumed
    # forever): `stalls` counts consecutive recoveries with no new completed step; `stall_steps` and
    # `stall_attempt` are the run's completed step count and attempt at its last recovery.
    (
        "ALTER TABLE durable_runs ADD COLUMN stalls INTEGER NOT NULL DEFAULT 0 CHECK (stalls >= 0)",
        "ALTER TABLE durable_runs ADD COLUMN stall_steps INTEGER",
        "ALTER TABLE durable_runs ADD COLUMN stall_attempt INTEGER",
    ),
    # 4: run lists filtered by job and status (the run history's filters; the importer's unfinished runs at
    # start) read this index alone. Without it SQLite took the (job, seq) index and read every run of the job
    # to test its status: 10,000 runs, 3-5 ms per count or page natively, 10-60 ms in Pyodide, even for a
    # status no run had.
    ("CREATE INDEX durable_runs_job_status ON durable_runs (job, status, seq)",),
)

LATEST = len(MIGRATIONS)


def current_version(conn: sqlite3.Connection) -> int:
    """The schema version of the database behind `conn` (0 for a database the engine never touched)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'durable_schema_version'"
    ).fetchone()
    if exists is None:
        return 0
    row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM durable_schema_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, now: datetime, target: int = LATEST) -> int:
    """Bring the schema up to `target` in one transaction (all pending migrations or none); return the version
    reached. One commit: a new database took four, each a few fsyncs (5-13 ms of a small import on CPython,
    and commits cost more in the browser's storage).

    `conn` must be in autocommit mode (isolation_level=None). Raises SchemaTooNewError when the
    database is newer than this engine.
    """
    version = current_version(conn)
    if version > LATEST:
        raise SchemaTooNewError(version, LATEST)
    if version >= target:
        return version
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = apply_pending(conn, now, target)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return version


def apply_pending(conn: sqlite3.Connection, now: datetime, target: int = LATEST) -> int:
    """Inside the caller's write transaction, apply the migrations up to `target` that the database lacks;
    return the version reached. Raises SchemaTooNewError when the database is newer than this engine."""
    # Read inside the write lock: another connection may have migrated meanwhile.
    version = _version_in_transaction(conn)
    if version > LATEST:
        raise SchemaTooNewError(version, LATEST)
    while version < target:
        for statement in MIGRATIONS[version]:
            conn.execute(statement)
        version += 1
        conn.execute(
            "INSERT INTO durable_schema_version (version, applied_at) VALUES (?, ?)",
            (version, now.isoformat(timespec="milliseconds")),
        )
    return version


def _version_in_transaction(conn: sqlite3.Connection) -> int:
    conn.execute(
        """CREATE TABLE IF NOT EXISTS durable_schema_version (
            version INTEGER PRIMARY KEY,
            applied_at TEXT NOT NULL
        )"""
    )
    return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM durable_schema_version").fetchone()[0])
