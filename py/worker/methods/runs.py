"""Run methods: list, get, steps, logs, retry, cancel, delete (thin over the durable engine)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from durable import RunStatus
from worker.methods import int_param, method, str_param
from worker.protocol import ProtocolError
from worker.serialize import run_json, to_json
from worker.supplied import SuppliedCopies, needs_copy, needs_file_message

if TYPE_CHECKING:
    from worker.app import WorkerApp

_STATUSES = {s.value for s in RunStatus}


@method("runs.list", early=True)
async def list_runs(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Runs newest first, filtered by status and job, with the total count."""
    status = params.get("status")
    statuses = [status] if isinstance(status, str) else status
    if statuses is not None and (not isinstance(statuses, list) or not set(statuses) <= _STATUSES):
        raise ProtocolError("bad-params", f"'status' must be one or more of {sorted(_STATUSES)}.")
    page = await app.require_engine().list_runs(
        status=statuses or None, job=str_param(params, "job", required=False),
        limit=int_param(params, "limit", 20, low=1, high=500),
        offset=int_param(params, "offset", 0, low=0, high=10**9))
    return {"runs": app.with_undone([run_json(r) for r in page.items]), "total": page.total}


@method("runs.get", early=True)
async def get_run(app: WorkerApp, params: dict[str, Any], file: Any) -> Any:
    """One run, or a not-found error."""
    run_id = str_param(params, "run_id")
    run = await app.require_engine().get_run(run_id or "")
    if run is None:
        raise ProtocolError("not-found", f"There is no run {run_id}; it may have been deleted.")
    return app.with_undone([run_json(run)])[0]


@method("runs.steps", early=True)
async def get_steps(app: WorkerApp, params: dict[str, Any], file: Any) -> Any:
    """The run's recorded steps in call order."""
    return to_json(await app.require_engine().get_steps(str_param(params, "run_id") or ""))


@method("runs.logs", early=True)
async def get_logs(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """The run's logs, oldest first, at a level or above."""
    level = params.get("level")
    if level not in (None, "info", "warning", "error"):
        raise ProtocolError("bad-params", "'level' must be info, warning or error.")
    page = await app.require_engine().get_logs(
        str_param(params, "run_id") or "", level=level,
        limit=int_param(params, "limit", 100, low=1, high=1000),
        offset=int_param(params, "offset", 0, low=0, high=10**9))
    return {"logs": to_json(page.items), "total": page.total}


@method("runs.retry")
async def retry(app: WorkerApp, params: dict[str, Any], file: Any) -> Any:
    """Resume a failed or cancelled run from its completed steps. A run whose file is elsewhere (made by the
    command line, or in another browser) with no copy here is refused, saying to pick the file again
    (worker/supplied.py)."""
    engine = app.require_engine()
    run_id = str_param(params, "run_id") or ""
    run = await engine.get_run(run_id)
    if run is not None and run.id not in app.supplied and needs_copy(run, await engine.get_steps(run.id)):
        raise ProtocolError("needs-file", needs_file_message(run))
    return run_json(await engine.retry(run_id))


@method("runs.cancel")
async def cancel(app: WorkerApp, params: dict[str, Any], file: Any) -> Any:
    """Cancel a pending run at once, a running one at its next batch boundary."""
    return run_json(await app.require_engine().cancel(str_param(params, "run_id") or ""))


@method("runs.delete")
async def delete(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Delete a finished run with its steps, logs, rejects and staged file (or this browser's copy of the file
    a command-line run read)."""
    run_id = str_param(params, "run_id") or ""
    await app.require_engine().delete(run_id)
    await forget_copy(app, run_id)
    return {}


async def forget_copy(app: WorkerApp, run_id: str) -> None:
    """Remove this browser's copy of the file command-line run `run_id` read, if there is one."""
    if run_id in app.supplied:
        await app.platform.remove_file(SuppliedCopies.name(run_id))
