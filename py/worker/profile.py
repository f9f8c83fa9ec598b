"""Column profiles of the data browser: per column of a table its declared type, nulls, distinct values,
minimum and maximum, most frequent values and a histogram, computed on demand in SQL (read-only).

A histogram is drawn for a column whose values are all numbers (equal-width bins between its minimum and
maximum) or all ISO dates or date-times (bins by day number, `julianday`); other columns get none.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

from importer import quote_identifier as q
from importer.sql import table_columns, table_names
from worker.browse import UnknownTableError

TOP_VALUES = 5
BINS = 10
_DATE_GLOB = "[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]*"


def profile(conn: sqlite3.Connection, table: str) -> dict[str, Any]:
    """`{table, rows, columns: [column profile]}` for `table`; raises UnknownTableError."""
    if table not in table_names(conn):
        raise UnknownTableError(f"There is no table '{table}'.")
    declared = {row[1]: row[2] for row in conn.execute(f"PRAGMA table_info({q(table)})")}
    rows = conn.execute(f"SELECT count(*) FROM {q(table)}").fetchone()[0]
    return {"table": table, "rows": rows,
            "columns": [column_profile(conn, table, name, declared.get(name, ""), rows)
                        for name in table_columns(conn, table)]}


def column_profile(conn: sqlite3.Connection, table: str, column: str, declared: str, rows: int) -> dict[str, Any]:
    """The profile of one column (`rows`: the table's row count)."""
    t, c = q(table), q(column)
    nulls, distinct, numbers, dates = conn.execute(
        f"SELECT count(*) - count({c}), count(DISTINCT {c}), "
        f"sum(typeof({c}) IN ('integer', 'real')), "
        f"sum(typeof({c}) = 'text' AND {c} GLOB ? AND julianday({c}) IS NOT NULL) FROM {t}",
        [_DATE_GLOB]).fetchone()
    low, high = conn.execute(f"SELECT min({c}), max({c}) FROM {t}").fetchone()
    top = conn.execute(
        f"SELECT {c}, count(*) AS n FROM {t} WHERE {c} IS NOT NULL GROUP BY {c} ORDER BY n DESC, {c} LIMIT ?",
        [TOP_VALUES]).fetchall()
    values = rows - nulls
    kind = "number" if values and numbers == values else "date" if values and dates == values else None
    return {"name": column, "type": declared or "ANY", "rows": rows, "nulls": nulls, "distinct": distinct,
            "min": low, "max": high, "top": [[value, count] for value, count in top],
            "histogram": _histogram(conn, t, c, kind) if kind else None}


def _histogram(conn: sqlite3.Connection, t: str, c: str, kind: str) -> dict[str, Any]:
    """`{kind, bins: [{low, high, count}]}`: BINS equal-width bins (one when every value is the same)."""
    x = c if kind == "number" else f"julianday({c})"
    low, high = conn.execute(f"SELECT min({x}), max({x}) FROM {t} WHERE {c} IS NOT NULL").fetchone()
    bins = BINS if high > low else 1
    width = (high - low) / bins if high > low else 1
    counts = dict(conn.execute(
        f"SELECT min(CAST(({x} - ?) / ? AS INTEGER), ?) AS b, count(*) FROM {t} WHERE {c} IS NOT NULL GROUP BY b",
        [low, width, bins - 1]).fetchall())
    edges = [low + width * i for i in range(bins)] + [high]
    return {"kind": kind, "bins": [{"low": _edge(edges[i], kind), "high": _edge(edges[i + 1], kind),
                                    "count": counts.get(i, 0)} for i in range(bins)]}


def _edge(value: float, kind: str) -> Any:
    """A bin edge as shown: the number, or the date (YYYY-MM-DD) of a day number."""
    if kind == "number":
        return value
    return date.fromordinal(int(value - 1721424.5)).isoformat()
