"""Undoing an import on CPython with a real engine and SQLite file: exactly the rows the run inserted (its
batches and its fixed rejects) go, even after another run appended to the same table; a replace's undo puts
the replaced table back with its unique index; refusals say why."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from durable import Engine, RunFailedError
from importer import FileByteSource, ImportEnv, make_import_job
from importer.fixes import Plan, make_fix_job
from importer.undo import make_undo_job

READING = {"encoding": "utf-8", "delimiter": ",", "quotechar": '"', "has_header": True, "decimal_comma": False}
COLUMNS = [{"source": 0, "name": "id", "type": "integer", "unique": True}, {"source": 1, "name": "amount",
                                                                           "type": "integer"}]


def write(path: Path, ids: range, bad: frozenset[int] = frozenset()) -> Path:
    path.write_text("id,amount\n" + "".join(f"{i},{'x' if i in bad else i}\n" for i in ids), encoding="utf-8")
    return path


class Db:
    """An engine with the import, fix and undo jobs over files in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "app.sqlite"
        self.sources: dict[str, FileByteSource] = {}

    async def __aenter__(self) -> Db:
        self.imports = make_import_job(ImportEnv(staging_dir=str(self.folder), sources=self.sources,
                                                 max_batch_rows=40))
        self.undo, self.fix = make_undo_job(), make_fix_job()
        self.engine = Engine(str(self.path))
        for job in (self.imports, self.undo, self.fix):
            self.engine.register(job)
        await self.engine.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.engine.stop()

    async def load(self, path: Path, **options: Any) -> str:
        self.sources[path.name] = FileByteSource(path)
        payload = {"source_id": path.name, "file_name": path.name, "size": path.stat().st_size,
                   "options": {**READING, "columns": COLUMNS, **options}}
        triggered = await self.engine.trigger(self.imports, payload)
        for _ in range(500):
            run = await self.engine.get_run(triggered.run.id)
            if run is not None and run.status.value in ("completed", "failed"):
                assert run.status.value == "completed", run.error
                return run.id
            await asyncio.sleep(0.01)
        raise AssertionError("import did not end")

    async def undo_run(self, run_id: str, table: str) -> Any:
        return await self.engine.trigger_and_wait(self.undo, {"run_id": run_id, "table": table})

    def ids(self, table: str = "t") -> list[int]:
        with sqlite3.connect(self.path) as conn:
            return [i for (i,) in conn.execute(f'SELECT id FROM "{table}" ORDER BY id')]


def test_undoing_the_first_of_two_appends_leaves_exactly_the_seconds_rows(tmp_path: Path) -> None:
    async def go() -> None:
        async with Db(tmp_path) as db:
            first = await db.load(write(tmp_path / "a.csv", range(1, 101), bad=frozenset({7, 50})), table="t")
            second = await db.load(write(tmp_path / "b.csv", range(101, 181)), table="t", if_exists="append")
            prepare = next(s for s in await db.engine.get_steps(first) if s.name == "prepare")
            fixed = await db.engine.trigger_and_wait(db.fix, {
                "run_id": first, "plan": Plan.model_validate(prepare.output).model_dump(mode="json"),
                "action": "insert", "edits": {8: ["7", "7"]}})  # row 8 is id 7: fixed into the table
            assert fixed.inserted == 1 and 7 in db.ids()
            out = await db.undo_run(first, "t")
            assert (out.rows_removed, out.restored) == (99, False)  # 98 from its batches, 1 fixed
            assert db.ids() == list(range(101, 181))
            notes = [e.message for e in (await db.engine.get_logs(first)).items]
            assert any(m.startswith("Undone by run") and "removed 99 rows from 't'" in m for m in notes)
            with pytest.raises(RunFailedError, match="undone already"):
                await db.undo_run(first, "t")
            assert (await db.undo_run(second, "t")).rows_removed == 80 and db.ids() == []

    asyncio.run(go())


def test_undoing_a_replace_puts_the_old_table_back_with_its_unique_index(tmp_path: Path) -> None:
    async def go() -> None:
        async with Db(tmp_path) as db:
            await db.load(write(tmp_path / "old.csv", range(1, 51)), table="t")
            replace = await db.load(write(tmp_path / "new.csv", range(500, 530)), table="t", if_exists="replace")
            assert db.ids() == list(range(500, 530))
            later = await db.load(write(tmp_path / "more.csv", range(600, 610)), table="t", if_exists="append")
            with pytest.raises(RunFailedError, match=f"Run {later} put rows in 't' after this import replaced it"):
                await db.undo_run(replace, "t")
            await db.undo_run(later, "t")
            out = await db.undo_run(replace, "t")
            assert out.restored and out.rows_removed == 30
            assert db.ids() == list(range(1, 51))
            with sqlite3.connect(db.path) as conn:
                with pytest.raises(sqlite3.IntegrityError):
                    conn.execute('INSERT INTO "t" (id, amount) VALUES (1, 1)')  # the unique index is back
                names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            assert not any(n.startswith("importer_replaced_") for n in names)

    asyncio.run(go())


def test_an_older_runs_undo_after_a_replace_touches_only_the_kept_table(tmp_path: Path) -> None:
    async def go() -> None:
        async with Db(tmp_path) as db:
            old = await db.load(write(tmp_path / "old.csv", range(1, 41)), table="t")
            replace = await db.load(write(tmp_path / "new.csv", range(900, 960)), table="t", if_exists="replace")
            assert (await db.undo_run(old, "t")).rows_removed == 40
            assert db.ids() == list(range(900, 960))  # the new table's rowids 1..40 were not touched
            await db.undo_run(replace, "t")
            assert db.ids() == []  # the old table came back without the old run's rows

    asyncio.run(go())


def test_undoing_the_import_that_made_a_table_drops_it_unless_it_was_there_before(tmp_path: Path) -> None:
    async def go() -> None:
        async with Db(tmp_path) as db:
            made = await db.load(write(tmp_path / "a.csv", range(1, 31)), table="t")
            out = await db.undo_run(made, "t")
            assert (out.rows_removed, out.dropped) == (30, True)
            with sqlite3.connect(db.path) as conn:
                assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 't'").fetchone() == (0,)
            notes = [e.message for e in (await db.engine.get_logs(made)).items]
            assert any("dropped the table it had made" in m for m in notes)
            with sqlite3.connect(db.path) as conn:  # a table the user made: an append's undo leaves it, empty
                conn.execute('CREATE TABLE "mine" (id INTEGER, amount INTEGER)')
            appended = await db.load(write(tmp_path / "b.csv", range(1, 11)), table="mine", if_exists="append")
            out = await db.undo_run(appended, "mine")
            assert (out.rows_removed, out.dropped) == (10, False) and db.ids("mine") == []
            again = await db.load(write(tmp_path / "c.csv", range(1, 6)), table="t")  # the name is free again
            assert db.ids() == [1, 2, 3, 4, 5] and again

    asyncio.run(go())
