"""Data browser and export methods: tables, a page of rows, rejects, and downloads (CSV, .sqlite)."""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from importer import rejects_csv, table_csv
from importer.export import query_csv, report_header
from importer.sql import count_rejects, select_rejects
from worker.browse import QueryError, UnknownTableError, View, list_tables, query, query_cursor, read_only, rows
from worker.methods import int_param, method, str_param
from worker.platform import Download
from worker.profile import profile
from worker.protocol import ProtocolError

if TYPE_CHECKING:
    from worker.app import WorkerApp

CSV_MIME = "text/csv;charset=utf-8"


@method("tables.list", early=True)
async def tables_list(app: WorkerApp, params: dict[str, Any], file: Any) -> list[dict[str, Any]]:
    """The user's tables with columns and row counts."""
    return list_tables(app.require_db())


@method("tables.rows", early=True)
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


QUERY_SECONDS = 30
"""Default time budget of `sql.query`: the worker serves nothing else while a query runs (imports pause).
Generous because the tests' checksums (count(DISTINCT id) over 3M rows: 0.5 s native, a few seconds in
Pyodide on a loaded machine) must never meet it; an endless query still ends."""
QUERY_MAX_SECONDS = 120
QUERY_VALUE_BYTES = 32 << 20
"""The longest text or blob a query may build or return (SQLite's default, 1 GB, would exhaust the worker)."""
_PROGRESS_STEPS = 1000  # SQLite VM instructions between two looks at the clock (~0.1 ms)
QUERY_MAX_OFFSET = 1_000_000  # rows a query page may skip (paging further means a WHERE clause)


@contextmanager
def budget(db: sqlite3.Connection, seconds: int) -> Iterator[None]:
    """Inside, SQLite stops any statement once `seconds` have passed (its progress handler), and no value may
    grow past QUERY_VALUE_BYTES; a stopped or oversized query raises ProtocolError with a sentence."""
    deadline = time.monotonic() + seconds
    stopped: list[bool] = []

    def over_budget() -> int:
        if time.monotonic() > deadline:
            stopped.append(True)
            return 1  # SQLite interrupts the statement
        return 0

    db.set_progress_handler(over_budget, _PROGRESS_STEPS)
    longest = db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, QUERY_VALUE_BYTES)
    try:
        yield
    except (QueryError, sqlite3.Error) as exc:
        if stopped:
            raise ProtocolError("invalid", f"The query ran for more than {seconds} s and was stopped. Narrow it "
                                           "(a WHERE clause, a LIMIT, no endless recursive WITH).") from None
        if "too big" in str(exc):
            raise ProtocolError("invalid", f"The query builds or returns a value longer than "
                                           f"{QUERY_VALUE_BYTES >> 20} MB, more than the data browser shows.") from None
        message = str(exc) if isinstance(exc, QueryError) else f"The query failed: {exc}"
        raise ProtocolError("invalid", message) from None
    finally:
        db.set_progress_handler(None, 0)
        db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, longest)


def _query_params(params: dict[str, Any]) -> tuple[str, list[Any], int]:
    statement = str_param(params, "sql") or ""
    values = params.get("params", [])
    if not isinstance(values, list):
        raise ProtocolError("bad-params", "'params' must be a list of values.")
    return statement, values, int_param(params, "seconds", QUERY_SECONDS, low=1, high=QUERY_MAX_SECONDS)


@method("sql.query", early=True)
async def sql_query(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Run one read-only SQL query typed by the user (writes are refused by an authorizer), within a time
    budget (`seconds`, default QUERY_SECONDS): a query that runs longer is stopped with a sentence. Returns
    the page of at most `limit` rows after `offset`; `truncated` says more follow (and `message` how to
    see them when `offset` is 0, the one-shot use)."""
    statement, values, seconds = _query_params(params)
    limit = int_param(params, "limit", 1000, low=1, high=10_000)
    offset = int_param(params, "offset", 0, low=0, high=QUERY_MAX_OFFSET)
    db = app.require_db()
    with budget(db, seconds):
        result = query(db, statement, values, limit, offset)
    if result["truncated"] and offset == 0:
        result["message"] = (f"Only the first {limit:,} rows are shown: the query returned more. Add a WHERE "
                             "clause or a LIMIT to see the rest.")
    return result


@method("export.query", early=True)
async def export_query(app: WorkerApp, params: dict[str, Any], file: Any) -> Download:
    """Every row of one read-only query as CSV (formula-neutralised), within the same time budget."""
    statement, values, seconds = _query_params(params)
    db = app.require_db()
    with budget(db, seconds), read_only(db):
        return app.platform.download("query.csv", CSV_MIME, query_csv(query_cursor(db, statement, values)))


@method("tables.profile", early=True)
async def tables_profile(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Per column of a table: type, nulls, distinct, min, max, most frequent values, histogram
    (worker/profile.py: its own SELECTs only), within the query time budget."""
    table = str_param(params, "table") or ""
    db = app.require_db()
    try:
        with budget(db, int_param(params, "seconds", QUERY_SECONDS, low=1, high=QUERY_MAX_SECONDS)):
            return profile(db, table)
    except UnknownTableError as exc:
        raise ProtocolError("not-found", str(exc)) from None


@method("runs.rejects", early=True)
async def run_rejects(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """A page of a run's rejected rows: row number, original values, every reason."""
    run_id = str_param(params, "run_id") or ""
    limit = int_param(params, "limit", 50, low=1, high=1000)
    offset = int_param(params, "offset", 0, low=0, high=10**12)
    db = app.require_db()
    page = itertools.islice(select_rejects(db, run_id), offset, offset + limit)
    return {"rows": [{"row_number": n, "values": raw, "reasons": reasons} for n, raw, reasons in page],
            "total": count_rejects(db, run_id)}


@method("export.errors", early=True)
async def export_errors(app: WorkerApp, params: dict[str, Any], file: Any) -> Download:
    """The run's error report as CSV: row number, reasons, original fields (formula-neutralised)."""
    run_id = str_param(params, "run_id") or ""
    run = await app.require_engine().get_run(run_id)
    if run is None:
        raise ProtocolError("not-found", f"There is no run {run_id}.")
    name = str(run.labels.get("file", "import")).rsplit(".", 1)[0]
    plan = next((s.output for s in await app.require_engine().get_steps(run_id)
                 if s.name == "prepare" and s.status == "completed"), None)
    report = rejects_csv(app.require_db(), run_id, header=report_header(plan))  # named: it re-imports once fixed
    return app.platform.download(f"{name}-errors.csv", CSV_MIME, report)


@method("export.table", early=True)
async def export_table(app: WorkerApp, params: dict[str, Any], file: Any) -> Download:
    """A whole table as CSV, streamed in chunks (formula-neutralised)."""
    table = str_param(params, "table") or ""
    db = app.require_db()
    if table not in [t["name"] for t in list_tables(db)]:
        raise ProtocolError("not-found", f"There is no table '{table}'.")
    return app.platform.download(f"{table}.csv", CSV_MIME, table_csv(db, table))


@method("export.database", early=True)
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
