"""export.py: CSV exports stream in chunks and neutralise formula-looking cells; database copy."""

import csv
import io
import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer import copy_database, neutralise, rejects_csv, table_csv
from importer.sql import create_rejects_table, insert_rejects
from importer.validate import Reject


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("=1+1", "'=1+1"), ("+A1", "'+A1"), ("-2", "'-2"), ("@SUM", "'@SUM"), ("\tx", "'\tx"), ("\rx", "'\rx"),
     ("plain", "plain"), (-2, -2), (None, None)],
)  # fmt: skip
def test_cells_that_a_spreadsheet_would_run_are_neutralised(cell, expected):
    assert neutralise(cell) == expected


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
