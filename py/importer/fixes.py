"""Fixing rejected rows: check edited rows against the import's own columns and rules, and the durable
"fix-rejects" job that inserts the rows that now pass, saves edits, applies bulk fixes or discards rejects.

The job works through the import run's rejects in row order, CHUNK_ROWS per `step.transaction`: the rows
inserted into the table, the rejects removed or updated, the ledger of inserted rowids (kind 'fix', under
the import run, so an undo of that import removes them too) and the step's checkpoint commit together, so a
reload in the middle neither loses nor doubles a row. Each chunk notes what it did in the import run's log.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from durable import StepContext, define_job
from importer import sql
from importer.errors import TableGoneError
from importer.job_names import FIX_JOB_NAME
from importer.options import ImportOptions
from importer.validate import RAW_LIMIT, RowChecker

CHUNK_ROWS = 500


class Plan(BaseModel):
    """What the import run settled on (its `prepare` step's output): the table, options and row width."""

    model_config = ConfigDict(extra="ignore", defer_build=True)  # built on first use

    table: str
    options: ImportOptions
    width: int = Field(ge=1)


class BulkEdit(BaseModel):
    """One change to a field of many rejects: set it (`value`, None for NULL), or replace `find` by `replace`
    within it. `field` is the 0-based position of the field in the file's rows."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on first use

    field: int = Field(ge=0)
    op: Literal["set", "replace"]
    value: str | None = None
    find: str = ""
    replace: str = ""

    def apply(self, values: list[str | None]) -> list[str | None]:
        if self.field >= len(values):
            return values
        changed = list(values)
        if self.op == "set":
            changed[self.field] = self.value
        elif self.find and changed[self.field] is not None:
            changed[self.field] = str(changed[self.field]).replace(self.find, self.replace)
        return changed


class FixInput(BaseModel):
    """The job's input: which import run, its plan, what to do, to which rejects (`rows` None: all), with
    which edits (row number -> every field of the row) and bulk change."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on first use

    run_id: str = Field(min_length=1)
    import_job: str = "import-csv"
    plan: Plan
    action: Literal["insert", "save", "discard"]
    rows: list[int] | None = None
    edits: dict[int, list[str | None]] = Field(default_factory=dict)
    bulk: BulkEdit | None = None
    chunk_rows: int = Field(CHUNK_ROWS, ge=1, le=10_000)


class FixOutput(BaseModel):
    """How many rejects were inserted, saved with new reasons (still failing), and discarded."""

    model_config = ConfigDict(defer_build=True)  # built on first use

    inserted: int = 0
    still_rejected: int = 0
    discarded: int = 0


def field_names(plan: Plan) -> list[str]:
    """The name shown for each field of a row: its column's name, or "field N" for one no column takes."""
    names = {spec.source: spec.name for spec in plan.options.columns}
    return [names.get(i, f"field {i + 1}") for i in range(plan.width)]


def check_row(conn: Any, plan: Plan, checker: RowChecker, number: int, values: list[str | None]) -> tuple[
        tuple[Any, ...] | None, list[str]]:
    """Check one edited row with the import's own columns and rules, and uniqueness against the table:
    returns (the row to insert or None, the reasons it would be rejected)."""
    cut = [i for i, v in enumerate(values) if v is not None and len(v) > RAW_LIMIT and v.endswith("…")]
    if cut:
        return None, [f"Row {number}: field {cut[0] + 1} was cut to {RAW_LIMIT:,} characters when it was rejected;"
                      " import the file again to keep all of it"]
    existing = functools.partial(_existing, conn, plan.table)
    checked = checker.check([values], number, existing=existing)
    if checked.rows:
        return checked.rows[0], []
    return None, [reason for reject in checked.rejects for reason in reject.reasons]


def check_rows(conn: Any, plan: Plan, rows: list[tuple[int, list[str | None]]]) -> list[list[str]]:
    """Reasons for each (row number, values) as if it were inserted now (empty: it would be inserted)."""
    checker = RowChecker(plan.options, plan.width)
    return [check_row(conn, plan, checker, number, values)[1] for number, values in rows]


def make_fix_job(after_chunk: Callable[[StepContext, int], Awaitable[None]] | None = None,
                 chunk_rows: int | None = None, pause: Callable[[], Awaitable[None]] | None = None) -> Any:
    """Return the "fix-rejects" job. `after_chunk(step, chunks)`, if set, is awaited after each chunk this
    execution commits, and `chunk_rows` overrides the input's chunk size (a browser test holds the job there
    to reload mid-fix; nothing sets either in production). `pause()` is awaited between chunks instead of
    `asyncio.sleep(0)` (the browser worker's yield that lets the page's messages in, as the import's)."""

    @define_job(FIX_JOB_NAME, input=FixInput, output=FixOutput)
    async def fix_rejects(step: StepContext, payload: FixInput) -> FixOutput:
        total = FixOutput()
        after, number = 0, 0
        while True:
            replayed = step.replaying
            done = await step.transaction(f"fix-{number}", functools.partial(_fix_chunk, step, payload, after,
                                                                                chunk_rows or payload.chunk_rows))
            total = FixOutput(inserted=total.inserted + done["inserted"],
                              still_rejected=total.still_rejected + done["still_rejected"],
                              discarded=total.discarded + done["discarded"])
            if done["last"] is None:
                break
            after, number = done["last"], number + 1
            if after_chunk is not None and not replayed:
                await after_chunk(step, number)
            await (pause() if pause is not None else asyncio.sleep(0))  # let messages (cancel, stop) in
        step.log.info("rejected rows fixed", **total.model_dump())
        return total

    return fix_rejects


def _fix_chunk(step: StepContext, payload: FixInput, after: int, size: int, conn: Any) -> dict[str, Any]:
    """Fix the next `size` chosen rejects after row `after`; return counts and the last row seen."""
    plan = payload.plan
    chunk = sql.rejects_after(conn, payload.run_id, after, payload.rows, size)
    counts = {"inserted": 0, "still_rejected": 0, "discarded": 0, "last": chunk[-1][0] if chunk else None}
    if not chunk:
        return counts
    if payload.action == "discard":
        sql.delete_reject_rows(conn, payload.run_id, [n for n, _ in chunk])
        counts["discarded"] = len(chunk)
        _note(step, payload, f"Discarded {_rows(len(chunk), 'rejected row')}", [n for n, _ in chunk])
        return counts
    if payload.action == "insert" and not sql.table_exists(conn, plan.table):
        raise TableGoneError(plan.table)
    checker = RowChecker(plan.options, plan.width)
    names = [spec.name for spec in checker.specs]
    rowid = sql.rowid_name(names) if payload.action == "insert" else None
    first = sql.max_rowid(conn, plan.table, rowid) + 1 if rowid else 0
    insert = sql.insert_statement(plan.table, names)
    inserted: list[int] = []
    saved: list[int] = []
    for number, raw in chunk:
        values = _edited(payload, number, raw)
        row, reasons = check_row(conn, plan, checker, number, values)
        if payload.action == "insert" and row is not None:
            sql.insert_rows(conn, insert, [row])
            inserted.append(number)
        else:
            sql.update_reject(conn, payload.run_id, number, values, reasons)
            saved.append(number)
    if inserted:
        sql.delete_reject_rows(conn, payload.run_id, inserted)
        if rowid:
            sql.record_inserted(conn, payload.run_id, plan.table, first, sql.max_rowid(conn, plan.table, rowid), "fix")
        _note(step, payload, f"Inserted {_rows(len(inserted), 'fixed row')} into {plan.table}", inserted)
    if saved:
        what = "Saved edits of" if payload.action == "save" else "Still rejected after edits:"
        _note(step, payload, f"{what} {_rows(len(saved), 'rejected row')}", saved)
    counts["inserted"] = len(inserted)
    counts["still_rejected"] = len(saved)
    return counts


def _rows(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _edited(payload: FixInput, number: int, raw: list[str | None]) -> list[str | None]:
    values = payload.edits.get(number, raw)
    return payload.bulk.apply(values) if payload.bulk is not None else list(values)


def _note(step: StepContext, payload: FixInput, message: str, rows: list[int]) -> None:
    shown = ", ".join(str(n) for n in rows[:20]) + (f" and {len(rows) - 20:,} more" if len(rows) > 20 else "")
    step.log.note(payload.run_id, payload.import_job, f"{message} (rows {shown})", fix_run=step.run_id,
                  rows=len(rows))
    step.log.info(f"{message} (rows {shown})")


def _existing(conn: Any, table: str, spec: Any, values: list[Any]) -> set[Any]:
    return sql.existing_values(conn, table, spec.name, values)

