"""Benchmark (issue 10): convert + insert of each batch, Python (A) against SQLite (B, C), same records.

  python bench/exp_sql/bench_sql.py [--csv /tmp/sqlexp/bench.csv] [--config browser|rules] [--repeats 3]
  node bench/exp_sql/run_pyodide.mjs bench_sql.py [same options]     (Pyodide, the csv under /tmp/sqlexp)

Each batch of --batch records (default 100,000) is parsed by the importer's RecordReader (untimed), then, for
each variant on its own in-memory database (fresh every repeat), in one transaction per batch:
  A   RowChecker.check_columns + sql.insert_rows (executemany) + sql.insert_rejects (what job.py does)
  B   executemany of the raw records into a TEMP table, INSERT ... SELECT with the checks, rejects, DELETE
  C   B, with the batch bound as one JSON text (json.dumps) and loaded with json_each
Prints per variant the seconds per 1M rows (median of the repeats, sum over the batches) of the convert+insert
and its parts, then compares the target and rejects tables of B and C with A's row by row (values and types).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sqlite3
import statistics
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
from sqlpath import SqlBatch  # noqa: E402

CONFIGS = {
    # what the browser bench (bench/import.py) gives: id and amount set by the user, name and email as inferred
    # from the preview (text; the email rule is only suggested from a whole-file guess where all are addresses)
    "browser": [
        {"source": 0, "name": "id", "type": "integer"},
        {"source": 1, "name": "name", "type": "text"},
        {"source": 2, "name": "email", "type": "text"},
        {"source": 3, "name": "amount", "type": "real"},
    ],
    # bench/import_native.py's COLUMNS: required id and the email rule too
    "rules": [
        {"source": 0, "name": "id", "type": "integer", "required": True},
        {"source": 1, "name": "name", "type": "text"},
        {"source": 2, "name": "email", "type": "text", "email": True},
        {"source": 3, "name": "amount", "type": "real"},
    ],
}
TABLE = "bench"
RUN_ID = "run-1"


def fresh(path: str) -> sqlite3.Connection:
    if path != ":memory:" and os.path.exists(path):
        os.remove(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


class VariantA:
    name = "A"

    def __init__(self, conn: sqlite3.Connection, options: ImportOptions, width: int) -> None:
        self.checker = RowChecker(options, width)
        self.insert = isql.insert_statement(TABLE, [s.name for s in self.checker.specs])

    def run(self, conn, records, first_row):  # -> (convert s, insert s)
        t0 = time.perf_counter()
        checked = self.checker.check_columns(records, first_row)
        t1 = time.perf_counter()
        isql.insert_rows(conn, self.insert, checked.rows())
        isql.insert_rejects(conn, RUN_ID, checked.rejects)
        return t1 - t0, time.perf_counter() - t1


class VariantB:
    name = "B"
    json_binding = False
    mode = "scan2"

    def __init__(self, conn, options, width):
        self.batch = SqlBatch(conn, TABLE, options.kept_columns(), width, RUN_ID, json_binding=self.json_binding,
                              mode=self.mode)

    def run(self, conn, records, first_row):  # -> (load raw s, SQL s)
        return self.batch.run(conn, records, first_row)


class VariantC(VariantB):
    name = "C"
    json_binding = True


class VariantF(VariantB):  # B with the validity computed once, as the raw record is loaded
    name = "F"
    mode = "flag"


class VariantG(VariantB):  # F, bound as one JSON text
    name = "G"
    mode = "flag"
    json_binding = True


class VariantT(VariantB):  # one pass: records into a view whose INSTEAD OF trigger inserts row or reject
    name = "T"
    mode = "trigger"


VARIANTS = {"A": VariantA, "B": VariantB, "C": VariantC, "F": VariantF, "G": VariantG, "T": VariantT}


def compare(a: sqlite3.Connection, b: sqlite3.Connection) -> dict[str, object]:
    """Row-by-row comparison of b's target and rejects tables with a's (values, their types, order)."""
    out: dict[str, object] = {}
    for what, query in (("rows", f"SELECT * FROM {TABLE} ORDER BY rowid"),
                        ("rejects", f"SELECT row_number, raw, reasons FROM {isql.REJECTS_TABLE} ORDER BY row_number")):
        n = diff = 0
        first = None
        ca, cb = a.execute(query), b.execute(query)
        while True:
            ra, rb = ca.fetchmany(10_000), cb.fetchmany(10_000)
            if not ra and not rb:
                break
            for x, y in zip(ra, rb):
                n += 1
                same = len(x) == len(y) and all(type(u) is type(v) and (u == v or u != u and v != v)
                                                for u, v in zip(x, y))
                if not same:
                    diff += 1
                    first = first or (x, y)
            if len(ra) != len(rb):
                diff += abs(len(ra) - len(rb))
                first = first or ("lengths differ", len(ra), len(rb))
                break
        out[what] = {"compared": n, "differ": diff, "first_difference": first}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="/data/bench.csv" if sys.platform == "emscripten" else "/tmp/sqlexp/bench.csv")
    ap.add_argument("--config", default="browser", choices=sorted(CONFIGS))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=100_000)
    ap.add_argument("--variants", default="ABC")
    ap.add_argument("--rows", type=int, default=0, help="stop after this many rows (0: whole file)")
    ap.add_argument("--json", default="", help="also write the results to this file")
    args = ap.parse_args()

    options = ImportOptions.model_validate({"columns": CONFIGS[args.config], "has_header": True,
                                            "delimiter": ",", "quotechar": '"', "encoding": "utf-8"})
    header, data_offset = read_header(args.csv, options)
    width = len(header)
    specs = options.kept_columns()
    print(f"python {sys.version.split()[0]} on {sys.platform}, sqlite {sqlite3.sqlite_version}, "
          f"config {args.config}, batch {args.batch:,}, file {args.csv}")
    totals: dict[str, list[dict[str, float]]] = {v: [] for v in args.variants}
    conns: dict[str, sqlite3.Connection] = {}
    rows_done = 0
    for rep in range(args.repeats):
        for v in list(conns):
            conns.pop(v).close()
        runners = {}
        for v in args.variants:
            conn = conns[v] = fresh(":memory:")
            isql.create_target(conn, TABLE, specs)
            isql.create_rejects_table(conn)
            conn.commit()
            runners[v] = VARIANTS[v](conn, options, width)
        sums = {v: {"part1": 0.0, "part2": 0.0, "commit": 0.0} for v in args.variants}
        rows_done = parse = 0.0
        order = list(args.variants)
        with RecordReader(args.csv, options, offset=data_offset, row=2) as reader:
            while True:
                t = time.perf_counter()
                batch = reader.read_batch(args.batch)
                parse += time.perf_counter() - t
                if not batch.records:
                    break
                order = order[1:] + order[:1]  # rotate which variant goes first
                for v in order:
                    conn = conns[v]
                    gc.collect()
                    gc.disable()
                    try:
                        p1, p2 = runners[v].run(conn, batch.records, batch.first_row)
                        t = time.perf_counter()
                        conn.commit()
                        sums[v]["commit"] += time.perf_counter() - t
                    finally:
                        gc.enable()
                    sums[v]["part1"] += p1
                    sums[v]["part2"] += p2
                rows_done += len(batch.records)
                if batch.eof or (args.rows and rows_done >= args.rows):
                    break
        per_m = 1e6 / rows_done
        line = []
        for v in args.variants:
            s = {k: x * per_m for k, x in sums[v].items()}
            s["total"] = s["part1"] + s["part2"]
            totals[v].append(s)
            line.append(f"{v} {s['total']:.3f} ({s['part1']:.3f}+{s['part2']:.3f}, commit {s['commit']:.3f})")
        print(f"repeat {rep + 1}: {int(rows_done):,} rows, parse {parse * per_m:.3f} s/1M; " + "; ".join(line), flush=True)
    labels = {"A": ("convert", "insert"), "B": ("load raw", "SQL"), "C": ("load json", "SQL"),
              "F": ("load raw+flag", "SQL"), "G": ("load json+flag", "SQL"), "T": ("executemany+trigger", "rejects")}
    result = {"python": sys.version.split()[0], "platform": sys.platform, "sqlite": sqlite3.sqlite_version,
              "config": args.config, "rows": int(rows_done), "batch": args.batch, "variants": {}}
    print("\nseconds per 1M rows, median of", args.repeats, "(convert+insert = the two parts; commit apart)")
    for v in args.variants:
        med = {k: statistics.median(r[k] for r in totals[v]) for k in totals[v][0]}
        result["variants"][v] = {"median": med, "runs": totals[v]}
        a, b = labels[v]
        print(f"  {v}: convert+insert {med['total']:.3f}  ({a} {med['part1']:.3f}, {b} {med['part2']:.3f}; "
              f"commit {med['commit']:.3f})")
    if "A" in conns:
        base = result["variants"]["A"]["median"]["total"]
        for v in args.variants:
            if v != "A":
                d = result["variants"][v]["median"]["total"] - base
                print(f"  {v} - A: {d:+.3f} s per 1M rows ({100 * d / base:+.0f}%)")
        for v in args.variants:
            if v != "A":
                cmp = compare(conns["A"], conns[v])
                result["variants"][v]["compare_with_A"] = cmp
                print(f"  {v} vs A stored values: {json.dumps(cmp, default=str)}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
