"""Migrations: versioned, append-only, in-place upgrade of an older database, refusal of a newer one."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.durable.enginekit import FakeClock, Total, settle, status_is, sum_job

from durable import Engine, RunStatus, SchemaTooNewError
from durable.migrations import LATEST, MIGRATIONS, current_version, migrate
from durable.store import Store

NOW = datetime(2025, 1, 1, tzinfo=UTC)
RUN_INSERT = "INSERT INTO durable_runs (id, job, status, input, created_at, updated_at)"


def connect(path: Path | str = ":memory:") -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_fresh_database_reaches_the_latest_version_with_one_row_per_migration() -> None:
    conn = connect()
    assert current_version(conn) == 0
    assert migrate(conn, NOW) == LATEST == len(MIGRATIONS)
    versions = [r[0] for r in conn.execute("SELECT version FROM durable_schema_version ORDER BY version")]
    assert versions == list(range(1, LATEST + 1))
    assert migrate(conn, NOW) == LATEST  # idempotent


def test_every_engine_table_is_prefixed() -> None:
    conn = connect()
    migrate(conn, NOW)
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")]
    assert names and all(name.startswith("durable_") for name in names)


def test_a_failing_migration_leaves_the_previous_version(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = connect()
    migrate(conn, NOW, target=1)
    broken = (*MIGRATIONS[:1], ("ALTER TABLE durable_runs ADD COLUMN x TEXT", "THIS IS NOT SQL"))
    monkeypatch.setattr("durable.migrations.MIGRATIONS", broken)
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, NOW, target=2)
    assert current_version(conn) == 1
    columns = [r[1] for r in conn.execute("PRAGMA table_info(durable_runs)")]
    assert "x" not in columns


def test_a_failing_migration_undoes_the_others_of_the_same_upgrade(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pending migrations apply in one transaction: a failure in the second leaves a new database empty."""
    conn = connect()
    broken = (*MIGRATIONS[:1], ("THIS IS NOT SQL",))
    monkeypatch.setattr("durable.migrations.MIGRATIONS", broken)
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, NOW, target=2)
    assert current_version(conn) == 0
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'durable_runs'").fetchone() is None


def test_a_new_database_is_migrated_in_one_commit(tmp_path: Path) -> None:
    """Every commit of a file costs fsyncs: a new database reaches the latest version in a single one."""
    conn = connect(tmp_path / "new.sqlite")
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    assert migrate(conn, NOW) == LATEST > 1
    assert [s for s in statements if s in ("BEGIN IMMEDIATE", "COMMIT")] == ["BEGIN IMMEDIATE", "COMMIT"]
    assert migrate(conn, NOW) == LATEST  # and an up-to-date one in none
    assert statements.count("COMMIT") == 1


async def test_an_engine_opens_a_new_database_in_one_commit_migrations_and_lease_together(tmp_path: Path) -> None:
    """The migrations a new database needs and the engine's lease commit together: the first import into a
    new file started with two commits (each a few fsyncs) before its run could. A second open (the schema up
    to date) takes the lease alone: one commit again."""
    path = tmp_path / "new.sqlite"
    for _opening in (1, 2):
        commits: list[None] = []
        engine = Engine(path, clock=FakeClock(), on_commit=lambda commits=commits: commits.append(None))
        await engine.open()
        assert len(commits) == 1
        row = Store(connect(path)).conn.execute("SELECT owner FROM durable_lease WHERE id = 1").fetchone()
        assert row == (engine.engine_id,)
        await engine.stop()
    assert current_version(connect(path)) == LATEST


def test_migrations_commit_though_the_lease_is_refused(tmp_path: Path) -> None:
    """A database one migration behind, whose lease another engine holds (an older version of the app in
    another tab): the migrations commit with the refusal, as they did apart, and no lease is taken."""
    path = tmp_path / "behind.sqlite"
    conn = connect(path)
    migrate(conn, NOW, target=LATEST - 1)
    conn.execute("INSERT INTO durable_lease (id, owner, heartbeat_at) VALUES (1, 'other', ?)", (NOW.isoformat(),))
    store = Store.open(path)
    holder = store.migrate_and_lease("me", NOW, None, fresh_after=datetime(2024, 12, 31, tzinfo=UTC))
    assert (holder, store.owner) == ("other", None)
    assert current_version(connect(path)) == LATEST
    assert connect(path).execute("SELECT owner FROM durable_lease").fetchall() == [("other",)]
    store.close()


def test_newer_schema_is_refused_with_a_clear_error() -> None:
    conn = connect()
    migrate(conn, NOW)
    conn.execute("INSERT INTO durable_schema_version VALUES (?, ?)", (LATEST + 1, "later"))
    with pytest.raises(SchemaTooNewError, match="newer version of the app"):
        migrate(conn, NOW)


async def test_version_1_database_is_upgraded_in_place_and_its_runs_complete(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = connect(path)
    migrate(conn, NOW, target=1)
    at = "2024-12-31T00:00:00.000+00:00"
    conn.execute(
        "INSERT INTO durable_runs (id, job, status, input, created_at, started_at, updated_at) "
        "VALUES ('old-run', 'sum', 'running', '{\"n\": 3}', ?, ?, ?)",
        (at, at, at),
    )
    conn.execute(
        "INSERT INTO durable_steps VALUES ('old-run', 0, 'add-0', 'run', 'completed', '0', NULL, 1, ?, ?)",
        (at, at),
    )
    conn.close()

    engine = Engine(path, clock=FakeClock(), app_version="2.0")
    engine.register(sum_job)
    await engine.start()
    await settle(lambda: status_is(engine, "old-run", RunStatus.COMPLETED))
    run = await engine.get_run("old-run")
    assert run is not None and run.output == Total(total=3).model_dump() and run.app_version == "2.0"
    assert [s.name for s in await engine.get_steps("old-run")] == ["add-0", "add-1", "add-2"]
    await engine.stop()
    assert current_version(connect(path)) == LATEST


@pytest.mark.parametrize("statuses", [[RunStatus.FAILED], [RunStatus.COMPLETED, RunStatus.FAILED]])
def test_a_run_list_filtered_by_job_and_status_counts_from_one_index(statuses: list[RunStatus]) -> None:
    """`Store.list_runs` filtered by job and status counts the matches from the (job, status, seq) index alone,
    and with one status reads its page through it, never testing each run of the job (with two, SQLite
    prefers the (job, seq) order that needs no sort)."""
    conn = connect()
    migrate(conn, NOW)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    Store(conn).list_runs(status=statuses, job="import-csv", limit=20, offset=100)
    conn.set_trace_callback(None)
    plans = {sql.split()[1]: [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
             for sql in statements if sql.startswith("SELECT")}
    assert plans["COUNT(*)"] == ["SEARCH r USING COVERING INDEX durable_runs_job_status (job=? AND status=?)"]
    if len(statuses) == 1:
        [page] = [plan for first, plan in plans.items() if first != "COUNT(*)"]
        assert page == ["SEARCH r USING INDEX durable_runs_job_status (job=? AND status=?)"]


def test_engine_opens_files_with_a_truncate_journal(tmp_path: Path) -> None:
    from durable.store import Store

    store = Store.open(tmp_path / "j.db")
    assert store.conn.execute("PRAGMA journal_mode").fetchone() == ("truncate",)
    assert store.conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
    store.close()


@pytest.mark.parametrize(
    "statement",
    [
        f"{RUN_INSERT} VALUES ('a', 'j', 'lost', '{{}}', 't', 't')",
        f"{RUN_INSERT} VALUES ('a', 'j', 'failed', '{{}}', 't', 't')",
        "INSERT INTO durable_logs (run_id, level, message, created_at) VALUES ('nope', 'info', 'm', 't')",
    ],
    ids=["unknown status", "finished without finished_at", "log of a missing run"],
)
def test_schema_enforces_its_invariants(statement: str) -> None:
    conn = connect()
    conn.execute("PRAGMA foreign_keys = ON")
    migrate(conn, NOW)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(statement)
