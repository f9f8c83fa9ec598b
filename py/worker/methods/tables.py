"""Data browser and export methods: tables, a page of rows, rejects, and downloads (CSV, .sqlite)."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from importer import rejects_csv, table_csv
from importer.sql import count_rejects, select_rejects
from worker.browse import QueryError, UnknownTableError, View, list_tables, query, rows
from worker.methods import int_param, method, str_param
from worker.platform import Download
from worker.protocol import ProtocolError

if TYPE_CHECKING:
    from worker.app import WorkerApp

CSV_MIME = "text/csv;charset=utf-8"


@method("tables.list")
async def tables_list(app: WorkerApp, params: dict[str, Any], file: Any) -> list[dict[str, Any]]:
    """The user's tables with columns and row counts."""
    return list_tables(app.require_db())


@method("tables.rows")
async def tables_rows(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """A page of one table, sorted and filtered."""
    view = View(table=str_param(params, "table") or "",
                limit=int_param(params, "limit", 50, low=1, high=1000),
                offset=int_param(params, "offset", 0, low=0, high=10**12),
                order_by=str_param(params, "order_by", required=False),
                descending=bool(params.get("descending", False)),
                filter=params.get("filter") if isinstance(params.get("filter"), str) else None)
    try:
        return rows(app.require_db(), view)
    except UnknownTableError as exc:
        raise ProtocolError("not-found", str(exc)) from None


@method("sql.query")
async def sql_query(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Run one read-only SQL query typed by the user (writes are refused by an authorizer)."""
    statement = str_param(params, "sql") or ""
    values = params.get("params", [])
    if not isinstance(values, list):
        raise ProtocolError("bad-params", "'params' must be a list of values.")
    try:
        return query(app.require_db(), statement, values, int_param(params, "limit", 1000, low=1, high=10_000))
    except QueryError as exc:
        raise ProtocolError("invalid", str(exc)) from None


@method("runs.rejects")
async def run_rejects(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """A page of a run's rejected rows: row number, original values, every reason."""
    run_id = str_param(params, "run_id") or ""
    limit = int_param(params, "limit", 50, low=1, high=1000)
    offset = int_param(params, "offset", 0, low=0, high=10**12)
    db = app.require_db()
    page = itertools.islice(select_rejects(db, run_id), offset, offset + limit)
    return {"rows": [{"row_number": n, "values": raw, "reasons": reasons} for n, raw, reasons in page],
            "total": count_rejects(db, run_id)}


@method("export.errors")
async def export_errors(app: WorkerApp, params: dict[str, Any], file: Any) -> Download:
    """The run's error report as CSV: row number, reasons, original fields (formula-neutralised)."""
    run_id = str_param(params, "run_id") or ""
    run = await app.require_engine().get_run(run_id)
    if run is None:
        raise ProtocolError("not-found", f"There is no run {run_id}.")
    name = str(run.labels.get("file", "import")).rsplit(".", 1)[0]
    return app.platform.download(f"{name}-errors.csv", CSV_MIME, rejects_csv(app.require_db(), run_id))


@method("export.table")
async def export_table(app: WorkerApp, params: dict[str, Any], file: Any) -> Download:
    """A whole table as CSV, streamed in chunks (formula-neutralised)."""
    table = str_param(params, "table") or ""
    db = app.require_db()
    if table not in [t["name"] for t in list_tables(db)]:
        raise ProtocolError("not-found", f"There is no table '{table}'.")
    return app.platform.download(f"{table}.csv", CSV_MIME, table_csv(db, table))


@method("export.database")
async def export_database(app: WorkerApp, params: dict[str, Any], file: Any) -> Download:
    """The whole database file. Read in one synchronous pass between transactions, so it is consistent."""
    db = app.require_db()
    if db.in_transaction:
        raise ProtocolError("conflict", "A write is in progress; try again in a moment.")
    return app.platform.download("importer.sqlite", "application/vnd.sqlite3", _file_chunks(app.db_path))


def _file_chunks(path: str, chunk: int = 4 << 20):  # type: ignore[no-untyped-def]
    with open(path, "rb") as fh:
        while data := fh.read(chunk):
            yield data
