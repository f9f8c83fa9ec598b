"""Fixing rejected rows on CPython with a real engine and SQLite file: edited rows are checked with the
import's own rules; the fix-rejects job inserts the rows that now pass exactly once (their rowids in the
ledger under the import run), keeps the rest with new reasons, applies bulk fixes, discards, and notes every
fix in the import run's log."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from durable import Engine, RunFailedError
from importer import FileByteSource, ImportEnv, make_import_job
from importer.fixes import Plan, check_rows, field_names, make_fix_job

READING = {"encoding": "utf-8", "delimiter": ",", "quotechar": '"', "has_header": True, "decimal_comma": False}
COLUMNS = [{"source": 0, "name": "id", "type": "integer", "unique": True},
           {"source": 1, "name": "amount", "type": "real"}, {"source": 2, "name": "note", "skip": True}]
ROWS = 40
BAD = {5: "x5", 12: "lots", 20: "", 33: "3;3"}  # row index -> a bad amount ("" is fine: NULL)


def source(path: Path) -> Path:
    lines = ["id,amount,note"] + [f"{i},{BAD.get(i, f'{i}.5')},n{i}" for i in range(ROWS)] + ["7,7.5,dup"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Harness:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.db = tmp_path / "app.sqlite"

    async def __aenter__(self) -> Harness:
        src = FileByteSource(source(self.tmp_path / "amounts.csv"))
        self.import_job = make_import_job(ImportEnv(staging_dir=str(self.tmp_path), sources={"s": src}))
        self.fix_job = make_fix_job()
        self.engine = Engine(str(self.db))
        self.engine.register(self.import_job)
        self.engine.register(self.fix_job)
        await self.engine.start()
        payload = {"source_id": "s", "file_name": src.name, "size": src.size,
                   "options": {**READING, "columns": COLUMNS}}  # fmt: skip
        self.output = await self.engine.trigger_and_wait(self.import_job, payload)
        self.import_run = (await self.engine.list_runs(job="import-csv")).items[0].id
        prepare = next(s for s in await self.engine.get_steps(self.import_run) if s.name == "prepare")
        self.plan = Plan.model_validate(prepare.output)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.engine.stop()

    async def fix(self, **params: Any) -> Any:
        payload = {"run_id": self.import_run, "plan": self.plan.model_dump(mode="json"), **params}
        return await self.engine.trigger_and_wait(self.fix_job, payload)

    def query(self, statement: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute(statement, args).fetchall()

    def rejects(self) -> dict[int, tuple[str, str]]:
        return {n: (raw, reasons) for n, raw, reasons in self.query(
            "SELECT row_number, raw, reasons FROM importer_rejects WHERE run_id = ?", self.import_run)}


def row_of(index: int) -> int:
    return index + 2  # the header is row 1


def test_edited_rows_are_checked_with_the_imports_own_rules(tmp_path: Path) -> None:
    async def go() -> None:
        async with Harness(tmp_path) as h:
            assert h.output.rows_rejected == 4  # x5, lots, 3;3 and the duplicate id 7
            assert field_names(h.plan) == ["id", "amount", "note"]
            with sqlite3.connect(h.db) as conn:
                reasons = check_rows(conn, h.plan, [(row_of(5), ["5", "5.25", "n5"]), (row_of(12), ["12", "ten", ""]),
                                                    (row_of(ROWS), ["3", "7.5", "dup"])])
            assert reasons == [[], [f"Row {row_of(12)}: 'ten' is not a number in column 'amount'"],
                               [f"Row {row_of(ROWS)}: '3' is already in column 'id', which must be unique"]]
            assert len(h.rejects()) == 4  # checking writes nothing

    asyncio.run(go())


def test_insert_fixed_rows_inserts_those_that_pass_once_and_keeps_the_rest_with_new_reasons(tmp_path: Path) -> None:
    async def go() -> None:
        async with Harness(tmp_path) as h:
            edits = {row_of(5): ["5", "5.25", "n5"], row_of(12): ["12", "ten", "n12"], row_of(ROWS): ["40", "1", "d"]}
            out = await h.fix(action="insert", edits=edits, chunk_rows=2)
            assert (out.inserted, out.still_rejected, out.discarded) == (2, 2, 0)
            ids = sorted(i for (i,) in h.query(f'SELECT id FROM "{h.output.table}"'))
            assert ids == sorted([i for i in range(ROWS) if i not in (5, 12, 33)] + [5, 40])
            left = h.rejects()
            assert sorted(left) == [row_of(12), row_of(33)]
            assert '"ten"' in left[row_of(12)][0] and "ten" in left[row_of(12)][1]  # the edit is kept
            ranges = h.query("SELECT kind, last_rowid - first_rowid + 1 FROM importer_inserted WHERE run_id = ? "
                             "AND kind = 'fix'", h.import_run)
            assert sum(n for _, n in ranges) == 2
            notes = [e.message for e in (await h.engine.get_logs(h.import_run)).items]
            assert any(m.startswith("Inserted 1 fixed row into amounts") for m in notes), notes
            again = await h.fix(action="insert")  # nothing passes now: nothing doubles
            assert again.inserted == 0 and len(h.query(f'SELECT id FROM "{h.output.table}"')) == ROWS - 3 + 2

    asyncio.run(go())


def test_bulk_set_to_null_then_insert_and_discard(tmp_path: Path) -> None:
    async def go() -> None:
        async with Harness(tmp_path) as h:
            to_null = {"field": 1, "op": "set", "value": None}
            saved = await h.fix(action="save", rows=[row_of(12), row_of(33)], bulk=to_null)
            assert saved.still_rejected == 2 and all(reasons == "[]" for _, reasons in
                                                     (h.rejects()[row_of(12)], h.rejects()[row_of(33)]))
            replaced = await h.fix(action="save", rows=[row_of(5)], bulk={"field": 1, "op": "replace", "find": "x",
                                                                          "replace": "0."})
            assert replaced.still_rejected == 1 and h.rejects()[row_of(5)][1] == "[]"
            inserted = await h.fix(action="insert")
            assert inserted.inserted == 3
            assert h.query(f'SELECT amount FROM "{h.output.table}" WHERE id IN (5, 12, 33) ORDER BY id') == [
                (0.5,), (None,), (None,)]
            gone = await h.fix(action="discard", rows=[row_of(ROWS)])
            assert gone.discarded == 1 and h.rejects() == {}

    asyncio.run(go())


def test_fixing_into_a_table_that_is_gone_fails_with_a_sentence(tmp_path: Path) -> None:
    async def go() -> None:
        async with Harness(tmp_path) as h:
            h.query(f'DROP TABLE "{h.output.table}"')
            try:
                await h.fix(action="insert")
            except RunFailedError as exc:
                assert "no longer exists" in exc.error_message
            else:
                raise AssertionError("the fix ran into a dropped table")
            assert len(h.rejects()) == 4

    asyncio.run(go())
