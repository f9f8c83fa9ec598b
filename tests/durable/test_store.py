"""Store: transactions, the lease fence, idempotent inserts, claim order, coexistence with other tables."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from durable import LeaseLostError, RunStatus
from durable.store import Claim, NewRun, Store

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def new_store(path: Path | str = ":memory:", commits: list[int] | None = None) -> Store:
    store = Store.open(str(path), on_commit=None if commits is None else lambda: commits.append(1))
    store.migrate(NOW)
    return store


def new_run(run_id: str, *, key: str | None = None, idem: str | None = None, job: str = "j") -> NewRun:
    return NewRun(run_id, job, "{}", idem, key, {}, NOW)


def test_transaction_commits_on_success_and_rolls_back_on_error() -> None:
    store = new_store()
    store.conn.execute("CREATE TABLE app (x INTEGER)")
    with store.transaction() as tx:
        tx.conn.execute("INSERT INTO app VALUES (1)")
    with pytest.raises(ZeroDivisionError), store.transaction() as tx:
        tx.conn.execute("INSERT INTO app VALUES (2)")
        _ = 1 / 0
    assert store.conn.execute("SELECT x FROM app").fetchall() == [(1,)]
    assert not store.conn.in_transaction


def test_a_failed_commit_rolls_back_so_the_next_transaction_can_begin(tmp_path: Path) -> None:
    store = new_store(tmp_path / "app.sqlite")
    store.conn.execute("CREATE TABLE app (x INTEGER)")
    store.conn.execute("PRAGMA busy_timeout = 0")  # the reader below makes COMMIT fail at once, not after 5 s
    reader = sqlite3.connect(tmp_path / "app.sqlite", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM app").fetchone()  # a SHARED lock: COMMIT cannot take EXCLUSIVE
    with pytest.raises(sqlite3.OperationalError, match="locked"), store.transaction() as tx:
        tx.conn.execute("INSERT INTO app VALUES (1)")
    assert not store.conn.in_transaction  # not left open: SQLite keeps a transaction whose COMMIT was busy
    reader.execute("COMMIT")
    reader.close()
    with store.transaction() as tx:
        tx.conn.execute("INSERT INTO app VALUES (2)")
    assert store.conn.execute("SELECT x FROM app").fetchall() == [(2,)]


def test_on_commit_follows_each_commit_but_not_a_rollback() -> None:
    commits: list[int] = []
    store = new_store(commits=commits)
    before = len(commits)
    with store.transaction():
        pass
    with pytest.raises(RuntimeError), store.transaction():
        raise RuntimeError
    assert len(commits) - before == 1


def test_lease_fence_refuses_writes_of_a_replaced_owner(tmp_path: Path) -> None:
    path = tmp_path / "lease.db"
    old, new = new_store(path), new_store(path)
    assert old.acquire_lease("old", NOW, None, fresh_after=None) is None
    assert new.acquire_lease("new", NOW, None, fresh_after=None) is None
    lost: list[LeaseLostError] = []
    old.on_lease_lost = lost.append
    with pytest.raises(LeaseLostError, match="owner: new"):
        old.insert_run(new_run("r1"))
    assert lost and new.get_run("r1") is None
    new.insert_run(new_run("r2"))
    assert new.get_run("r2") is not None


def test_lease_with_fresh_heartbeat_is_refused_when_waiting(tmp_path: Path) -> None:
    path = tmp_path / "lease.db"
    a, b = new_store(path), new_store(path)
    a.acquire_lease("a", NOW, None, fresh_after=None)
    assert b.acquire_lease("b", NOW, None, fresh_after=NOW - timedelta(seconds=30)) == "a"
    later = NOW + timedelta(seconds=31)
    assert b.acquire_lease("b", later, None, fresh_after=later - timedelta(seconds=30)) is None


def test_insert_run_is_idempotent_per_job_and_key() -> None:
    store = new_store()
    first, created, _ = store.insert_run(new_run("a", idem="k"))
    again, created_again, _ = store.insert_run(new_run("b", idem="k"))
    other_job, created_other, _ = store.insert_run(new_run("c", idem="k", job="other"))
    assert (created, created_again, created_other) == (True, False, True)
    assert again.id == first.id and other_job.id == "c"


def test_claim_prefers_runs_that_ran_before_then_fifo_and_respects_keys() -> None:
    store = new_store()
    for run_id, key in [("a", "k"), ("b", "k"), ("c", None)]:
        store.insert_run(new_run(run_id, key=key))
    claimed = store.claim_next(["j"], NOW, "v1")
    assert claimed is not None and claimed.id == "a" and claimed.status is RunStatus.RUNNING
    assert claimed.attempt == 1 and claimed.app_version == "v1"
    second = store.claim_next(["j"], NOW, None)
    assert second is not None and second.id == "c"  # b waits for a (same key)
    assert store.claim_next(["j"], NOW, None) is None
    assert store.requeue_interrupted(NOW) == ["a", "c"]
    assert [store.claim_next(["j"], NOW, None).id for _ in range(2)] == ["a", "c"]  # type: ignore[union-attr]
    assert store.claim_next(["other-job"], NOW, None) is None


def test_an_insert_with_a_claim_takes_the_next_runnable_run_in_the_same_commit() -> None:
    commits: list[int] = []
    store = new_store(commits=commits)
    store.insert_run(new_run("old", key="k"))
    before = len(commits)
    run, created, claimed = store.insert_run(new_run("new"), Claim(("j",), "v2"))
    assert len(commits) - before == 1 and created and run.id == "new"
    assert claimed is not None and claimed.id == "old"  # FIFO: the run that waited longer goes first
    assert claimed.status is RunStatus.RUNNING and claimed.attempt == 1 and claimed.app_version == "v2"
    assert store.get_run("new").status is RunStatus.PENDING  # type: ignore[union-attr]
    _, _, keyed = store.insert_run(new_run("same-key", key="k"), Claim(("j",), None))
    assert keyed is not None and keyed.id == "new"  # "same-key" waits for "old", which holds key k
    _, _, other = store.insert_run(new_run("elsewhere", job="other"), Claim(("absent",), None))
    assert other is None  # only the claim's jobs are taken
    _, created_later, none = store.insert_run(new_run("later", key="k"), Claim(("j",), None))
    assert created_later and none is None  # every pending run of job j waits for key k


def test_engine_tables_coexist_with_application_tables(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    app = sqlite3.connect(path)
    app.execute("CREATE TABLE runs (id TEXT)")  # an app table with a tempting name
    app.commit()
    store = new_store(path)
    store.insert_run(new_run("r"))
    assert app.execute("SELECT COUNT(*) FROM runs").fetchone() == (0,)
    assert store.get_run("r") is not None
