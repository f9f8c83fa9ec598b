"""Variant A of bench/exp_sql/bench_sql.py only (the importer's own per-batch path), trimmed for the
node-vs-browser comparison. Runs the same under node (run_node.mjs), in a Chromium worker (drive.py) and CPython.

  --db memory | file     the database: ':memory:' (as bench_sql.py) or a file on MEMFS (/tmp/bench_a.db)
  --passes N             timed passes over the whole file within this one process (first vs later: warm-up)
  --repeats R            bench_sql.py's repeats, within each pass (default 1 here: the driver repeats processes)

Per pass prints: parse, convert, insert, commit in s per 1M rows (sums over batches of --batch records), plus
`RESULT {json}` lines for the drivers.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sqlite3
import sys
import time

for p in ("/py", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "py")):
    if os.path.isdir(os.path.join(p, "importer")):
        sys.path.insert(0, p)
        break

from importer import sql as isql  # noqa: E402
from importer.options import ImportOptions  # noqa: E402
from importer.reader import RecordReader, read_header  # noqa: E402
from importer.validate import RowChecker  # noqa: E402

COLUMNS = [  # bench_sql.py's "browser" config
    {"source": 0, "name": "id", "type": "integer"},
    {"source": 1, "name": "name", "type": "text"},
    {"source": 2, "name": "email", "type": "text"},
    {"source": 3, "name": "amount", "type": "real"},
]
TABLE = "bench"
RUN_ID = "run-1"


def fresh(path: str) -> sqlite3.Connection:
    if path != ":memory:" and os.path.exists(path):
        os.remove(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


def one_pass(csv: str, options: ImportOptions, db: str, batch_size: int, free: str = "before", gc_mode: str = "batch") -> dict[str, float]:
    header, data_offset = read_header(csv, options)
    checker = RowChecker(options, len(header))
    insert = isql.insert_statement(TABLE, [s.name for s in checker.specs])
    conn = fresh(db)
    isql.create_target(conn, TABLE, options.kept_columns())
    isql.create_rejects_table(conn)
    conn.commit()
    sums = {"parse": 0.0, "convert": 0.0, "insert": 0.0, "commit": 0.0, "free": 0.0}
    checked = None
    rows = 0
    if gc_mode == "off":  # job.py: the GC is off for a whole batch of slices (here: the whole pass)
        gc.collect()
        gc.disable()
    with RecordReader(csv, options, offset=data_offset, row=2) as reader:
        while True:
            t = time.perf_counter()
            batch = reader.read_batch(batch_size)
            sums["parse"] += time.perf_counter() - t
            if not batch.records:
                break
            if gc_mode == "batch":  # bench_sql.py: collect, then no GC during the batch
                gc.collect()
                gc.disable()
            try:
                t0 = time.perf_counter()
                if free == "in":  # the previous batch's result is freed by this assignment, inside the timing
                    checked = checker.check_columns(batch.records, batch.first_row)
                else:
                    new = checker.check_columns(batch.records, batch.first_row)
                t1 = time.perf_counter()
                if free == "after":  # as job.py: the previous slice lived while this one was converted; freed now
                    checked = None
                elif free == "in":
                    new = checked
                tf = time.perf_counter()
                checked = new
                del new
                isql.insert_rows(conn, insert, checked.rows())
                isql.insert_rejects(conn, RUN_ID, checked.rejects)
                t2 = time.perf_counter()
                conn.commit()
                t3 = time.perf_counter()
                if free == "before":  # as bench_sql.py: freed when run() returns, before the next batch
                    checked = None
                t4 = time.perf_counter()
            finally:
                if gc_mode == "batch":
                    gc.enable()
            sums["convert"] += t1 - t0
            sums["free"] += (tf - t1) + (t4 - t3)
            sums["insert"] += t2 - tf
            sums["commit"] += t3 - t2
            rows += len(batch.records)
            if batch.eof:
                break
    gc.enable()
    stored = conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]
    conn.close()
    if db != ":memory:":
        os.remove(db)
    out = {k: v * 1e6 / rows for k, v in sums.items()}
    out.update(rows=rows, stored=stored)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="/data/bench.csv" if sys.platform == "emscripten" else "/tmp/sqlexp/bench.csv")
    ap.add_argument("--db", default="memory", choices=["memory", "file"])
    ap.add_argument("--passes", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--batch", type=int, default=100_000)
    ap.add_argument("--label", default="")
    ap.add_argument("--gc", default="batch", choices=["batch", "off"],
                    help="batch: gc.collect() then GC off around each batch (bench_sql.py); off: GC off for the pass")
    ap.add_argument("--free", default="before", choices=["before", "after", "in"],
                    help="when the previous batch's checked result is freed: before the next parse (bench_sql.py),"
                         " after the next convert (job.py's pattern), or inside the next convert's timing")
    args = ap.parse_args()
    db = ":memory:" if args.db == "memory" else "/tmp/bench_a.db"
    options = ImportOptions.model_validate({"columns": COLUMNS, "has_header": True, "delimiter": ",",
                                            "quotechar": '"', "encoding": "utf-8"})
    print(f"python {sys.version.split()[0]} on {sys.platform} ({platform.machine()}), sqlite {sqlite3.sqlite_version},"
          f" db {db}, batch {args.batch:,}, file {args.csv}", flush=True)
    for p in range(args.passes):
        for r in range(args.repeats):
            s = one_pass(args.csv, options, db, args.batch, args.free, args.gc)
            print(f"pass {p + 1} repeat {r + 1}: {s['rows']:,} rows ({s['stored']:,} stored), s/1M: parse {s['parse']:.3f}"
                  f" convert {s['convert']:.3f} insert {s['insert']:.3f} commit {s['commit']:.3f} free {s['free']:.3f}"
                  f" (free={args.free}, gc={args.gc}, batch={args.batch})", flush=True)
            print("RESULT " + json.dumps({"label": args.label, "db": args.db, "free_mode": args.free, "gc": args.gc, "batch": args.batch, "pass": p + 1, "repeat": r + 1, **s}),
                  flush=True)


if __name__ == "__main__":
    main()
