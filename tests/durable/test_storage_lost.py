"""A flush that fails after COMMIT (a full disk, a QuotaExceededError in OPFS) loses the engine instance, never
a committed step: the step stays completed, the run is not failed, the instance refuses further work, and a
fresh engine on the same file verifies the database and finishes the run with every row exactly once."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from tests.durable.enginekit import FakeClock, Ids, Recorder, Total, settle, status_is

from durable import (
    DatabaseCorruptError,
    Engine,
    RunStatus,
    StepContext,
    StorageLostError,
    define_job,
)
from durable.store import Store


class Count(BaseModel):
    n: int = 5


class FlakyFlush:
    """An `on_commit` that fails once, at the first COMMIT after `arm()`."""

    def __init__(self) -> None:
        self.armed = False
        self.failures = 0

    def arm(self) -> None:
        self.armed = True

    def __call__(self) -> None:
        if self.armed:
            self.armed = False
            self.failures += 1
            raise OSError("QuotaExceededError: the disk is full")


def batch_job(flush: FlakyFlush | None = None, fail_at: int | None = None) -> Any:
    """One row per `step.transaction`, like the importer's batches; the flush after batch `fail_at` fails."""

    @define_job("batches", input=Count, output=Total)
    async def job(step: StepContext, payload: Count) -> Total:
        def prepare(conn: sqlite3.Connection) -> None:
            conn.execute("CREATE TABLE rows (n INTEGER)")  # no key: a batch written twice would show

        await step.transaction("prepare", prepare)
        for i in range(payload.n):

            def write(conn: sqlite3.Connection, i: int = i) -> int:
                conn.execute("INSERT INTO rows VALUES (?)", (i,))
                if i == fail_at and flush is not None:
                    flush.arm()
                return i

            await step.transaction(f"batch-{i}", write)
        return Total(total=payload.n)

    return job


def checkpoint_job(calls: list[int], flush: FlakyFlush | None = None, fail_at: int | None = None) -> Any:
    """`step.run` checkpoints only; `calls` records each time a step's function really runs."""

    @define_job("checkpoints", input=Count, output=Total)
    async def job(step: StepContext, payload: Count) -> Total:
        total = 0
        for i in range(payload.n):

            def add(i: int = i, total: int = total) -> int:
                calls.append(i)
                if i == fail_at and flush is not None:
                    flush.arm()
                return total + i

            total = await step.run(f"add-{i}", add)
        return Total(total=total)

    return job


def table(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT rowid, n FROM rows ORDER BY rowid").fetchall()


def steps(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT ordinal, name, status FROM durable_steps ORDER BY ordinal").fetchall()


def run_row(path: Path) -> tuple[Any, ...]:
    with sqlite3.connect(path) as conn:
        row: tuple[Any, ...] = conn.execute("SELECT status, error FROM durable_runs").fetchone()
        return row


async def lose_storage_during(job: Any, path: Path, flush: FlakyFlush, clock: FakeClock) -> tuple[Engine, str]:
    """Run `job` on `path` until the armed flush fails; return the halted engine and the run id."""
    engine = Engine(path, clock=clock, id_factory=Ids("lost"), on_commit=flush)
    engine.register(job)
    recorder = Recorder()
    engine.on("*", recorder)
    await engine.start()
    with pytest.raises(StorageLostError, match="the disk is full") as caught:
        await engine.trigger_and_wait(job, {"n": 5})
    assert "nothing committed is lost" in str(caught.value)
    assert flush.failures == 1
    assert recorder.of("run:fail") == [] and recorder.of("step:fail") == []
    (run,) = {e.run_id for e in recorder.events}
    return engine, run


async def assert_refuses_work(engine: Engine, job: Any) -> None:
    assert not engine.running
    with pytest.raises(StorageLostError):
        await engine.trigger(job, {"n": 1})
    with pytest.raises(StorageLostError):
        await engine.get_run("any")
    with pytest.raises(StorageLostError):
        await engine.start()
    await engine.stop()  # closes the connection, writes nothing


async def finish_with_fresh_engine(job: Any, path: Path, run_id: str, clock: FakeClock) -> None:
    fresh = Engine(path, clock=clock, id_factory=Ids("fresh"))
    fresh.register(job)
    await fresh.start()
    await settle(lambda: status_is(fresh, run_id, RunStatus.COMPLETED), rounds=2000)
    await fresh.stop()


async def uninterrupted(job: Any, path: Path, clock: FakeClock) -> None:
    engine = Engine(path, clock=clock, id_factory=Ids("clean"))
    engine.register(job)
    await engine.start()
    await engine.trigger_and_wait(job, {"n": 5})
    await engine.stop()


async def test_a_failed_flush_after_a_transaction_step_keeps_it_committed_and_a_fresh_engine_writes_each_row_once(
    tmp_path: Path, clock: FakeClock
) -> None:
    path, flush = tmp_path / "lost.db", FlakyFlush()
    engine, run_id = await lose_storage_during(batch_job(flush, fail_at=2), path, flush, clock)

    assert table(path) == [(1, 0), (2, 1), (3, 2)]
    assert steps(path)[-1] == (3, "batch-2", "completed")  # committed, and not downgraded to failed
    assert run_row(path) == ("running", None)  # not failed by the flush: the next engine resumes it
    await assert_refuses_work(engine, batch_job())

    await finish_with_fresh_engine(batch_job(), path, run_id, clock)
    await uninterrupted(batch_job(), tmp_path / "clean.db", clock)
    assert table(path) == table(tmp_path / "clean.db") == [(i + 1, i) for i in range(5)]
    assert steps(path) == steps(tmp_path / "clean.db")
    assert run_row(path) == ("completed", None)


async def test_a_failed_flush_after_a_checkpoint_step_keeps_it_and_a_fresh_engine_does_not_run_it_again(
    tmp_path: Path, clock: FakeClock
) -> None:
    path, flush, calls = tmp_path / "lost.db", FlakyFlush(), []
    engine, run_id = await lose_storage_during(checkpoint_job(calls, flush, fail_at=2), path, flush, clock)

    assert calls == [0, 1, 2]
    assert steps(path)[-1] == (2, "add-2", "completed")
    assert run_row(path) == ("running", None)
    await assert_refuses_work(engine, checkpoint_job([]))

    await finish_with_fresh_engine(checkpoint_job(calls), path, run_id, clock)
    assert calls == [0, 1, 2, 3, 4]  # add-2 ran once: its committed result was replayed
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT output FROM durable_runs").fetchone() == ('{"total":10}',)


async def test_a_failed_flush_after_a_trigger_halts_the_engine_and_keeps_the_run(
    tmp_path: Path, clock: FakeClock
) -> None:
    path, flush, heard = tmp_path / "lost.db", FlakyFlush(), []
    engine = Engine(path, clock=clock, id_factory=Ids("lost"), on_commit=flush, on_storage_lost=heard.append)
    engine.register(batch_job())
    await engine.start()
    flush.arm()
    with pytest.raises(StorageLostError):
        await engine.trigger(batch_job(), {"n": 5})
    assert [lost.reason for lost in heard] == ["QuotaExceededError: the disk is full"]  # told once
    await assert_refuses_work(engine, batch_job())
    assert len(heard) == 1
    with sqlite3.connect(path) as conn:
        # claimed in the trigger's commit (the slot was free): a fresh engine requeues it and runs it
        (run_id,) = conn.execute("SELECT id FROM durable_runs WHERE status = 'running'").fetchone()
    await finish_with_fresh_engine(batch_job(), path, run_id, clock)
    assert table(path) == [(i + 1, i) for i in range(5)]


async def test_a_damaged_database_is_not_resumed(tmp_path: Path, clock: FakeClock) -> None:
    path, flush = tmp_path / "lost.db", FlakyFlush()
    engine, _ = await lose_storage_during(batch_job(flush, fail_at=2), path, flush, clock)
    await engine.stop()
    with sqlite3.connect(path) as conn:
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'rows'").fetchone()
    with open(path, "r+b") as f:  # scribble over the rows table's page, as a torn write would
        f.seek((root - 1) * page_size)
        f.write(b"\xff" * 64)

    fresh = Engine(path, clock=clock, id_factory=Ids("fresh"))
    fresh.register(batch_job())
    with pytest.raises(DatabaseCorruptError, match="integrity check"):
        await fresh.start()
    assert run_row(path) == ("running", None)  # left as it was
    await fresh.stop()


def test_a_completed_step_row_is_never_overwritten(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from durable import Step, StepKind, StepStatus
    from durable.records import ErrorInfo
    from durable.store import NewRun

    now = datetime(2025, 1, 1, tzinfo=UTC)
    store = Store.open(str(tmp_path / "s.db"))
    store.migrate(now)
    store.insert_run(NewRun("r", "j", "{}", None, None, {}, now))
    done = Step("r", 0, "s", StepKind.RUN, StepStatus.COMPLETED, None, None, 1, now, now)
    failed = Step("r", 0, "s", StepKind.RUN, StepStatus.FAILED, None, ErrorInfo("E", "m", "s"), 2, now, now)
    with store.transaction() as tx:
        tx.save_step(failed, None)
    with store.transaction() as tx:
        tx.save_step(done, "7")
    with store.transaction() as tx:
        tx.save_step(failed, None)
    (step,) = store.get_steps("r")
    assert (step.status, step.output, step.attempts) == (StepStatus.COMPLETED, 7, 1)
    store.close()


def read_only_at_the_end(once: list[bool]) -> Any:
    """`batch_job`, but the storage turns read-only (SQLite's `query_only`) after the last batch, before the
    run's end is recorded, the first time only: both the end and the failure in its place cannot be written."""
    inner = batch_job()

    @define_job("batches", input=Count, output=Total)
    async def job(step: StepContext, payload: Count) -> Total:
        held: list[sqlite3.Connection] = []
        await step.transaction("hold", lambda conn: held.append(conn))
        total = await inner.fn(step, payload)
        if once and held:
            once.clear()
            held[0].execute("PRAGMA query_only = 1")
        return total

    return job


async def test_a_run_whose_end_cannot_be_written_halts_the_engine_and_a_fresh_one_completes_it(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Neither the run's end nor a failure in its place can be written: its waiter hears StorageLostError (it
    waited for ever before), the engine refuses work, the run stays running, and a fresh engine completes it
    from its committed batches, each row once."""
    path, job, heard = tmp_path / "end.db", read_only_at_the_end([True]), []
    engine = Engine(path, clock=clock, id_factory=Ids("end"), on_storage_lost=heard.append)
    engine.register(job)
    await engine.start()
    with pytest.raises(StorageLostError, match="attempt to write a readonly database"):
        await engine.trigger_and_wait(job, {"n": 5}, timeout=120)  # a bound, not a measure: it answers at once
    # no flush failed, yet the application hears it: the engine stopped for good
    assert [lost.reason for lost in heard] == ["attempt to write a readonly database"]
    await assert_refuses_work(engine, job)
    assert run_row(path) == ("running", None)
    with sqlite3.connect(path) as conn:
        (run_id,) = conn.execute("SELECT id FROM durable_runs").fetchone()
    await finish_with_fresh_engine(job, path, run_id, clock)
    assert table(path) == [(i + 1, i) for i in range(5)]
    assert [status for _, _, status in steps(path)] == ["completed"] * 7


async def test_a_failing_storage_lost_listener_does_not_hide_that_the_engine_stopped(
    tmp_path: Path, clock: FakeClock
) -> None:
    def listener(lost: StorageLostError) -> None:
        raise RuntimeError("the page is gone")

    path, flush = tmp_path / "lost.db", FlakyFlush()
    engine = Engine(path, clock=clock, id_factory=Ids("lost"), on_commit=flush, on_storage_lost=listener)
    engine.register(batch_job())
    await engine.start()
    flush.arm()
    with pytest.raises(StorageLostError):
        await engine.trigger(batch_job(), {"n": 5})
    await assert_refuses_work(engine, batch_job())
