"""Diagnostics: probes of the storage that the durability, crash and memory tests drive, and a request that
never answers (the tabs tests). Test-only.

They are served only when a browser test asked for them through the test hooks (py/worker/hooks.py,
`{"diagnostics": true}`), which no page, link or message can set: in production the methods do not exist
(`unknown-method`). Their rows live in a database of their own, `diagnostics.sqlite` beside the user's
database in the same OPFS folder, opened with the same pragmas and flushed the same way: the probes test
the same storage path and never create a table in the user's database.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sqlite3
import weakref
from typing import TYPE_CHECKING, Any

from worker.database import open_database
from worker.methods import Fn, int_param, method, str_param
from worker.protocol import ProtocolError
from worker.sources import is_ahead_copy

if TYPE_CHECKING:
    from worker.app import WorkerApp

PROBE_DB = "diagnostics.sqlite"
MAX_BULK_ROWS = 10_000_000
MAX_READ_BYTES = 4 << 20
_PROBE_TABLE = "CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, value TEXT NOT NULL)"
_open: weakref.WeakKeyDictionary[WorkerApp, sqlite3.Connection] = weakref.WeakKeyDictionary()


def tests_only(fn: Fn) -> Fn:
    """Mark a handler as served only when the test hooks enable diagnostics (worker/app.py)."""
    fn.test_only = True  # type: ignore[attr-defined]
    return fn


async def _probe_db(app: WorkerApp) -> sqlite3.Connection:
    """The probes' own database (opened once per app, after the user's database is open)."""
    app.require_db()
    conn = _open.get(app)
    if conn is None:
        for name in (PROBE_DB, PROBE_DB + "-journal"):
            await app.platform.prepare_file(name)
        conn = open_database(os.path.join(app.staging_dir, PROBE_DB))
        conn.execute(_PROBE_TABLE)
        _open[app] = conn
    return conn


@method("diagnostics.write")
@tests_only
async def diagnostics_write(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, int]:
    """Commit one probe row and flush it to storage; returns its id."""
    value = params.get("value")
    if not isinstance(value, str):
        raise ProtocolError("bad-params", "'value' must be a string.")
    db = await _probe_db(app)
    cursor = db.execute("INSERT INTO probe (value) VALUES (?)", (value,))
    app.platform.flush()
    return {"id": int(cursor.lastrowid or 0)}


@method("diagnostics.bulk_write")
@tests_only
async def diagnostics_bulk_write(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, int]:
    """Insert `rows` probe rows in ONE transaction (the crash test kills the browser in the middle).

    With `hold: true` it emits `diagnostics:bulk-held` once every row is inserted and then waits for good
    without committing, so a test that kills the browser on that event kills it inside the transaction."""
    rows = int_param(params, "rows", 1000, low=1, high=MAX_BULK_ROWS)
    hold = params.get("hold") is True
    db = await _probe_db(app)
    db.execute("BEGIN IMMEDIATE")
    try:
        app.emit("diagnostics:bulk-started", {"rows": rows})
        db.executemany("INSERT INTO probe (value) VALUES (?)",
                       ((f"bulk-{i:09d}-" + "x" * 64,) for i in range(rows)))
        if hold:
            app.emit("diagnostics:bulk-held", {"rows": rows})
            await asyncio.Event().wait()
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    app.platform.flush()
    return {"rows": rows}


@method("diagnostics.read")
@tests_only
async def diagnostics_read(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Probe rows that are not bulk rows, the bulk row count, and `PRAGMA integrity_check` of the probes'
    database and of the user's."""
    db = await _probe_db(app)
    values = [r[0] for r in db.execute("SELECT value FROM probe WHERE value NOT LIKE 'bulk-%'")]
    bulk = db.execute("SELECT count(*) FROM probe WHERE value LIKE 'bulk-%'").fetchone()[0]
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    user_integrity = app.require_db().execute("PRAGMA integrity_check").fetchone()[0]
    return {"values": values, "bulk_rows": bulk, "integrity": integrity if user_integrity == "ok" else user_integrity}


@method("diagnostics.hang")
@tests_only
async def diagnostics_hang(app: WorkerApp, params: dict[str, Any], file: Any) -> None:
    """Never answer: a request still in flight when its engine's tab closes (tests/browser/test_tabs.py)."""
    await asyncio.Future()


@method("diagnostics.release_boot", any_state=True)
@tests_only
async def diagnostics_release_boot(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, bool]:
    """Let a boot held by the `hold_boot` hook go on to `ready`; `released` is False if it was not held."""
    return {"released": app.release_boot()}


@method("diagnostics.release_importer", early=True)
@tests_only
async def diagnostics_release_importer(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, bool]:
    """Let the loading of the importer held by the `hold_importer` hook go on; False if it was not held."""
    return {"released": app.release_importer()}


@method("diagnostics.memory", any_state=True)
@tests_only
async def diagnostics_memory(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, int]:
    """The worker's heap size in bytes (the wasm memory in the browser: it grows, never shrinks)."""
    return {"heap_bytes": app.platform.heap_bytes()}


@method("diagnostics.rehearsal", any_state=True)
@tests_only
async def diagnostics_rehearsal(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """The rehearsal import's state (worker/rehearsal.py): none, running, completed (with its row counts),
    cancelled or failed (with the error), and its seconds once it ended."""
    return app.rehearsal_outcome


@method("diagnostics.sources")
@tests_only
async def diagnostics_sources(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, list[str]]:
    """The source ids of the files picked in this worker's session, oldest first."""
    return {"sources": list(app.sources)}


@method("diagnostics.source_pass")
@tests_only
async def diagnostics_source_pass(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, str]:
    """Where the pass over a picked file ran (worker/sources.py `made_by`): "copier", or "python" and why;
    and, in the copier, what hashed it (`hashed_by`: "webcrypto", "hash-wasm"). Waits for the pass first."""
    source_id = str_param(params, "source_id") or ""
    if source_id not in app.sources:
        raise ProtocolError("not-found", "No picked file has that source id.")
    await app.sources.sha256(source_id)
    return {"made_by": app.sources.made_by.get(source_id, ""), "hashed_by": app.sources.hashed_by.get(source_id, "")}


@method("diagnostics.read_copy")
@tests_only
async def diagnostics_read_copy(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """`length` bytes (base64) from `offset` of a copy staged ahead (`ahead-<id>.csv`), read through this
    worker's own file system, and the copy's size: what the import job will read."""
    name = str_param(params, "name") or ""
    if not is_ahead_copy(name):
        raise ProtocolError("bad-params", "'name' must name a copy staged ahead (ahead-<32 hex digits>.csv).")
    offset = int_param(params, "offset", 0, low=0, high=1 << 50)
    length = int_param(params, "length", MAX_READ_BYTES, low=1, high=MAX_READ_BYTES)
    path = os.path.join(app.staging_dir, name)
    try:
        with open(path, "rb") as copy:
            copy.seek(offset)
            data = copy.read(length)
            size = os.fstat(copy.fileno()).st_size
    except FileNotFoundError:
        raise ProtocolError("not-found", f"There is no {name} in the storage.") from None
    return {"size": size, "data": base64.b64encode(data).decode("ascii")}
