"""How a reject is stored (importer.sql): its raw values and reasons as the JSON text `json.dumps` gives them,
whatever the cells hold, and read back unchanged."""

from __future__ import annotations

import json
import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from importer import sql
from importer.validate import Reject

CELLS = st.lists(st.one_of(st.none(), st.text(st.characters(exclude_categories=["Cs"]))), max_size=6)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(CELLS, st.lists(st.text(st.characters(exclude_categories=["Cs"])), max_size=3)),
                max_size=5))
def test_a_rejects_raw_values_and_reasons_are_stored_as_json_dumps_writes_them(rejects):
    conn = sqlite3.connect(":memory:")
    conn.execute(sql.REJECTS_SCHEMA)
    sql.insert_rejects(conn, "run", [Reject(n, raw, reasons) for n, (raw, reasons) in enumerate(rejects, start=2)])
    stored = conn.execute(f"SELECT raw, reasons FROM {sql.REJECTS_TABLE} ORDER BY row_number").fetchall()
    assert stored == [(json.dumps(raw, ensure_ascii=False), json.dumps(reasons, ensure_ascii=False))
                      for raw, reasons in rejects]
    assert list(sql.select_rejects(conn, "run")) == [(n, raw, reasons)
                                                       for n, (raw, reasons) in enumerate(rejects, start=2)]
