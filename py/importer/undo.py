"""Undoing an import: the durable "undo-import" job removes exactly the rows one import run put in its table
(its batches and the rejects later fixed into it, from the inserted-rows ledger), even after other runs
appended to the same table, or puts back the table a replace import replaced, in ONE transaction; it marks
the run undone and notes it in the run's log. An undone run can be imported again from its staged copy
(the worker's `runs.redo`).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from durable import StepContext, define_job
from importer import sql
from importer.errors import ImporterError
from importer.job_names import UNDO_JOB_NAME


class UndoError(ImporterError):
    """The import cannot be undone; the message says why and what to do."""


class UndoInput(BaseModel):
    """The import run to undo, and the name of its job (for the note in its log)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on first use

    run_id: str = Field(min_length=1)
    import_job: str = "import-csv"
    table: str = Field(min_length=1)


class UndoOutput(BaseModel):
    """What the undo did: rows removed from `table`, whether a replaced table was put back, and whether the
    table the import had created was dropped (left empty, no other run's rows in it)."""

    model_config = ConfigDict(defer_build=True)  # built on first use

    table: str
    rows_removed: int
    restored: bool
    dropped: bool = False


def make_undo_job() -> Any:
    """Return the "undo-import" job."""

    @define_job(UNDO_JOB_NAME, input=UndoInput, output=UndoOutput)
    async def undo_import(step: StepContext, payload: UndoInput) -> UndoOutput:
        done: dict[str, Any] = await step.transaction("undo", functools.partial(_undo, step, payload))
        return UndoOutput.model_validate(done)

    return undo_import


def _undo(step: StepContext, payload: UndoInput, conn: Any) -> dict[str, Any]:
    run_id, table = payload.run_id, payload.table
    if sql.undone_runs(conn, [run_id]):
        raise UndoError("This import was undone already.", hint="Redo it to import its rows again.")
    replaced = sql.replaced_record(conn, run_id)
    if replaced is not None:
        later = sql.other_runs_in(conn, table, run_id)
        if later:
            raise UndoError(f"Run {later[0]} put rows in '{table}' after this import replaced it.",
                            hint="Undo that run first; undoing this one would take its rows away too.")
        removed = sql.count_rows(conn, table) if sql.table_exists(conn, table) else 0
        sql.put_back(conn, run_id, table, replaced[1], replaced[2])
        what = f"put back the table '{table}' it replaced" if replaced[1] else f"dropped the table '{table}' it made"
        done = {"table": table, "rows_removed": removed, "restored": replaced[1] is not None}
    else:
        ranges = sql.inserted_ranges(conn, run_id)
        if not ranges:
            raise UndoError("This import recorded no rows it could take back (nothing was inserted, or its table "
                            "has columns named rowid, _rowid_ and oid, or it ran before undo existed).")
        removed = 0
        for name, first, last, _kind in ranges:
            if not sql.table_exists(conn, name):
                raise UndoError(f"The table '{name}' this import filled no longer exists.")
            rowid = sql.rowid_name(sql.table_columns(conn, name))
            if rowid is None:
                raise UndoError(f"The table '{name}' has columns named rowid, _rowid_ and oid, so its rows "
                                "cannot be told apart.")
            removed += sql.delete_range(conn, name, rowid, first, last)
        what = f"removed {removed:,} rows from '{table}'"
        dropped = (sql.created_table(conn, run_id) == table and sql.table_exists(conn, table)
                   and sql.count_rows(conn, table) == 0 and not sql.other_runs_in(conn, table, run_id))
        if dropped:  # the import made the table and nothing else is in it: as if it never ran
            sql.drop_table(conn, table)
            what += " and dropped the table it had made"
        done = {"table": table, "rows_removed": removed, "restored": False, "dropped": dropped}
    sql.mark_undone(conn, run_id, step.run_id, removed, datetime.now(UTC).isoformat())
    step.log.note(run_id, payload.import_job, f"Undone by run {step.run_id}: {what}", rows=removed)
    step.log.info(f"Undid import {run_id}: {what}")
    return done
