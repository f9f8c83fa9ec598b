"""A step that fails because the storage is full or failing (SQLite's SQLITE_FULL / SQLITE_IOERR, an OSError
ENOSPC / EIO from a file write) fails its run with a sentence that says so and what to do, not the raw
"database or disk is full" or "[Errno 28] No space left on device"; retry after space is freed completes."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from tests.durable.enginekit import FakeClock, Ids, Total, settle, status_is

from durable import Engine, RunStatus, StepContext, define_job
from durable.errors import error_message


class Blob(BaseModel):
    size: int = 1 << 20


@define_job("blobs", input=Blob, output=Total)
async def blobs(step: StepContext, payload: Blob) -> Total:
    def prepare(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE blobs (b BLOB)")

    def write(conn: sqlite3.Connection) -> int:
        conn.execute("INSERT INTO blobs VALUES (zeroblob(?))", (payload.size,))
        return payload.size

    await step.transaction("prepare", prepare)
    return Total(total=await step.transaction("write", write))


async def test_a_full_database_fails_the_run_with_a_sentence_and_retry_completes(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "full.sqlite", isolation_level=None)
    engine = Engine(conn, clock=FakeClock(), id_factory=Ids("full"))
    engine.register(blobs)
    await engine.start()
    try:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 8}")  # room for the run's rows, not for a 1 MB blob
        run = (await engine.trigger(blobs, {})).run
        await settle(lambda: status_is(engine, run.id, RunStatus.FAILED), rounds=2000)
        failed = await engine.get_run(run.id)
        assert failed is not None and failed.error is not None
        assert failed.error.message.startswith("The storage is full (database or disk is full): the step was not saved")
        assert failed.error.step == "write"
        assert [s.status.value for s in await engine.get_steps(run.id)] == ["completed", "failed"]

        conn.execute("PRAGMA max_page_count = 1073741823")  # space freed
        await engine.retry(run.id)
        await settle(lambda: status_is(engine, run.id, RunStatus.COMPLETED), rounds=2000)
        assert conn.execute("SELECT count(*), sum(length(b)) FROM blobs").fetchone() == (1, 1 << 20)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        await engine.stop()
        conn.close()


class Report(BaseModel):
    text: str


def fills_up_at_the_end(conn: sqlite3.Connection, full: list[bool]) -> Any:
    """A step, then the storage fills up (SQLite's `max_page_count` at the pages in use) while `full` holds:
    the run's end, with its 200 KB output, does not fit; a failure in its place does."""

    @define_job("fills-up", input=Blob, output=Report)
    async def job(step: StepContext, payload: Blob) -> Report:
        def write(conn: sqlite3.Connection) -> int:
            conn.execute("CREATE TABLE blobs (b BLOB)")
            conn.execute("INSERT INTO blobs VALUES (zeroblob(10))")
            return 10

        await step.transaction("write", write)
        if full:
            conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
        return Report(text="x" * 200_000)

    return job


async def test_a_run_whose_end_does_not_fit_fails_saying_so_and_retry_completes(tmp_path: Path) -> None:
    """The transaction that records a run's end is a write like any other: when it fails (the storage full),
    the run fails with the sentence instead of staying running with nobody told (it did before: the page and
    `trigger_and_wait` waited for ever); its committed step stands, and a retry replays it and completes."""
    conn = sqlite3.connect(tmp_path / "end.sqlite", isolation_level=None)
    full = [True]
    job = fills_up_at_the_end(conn, full)
    engine = Engine(conn, clock=FakeClock(), id_factory=Ids("end"))
    engine.register(job)
    await engine.start()
    try:
        run = (await engine.trigger(job, {})).run
        await settle(lambda: status_is(engine, run.id, RunStatus.FAILED), rounds=2000)
        failed = await engine.get_run(run.id)
        assert failed is not None and failed.error is not None and failed.output is None
        assert failed.error.message.startswith("The storage is full (database or disk is full): ")
        assert [(s.name, s.status.value) for s in await engine.get_steps(run.id)] == [("write", "completed")]

        full.clear()
        conn.execute("PRAGMA max_page_count = 1073741823")  # space freed
        await engine.retry(run.id)
        await settle(lambda: status_is(engine, run.id, RunStatus.COMPLETED), rounds=2000)
        done = await engine.get_run(run.id)
        assert done is not None and done.output == {"text": "x" * 200_000}
        assert [s.attempts for s in await engine.get_steps(run.id)] == [1]  # replayed, not written again
        assert conn.execute("SELECT count(*) FROM blobs").fetchone() == (1,)
    finally:
        await engine.stop()
        conn.close()


@pytest.mark.parametrize(("error", "start"), [
    (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), "The storage is full (No space left on device): "),
    (OSError(errno.EIO, os.strerror(errno.EIO)), "The storage could not be written (Input/output error): "),
    (sqlite3.OperationalError("no such table: x"), "no such table: x"),
    (ValueError("bad value"), "bad value"),
])
def test_storage_errors_read_as_sentences_and_others_keep_their_text(error: BaseException, start: str) -> None:
    assert error_message(error).startswith(start)
