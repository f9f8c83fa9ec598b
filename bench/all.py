"""Every figure of issue 10 in one run: import rows/s (browser, CPython job, native) and ratios, where the
browser's time goes, the CSV command's ratio, boot times against bare Pyodide, the scaling table and the 50 ms
checks of the run list and the data browser; a summary table at the end.

Each part is also its own bench (./run bench scale|cli|startup|listing); this one calls their functions,
so the figures are measured the same way, and shares the files and the server between them. Each figure is
a median of --repeats (at least 3). Parts:
- scaling (bench/scale.py): the same generated file at each --rows size imported natively (csv.reader +
  executemany), by the import job on CPython and through the page; the --import-rows size (1M) is the
  import figure and its browser runs' `timings` (the import run's output, when the job reports them) are
  the breakdown;
- cli (bench/cli.py): the installed `csv-import` command (this tree's py/, via PYTHONPATH) with every
  column's type given, against native, whole process;
- startup (bench/startup.py): navigation to UI interactive and to engine ready, cold (new profile), warm
  (reload) and on a return visit (V8's code cache of the runtime), against bare Pyodide from the same files;
- listing (bench/listing.py): runs.list over 10,000 runs and tables.rows pages of a 10M-row table.
A part that fails prints why and the others go on. Exit status 1 when a part failed.
With --return-visit the browser's imports are a returning user's (bench/import.py `returning_profile`); with
--idle-before-pick each import's page is left alone that long once the importer is ready (bench/scale.py).
Usage: ./run bench all [--repeats 3] [--rows 100000,1000000,5000000] [--import-rows 1000000]
                       [--listing-rows 10000000] [--skip scaling,cli,startup,listing] [--return-visit]
                       [--idle-before-pick SECONDS]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "py"))
os.environ["PYTHONPATH"] = str(ROOT / "py")  # the csv-import command runs this tree's code, not the venv's
from tests.browser.support import launch_persistent  # noqa: E402
from tools.serve import serve_in_background  # noqa: E402
from tools.vendor import bundle_engine  # noqa: E402

from bench import cli, listing, scale, startup  # noqa: E402
from bench.import_native import generate_csv, native_baseline  # noqa: E402

PARTS = ("scaling", "cli", "startup", "listing")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def part_scaling(pw: Any, url: str, tmp: Path, args: argparse.Namespace, out: dict[str, Any]) -> None:
    sizes = sorted({*[int(r) for r in args.rows.split(",") if r], args.import_rows})
    primer = scale.make_primer(tmp) if args.return_visit else None
    out["visit"] = ("return visits" if primer else "first visits") + (
        f", picked {args.idle_before_pick:g} s after ready" if args.idle_before_pick else "")
    out["scaling"] = table = scale.measure_rates(pw, url, tmp, sizes, args.repeats, primer=primer,
                                                 idle=args.idle_before_pick)
    scale.print_rates([r for r in table if str(r.rows) in args.rows.split(",")] or table, args.repeats)
    [main_row] = [r for r in table if r.rows == args.import_rows]
    n, b, j = main_row.rate("native"), main_row.rate("browser"), main_row.rate("job")
    print(f"import of {main_row.rows:,} rows ({main_row.mb:.0f} MB), median of {args.repeats}: native {n:,.0f} rows/s, "
          f"browser ({out['visit']}) {b:,.0f} rows/s (ratio {b / n:.2f}), CPython job {j:,.0f} rows/s "
          f"(ratio {j / n:.2f})")
    out["breakdown"] = breakdown(main_row.timings, median(main_row.browser))


def breakdown(timings: list[dict[str, float]], seconds: float) -> list[tuple[str, str]]:
    """(phase, median seconds and share of the import) for each phase; 'n/a' when the runs report none."""
    keys = list(scale.PHASES) + sorted({k for t in timings for k in t} - set(scale.PHASES))
    rows = []
    for key in keys:
        values = [t[key] for t in timings if key in t]
        rows.append((key, f"{median(values):.2f} s ({median(values) / seconds:.0%})" if values else "n/a"))
    if timings:  # the start request (hashing the file), the wait for the engine: what no phase of the run covers
        other = seconds - median([sum(t.values()) for t in timings])
        rows.append(("outside the run's phases", f"{other:.2f} s ({other / seconds:.0%})"))
    print("where the browser's time goes (median of the runs' output timings, share of Start-clicked-to-completed "
          f"{seconds:.2f} s): " + ", ".join(f"{k} {v}" for k, v in rows))
    return rows


def part_cli(pw: Any, url: str, tmp: Path, args: argparse.Namespace, out: dict[str, Any]) -> None:
    source = tmp / "cli.csv"
    generate_csv(source, args.import_rows)
    native, command, ahead = [], [], 0
    for i in range(args.repeats):
        native.append(native_baseline(source, tmp / "cli-native.sqlite"))
        waited = settle_load()
        seconds, summary = cli.command_import(str(source), str(tmp / f"cli-{i}.sqlite"), cli.TYPES)
        ahead += "wait" in (summary.get("timings") or {})  # only reading ahead times the waits for slices
        print(f"  csv-import run {i + 1}: {seconds:.2f} s (native {native[-1]:.2f} s; waited {waited:.0f} s for "
              f"the load to fall below the cores)", flush=True)
        command.append(seconds)
        (tmp / f"cli-{i}.sqlite").unlink()
    source.unlink()
    out["cli"] = (args.import_rows / median(native), args.import_rows / median(command))
    print(f"csv-import with types given, {args.import_rows:,} rows, median of {args.repeats}: "
          f"{out['cli'][1]:,.0f} rows/s, native {out['cli'][0]:,.0f} rows/s, ratio {out['cli'][1] / out['cli'][0]:.2f}"
          f"; read ahead in {ahead} of {args.repeats} runs")


def settle_load(limit: float = 120.0) -> float:
    """Wait (at most `limit` seconds) until the command would find a spare core (`runner.spare_core`: the last
    minute's load below the cores), as on a quiet machine: the browser parts before leave the load high, and the
    command then reads without its second process. Returns the seconds waited."""
    from importer.cli.runner import spare_core

    started = time.monotonic()
    while not spare_core() and time.monotonic() - started < limit:
        time.sleep(1.0)
    return time.monotonic() - started


def part_startup(pw: Any, url: str, tmp: Path, args: argparse.Namespace, out: dict[str, Any]) -> None:
    """bench/startup.py's measurements (its app_samples and time_baseline), `repeats` profiles, interleaved."""
    cold: list[Any] = []
    warm: list[Any] = []
    back: list[Any] = []
    base_cold, base_warm = [], []
    for i in range(args.repeats):
        first, again = startup.app_samples(pw, str(tmp / f"boot-{i}"), url)
        cold.append(first)
        warm.append(again)
        back.append(startup.return_sample(pw, str(tmp / f"boot-{i}"), url))
        context = launch_persistent(pw, tmp / f"bare-{i}")
        page = context.new_page()
        base_cold.append(startup.time_baseline(page, url))
        base_warm.append(startup.time_baseline(page, url))
        context.close()
    out["startup"] = {"cold_input": median([s.input for s in cold]), "cold_ui": median([s.ui for s in cold]),
                      "cold_ready": median([s.ready for s in cold]), "warm_input": median([s.input for s in warm]),
                      "warm_ui": median([s.ui for s in warm]), "warm_ready": median([s.ready for s in warm]),
                      "bare_cold": median(base_cold), "bare_warm": median(base_warm),
                      "cold_importer": median([s.importer for s in cold]),
                      "warm_importer": median([s.importer for s in warm]),
                      "return_ui": median([s.ui for s in back]), "return_ready": median([s.ready for s in back]),
                      "return_importer": median([s.importer for s in back]),
                      "return_hits": startup.hits([s.code_cache for s in back])}
    s = out["startup"]
    print(f"boot, median of {args.repeats} (s from navigation): cold: file input live {s['cold_input']:.2f}, UI "
          f"{s['cold_ui']:.2f}, ready {s['cold_ready']:.2f}, importer {s['cold_importer']:.2f}, bare Pyodide "
          f"{s['bare_cold']:.2f}; warm: file input live {s['warm_input']:.2f}, UI {s['warm_ui']:.2f}, ready "
          f"{s['warm_ready']:.2f}, importer {s['warm_importer']:.2f}, bare Pyodide {s['bare_warm']:.2f}; return "
          f"visit: UI {s['return_ui']:.2f}, ready {s['return_ready']:.2f}, importer {s['return_importer']:.2f} "
          f"(the runtime from the code cache in {s['return_hits']})")
    for label, samples in (("cold", cold), ("warm", warm), ("return", back)):
        phases = "  ".join(f"{k} {median([x.phases[k] for x in samples]):.0f}" for k in startup.PHASES)
        states = ", ".join(sorted({x.snapshot for x in samples}))
        print(f"  engine boot phases, ms, {label}: {phases}  (snapshot: {states})")


def part_listing(pw: Any, url: str, tmp: Path, args: argparse.Namespace, out: dict[str, Any]) -> None:
    out["listing"] = listing.run_listing(pw, url, tmp, rows=args.listing_rows, runs=10_000,
                                         repeats=max(args.repeats, 3), full=False)
    listing.print_results(out["listing"])


def summary(out: dict[str, Any], failed: dict[str, str], repeats: int) -> None:
    """The closing table: one line a figure."""
    lines: list[tuple[str, str, str]] = []
    table = out.get("scaling") or []
    main_rows = [r for r in table if r.rows == out["import_rows"]]
    if main_rows:
        r = main_rows[0]
        n = r.rate("native")
        lines += [(f"import {r.rows:,} rows: native", f"{n:,.0f} rows/s", ""),
                  (f"import {r.rows:,} rows: browser ({out['visit']})", f"{r.rate('browser'):,.0f} rows/s",
                   f"browser/native {r.rate('browser') / n:.2f} (goal >= 0.6)"),
                  (f"import {r.rows:,} rows: CPython job", f"{r.rate('job'):,.0f} rows/s",
                   f"job/native {r.rate('job') / n:.2f} (goal >= 0.8)")]
    if "cli" in out:
        native, command = out["cli"]
        lines.append(("csv-import command, types given", f"{command:,.0f} rows/s",
                      f"command/native {command / native:.2f}"))
    for phase, value in out.get("breakdown", []):
        lines.append((f"browser time: {phase}", value, ""))
    if "startup" in out:
        s = out["startup"]
        lines += [("boot cold: UI interactive / engine ready / importer ready",
                   f"{s['cold_ui']:.2f} / {s['cold_ready']:.2f} / {s['cold_importer']:.2f} s",
                   f"bare Pyodide {s['bare_cold']:.2f} s; goal ready < 3 s, UI < 1 s"),
                  ("boot warm: UI interactive / engine ready / importer ready",
                   f"{s['warm_ui']:.2f} / {s['warm_ready']:.2f} / {s['warm_importer']:.2f} s",
                   f"bare Pyodide {s['bare_warm']:.2f} s; goal ready < 2 s, UI < 1 s"),
                  ("boot on a return visit: UI / engine ready / importer",
                   f"{s['return_ui']:.2f} / {s['return_ready']:.2f} / {s['return_importer']:.2f} s",
                   f"code cache hit in {s['return_hits']}; goal ready < 2 s, UI < 1 s")]
    for way in ("native", "job", "browser"):
        if table:
            rates = ", ".join(f"{r.rows:,}: {r.rate(way):,.0f}" for r in table)
            s = scale.spread([r.rate(way) for r in table])
            label = f"scaling rows/s, {way}" + (f" ({out['visit']})" if way == "browser" else "")
            lines.append((label, rates, f"spread {s:.0%} (goal <= {scale.SPREAD_GOAL:.0%})"))
    for label, ms, note in out.get("listing", []):
        lines.append((label, f"{ms:.1f} ms", f"{'within' if ms <= listing.BUDGET_MS else 'OVER'} "
                                              f"{listing.BUDGET_MS:.0f} ms; {note}"))
    for part, why in failed.items():
        lines.append((f"{part}: FAILED", why, ""))
    print()
    print(f"summary (each figure a median of {repeats}):")
    width = max(len(a) for a, _, _ in lines) if lines else 10
    for label, value, note in lines:
        print(f"  {label:<{width}}  {value:<34} {note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", default="100000,1000000,5000000", help="the scaling table's sizes")
    parser.add_argument("--import-rows", type=int, default=1_000_000, help="the size of the import figures")
    parser.add_argument("--listing-rows", type=int, default=10_000_000)
    parser.add_argument("--return-visit", action="store_true",
                        help="import as a returning user: the profile imported a 100k-row file twice before, so the "
                             "runtime's optimised code comes from the browser's code cache (bench/import.py)")
    parser.add_argument("--idle-before-pick", type=float, default=0.0, metavar="SECONDS",
                        help="leave each import's page alone this long once the importer is ready, before the pick "
                             "(bench/scale.py)")
    parser.add_argument("--skip", default="", help=f"comma-separated parts to leave out: {','.join(PARTS)}")
    args = parser.parse_args()
    if args.repeats < 3:
        parser.error("--repeats must be at least 3 (each figure is a median of 3 or more)")
    skip = {p for p in args.skip.split(",") if p}
    started = time.perf_counter()
    bundle_engine()
    server, url = serve_in_background(startup.BenchHandler)  # the app, plus the bare-Pyodide page
    out: dict[str, Any] = {"import_rows": args.import_rows}
    failed: dict[str, str] = {}
    parts: dict[str, Callable[..., None]] = {"scaling": part_scaling, "cli": part_cli, "startup": part_startup,
                                             "listing": part_listing}
    with tempfile.TemporaryDirectory() as tmp_name, sync_playwright() as pw:
        for name, part in parts.items():
            if name in skip:
                continue
            print(f"== {name} ({time.perf_counter() - started:.0f} s in)", flush=True)
            tmp = Path(tmp_name) / name
            tmp.mkdir()
            try:
                part(pw, url, tmp, args, out)
            except Exception as exc:  # a part that breaks must not hide the others' figures
                traceback.print_exc()
                failed[name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    server.shutdown()
    summary(out, failed, args.repeats)
    print(f"(whole run {time.perf_counter() - started:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
