"""The inserted-rows ledger: each import run records, in the transaction of each batch, the rowid ranges it put
in its table; the ranges of two runs appending to one table cover exactly each run's rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.importer.conftest import run_import

READING = {"encoding": "utf-8", "delimiter": ",", "quotechar": '"', "has_header": True, "decimal_comma": False}
COLUMNS = [{"source": 0, "name": "id", "type": "integer"}, {"source": 1, "name": "name"}]


def write(path: Path, ids: range, bad_every: int = 7) -> Path:
    lines = ["id,name"] + [f"{'x' if i % bad_every == 0 else i},n{i}" for i in ids]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def ids_in_ranges(db: Path, run_id: str) -> list[int]:
    with sqlite3.connect(db) as conn:
        ranges = conn.execute("SELECT table_name, first_rowid, last_rowid, kind FROM importer_inserted "
                              "WHERE run_id = ? AND kind != 'created' ORDER BY first_rowid", (run_id,)).fetchall()
        assert ranges and all(kind == "import" for *_, kind in ranges)
        return [i for table, first, last, _ in ranges
                for (i,) in conn.execute(f'SELECT id FROM "{table}" WHERE rowid BETWEEN ? AND ?', (first, last))]


def run_ids(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r for (r,) in conn.execute("SELECT id FROM durable_runs ORDER BY created_at")]


def test_two_runs_appending_to_one_table_each_record_exactly_their_rows(tmp_path: Path) -> None:
    first = write(tmp_path / "a.csv", range(1, 1001))
    second = write(tmp_path / "b.csv", range(1001, 1501))
    options = {**READING, "columns": COLUMNS}
    a = run_import(tmp_path / "db", first, options, max_batch_rows=64)
    assert a.output is not None and a.output.table == "a"
    b = run_import(tmp_path / "db", second, {**options, "table": "a", "if_exists": "append"}, max_batch_rows=64)
    assert b.output is not None, b.error
    runs = run_ids(a.db)
    assert ids_in_ranges(a.db, runs[0]) == [i for i in range(1, 1001) if i % 7]
    assert ids_in_ranges(a.db, runs[1]) == [i for i in range(1001, 1501) if i % 7]


def test_a_replace_records_the_rows_of_the_new_table(tmp_path: Path) -> None:
    first = write(tmp_path / "a.csv", range(1, 200))
    options = {**READING, "columns": COLUMNS}
    run_import(tmp_path / "db", first, options, max_batch_rows=50)
    again = write(tmp_path / "again.csv", range(500, 600))
    out = run_import(tmp_path / "db", again, {**options, "table": "a", "if_exists": "replace"}, max_batch_rows=30)
    assert out.output is not None, out.error
    assert ids_in_ranges(out.db, run_ids(out.db)[1]) == [i for i in range(500, 600) if i % 7]
