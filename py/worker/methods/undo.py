"""Undo and redo of an import run: `runs.undo` starts the undo-import job (py/importer/undo.py); `runs.redo`
imports an undone run's staged copy again, into the same table, as a new run."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from durable import RunStatus
from importer import JOB_NAME, ImportInput, ImportOptions
from importer.job_names import UNDO_JOB_NAME
from worker.methods import method, str_param
from worker.methods.rejects import import_plan
from worker.protocol import ProtocolError

if TYPE_CHECKING:
    from worker.app import WorkerApp


@method("runs.undo")
async def undo(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Start undoing a completed import run: `{run_id}` of the undo run (its events tell the outcome)."""
    run_id = str_param(params, "run_id") or ""
    plan = await import_plan(app, run_id, allow_undone=True)
    if app.undone(run_id):
        raise ProtocolError("conflict", "This import was undone already; Redo imports it again.")
    engine = app.require_engine()
    handle = await engine.trigger(UNDO_JOB_NAME, {"run_id": run_id, "import_job": JOB_NAME, "table": plan.table},
                                  labels={"import_run": run_id, "table": plan.table})
    return {"run_id": handle.run.id}


@method("runs.redo")
async def redo(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Import an undone run's staged copy again as a new run, into the same table (appending, or replacing
    again for a replace): `{run_id}` of the new run."""
    run_id = str_param(params, "run_id") or ""
    plan = await import_plan(app, run_id, allow_undone=True)
    if not app.undone(run_id):
        raise ProtocolError("conflict", "Only an undone import can be redone.")
    engine = app.require_engine()
    run = await engine.get_run(run_id)
    assert run is not None and run.status is RunStatus.COMPLETED
    given = ImportInput.model_validate(run.input)
    path = given.staged_path or os.path.join(app.staging_dir, f"{run_id}.csv")
    if not os.path.exists(path) or os.path.getsize(path) != given.size:
        raise ProtocolError("conflict", f"The copy of '{given.file_name}' this import kept is gone; import the "
                                        "file again instead.")
    replace = bool((await _prepare_output(app, run_id)).get("replace"))
    options = ImportOptions.model_validate({**plan.options.model_dump(mode="json"), "table": plan.table,
                                            "if_exists": "replace" if replace else "append"})
    payload = ImportInput(file_name=given.file_name, size=given.size, sha256=given.sha256, staged_path=path,
                          options=options)
    triggered = await engine.trigger(JOB_NAME, payload.model_dump(mode="json"),
                                     labels={**run.labels, "redo_of": run_id})
    return {"run_id": triggered.run.id}


async def _prepare_output(app: WorkerApp, run_id: str) -> dict[str, Any]:
    steps = await app.require_engine().get_steps(run_id)
    output = next((s.output for s in steps if s.name == "prepare"), None)
    return output if isinstance(output, dict) else {}
