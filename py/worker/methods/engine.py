"""Engine and storage methods: state, versions, storage estimate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from importer import quote_identifier
from importer.sql import table_names
from worker.methods import method
from worker.methods.runs import forget_copy
from worker.protocol import ProtocolError

if TYPE_CHECKING:
    from worker.app import WorkerApp


@method("engine.info", any_state=True)
async def engine_info(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """The engine's state and runtime versions (once `ready`, with the importer's: it waits for it)."""
    if app.state == "ready":
        await app.importer_ready()
    return {"state": app.state, **app.runtime_info()}


@method("storage.estimate", early=True)
async def storage_estimate(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, int]:
    """Used and available storage, in bytes."""
    return await app.platform.estimate()


@method("storage.clear")
async def storage_clear(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Delete every run (with its logs, rejects and staged copy) and every imported table.

    Refused while a run is pending or running: cancel it first, so nothing is half-deleted.
    """
    engine = app.require_engine()
    active = await engine.list_runs(status=["pending", "running"], limit=1)
    if active.total:
        raise ProtocolError("conflict", f"{active.total} import(s) still pending or running: cancel them first.")
    while (page := await engine.list_runs(limit=100)).items:
        for run in page.items:
            await engine.delete(run.id)
            await forget_copy(app, run.id)
    db = app.require_db()
    for table in table_names(db):
        db.execute(f"DROP TABLE {quote_identifier(table)}")
    db.execute("VACUUM")
    app.platform.flush()
    app.emit("storage:cleared", {})
    return {}
