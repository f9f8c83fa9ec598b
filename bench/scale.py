"""Scale benchmark: import rows/s at 100k, 1M and 5M rows (browser and CPython), and memory at 100 MB and 1 GB.

Rows/s (the default): for each size, the same generated file (bench/import_native.py: id,name,email,amount, every
100th row invalid) imported --repeats times each way (a file under 3M rows more often in this process,
`ROWS_A_ROUND`, and one under 1M in the browser, `SHORT_VISITS`), in rounds that take every size once (the machine
is shared: a slow minute then falls on every size, not on the one measured in it), medians: native CPython
csv.reader + executemany (the baseline), the import job on CPython in this process (bench/import_native.py's
`job_import`: engine, staging, conversion, validation), the same job as csv-import runs it (`cli_job_import`: the
file read in place, hashed, the first look's settings given) and the page in headless chromium on a fresh profile
(bench/import.py's `import_once`: from the click on Start to the run completed), each started with the page cache
written back (bench/import_native.py `settle`). Cost grows linearly when each column's rows/s stay within 20%
across sizes (issue 10); the table prints that spread. The browser runs' `timings` (seconds per phase, from the
run's output when the import job reports them) are kept for bench/all.py.

Memory (--memory 100,1000): each file (id,name,email,amount; every 100th row invalid, the same generator) is
written row by row into a temporary directory, picked in the page's real file input (playwright streams a path),
imported with id and amount typed and the email rule on, as a user would, and checked: the run completed
with every row accepted or rejected, the table's count and the rejects' count are the expected ones.
During the run, every 0.25 s: the resident memory of the profile's renderer processes (page and worker
live there; /proc VmRSS, and VmHWM for the peak between samples), the page's JS heap (CDP
Performance.getMetrics) and the worker's Wasm heap (the test-only `diagnostics.memory` probe, answered
between batches). Each file gets a fresh profile (its OPFS holds the staged copy and the database),
deleted afterwards. Prints one table, and the ratio of the 1 GB run's peaks to the 100 MB run's (flat
memory reads ~1x while the file is 10x).
With --return-visit, each browser import is a returning user's (bench/import.py --return-visit); with
--idle-before-pick, the page is left alone that long once the importer is ready, before the pick (as a user
finding the file: the worker's warm-up ends with its rehearsal import only on an idle page).
Usage: ./run bench scale [--rows 100000,1000000,5000000] [--repeats 3] [--return-visit] [--idle-before-pick SECONDS]
                         | --memory [100,1000] [--keep-files]
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "py"))
from tests.browser.support import ARGS, CHROMIUM, call, enable_diagnostics, wait_for_importer  # noqa: E402
from tools.serve import serve_in_background  # noqa: E402
from tools.vendor import bundle_engine  # noqa: E402

from bench.import_native import cli_job_import, generate_csv, job_import, native_baseline  # noqa: E402
from importer.cli.runner import READ_AHEAD_MIN_BYTES  # noqa: E402

_bench_import = importlib.import_module("bench.import")  # bench/import.py ("import" is a keyword)
renderer_memory = _bench_import.renderer_memory
PHASES = ("stage", "scan", "parse", "convert", "insert", "commit")
SPREAD_GOAL = 0.2

BYTES_PER_ROW = 50  # about, for id,name,email,amount rows of the generator at these sizes


@dataclass
class Sample:
    """Peaks seen so far."""

    rss: int = 0
    hwm: int = 0
    js_heap: int = 0
    wasm_heap: int = 0
    count: int = 0
    series: list[tuple[float, int]] = field(default_factory=list)


class RssSampler(threading.Thread):
    """Samples the renderer processes' memory every 0.25 s (a thread: /proc needs no browser)."""

    def __init__(self, profile: Path, sample: Sample) -> None:
        super().__init__(daemon=True)
        self.profile, self.sample, self._done = profile, sample, threading.Event()

    def run(self) -> None:
        started = time.perf_counter()
        while not self._done.wait(0.25):
            rss, hwm = renderer_memory(self.profile)
            s = self.sample
            s.rss, s.hwm, s.count = max(s.rss, rss), max(s.hwm, hwm), s.count + 1
            s.series.append((time.perf_counter() - started, rss))

    def stop(self) -> None:
        self._done.set()
        self.join()


def import_and_sample(page: Page, cdp: Any, source: Path, sample: Sample) -> dict[str, Any]:
    """Pick `source`, start the import, poll until the run ends (sampling the heaps); returns the run."""
    page.set_input_files("[data-testid=file-input]", str(source))
    page.get_by_label("Type of column 1 (id)").select_option("integer")
    page.get_by_label("Type of column 4 (amount)").select_option("real")
    page.locator("#rules-2").evaluate("details => { details.open = true; }")
    page.locator("#rule-email-2").check()  # so the invalid emails are rejected too
    page.locator("[data-testid=start-import]").click()
    while True:
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        sample.js_heap = max(sample.js_heap, int(metrics.get("JSHeapUsedSize", 0)))
        sample.wasm_heap = max(sample.wasm_heap, call(page, "diagnostics.memory")["heap_bytes"])
        runs = call(page, "runs.list", job="import-csv", limit=1)["runs"]
        if runs and runs[0]["status"] in ("completed", "failed", "cancelled"):
            return call(page, "runs.get", run_id=runs[0]["id"])
        page.wait_for_timeout(250)


def check(page: Page, run: dict[str, Any], rows: int, invalid: set[int]) -> str:
    """'ok' when the run completed with the table and rejects the generator promised, else what differs."""
    if run["status"] != "completed":
        return f"run {run['status']}: {run.get('error')}"
    table = run["output"]["table"]
    [[count]] = call(page, "sql.query", sql=f'SELECT count(*) FROM "{table}"')["rows"]
    [[rejects]] = call(page, "sql.query", params=[run["id"]],
                       sql="SELECT count(*) FROM importer_rejects WHERE run_id = ?")["rows"]  # fmt: skip
    want = (rows - len(invalid), len(invalid))
    return "ok" if (count, rejects) == want else f"table {count:,} rejects {rejects:,}, expected {want}"


def one_size(pw: Any, url: str, tmp: Path, size_mb: int, keep: bool) -> dict[str, Any]:
    rows = size_mb * 1_000_000 // BYTES_PER_ROW
    source = tmp / f"scale-{size_mb}.csv"
    started = time.perf_counter()
    invalid = generate_csv(source, rows)
    print(f"  generated {source.stat().st_size / 1e6:,.0f} MB ({rows:,} rows) in {time.perf_counter() - started:.0f} s",
          flush=True)
    profile = tmp / f"profile-{size_mb}"
    context = pw.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, headless=True, args=ARGS)
    try:
        enable_diagnostics(context)
        page = context.new_page()
        page.goto(url)
        wait_for_importer(page, 120_000)
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        idle, _ = renderer_memory(profile)
        sample = Sample()
        sampler = RssSampler(profile, sample)
        sampler.start()
        began = time.perf_counter()
        try:
            run = import_and_sample(page, cdp, source, sample)
        finally:
            sampler.stop()
        seconds = time.perf_counter() - began
        verdict = check(page, run, rows, invalid)
        _, hwm = renderer_memory(profile)
        sample.hwm = max(sample.hwm, hwm)
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)
    size = source.stat().st_size
    if not keep:
        source.unlink()
    return {"mb": size / 1e6, "rows": rows, "seconds": seconds, "idle": idle, "sample": sample, "verdict": verdict}


@dataclass
class RateRow:
    """One size's measurements: seconds of each repeat per way, and the browser runs' phase timings."""

    rows: int
    mb: float
    native: list[float] = field(default_factory=list)
    job: list[float] = field(default_factory=list)
    cli: list[float] = field(default_factory=list)
    browser: list[float] = field(default_factory=list)
    timings: list[dict[str, float]] = field(default_factory=list)
    code_cache: list[bool] = field(default_factory=list)
    """Per browser import: whether the runtime's compiled code came from the browser's code cache."""

    def rate(self, way: str) -> float:
        seconds = getattr(self, way)
        return self.rows / statistics.median(seconds) if seconds else 0.0


def in_thread(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """`fn(...)` in a thread of its own: the job bench runs asyncio, and playwright's sync API holds a loop here."""
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(fn(*args, **kwargs)))
    thread.start()
    thread.join()
    return out[0]


def browser_import(pw: Any, url: str, profile: Path, source: Path,
                   primer: Path | None = None, idle: float = 0.0) -> tuple[float, dict[str, float], bool]:
    """(seconds, the run's timings, whether the runtime came from the code cache) of one import through the page
    on a fresh profile, or a returning user's when `primer` is given (bench/import.py's `import_visit`)."""
    phases: list[dict[str, float]] = []
    try:
        seconds = _bench_import.import_visit(pw, profile, url, source, phases, primer=primer, idle=idle)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    marks = {*_bench_import.OUTSIDE, "code_cache"}
    timings = {k: float(v) for k, v in phases[-1].items() if k not in marks and isinstance(v, (int, float))}
    return seconds, timings, phases[-1].get("code_cache") == 1.0


def measure_rates(pw: Any, url: str, tmp: Path, sizes: list[int], repeats: int, ways: tuple[str, ...] = ("native",
                  "job", "cli", "browser"), primer: Path | None = None, idle: float = 0.0) -> list[RateRow]:
    """Generate a file of each size in `sizes` (rows) and import each `repeats` times each way, in rounds: each
    round imports every size once each way, so that the machine's slow minutes (it is shared) fall on every size
    alike rather than on the one measured then. The browser's imports are a returning user's when `primer` is
    given (bench/import.py `returning_profile`), picked `idle` seconds after the importer is ready."""
    sources = {rows: tmp / f"rows-{rows}.csv" for rows in sizes}
    table = []
    for rows, source in sources.items():
        generate_csv(source, rows)
        table.append(RateRow(rows, source.stat().st_size / 1e6))
    for i in range(repeats):
        for row in table:
            measure_once(pw, url, tmp, row, sources[row.rows], i, ways, primer, idle)
    for source in sources.values():
        source.unlink()
    return table


ROWS_A_ROUND = 3_000_000
"""In this process (native, job, cli), a file is imported `ROWS_A_ROUND // rows` times a round (at least once),
each time a sample of its own: a 100k-row import takes 0.12-0.15 s, and a slow moment of the shared machine
(the last browser's processes ending) made single samples take 0.46 s. The 1M file was imported once a round,
so its figure was a median of three whose spread was as wide as the effect sought: the job's 1M imports of one
run took 1.151 and 1.258 s, and the spread across sizes takes the fastest size's rate as it comes. Thirty
samples of 100k and three of 1M a round cost ~25 s a round."""
SHORT_RUN_ROWS = 1_000_000
"""Files of fewer rows are short: more browser visits a round (`SHORT_VISITS`)."""
SHORT_VISITS = 3
"""Browser visits a round for a file of fewer than `SHORT_RUN_ROWS` rows (one for larger files), each a visit of
its own on a fresh profile: the page's 100k import takes ~0.2 s, and visits in alternation on this shared
machine took 0.195, 0.265 and 0.249 s with nothing changed (every phase slower alike, 2026-12-04): noise that
a median of three visits passed on whole to the spread; a 1M import averages such moments over 1.8 s. Three
visits cost ~40 s a round."""


def measure_once(pw: Any, url: str, tmp: Path, row: RateRow, source: Path, i: int, ways: tuple[str, ...],
                 primer: Path | None, idle: float = 0.0) -> None:
    """Import `source` once each way (one after the other, so load is shared; a file of fewer rows more than
    once: `ROWS_A_ROUND` in this process, `SHORT_VISITS` in the browser) into `row`, and print the times (the
    browser's visits of this round, the last sample of each other way)."""
    for _ in range(max(1, ROWS_A_ROUND // row.rows)):
        if "native" in ways:
            row.native.append(native_baseline(source, tmp / "native.sqlite"))
        if "job" in ways:
            db = tmp / f"job-{i}.sqlite"
            seconds, _ = in_thread(job_import, source, db, str(tmp / "staging"))
            row.job.append(seconds)
            db.unlink()
        if "cli" in ways:
            db = tmp / f"cli-{i}.sqlite"
            seconds, _ = in_thread(cli_job_import, source, db)
            row.cli.append(seconds)
            db.unlink()
    visits = SHORT_VISITS if row.rows < SHORT_RUN_ROWS else 1
    for visit in range(visits if "browser" in ways else 0):
        profile = tmp / f"profile-{row.rows}-{i}-{visit}"
        seconds, timings, cached = browser_import(pw, url, profile, source, primer, idle)
        row.browser.append(seconds)
        row.timings.append(timings)
        row.code_cache.append(cached)
    shown = {way: getattr(row, way)[-(visits if way == "browser" else 1):] for way in ways}
    print(f"  {row.rows:,} rows, run {i + 1}: " + ", ".join(
        f"{way} {' / '.join(f'{s:.2f}' for s in times)} s" for way, times in shown.items()), flush=True)


def spread(rates: list[float]) -> float:
    """How far apart the rows/s are: (max - min) / max (0.2 = within 20%)."""
    rates = [r for r in rates if r]
    return (max(rates) - min(rates)) / max(rates) if rates else 0.0


def print_rates(table: list[RateRow], repeats: int) -> None:
    print(f"rows/s by file size, medians over {repeats} rounds (native: csv.reader + executemany; job: the import "
          "job on CPython, reading ahead in a second process where it can fork, as csv-import does for a file of "
          f"{READ_AHEAD_MIN_BYTES >> 20} MiB or more, the file staged, the settings of the first look given as the "
          "page gives its preview's; cli: the "
          "same job as csv-import runs it (bench/import_native.py `cli_job_import`: read in place, hashed first, "
          f"the settings of the first look given, the command's batches); for these, {ROWS_A_ROUND:,} // rows "
          "samples a round (at least one); browser: the page, Start clicked "
          f"to run completed, one visit a round, {SHORT_VISITS} for a file of fewer than {SHORT_RUN_ROWS:,} rows):")
    print(f"{'rows':>11} {'MB':>6} {'native':>10} {'job':>10} {'cli':>10} {'browser':>10} {'job/native':>11} "
          f"{'cli/native':>11} {'browser/native':>15}")
    for r in table:
        n = r.rate("native")
        print(f"{r.rows:>11,} {r.mb:>6.0f} {n:>10,.0f} {r.rate('job'):>10,.0f} {r.rate('cli'):>10,.0f} "
              f"{r.rate('browser'):>10,.0f} {r.rate('job') / n if n else 0:>11.2f} "
              f"{r.rate('cli') / n if n else 0:>11.2f} {r.rate('browser') / n if n else 0:>15.2f}")
    cached = [hit for r in table for hit in r.code_cache]
    if cached:
        print(f"  browser: the runtime's compiled code came from the browser's code cache in {sum(cached)} of "
              f"{len(cached)} imports")
    for way in ("native", "job", "cli", "browser"):
        s = spread([r.rate(way) for r in table])
        print(f"  {way} rows/s spread across sizes: {s:.0%} ({'within' if s <= SPREAD_GOAL else 'NOT within'} "
              f"{SPREAD_GOAL:.0%})")


def make_primer(tmp: Path) -> Path:
    """The file a returning user's profile imports before the measured import (bench/import.py
    `returning_profile`)."""
    primer = tmp / "primer.csv"
    generate_csv(primer, _bench_import.PRIMER_ROWS)
    return primer


def rates_main(sizes: list[int], repeats: int, returning: bool = False, idle: float = 0.0) -> int:
    bundle_engine()
    server, url = serve_in_background()
    with tempfile.TemporaryDirectory() as tmp_name, sync_playwright() as pw:
        tmp = Path(tmp_name)
        primer = make_primer(tmp) if returning else None
        table = measure_rates(pw, url, tmp, sizes, repeats, primer=primer, idle=idle)
    server.shutdown()
    print()
    print_rates(table, repeats)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="100000,1000000,5000000", help="comma-separated row counts (rows/s)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory", nargs="?", const="100,1000", default=None,
                        help="measure memory instead, at these comma-separated file sizes in MB")
    parser.add_argument("--sizes", help="the same as --memory (its older name)")
    parser.add_argument("--keep-files", action="store_true", help="leave the generated CSVs in the tmp dir")
    parser.add_argument("--return-visit", action="store_true",
                        help="each browser import a returning user's (bench/import.py --return-visit)")
    parser.add_argument("--idle-before-pick", type=float, default=0.0, metavar="SECONDS",
                        help="leave each page alone this long once the importer is ready, before the pick")
    args = parser.parse_args()
    memory = args.memory or args.sizes
    if memory is None:
        return rates_main([int(r) for r in args.rows.split(",") if r], args.repeats, args.return_visit,
                          args.idle_before_pick)
    free = shutil.disk_usage(tempfile.gettempdir()).free
    sizes = [int(s) for s in memory.split(",") if s]
    if free < max(sizes) * 4_000_000:
        print(f"not enough disk: {free / 1e9:.1f} GB free, a {max(sizes)} MB run needs ~{max(sizes) * 4 / 1e3:.1f} GB")
        return 1
    bundle_engine()
    server, url = serve_in_background()
    results = []
    with tempfile.TemporaryDirectory() as tmp_name, sync_playwright() as pw:
        for size_mb in sizes:
            print(f"{size_mb} MB:", flush=True)
            results.append(one_size(pw, url, Path(tmp_name), size_mb, args.keep_files))
    server.shutdown()
    print()
    print(f"{'file':>9} {'rows':>12} {'seconds':>8} {'rows/s':>9} {'renderer idle':>14} {'peak RSS':>9} "
          f"{'peak HWM':>9} {'page JS heap':>13} {'worker heap':>12}  check")
    for r in results:
        s: Sample = r["sample"]
        print(f"{r['mb']:>6.0f} MB {r['rows']:>12,} {r['seconds']:>8.1f} {r['rows'] / r['seconds']:>9,.0f} "
              f"{r['idle'] / 1e6:>11.0f} MB {s.rss / 1e6:>6.0f} MB {s.hwm / 1e6:>6.0f} MB {s.js_heap / 1e6:>10.0f} MB "
              f"{s.wasm_heap / 1e6:>9.0f} MB  {r['verdict']} ({s.count} RSS samples)")
    if len(results) >= 2:
        a, b = results[0], results[-1]
        sa, sb = a["sample"], b["sample"]
        print(f"ratio {b['mb']:.0f} MB / {a['mb']:.0f} MB: file {b['mb'] / a['mb']:.1f}x, peak RSS "
              f"{sb.rss / sa.rss:.2f}x, peak HWM {sb.hwm / sa.hwm:.2f}x, page JS heap {sb.js_heap / sa.js_heap:.2f}x, "
              f"worker heap {sb.wasm_heap / sa.wasm_heap:.2f}x")
    return 0 if all(r["verdict"] == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
