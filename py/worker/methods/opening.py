"""Opening a database file (one the page downloaded, or one `csv-import` made) in place of this browser's
database, and restoring the one it replaced (docs/storage.md "Opening a database file").

`storage.inspect` copies the picked file into storage and checks it, writing nothing else; the page shows
what it holds and asks; `storage.open` puts it in place (the current database becomes the backup that
`storage.restore` opens again); `storage.discard` drops a checked file the user did not open.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import TYPE_CHECKING, Any

from importer.staging import stage
from worker.app import format_bytes
from worker.database import DatabaseFileError, DatabaseSummary, check_database_file
from worker.methods import method, str_param
from worker.protocol import ProtocolError
from worker.swap import BACKUP_NAME, OPENING_PREFIX, SwapFailed, copy_file

if TYPE_CHECKING:
    from worker.app import WorkerApp

_TOKEN = re.compile(r"[0-9a-f]{32}")


@method("storage.inspect")
async def inspect(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Copy the picked database file into storage and check it (worker/database.py); nothing else changes.
    Returns what it holds and a `token` for `storage.open`; a file that cannot be used is refused ('invalid')
    with one sentence, and its copy is removed."""
    if file is None:
        raise ProtocolError("bad-params", "Pick a database file (.sqlite) to open.")
    source = app.platform.byte_source(file)
    await _check_space(app, source.size)
    token = uuid.uuid4().hex
    name = _candidate_name(token)
    path = os.path.join(app.staging_dir, name)
    await app.platform.prepare_file(name)
    try:
        await stage(source, path, size=source.size, name=source.name)
        app.platform.flush()
        summary = _check(app, path, source.name)
    except BaseException:
        await app.platform.remove_file(name)
        raise
    return {"token": token, "name": source.name, **_summary_json(summary), **await _current(app)}


@method("storage.open")
async def open_checked(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Put the database file `storage.inspect` checked (`token`) in place of this browser's database, which is
    kept as the backup. Refused while a run is pending or running. The engine restarts on the new database
    (pages see `booting`, then `ready`) and `storage:replaced` tells every tab."""
    token = _token(params)
    path = os.path.join(app.staging_dir, _candidate_name(token))
    if not os.path.exists(path):
        raise ProtocolError("not-found", "That database file is no longer waiting to be opened: pick it again.")
    await _refuse_while_running(app, "open a database file")
    name = str(params.get("name") or "the database file")
    summary = _check(app, path, name)
    await _check_space(app, summary.size, copied=True)
    await _replace(app, path, name)
    app.emit("storage:replaced", {"runs": summary.runs, "tables": len(summary.tables)})
    return {**_summary_json(summary), "backup": True}


@method("storage.discard")
async def discard(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Remove a checked database file the user decided not to open."""
    await app.platform.remove_file(_candidate_name(_token(params)))
    return {}


@method("storage.previous")
async def previous(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Whether a backup of the database an open replaced is kept (`exists`), and its `size` in bytes."""
    path = os.path.join(app.staging_dir, BACKUP_NAME)
    size = os.path.getsize(path) if os.path.exists(path) else 0
    return {"exists": size > 0, "size": size}


@method("storage.restore")
async def restore(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Open the backup again (the database the last open replaced); the current one becomes the backup.
    Refused while a run is pending or running, or when there is no backup."""
    backup = os.path.join(app.staging_dir, BACKUP_NAME)
    if not (os.path.exists(backup) and os.path.getsize(backup)):
        raise ProtocolError("not-found", "There is no previous database to restore.")
    await _refuse_while_running(app, "restore the previous database")
    await _check_space(app, os.path.getsize(backup))
    name = _candidate_name(uuid.uuid4().hex)
    path = os.path.join(app.staging_dir, name)
    await app.platform.prepare_file(name)
    try:
        copy_file(backup, path)
        summary = _check(app, path, "the previous database")
        await _replace(app, path, "the previous database")
    finally:
        await app.platform.remove_file(name)
    app.emit("storage:replaced", {"runs": summary.runs, "tables": len(summary.tables)})
    return {**_summary_json(summary), "backup": True}


async def _replace(app: WorkerApp, path: str, name: str) -> None:
    try:
        await app.replace_database(path)
    except SwapFailed as exc:
        raise ProtocolError("invalid", f"'{name}' was not opened: {exc}. The database you had is back in "
                            "place; nothing changed.") from None


def _check(app: WorkerApp, path: str, name: str) -> DatabaseSummary:
    known = {job.name for job in app.jobs()}
    try:
        return check_database_file(path, name, known)
    except DatabaseFileError as exc:
        raise ProtocolError("invalid", str(exc)) from None


async def _refuse_while_running(app: WorkerApp, what: str) -> None:
    active = await app.require_engine().list_runs(status=["pending", "running"], limit=1)
    if active.total:
        raise ProtocolError("conflict", f"{active.total} run(s) still pending or running: wait for them to end or "
                                        f"cancel them, then {what}.")


async def _check_space(app: WorkerApp, size: int, *, copied: bool = False) -> None:
    """Room for the file's copy (unless `copied` already) and a backup of the current database, and for the
    database growing to the file's size."""
    estimate = await app.platform.estimate()
    free = max(estimate["quota"] - estimate["usage"], 0)
    current = os.path.getsize(app.db_path) if app.db_path and os.path.exists(app.db_path) else 0
    needed = (0 if copied else size) + current + max(size - current, 0)
    if needed > free:
        raise ProtocolError("no-space", f"Opening it needs about {format_bytes(needed)} of storage (its copy and a "
                                        f"backup of the current database), but only {format_bytes(free)} is "
                                        "available. Delete old imports under Storage first.")


async def _current(app: WorkerApp) -> dict[str, Any]:
    runs = (await app.require_engine().list_runs(limit=1)).total
    return {"current_runs": runs}


def _token(params: dict[str, Any]) -> str:
    token = str_param(params, "token") or ""
    if not _TOKEN.fullmatch(token):
        raise ProtocolError("bad-params", "'token' must be the token storage.inspect returned.")
    return token


def _candidate_name(token: str) -> str:
    return f"{OPENING_PREFIX}{token}.sqlite"


def _summary_json(summary: DatabaseSummary) -> dict[str, Any]:
    return {"runs": summary.runs, "unfinished": summary.unfinished, "tables": summary.tables,
            "schema": summary.schema, "size": summary.size}
