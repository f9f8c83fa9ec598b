"""Experiment (issue 10): conversion and checks done by SQLite instead of Python, for one batch.

Raw text records go into a TEMP table (untyped columns c0..cN, rowid = position in the batch), then
  INSERT INTO target SELECT <converted values> FROM raw WHERE <every column fits>
  INSERT INTO importer_rejects SELECT run_id, row number, <raw values as JSON>, <reasons as JSON> FROM raw
      WHERE NOT <every column fits>
  DELETE FROM raw
The checks mirror importer/formats.py (INTEGER_RE + INT64 range, REAL_RE + 15 significant digits + float range),
and the required and email rules; the reasons are phrased as validate.py/convert.py phrase them. What is not
mirrored exactly is listed in README.md (and found by edge_cases.py). Only integer, real and text columns, and
the required and email rules, are supported: enough for the benchmark file. Not production code.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from importer import sql as isql
from importer.formats import MAX_REAL_DIGITS, ColumnType
from importer.names import quote_identifier as q
from importer.options import ColumnSpec
from importer.reader import NOT_NULL_QUOTING
from importer.validate import RAW_LIMIT

INT64_MAX = "9223372036854775807"
DBL_MAX = "1.7976931348623157e308"
DBL_MIN = "2.2250738585072014e-308"
# Python's str `\s` (what EMAIL_RE refuses in an address), written out for a GLOB class.
PY_SPACES = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c != "\x00")
_EMPTY_IS_NULL = NOT_NULL_QUOTING is None
CHEAP = True
"""Fast paths without GLOBs that start with '*' (the first version used them: 0.9-1.3 s per 1M rows more)."""
"""Python < 3.12 reads an unquoted empty field as '' (the importer makes it NULL in every column)."""


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _shown(c: str) -> str:
    """SQL for convert.shown(value): quoted and cut to 60 characters (unprintables are NOT escaped: a gap)."""
    return f"('''' || substr({c}, 1, 60) || CASE WHEN length({c}) > 60 THEN '…' ELSE '' END || '''')"


def _empty(c: str) -> str:
    return f"({c} IS NULL OR {c} = '')"


# --- integer -------------------------------------------------------------------------------------------
def _int_t(c: str) -> str:
    return f"trim({c}, ' ')"


def _int_ok(c: str) -> str:
    """The value is an integer the column stores: str(int(v)) == v.strip(' ') (or '-0'), within INT64.
    The CAST saturates out of range values, so they fail the round trip too."""
    t = _int_t(c)
    # fast, common case first: the value is how its integer prints (no padding, no '-0', in range)
    fast = (f"(CAST(CAST({c} AS INTEGER) AS TEXT) = {c})" if CHEAP else
            f"({c} NOT GLOB '*[^0-9]*' AND {c} <> '' AND {c} NOT GLOB '0?*' AND length({c}) < 19)")
    full = f"(CAST(CAST({t} AS INTEGER) AS TEXT) = {t} OR {t} = '-0')"
    return f"({fast} OR {full})"


def _int_spelled(c: str) -> str:
    """INTEGER_RE: spaces, optional minus, 0 or digits without a leading zero, spaces."""
    t = _int_t(c)
    u = f"(CASE WHEN substr({t}, 1, 1) = '-' THEN substr({t}, 2) ELSE {t} END)"
    return f"({u} <> '' AND {u} NOT GLOB '*[^0-9]*' AND ({u} = '0' OR {u} NOT GLOB '0*'))"


def _int_reason(c: str, name: str) -> str:
    return (f"CASE WHEN {_empty(c)} OR {_int_ok(c)} THEN NULL "
            f"WHEN {_int_spelled(c)} THEN {_shown(c)} || {lit(f' is too large for an integer in column {name!r}')} "
            f"ELSE {_shown(c)} || {lit(f' is not an integer in column {name!r}')} END")


def _int_value(c: str) -> str:
    return f"CASE WHEN {c} = '' THEN NULL ELSE CAST({_int_t(c)} AS INTEGER) END"


# --- real ----------------------------------------------------------------------------------------------
def _real_fast(c: str) -> str:
    """The plain reals convert.py sends straight to float(): after one optional minus, digits and at most one
    point, a digit, no leading 0 before a digit, at most MAX_REAL_DIGITS characters."""
    if CHEAP:  # no minus (a negative number takes the full check), no GLOB with a leading '*'
        return (f"(length({c}) <= {MAX_REAL_DIGITS} AND trim({c}, '0123456789.') = '' AND trim({c}, '.') <> '' "
                f"AND instr(substr({c}, instr({c}, '.') + 1), '.') = 0 AND {c} NOT GLOB '0[0-9]*')")
    u = f"(CASE WHEN substr({c}, 1, 1) = '-' THEN substr({c}, 2) ELSE {c} END)"
    return (f"({c} NOT GLOB '*[^0-9.-]*' AND {u} NOT GLOB '*[^0-9.]*' AND {u} GLOB '*[0-9]*' "
            f"AND {u} NOT GLOB '*.*.*' AND {u} NOT GLOB '0[0-9]*' AND length({u}) <= {MAX_REAL_DIGITS})")


def _real_parts(c: str) -> tuple[str, str, str, str]:
    t = f"trim({c}, ' ')"
    u = f"(CASE WHEN substr({t}, 1, 1) = '-' THEN substr({t}, 2) ELSE {t} END)"
    p = f"instr(replace({u}, 'E', 'e'), 'e')"
    m = f"(CASE WHEN {p} > 0 THEN substr({u}, 1, {p} - 1) ELSE {u} END)"
    x = f"(CASE WHEN {p} > 0 THEN substr({u}, {p} + 1) END)"
    return t, u, m, x


def _real_spelled(c: str) -> str:
    """REAL_RE, spelled with GLOBs."""
    _, _, m, x = _real_parts(c)
    mant = (f"({m} <> '' AND {m} NOT GLOB '*[^0-9.]*' AND {m} NOT GLOB '*.*.*' AND {m} GLOB '*[0-9]*' "
            f"AND {m} NOT GLOB '0[0-9]*')")
    exp = (f"({x} IS NULL OR {x} GLOB '[0-9]' OR {x} GLOB '[0-9][0-9]' OR {x} GLOB '[0-9][0-9][0-9]' "
           f"OR {x} GLOB '[-+][0-9]' OR {x} GLOB '[-+][0-9][0-9]' OR {x} GLOB '[-+][0-9][0-9][0-9]')")
    return f"({mant} AND {exp})"


def _real_digits(c: str) -> str:
    """Significant digits of the mantissa (formats.significant_digits; 'or 1' does not matter here)."""
    _, _, m, _ = _real_parts(c)
    return f"length(trim(replace({m}, '.', ''), '0'))"


def _real_out_of_range(c: str) -> str:
    t, _, m, _ = _real_parts(c)
    v = f"abs(CAST({t} AS REAL))"
    return f"({v} > {DBL_MAX} OR ({m} GLOB '*[1-9]*' AND {v} < {DBL_MIN}))"


def _real_ok(c: str) -> str:
    return (f"({_real_fast(c)} OR ({_real_spelled(c)} AND {_real_digits(c)} <= {MAX_REAL_DIGITS} "
            f"AND NOT {_real_out_of_range(c)}))")


def _real_reason(c: str, name: str) -> str:
    return (f"CASE WHEN {_empty(c)} OR {_real_fast(c)} THEN NULL "
            f"WHEN NOT {_real_spelled(c)} THEN {_shown(c)} || {lit(f' is not a number in column {name!r}')} "
            f"WHEN {_real_digits(c)} > {MAX_REAL_DIGITS} THEN {_shown(c)} || "
            f"{lit(f' has more than {MAX_REAL_DIGITS} significant digits in column {name!r} (import the column as text to keep them all)')} "  # noqa: E501
            f"WHEN {_real_out_of_range(c)} THEN {_shown(c)} || "
            f"{lit(f' is beyond the range of a number column in column {name!r} (import the column as text to keep it)')} "  # noqa: E501
            f"END")


def _real_value(c: str) -> str:
    return f"CASE WHEN {c} = '' THEN NULL ELSE CAST(trim({c}, ' ') AS REAL) END"


# --- text and rules --------------------------------------------------------------------------------------
def _email_ok(c: str) -> str:
    """EMAIL_RE ([^@\\s]+@(?:[^@\\s.]+\\.)+[^@\\s.]{2,}) spelled with GLOBs."""
    d = f"substr({c}, instr({c}, '@') + 1)"
    spaces = PY_SPACES.replace("]", "")  # none of them is ']' anyway
    return (f"({c} GLOB '?*@*' AND {c} NOT GLOB '*@*@*' AND {c} NOT GLOB {lit('*[' + spaces + ']*')} "
            f"AND {d} GLOB '*.*' AND {d} NOT GLOB '.*' AND {d} NOT GLOB '*..*' AND {d} NOT GLOB '*.' "
            f"AND {d} NOT GLOB '*.?')")


def _text_value(c: str) -> str:
    return f"NULLIF({c}, '')" if _EMPTY_IS_NULL else c


def build(specs: Sequence[ColumnSpec], col: Any) -> tuple[list[str], str, list[str]]:
    """(value expressions, validity condition, reason expressions) with column i spelled `col(i)`."""
    values, oks, reasons = [], [], []
    for s in specs:
        c, name = col(s.source), s.name
        if s.type is ColumnType.INTEGER:
            values.append(_int_value(c))
            ok, why = f"({_empty(c)} OR {_int_ok(c)})", _int_reason(c, name)
        elif s.type is ColumnType.REAL:
            values.append(_real_value(c))
            ok, why = f"({_empty(c)} OR {_real_ok(c)})", _real_reason(c, name)
        elif s.type is ColumnType.TEXT:
            values.append(_text_value(c))
            ok, why = "1", "NULL"
        else:
            raise NotImplementedError(s.type)
        if s.email:  # (text columns only) a value that is not an address: its reason after the type's
            ok = f"({ok} AND ({_empty(c)} OR {_email_ok(c)}))"
            why = (f"COALESCE({why}, CASE WHEN NOT ({_empty(c)} OR {_email_ok(c)}) THEN "
                   f"{_shown(c)} || {lit(f' is not an email address in column {name!r}')} END)")
        if s.required:  # empty: that is its only reason (the type's is NULL for an empty value)
            ok = f"(NOT {_empty(c)} AND {ok})"
            why = f"CASE WHEN {_empty(c)} THEN {lit(f'column {name!r} is required but empty')} ELSE {why} END"
        if s.min is not None or s.max is not None or s.regex is not None or s.unique:
            raise NotImplementedError("min/max/regex/unique")
        oks.append(ok)
        reasons.append(why)
    valid = " AND ".join(o for o in oks if o != "1") or "1"
    return values, valid, [r for r in reasons if r != "NULL"]


def raw_json(width: int, col: Any) -> str:
    """SQL for json.dumps(_raw(record), ensure_ascii=False): the same text (', ' between values)."""
    return "'[' || " + " || ', ' || ".join(
        f"json_quote(CASE WHEN length({col(i)}) > {RAW_LIMIT} THEN substr({col(i)}, 1, {RAW_LIMIT}) || '…' "
        f"ELSE {col(i)} END)" for i in range(width)) + " || ']'"


def reasons_json(reasons: Sequence[str], number: str) -> str:
    """SQL for the JSON list of the non-NULL reasons, each 'Row N: ...' (json_quote(NULL) is 'null')."""
    parts = " || ".join(f"COALESCE(', ' || NULLIF(json_quote('Row ' || ({number}) || ': ' || ({r})), 'null'), '')"
                        for r in reasons)
    return f"'[' || substr({parts}, 3) || ']'"


MODES = ("scan2", "flag", "trigger")


class SqlBatch:
    """The SQL path for one import: `run(conn, records, first_row)` checks and inserts one batch.

    mode "scan2": raw records into temp.raw, then INSERT ... SELECT ... WHERE valid and the rejects' INSERT
    ... WHERE NOT valid (two scans, the checks run twice for every row).
    mode "flag": the validity is computed as the raw record is loaded (a column `ok` of temp.raw, from the
    bound parameters), then the two INSERT ... SELECTs filter on it (the checks run once).
    mode "trigger": no raw table; the records are inserted into a temp view whose INSTEAD OF trigger inserts
    the converted row into the target WHERE valid and the reject into temp.rej WHERE NOT valid (one pass; the
    row number of a reject is worked out from the target's max rowid and temp.rej's, see `run`).
    """

    def __init__(self, conn: Any, table: str, specs: Sequence[ColumnSpec], width: int, run_id: str,
                 *, json_binding: bool = False, mode: str = "scan2") -> None:
        self.specs, self.width, self.run_id, self.json_binding, self.mode = list(specs), width, run_id, \
            json_binding, mode
        self.table = table
        cols = [f"c{i}" for i in range(width)]
        names = ", ".join(q(s.name) for s in self.specs)
        marks = ", ".join(f"?{i + 1}" for i in range(width))
        self.load_json = None
        if mode == "scan2":
            values, valid, reasons = build(self.specs, lambda i: f"c{i}")
            conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS raw ({', '.join(cols)})")
            self.load = f"INSERT INTO temp.raw VALUES ({marks})"
            self.load_json = (f"INSERT INTO temp.raw SELECT {', '.join(f'value->>{i}' for i in range(width))} "
                              "FROM json_each(?)")
            self.insert = f"INSERT INTO {q(table)} ({names}) SELECT {', '.join(values)} FROM temp.raw WHERE {valid}"
            self.rejects = (f"INSERT INTO {isql.REJECTS_TABLE} (run_id, row_number, raw, reasons) "
                            f"SELECT ?1, rowid + ?2, {raw_json(width, lambda i: f'c{i}')}, "
                            f"{reasons_json(reasons, 'rowid + ?2')} FROM temp.raw WHERE NOT ({valid})")
        elif mode == "flag":
            values, valid, reasons = build(self.specs, lambda i: f"c{i}")
            _, valid_p, _ = build(self.specs, lambda i: f"?{i + 1}")
            conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS raw ({', '.join(cols)}, ok)")
            self.load = f"INSERT INTO temp.raw VALUES ({marks}, CASE WHEN {valid_p} THEN 1 ELSE 0 END)"
            self.load_json = (f"INSERT INTO temp.raw SELECT *, CASE WHEN {valid} THEN 1 ELSE 0 END FROM (SELECT "
                              f"{', '.join(f'value->>{i} AS c{i}' for i in range(width))} FROM json_each(?))")
            self.insert = f"INSERT INTO {q(table)} ({names}) SELECT {', '.join(values)} FROM temp.raw WHERE ok"
            self.rejects = (f"INSERT INTO {isql.REJECTS_TABLE} (run_id, row_number, raw, reasons) "
                            f"SELECT ?1, rowid + ?2, {raw_json(width, lambda i: f'c{i}')}, "
                            f"{reasons_json(reasons, 'rowid + ?2')} FROM temp.raw WHERE NOT ok")
        elif mode == "trigger":
            new = lambda i: f"NEW.c{i}"  # noqa: E731
            values, valid, reasons = build(self.specs, new)
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS rej (k INTEGER PRIMARY KEY, number, raw, reasons)")
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS ctx (base INTEGER)")
            conn.execute(f"CREATE TEMP VIEW IF NOT EXISTS feed AS SELECT {', '.join(f'NULL AS {c}' for c in cols)}")
            # row number of a reject = base + target rows inserted so far + rejects so far + 1, where base is set
            # per batch to first_row - 1 - max(target rowid) (a fresh rowid is max + 1: rows only appended)
            number = (f"(SELECT base FROM temp.ctx) + (SELECT coalesce(max(rowid), 0) FROM main.{q(table)}) "
                      f"+ (SELECT coalesce(max(k), 0) FROM temp.rej) + 1")
            conn.execute(
                f"CREATE TEMP TRIGGER IF NOT EXISTS feed_in INSTEAD OF INSERT ON feed BEGIN "
                f"INSERT INTO {q(table)} ({names}) SELECT {', '.join(values)} WHERE {valid}; "
                f"INSERT INTO rej (number, raw, reasons) SELECT {number}, {raw_json(width, new)}, "
                f"{reasons_json(reasons, number)} WHERE NOT ({valid}); END")
            self.load = f"INSERT INTO temp.feed VALUES ({marks})"
            self.insert = None
            self.rejects = (f"INSERT INTO {isql.REJECTS_TABLE} (run_id, row_number, raw, reasons) "
                            "SELECT ?1, number, raw, reasons FROM temp.rej ORDER BY k")
        else:
            raise ValueError(mode)

    def run(self, conn: Any, records: Sequence[Any], first_row: int) -> tuple[float, float]:
        """Insert the batch's rows and rejects; return (seconds loading / binding, seconds of the SQL after)."""
        import time

        started = time.perf_counter()
        try:
            same = set(map(len, records)) == {self.width}
        except TypeError:  # a BadRecord
            same = False
        if not same:
            raise NotImplementedError("records of another width / unparsable records: the Python path's _shape")
        if self.mode == "trigger":
            conn.execute("DELETE FROM temp.ctx")
            conn.execute(f"INSERT INTO temp.ctx SELECT ? - coalesce(max(rowid), 0) FROM main.{q(self.table)}",
                         (first_row - 1,))
        if self.json_binding:
            conn.execute(self.load_json, (json.dumps(records, ensure_ascii=False),))
        else:
            conn.executemany(self.load, records)
        loaded = time.perf_counter()
        if self.mode == "trigger":
            conn.execute(self.rejects, (self.run_id,))
            conn.execute("DELETE FROM temp.rej")
        else:
            offset = first_row - 1  # rowids of a table emptied with DELETE start again at 1
            conn.execute(self.insert)
            conn.execute(self.rejects, (self.run_id, offset))
            conn.execute("DELETE FROM temp.raw")
        return loaded - started, time.perf_counter() - loaded


if __name__ == "__main__":  # print the statements for the benchmark's columns
    from importer.options import ImportOptions

    import bench_sql

    opts = ImportOptions.model_validate({"columns": bench_sql.CONFIGS[sys.argv[1] if len(sys.argv) > 1 else "browser"]})
    import sqlite3

    c = sqlite3.connect(":memory:")
    isql.create_target(c, "t", opts.kept_columns())
    isql.create_rejects_table(c)
    b = SqlBatch(c, "t", opts.kept_columns(), 4, "run")
    print(b.insert, "\n\n", b.rejects, sep="")
    print(json.dumps({"insert_chars": len(b.insert), "rejects_chars": len(b.rejects)}))
