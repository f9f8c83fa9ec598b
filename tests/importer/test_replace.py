"""Replace through the job on a real SQLite file: the old table stays as it was until the new rows are complete.

A replace loads a shadow table (`importer_replace_<run id>`) that takes the old table's place in the last
batch's transaction; a failed or cancelled replace leaves the old table alone, a retry continues into the same
shadow, deleting the run drops the shadow, and the user's table list never shows it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any

from durable import Engine, Run, RunStatus
from importer import FileByteSource, ImportEnv, make_import_job
from importer.names import shadow_table_name, unique_index_name
from importer.sql import table_names

ROWS = 1_000
COLUMNS = [{"source": 0, "name": "id", "type": "integer", "unique": True}, {"source": 1, "name": "name"}]
READING = {"encoding": "utf-8", "delimiter": ",", "quotechar": '"', "has_header": True, "decimal_comma": False}
REPLACE = {**READING, "table": "people", "if_exists": "replace", "columns": COLUMNS}
OLD_ROWS = [(-1, "old one"), (-2, "old two")]


def write_source(path: Path, *, broken_tail: bool = False) -> Path:
    """ROWS new rows; with `broken_tail`, the last row opens a quote it never closes (a file-level error
    that only the batch reaching the end of the file meets)."""
    lines = ["id,name\n", *(f"{i},new {i}\n" for i in range(ROWS))]
    lines.append(f'{ROWS},"new {ROWS}\n' if broken_tail else f"{ROWS},new {ROWS}\n")
    path.write_text("".join(lines))
    return path


NEW_ROWS = [(i, f"new {i}") for i in range(ROWS + 1)]


class Harness:
    """A real engine on tmp_path/app.sqlite with the import job; waits on run events, never on sleeps."""

    def __init__(self, tmp_path: Path, source: Path) -> None:
        self.db = tmp_path / "app.sqlite"
        self.staging = tmp_path / "staging"
        self.source = FileByteSource(source)
        env = ImportEnv(staging_dir=str(self.staging), sources={"s": self.source}, max_batch_rows=100, slice_rows=50)
        self.job = make_import_job(env)
        self.engine = Engine(str(self.db))
        self.engine.register(self.job)
        self.ended: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.steps: list[str] = []
        for kind in ("run:complete", "run:fail", "run:cancel"):
            self.engine.on(kind, lambda event: self.ended[event.run_id].set())
        self.engine.on("step:complete", lambda event: self.steps.append(event.step))

    async def trigger(self, options: dict[str, Any]) -> str:
        payload = {"source_id": "s", "file_name": "people.csv", "size": self.source.size, "options": options}
        run, _ = await self.engine.trigger(self.job, payload)
        return run.id

    async def end(self, run_id: str) -> Run:
        await asyncio.wait_for(self.ended[run_id].wait(), 60)
        run = await self.engine.get_run(run_id)
        assert run is not None
        return run

    async def retry(self, run_id: str) -> Run:
        self.ended[run_id].clear()
        await self.engine.retry(run_id)
        return await self.end(run_id)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute(sql).fetchall()

    def tables(self) -> list[str]:
        with sqlite3.connect(self.db) as conn:
            return table_names(conn)

    def schema(self) -> set[str]:
        return {name for (name,) in self.query("SELECT name FROM sqlite_master")}


def old_table(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute('CREATE TABLE people ("id" INTEGER, "name" TEXT, "extra" TEXT)')
        conn.executemany("INSERT INTO people (id, name) VALUES (?, ?)", OLD_ROWS)


def test_a_replace_ends_with_exactly_the_new_rows_and_unique_indexes_under_the_final_names(tmp_path):
    async def go() -> None:
        h = Harness(tmp_path, write_source(tmp_path / "people.csv"))
        old_table(h.db)
        await h.engine.start()
        try:
            run = await h.end(await h.trigger(REPLACE))
            assert run.status is RunStatus.COMPLETED, run.error
            assert sum(s.startswith("batch-") for s in h.steps) > 2  # several batches went into the shadow
            assert h.query("SELECT id, name FROM people ORDER BY rowid") == NEW_ROWS
            assert [r[1] for r in h.query("PRAGMA table_info(people)")] == ["id", "name"]
            indexes = h.query("PRAGMA index_list(people)")
            assert [(r[1], r[2]) for r in indexes] == [(unique_index_name("people", "id"), 1)]
            assert not any(name.startswith("importer_replace_") for name in h.schema())
            assert not any(unique_index_name(shadow_table_name(run.id), "id") == n for n in h.schema())
            with sqlite3.connect(h.db) as conn:
                try:
                    conn.execute("INSERT INTO people (id, name) VALUES (5, 'twice')")
                except sqlite3.IntegrityError:
                    pass
                else:
                    raise AssertionError("the unique index does not hold after the swap")
        finally:
            await h.engine.stop()

    asyncio.run(go())


def test_a_cancelled_replace_keeps_the_old_table_hides_its_shadow_and_retry_completes(tmp_path):
    async def go() -> None:
        h = Harness(tmp_path, write_source(tmp_path / "people.csv"))
        old_table(h.db)
        await h.engine.start()
        try:
            run_id = ""
            cancels: list[asyncio.Task[Run]] = []

            def cancel_after_two_batches(event: Any) -> None:
                if event.step == "batch-1":  # runs before the job's next step: the cancel lands between batches
                    cancels.append(asyncio.ensure_future(h.engine.cancel(run_id)))

            h.engine.on("step:complete", cancel_after_two_batches)
            run_id = await h.trigger(REPLACE)
            run = await h.end(run_id)
            assert run.status is RunStatus.CANCELLED
            assert h.query("SELECT id, name FROM people ORDER BY rowid") == OLD_ROWS
            shadow = shadow_table_name(run_id)
            assert h.query(f'SELECT count(*) FROM "{shadow}"') == [(200,)]  # batch-0 and batch-1 are kept
            assert h.tables() == ["people"]  # the user's list never shows the shadow

            run = await h.retry(run_id)
            assert run.status is RunStatus.COMPLETED, run.error
            assert h.query("SELECT id, name FROM people ORDER BY rowid") == NEW_ROWS
            assert run.output["rows_accepted"] == ROWS + 1
            assert shadow not in h.schema() and h.tables() == ["people"]
        finally:
            await h.engine.stop()

    asyncio.run(go())


def test_a_replace_that_fails_in_a_later_batch_keeps_the_old_table_and_retry_continues_into_its_shadow(tmp_path):
    async def go() -> None:
        h = Harness(tmp_path, write_source(tmp_path / "people.csv", broken_tail=True))
        old_table(h.db)
        await h.engine.start()
        try:
            run_id = await h.trigger(REPLACE)
            run = await h.end(run_id)
            assert run.status is RunStatus.FAILED and run.error is not None
            assert run.error.type == "UnterminatedQuoteError" and run.error.step not in ("prepare", "batch-0")
            assert h.query("SELECT id, name FROM people ORDER BY rowid") == OLD_ROWS
            assert [r[1] for r in h.query("PRAGMA table_info(people)")] == ["id", "name", "extra"]
            shadow = shadow_table_name(run_id)
            assert h.query(f'SELECT count(*) FROM "{shadow}"')[0][0] >= 100
            assert h.tables() == ["people"]

            (staged,) = h.staging.iterdir()  # the staged copy is repaired (the closing quote was lost in transit)
            staged.write_bytes(staged.read_bytes().replace(f',"new {ROWS}\n'.encode(), f',"new {ROWS}"'.encode()))
            run = await h.retry(run_id)
            assert run.status is RunStatus.COMPLETED, run.error
            assert h.query("SELECT id, name FROM people ORDER BY rowid") == NEW_ROWS
            assert shadow not in h.schema()
        finally:
            await h.engine.stop()

    asyncio.run(go())


def test_deleting_a_failed_replace_drops_its_shadow_and_keeps_the_old_table(tmp_path):
    async def go() -> None:
        h = Harness(tmp_path, write_source(tmp_path / "people.csv", broken_tail=True))
        old_table(h.db)
        await h.engine.start()
        try:
            run_id = await h.trigger(REPLACE)
            assert (await h.end(run_id)).status is RunStatus.FAILED
            assert shadow_table_name(run_id) in h.schema()
            await h.engine.delete(run_id)
            assert not any(name.startswith("importer_replace_") for name in h.schema())
            assert h.query("SELECT id, name FROM people ORDER BY rowid") == OLD_ROWS
        finally:
            await h.engine.stop()

    asyncio.run(go())


def test_a_replace_of_a_table_that_does_not_exist_yet_creates_it_at_the_end(tmp_path):
    async def go() -> None:
        h = Harness(tmp_path, write_source(tmp_path / "people.csv"))
        await h.engine.start()
        try:
            run = await h.end(await h.trigger(REPLACE))
            assert run.status is RunStatus.COMPLETED, run.error
            assert h.query("SELECT id, name FROM people ORDER BY rowid") == NEW_ROWS
            assert h.tables() == ["people"]
        finally:
            await h.engine.stop()

    asyncio.run(go())
