"""The worker's request handlers: `method name -> async fn(app, params, file)`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from worker.protocol import ProtocolError

if TYPE_CHECKING:
    from worker.app import WorkerApp

Fn = Callable[["WorkerApp", dict[str, Any], Any], Awaitable[Any]]
HANDLERS: dict[str, Fn] = {}


def handler(name: str, *, any_state: bool = False) -> Callable[[Fn], Fn]:
    """Register `fn` as the handler of method `name`; `any_state` serves it before `ready` too."""

    def register(fn: Fn) -> Fn:
        fn.any_state = any_state  # type: ignore[attr-defined]
        HANDLERS[name] = fn
        return fn

    return register


def _int_param(params: dict[str, Any], name: str, default: int, *, low: int, high: int) -> int:
    value = params.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ProtocolError("bad-params", f"'{name}' must be an integer from {low} to {high}.")
    return value


@handler("engine.info", any_state=True)
async def engine_info(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """The engine's state and runtime versions."""
    return {"state": app.state, **app.runtime_info()}


@handler("storage.estimate")
async def storage_estimate(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, int]:
    """Used and available storage, in bytes."""
    return await app.platform.estimate()


# -- diagnostics: small, harmless probes the durability and crash tests drive -------------------------
_PROBE_TABLE = "CREATE TABLE IF NOT EXISTS diagnostics_probe (id INTEGER PRIMARY KEY, value TEXT NOT NULL)"


@handler("diagnostics.write")
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


@handler("diagnostics.bulk_write")
async def diagnostics_bulk_write(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, int]:
    """Insert `rows` probe rows in ONE transaction (the crash test kills the browser in the middle)."""
    rows = _int_param(params, "rows", 1000, low=1, high=50_000_000)
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


@handler("diagnostics.read")
async def diagnostics_read(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Probe rows that are not bulk rows, the bulk row count, and `PRAGMA integrity_check`."""
    db = app.require_db()
    db.execute(_PROBE_TABLE)
    values = [r[0] for r in db.execute("SELECT value FROM diagnostics_probe WHERE value NOT LIKE 'bulk-%'")]
    bulk = db.execute("SELECT count(*) FROM diagnostics_probe WHERE value LIKE 'bulk-%'").fetchone()[0]
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    return {"values": values, "bulk_rows": bulk, "integrity": integrity}
