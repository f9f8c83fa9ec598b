"""Where the SQL path's time goes: the same 100k-row batches, SQL statements of growing cost (no Python checks).

  python bench/exp_sql/floor.py [--rows 300000]        node bench/exp_sql/run_pyodide.mjs floor.py [...]

Steps per batch, each timed (seconds per 1M rows, median of 3 passes over the rows):
  load       executemany of the raw records into the TEMP table (what B pays before any SQL)
  copy       INSERT INTO target SELECT c0, c1, c2, c3 FROM raw   (no checks; column affinity converts)
  cast       the same with B's value expressions (CAST ... trim ...), no WHERE
  where_fast copy with only the fast-path checks in the WHERE (plain digits / plain real)
  where_full copy with B's full WHERE (what B's INSERT runs)
  rejects    B's rejects INSERT (a second scan, full NOT WHERE, reasons for 1% of rows)
  typed      for reference: executemany of already converted rows (A's insert, without the check)
"""
from __future__ import annotations

import argparse
import statistics
import sqlite3
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if (HERE.parent.parent / "py").is_dir():
    sys.path.insert(0, str(HERE.parent.parent / "py"))
sys.path.insert(0, str(HERE))

from importer import sql as isql  # noqa: E402
from importer.options import ImportOptions  # noqa: E402
from importer.reader import RecordReader, read_header  # noqa: E402
from importer.validate import RowChecker  # noqa: E402
import sqlpath  # noqa: E402
from bench_sql import CONFIGS  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--csv", default="/data/bench.csv" if sys.platform == "emscripten" else "/tmp/sqlexp/bench.csv")
ap.add_argument("--rows", type=int, default=300_000)
ap.add_argument("--config", default="browser")
args = ap.parse_args()
options = ImportOptions.model_validate({"columns": CONFIGS[args.config], "has_header": True, "delimiter": ",",
                                        "quotechar": '"', "encoding": "utf-8"})
header, off = read_header(args.csv, options)
specs = options.kept_columns()
batches = []
with RecordReader(args.csv, options, offset=off, row=2) as r:
    n = 0
    while n < args.rows:
        b = r.read_batch(100_000)
        if not b.records:
            break
        batches.append(b)
        n += len(b.records)
checker = RowChecker(options, 4)
typed = [list(checker.check_columns(b.records, b.first_row).rows()) for b in batches]

conn = sqlite3.connect(":memory:")
conn.execute("PRAGMA temp_store = MEMORY")
isql.create_target(conn, "bench", specs)
isql.create_rejects_table(conn)
sb = sqlpath.SqlBatch(conn, "bench", specs, 4, "run")
where_full = sb.insert.split(" WHERE ", 1)[1]
values = sb.insert.split(" SELECT ", 1)[1].split(" FROM temp.raw")[0]
fast = (f"({sqlpath._empty('c0')} OR (c0 NOT GLOB '*[^0-9]*' AND c0 <> '' AND c0 NOT GLOB '0?*' AND length(c0) < 19))"
        f" AND ({sqlpath._empty('c3')} OR {sqlpath._real_fast('c3')})")
statements = {
    "copy": "INSERT INTO bench SELECT c0, c1, c2, c3 FROM temp.raw",
    "cast": f"INSERT INTO bench SELECT {values} FROM temp.raw",
    "where_fast": f"INSERT INTO bench SELECT c0, c1, c2, c3 FROM temp.raw WHERE {fast}",
    "where_full": f"INSERT INTO bench SELECT c0, c1, c2, c3 FROM temp.raw WHERE {where_full}",
    "B_insert": sb.insert,
}
times: dict[str, list[float]] = {k: [] for k in ["load", *statements, "rejects", "delete", "typed"]}
rows = sum(len(b.records) for b in batches)
for _ in range(3):
    t = dict.fromkeys(times, 0.0)
    for b, ty in zip(batches, typed):
        s = time.perf_counter()
        conn.executemany(sb.load, b.records)
        t["load"] += time.perf_counter() - s
        for k, st in statements.items():
            s = time.perf_counter()
            conn.execute(st)
            t[k] += time.perf_counter() - s
        s = time.perf_counter()
        conn.execute(sb.rejects, ("run", b.first_row - 1))
        t["rejects"] += time.perf_counter() - s
        s = time.perf_counter()
        conn.execute("DELETE FROM temp.raw")
        t["delete"] += time.perf_counter() - s
        s = time.perf_counter()
        conn.executemany(isql.insert_statement("bench", [x.name for x in specs]), ty)
        t["typed"] += time.perf_counter() - s
        conn.commit()
        conn.execute("DELETE FROM bench")
        conn.execute(f"DELETE FROM {isql.REJECTS_TABLE}")
        conn.commit()
    for k in times:
        times[k].append(t[k] * 1e6 / rows)
print(f"python {sys.version.split()[0]} {sys.platform} sqlite {sqlite3.sqlite_version}: {rows:,} rows, s per 1M rows "
      "(median of 3)")
for k, v in times.items():
    print(f"  {k:11s} {statistics.median(v):.3f}")
