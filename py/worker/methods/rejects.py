"""Rejects workbench methods: check edited rejected rows, and start the fix-rejects job (insert the rows that
pass, save edits, bulk fixes, discard) on a completed import run. See py/importer/fixes.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from durable import RunStatus
from importer import JOB_NAME
from importer.fixes import BulkEdit, Plan, check_rows, field_names
from importer.job_names import FIX_JOB_NAME
from worker.methods import method, str_param
from worker.protocol import ProtocolError

if TYPE_CHECKING:
    from worker.app import WorkerApp

MAX_EDITED_ROWS = 10_000
"""Edited rows one request may carry (a page of the workbench holds 50; a bulk fix names no rows)."""


async def import_plan(app: WorkerApp, run_id: str, *, allow_undone: bool = False) -> Plan:
    """The plan of completed import run `run_id` (table, options, width); ProtocolError if there is none, or
    (unless `allow_undone`) if the import was undone."""
    engine = app.require_engine()
    run = await engine.get_run(run_id)
    if run is None or run.job != JOB_NAME:
        raise ProtocolError("not-found", f"There is no import run {run_id}; it may have been deleted.")
    if run.status is not RunStatus.COMPLETED:
        raise ProtocolError("conflict", "Rejected rows can be fixed once the import has completed.")
    prepare = next((s.output for s in await engine.get_steps(run_id) if s.name == "prepare"), None)
    if not isinstance(prepare, dict):
        raise ProtocolError("conflict", "This import has no table to put fixed rows in.")
    if not allow_undone and app.undone(run_id):
        raise ProtocolError("conflict", "This import was undone; redo it before fixing its rejected rows.")
    return Plan.model_validate(prepare)


def _edits(params: dict[str, Any], width: int) -> dict[int, list[str | None]]:
    """`rows` of the request as {row number: values}: each `{row_number, values}` with `width` or more texts
    (or nulls); a bad shape is a sentence, not a crash."""
    rows = params.get("rows", [])
    if not isinstance(rows, list) or len(rows) > MAX_EDITED_ROWS:
        raise ProtocolError("bad-params", f"'rows' must be a list of at most {MAX_EDITED_ROWS:,} edited rows.")
    edits: dict[int, list[str | None]] = {}
    for row in rows:
        number = row.get("row_number") if isinstance(row, dict) else None
        values = row.get("values") if isinstance(row, dict) else None
        if (not isinstance(number, int) or isinstance(number, bool) or number < 1 or not isinstance(values, list)
                or not all(v is None or isinstance(v, str) for v in values)):
            raise ProtocolError("bad-params", "Each edited row needs a 'row_number' and 'values' (texts or null).")
        edits[number] = values
    return edits


@method("rejects.fields")
async def rejects_fields(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """The name of each field of an import's rows (its column's name, or "field N"), for the workbench."""
    plan = await import_plan(app, str_param(params, "run_id") or "")
    return {"fields": field_names(plan), "table": plan.table}


@method("rejects.check")
async def rejects_check(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Check edited rejected rows with the import's own columns and rules, writing nothing: `{rows:
    [{row_number, reasons}]}`, reasons empty for a row that would be inserted now."""
    plan = await import_plan(app, str_param(params, "run_id") or "")
    edits = _edits(params, plan.width)
    reasons = check_rows(app.require_db(), plan, list(edits.items()))
    return {"rows": [{"row_number": n, "reasons": r} for n, r in zip(edits, reasons, strict=True)]}


@method("rejects.fix")
async def rejects_fix(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Start the fix-rejects job on an import run: `action` insert (the rejects that pass, with `rows` of
    edits applied, go into the table), save (edits and `bulk` are kept with new reasons) or discard
    (`only` rows, or all). Returns `{run_id}` of the job's run; its events tell the outcome."""
    run_id = str_param(params, "run_id") or ""
    plan = await import_plan(app, run_id)
    action = params.get("action")
    if action not in ("insert", "save", "discard"):
        raise ProtocolError("bad-params", "'action' must be insert, save or discard.")
    only = params.get("only")
    if only is not None and (not isinstance(only, list) or len(only) > MAX_EDITED_ROWS
                             or not all(isinstance(n, int) and not isinstance(n, bool) for n in only)):
        raise ProtocolError("bad-params", "'only' must be a list of row numbers.")
    try:
        bulk = BulkEdit.model_validate(params["bulk"]) if params.get("bulk") is not None else None
    except ValidationError as exc:
        raise ProtocolError("bad-params", f"'bulk' is not a valid fix: {exc.errors()[0]['msg']}.") from None
    payload = {"run_id": run_id, "import_job": JOB_NAME, "plan": plan.model_dump(mode="json"), "action": action,
               "rows": only, "edits": _edits(params, plan.width), "bulk": bulk.model_dump() if bulk else None}
    engine = app.require_engine()
    handle = await engine.trigger(FIX_JOB_NAME, payload, labels={"import_run": run_id, "action": action})
    return {"run_id": handle.run.id}
