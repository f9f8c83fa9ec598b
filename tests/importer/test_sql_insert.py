"""`sql.insert_rows`: rows go in by multi-row statements and the rest one by one, every row once, in order."""

from __future__ import annotations

import sqlite3

import pytest

from importer import sql
from importer.names import quote_identifier


def _insert(names: list[str], rows: list[tuple[object, ...]]) -> tuple[list[tuple[object, ...]], list[str]]:
    """Insert `rows` into a new table of `names`; return the table's rows by rowid and the statements run."""
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE TABLE t ({', '.join(quote_identifier(n) for n in names)})")
    statements: list[str] = []
    conn.set_trace_callback(lambda s: statements.append(s) if s.startswith("INSERT") else None)
    sql.insert_rows(conn, sql.insert_statement("t", names), rows)
    conn.set_trace_callback(None)
    return conn.execute("SELECT * FROM t ORDER BY rowid").fetchall(), statements


@pytest.mark.parametrize("count", [0, 1, 99, 100, 101, 250, 1_000])
def test_every_row_is_inserted_once_in_order_whatever_the_count(count):
    rows = [(i, f"name {i}", None if i % 7 == 0 else i / 3) for i in range(count)]
    stored, statements = _insert(["id", "name", "amount"], rows)
    assert stored == rows
    many = [s for s in statements if "), (" in s]  # "INSERT ... VALUES (...), (...), ..." with its values
    assert len(many) == count // sql.ROWS_PER_INSERT
    assert len(statements) - len(many) == count % sql.ROWS_PER_INSERT


def test_a_wide_table_binds_no_more_parameters_than_any_sqlite_allows():
    names = [f"c{i}" for i in range(300)]
    insert = sql.insert_statement("t", names)
    assert insert.rows * insert.width <= sql.MAX_PARAMETERS
    rows = [tuple(range(r, r + 300)) for r in range(7)]
    stored, _ = _insert(names, rows)
    assert stored == rows


def test_a_table_wider_than_the_parameter_limit_inserts_row_by_row():
    insert = sql.insert_statement("t", [f"c{i}" for i in range(1_200)])
    assert (insert.rows, insert.many) == (1, insert.one)
