"""Benchmark: the installed `csv-import` command against native csv.reader + sqlite3 executemany, same file.

Run `./run bench cli [rows]` (default 1,000,000 rows of id,name,email,amount, ~1% invalid; the file of
bench/import_native.py). Each repeat times, in the same run: the native baseline (no validation, one
transaction), the command with every column's type given (`--type ...`: no whole-file scan), and the command
with default settings (sniffing plus the whole-file type scan, as a user who sets nothing gets). Each command
time is the whole process: start-up, hashing the file, checking it, the job's batches. Prints the medians of 3
and the ratios native/command (1.0 = as fast as native).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.import_native import generate_csv, native_baseline, remove_db

CLI = Path(sys.executable).parent / "csv-import"
TYPES = ["--type", "id=integer", "--required", "id", "--type", "name=text", "--type", "email=text",
         "--type", "amount=real"]


def command_import(csv_path: str, db_path: str, flags: list[str]) -> tuple[float, dict[str, object]]:
    """Run the command to its end; return (seconds, its --json summary)."""
    remove_db(db_path)
    started = time.perf_counter()
    done = subprocess.run([str(CLI), csv_path, "--db", db_path, "--json", *flags], capture_output=True, text=True,
                          check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"csv-import failed ({done.returncode}): {done.stderr.strip()}")
    return seconds, json.loads(done.stdout)


def main(rows: int = 1_000_000, repeats: int = 3) -> None:
    if not CLI.exists():
        raise SystemExit(f"{CLI} is missing: install the project (./run bench cli does)")
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = os.path.join(tmp, "bench.csv")
        invalid = generate_csv(csv_path, rows)
        print(f"file: {rows:,} rows, {os.path.getsize(csv_path) / 1e6:.1f} MB, {len(invalid):,} invalid")
        native, given, defaults = [], [], []
        phases: list[dict[str, float]] = []
        for n in range(repeats):
            native.append(native_baseline(csv_path, os.path.join(tmp, "native.sqlite")))
            seconds, out = command_import(csv_path, os.path.join(tmp, "given.sqlite"), TYPES)
            given.append(seconds)
            phases.append(dict(out.get("timings") or {}))
            scanned, _ = command_import(csv_path, os.path.join(tmp, "defaults.sqlite"), [])
            defaults.append(scanned)
            ahead = "wait" in (out.get("timings") or {})  # only reading ahead times the waits for slices
            print(f"  run {n + 1}: native {native[-1]:.2f} s, csv-import with types {seconds:.2f} s "
                  f"({out['rows_accepted']:,} rows, {out['rows_rejected']:,} rejected, reading ahead: "
                  f"{'yes' if ahead else 'no, no spare core (load ' + format(os.getloadavg()[0], '.1f') + ')'}), "
                  f"csv-import with defaults {scanned:.2f} s")
        n_med, g_med, d_med = statistics.median(native), statistics.median(given), statistics.median(defaults)
        print(f"native csv+executemany:  {rows / n_med:,.0f} rows/s (median {n_med:.2f} s)")
        print(f"csv-import, types given: {rows / g_med:,.0f} rows/s (median {g_med:.2f} s)")
        print(f"csv-import, defaults:    {rows / d_med:,.0f} rows/s (median {d_med:.2f} s, whole-file type scan)")
        print(f"ratio native/csv-import: {n_med / g_med:.2f} with types given; {n_med / d_med:.2f} with defaults")
        names = sorted({k for p in phases for k in p})
        print("where the job's time goes, types given (median seconds; parse and convert run in the read-ahead "
              "process, overlapping insert; wait is what the inserts waited for them):")
        print("  " + ", ".join(f"{k} {statistics.median(p.get(k, 0.0) for p in phases):.2f}" for k in names))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
