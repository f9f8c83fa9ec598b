"""A step that fails because the storage is full or failing (SQLite's SQLITE_FULL / SQLITE_IOERR, an OSError
ENOSPC / EIO from a file write) fails its run with a sentence that says so and what to do, not the raw
"database or disk is full" or "[Errno 28] No space left on device"; retry after space is freed completes."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

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


@pytest.mark.parametrize(("error", "start"), [
    (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), "The storage is full (No space left on device): "),
    (OSError(errno.EIO, os.strerror(errno.EIO)), "The storage could not be written (Input/output error): "),
    (sqlite3.OperationalError("no such table: x"), "no such table: x"),
    (ValueError("bad value"), "bad value"),
])
def test_storage_errors_read_as_sentences_and_others_keep_their_text(error: BaseException, start: str) -> None:
    assert error_message(error).startswith(start)
