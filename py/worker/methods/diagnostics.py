"""Diagnostics: small, harmless probes of the storage that the durability and crash tests drive."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from worker.methods import int_param, method
from worker.protocol import ProtocolError

if TYPE_CHECKING:
    from worker.app import WorkerApp

_PROBE_TABLE = "CREATE TABLE IF NOT EXISTS diagnostics_probe (id INTEGER PRIMARY KEY, value TEXT NOT NULL)"


@method("diagnostics.write")
async def diagnostics_write(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, int]:
    """Commit one probe row and flush it to storage; returns its id."""
    value = params.get("value")
    if not isinstance(value, str):
        raise ProtocolError("bad-params", "'value' must be a string.")
    db = app.require_db()
    db.execute(_PROBE_TABLE)
    cursor = db.execute("INSERT INTO diagnostics_probe (value) VALUES (?)", (value,))
    app.platform.flush()
    return {"id": int(cursor.lastrowid or 0)}


@method("diagnostics.bulk_write")
async def diagnostics_bulk_write(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, int]:
    """Insert `rows` probe rows in ONE transaction (the crash test kills the browser in the middle)."""
    rows = int_param(params, "rows", 1000, low=1, high=50_000_000)
    db = app.require_db()
    db.execute(_PROBE_TABLE)
    db.execute("BEGIN IMMEDIATE")
    try:
        app.emit("diagnostics:bulk-started", {"rows": rows})
        db.executemany("INSERT INTO diagnostics_probe (value) VALUES (?)",
                       ((f"bulk-{i:09d}-" + "x" * 64,) for i in range(rows)))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    app.platform.flush()
    return {"rows": rows}


@method("diagnostics.read")
async def diagnostics_read(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Probe rows that are not bulk rows, the bulk row count, and `PRAGMA integrity_check`."""
    db = app.require_db()
    db.execute(_PROBE_TABLE)
    values = [r[0] for r in db.execute("SELECT value FROM diagnostics_probe WHERE value NOT LIKE 'bulk-%'")]
    bulk = db.execute("SELECT count(*) FROM diagnostics_probe WHERE value LIKE 'bulk-%'").fetchone()[0]
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    return {"values": values, "bulk_rows": bulk, "integrity": integrity}


@method("diagnostics.memory", any_state=True)
async def diagnostics_memory(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, int]:
    """The worker's heap size in bytes (the wasm memory in the browser: it grows, never shrinks)."""
    return {"heap_bytes": app.platform.heap_bytes()}
