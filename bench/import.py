"""End-to-end import benchmark in headless chromium, against native CPython in the same run.

Browser: the file is picked in the page's real file input and previewed, id and amount are set to integer and
real, as a user would; timed from the click on Start (the page's click event: playwright's actionability checks
and dispatch before it, 0.1-0.4 s here, are printed as `click` and not counted) to the run completed (its last
batch durable in OPFS, by the run's finished_at), as issue 10 measures it, on a fresh profile each time. Baseline:
csv.reader + sqlite3 executemany in one transaction into a file, no validation, on the same file
(bench/import_native.py). Each timed run starts with the page cache written back (`settle`: the earlier
runs' writes are not left to land in it). Prints rows/s of each (median of --repeats) and the ratio. With --memory, also
the peak resident memory of the renderer processes (page + worker) while importing files of the given
sizes in MB, to show memory stays flat in file size.
With --return-visit, each import is a returning user's: the profile imported a 100k-row file twice before
(`returning_profile`) and the browser's code cache holds the runtime as V8 optimised it for an import (a
first visit compiles it as it runs: its first batch is the slowest, docs/importer.md).
Usage: ./run bench import [--rows 1000000] [--repeats 3] [--memory 100,1000] [--after-preview] [--return-visit]
                          [--idle-before-pick SECONDS]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "py"))
from tests.browser.support import call, launch_persistent, wait_for_importer  # noqa: E402
from tools.serve import serve_in_background  # noqa: E402
from tools.vendor import bundle_engine  # noqa: E402

from bench import startup  # noqa: E402
from bench.import_native import generate_csv, native_baseline, settle  # noqa: E402


def renderer_memory(profile: Path) -> tuple[int, int]:
    """(VmRSS, VmHWM) in bytes summed over the chromium renderer processes of `profile`."""
    rss = hwm = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            if b"--type=renderer" not in cmdline or str(profile).encode() not in cmdline:
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("VmHWM:"):
                    hwm += int(line.split()[1]) * 1024
        except OSError:
            continue
    return rss, hwm


def renderer_rss(profile: Path) -> int:
    """Resident bytes of the renderer processes (where the page and its worker live) of `profile`."""
    return renderer_memory(profile)[0]


class PeakSampler(threading.Thread):
    """Samples `renderer_rss(profile)` every 50 ms in the background; `peak` is the largest seen."""

    def __init__(self, profile: Path) -> None:
        super().__init__(daemon=True)
        self.profile, self.peak, self.samples, self._done = profile, 0, 0, threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.05):
            self.peak = max(self.peak, renderer_rss(self.profile))
            self.samples += 1

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak


def import_once(page: Page, url: str, source: Path, phases: list[dict[str, float]] | None = None,
                after_preview: bool = False, loaded: Callable[[], object] | None = None) -> float:
    """Seconds from the click on Start (the page's click event, `MARK_START_JS`; playwright's own dispatch before
    it, the `click` phase, is the harness's and not counted) to the import's run completed (its `finished_at`, on
    the same clock as the page's `Date.now()`), as the issue measures it; before the click the file is picked and
    previewed and two column types are chosen, as a user would. The run's own seconds by phase (its output's
    `timings`) and `pick` (file input to the click) are appended to `phases` if given. `after_preview`: click only once
    the preview's background work is done (the file's pass: hash and copy ahead; and the whole-file scan), as
    a user who reads the preview first. `loaded` is called once the importer is ready, before the file is picked."""
    page.add_init_script(MARK_START_JS)
    page.goto(url)
    wait_for_importer(page, 120_000)
    if loaded:
        loaded()
    picked = page.evaluate("Date.now()")
    page.set_input_files("[data-testid=file-input]", str(source))
    page.get_by_label("Type of column 1 (id)").select_option("integer")
    page.get_by_label("Type of column 4 (amount)").select_option("real")
    if after_preview:
        page.wait_for_function("() => window.__sourceId", timeout=60_000)
        call(page, "file.earlier_imports", source_id=page.evaluate("window.__sourceId"))
        page.wait_for_selector("[data-testid=scan-status][data-state=done]", state="attached", timeout=300_000)
    clicked = page.evaluate("Date.now()")
    page.locator("[data-testid=start-import]").click()
    # the page's own progress bar says when the run ended: no request of the bench's reaches the worker (and
    # waits there between batches) until then
    page.wait_for_selector(ENDED, state="attached", timeout=1_800_000)
    [latest] = call(page, "runs.list", job="import-csv", limit=1)["runs"]
    assert latest["status"] == "completed", latest["error"]
    run = call(page, "runs.get", run_id=latest["id"])
    run = run.get("run") or run
    finished = datetime.fromisoformat(run["finished_at"]).timestamp() * 1000
    marks = page.evaluate("[window.__clickAt || 0, window.__postAt || 0]")
    if phases is not None:
        steps = call(page, "runs.steps", run_id=run["id"])
        phases.append({**((run.get("output") or {}).get("timings") or {}), "pick": (clicked - picked) / 1000,
                       **outside_phases(clicked, marks, run, steps)})
    return (finished - (marks[0] or clicked)) / 1000


OUTSIDE = ("pick", "click", "ui", "to_created", "to_claimed", "to_stage", "gaps", "to_finished", "steps", "step_count")
"""What `import_once` adds to the run's own timings in `phases`: the page's marks (`outside_phases`)."""

ENDED = ", ".join(f"[data-testid=run-progress][data-status={end}]" for end in ("completed", "failed", "cancelled"))
"""The current run's progress bar once the run ended (py/ui/views/progress.py)."""


MARK_START_JS = """{
  document.addEventListener("click", (e) => {
    if (e.target.closest && e.target.closest("[data-testid=start-import]")) window.__clickAt = Date.now();
  }, {capture: true});
  const post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (message, ...rest) {
    const text = typeof message === "string" ? message : message && message.json;
    if (typeof text === "string" && text.includes('"import.start"')) window.__postAt = Date.now();
    const source = typeof text === "string" && text.match(/"source_id": ?"([0-9a-f]{32})"/);
    if (source) window.__sourceId = source[1];
    return post.call(this, message, ...rest);
  };
}"""
"""Marks the page's click event on Start and the moment the `import.start` request is posted to the worker, and
keeps the picked file's source id from the page's requests (`file.scan` names it)."""


def _ms(text: str) -> float:
    return datetime.fromisoformat(text).timestamp() * 1000


def outside_phases(clicked: float, marks: list[float], run: dict, steps: list[dict]) -> dict[str, float]:
    """Where the time between the click and `finished_at` goes, from the page's marks (`MARK_START_JS`: the DOM's
    click event, the `import.start` request posted) and the run's and its steps' timestamps (milliseconds; the
    worker's clock is the page's): `click` (playwright's click until the page's click event: the bench's own
    cost), `ui` (click event to the request posted: the page's MicroPython and client), `to_created` (the
    worker: receiving the request, waiting for the file's pass (hash, copy ahead), space check, trigger),
    `to_claimed` (trigger to the engine claiming the run), `to_stage` (claim to the stage step starting), `gaps`
    (between steps: commits, option resolving, scan set-up), `to_finished` (last step to the run finished),
    and `steps` (inside the steps)."""
    created, claimed, finished = _ms(run["created_at"]), _ms(run["started_at"]), _ms(run["finished_at"])
    event, posted = [*marks, 0.0, 0.0][:2]
    event, posted = event or clicked, posted or event or clicked
    spans = sorted((_ms(s["started_at"]), _ms(s["finished_at"])) for s in steps)
    gaps = sum(max(0.0, b[0] - a[1]) for a, b in pairwise(spans))
    first, last = (spans[0][0], spans[-1][1]) if spans else (claimed, claimed)
    return {"click": (event - clicked) / 1000, "ui": (posted - event) / 1000,
            "to_created": (created - posted) / 1000, "to_claimed": (claimed - created) / 1000,
            "to_stage": (first - claimed) / 1000, "gaps": gaps / 1000, "to_finished": (finished - last) / 1000,
            "steps": sum(b - a for a, b in spans) / 1000, "step_count": float(len(spans))}


PRIMER_ROWS = 100_000
"""Rows of the file a returning user's profile imported before (`returning_profile`): enough for V8 to
optimise the import's hot functions, whatever the size measured."""


def returning_profile(pw, profile: Path, url: str, primer: Path) -> None:  # type: ignore[no-untyped-def]
    """Make `profile` a returning user's: a first visit imports `primer` (the service worker installs meanwhile),
    then a visit whose runtime the service worker serves imports it again and stays open `startup.LINGER` s,
    so that the browser's code cache holds the runtime's code as V8 optimised it for an import (docs/storage.md
    "Boot"). A visit whose service worker did not take control within 60 s is followed by another (three in all)."""
    for _ in range(3):
        context = launch_persistent(pw, profile)
        page = context.new_page()
        import_once(page, url, primer)
        served = startup.runtime_delivery(page)
        try:
            page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=60_000)
        except PlaywrightTimeoutError:  # its install failed (a precache fetch, say): the next visit registers it again
            context.close()
            continue
        if served == "cache-storage":
            time.sleep(startup.LINGER)
            context.close()
            return
        context.close()
    raise RuntimeError("the service worker never served the runtime")


def import_visit(pw, profile: Path, url: str, source: Path, phases: list[dict[str, float]],  # type: ignore[no-untyped-def]
                 after_preview: bool = False, primer: Path | None = None, idle: float = 0.0) -> float:
    """One measured import (`import_once`) in a browser started on `profile`, a return visit when `primer` is
    given (`returning_profile` first); the phases say whether the runtime came from the code cache
    (`code_cache` 1). `idle`: seconds the page is left alone once the importer is ready, before the file is
    picked (a user finding the file; the worker's warm-up ends with its rehearsal import when idle)."""
    if primer:
        returning_profile(pw, profile, url, primer)
    context = launch_persistent(pw, profile)
    page = context.new_page()
    trace = startup.CodeCacheTrace(context, page)
    trace.start()
    cache: list[str] = []
    def loaded() -> None:
        cache.append(trace.stop())
        if idle:
            page.wait_for_timeout(idle * 1000)
        settle()  # the profile's earlier visits and the native run leave files to write back: not in this one

    seconds = import_once(page, url, source, phases, after_preview, loaded=loaded)
    context.close()
    phases[-1]["code_cache"] = float(cache == ["hit"])
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory", default="", help="comma-separated file sizes in MB, e.g. 100,1000")
    parser.add_argument("--after-preview", action="store_true",
                        help="click Start once the preview's background pass and scan are done")
    parser.add_argument("--return-visit", action="store_true",
                        help="import as a returning user: the profile imported a 100k-row file twice before")
    parser.add_argument("--idle-before-pick", type=float, default=0.0, metavar="SECONDS",
                        help="leave the page alone this long once the importer is ready, before the pick")
    args = parser.parse_args()
    bundle_engine()
    server, url = serve_in_background()
    with tempfile.TemporaryDirectory() as tmp_name, sync_playwright() as pw:
        tmp = Path(tmp_name)
        source = tmp / "people.csv"
        generate_csv(source, args.rows)
        primer = tmp / "primer.csv"
        if args.return_visit:
            generate_csv(primer, PRIMER_ROWS)
        native, browser = [], []
        phases: list[dict[str, float]] = []
        for i in range(args.repeats):
            native.append(native_baseline(source, tmp / f"native-{i}.sqlite"))
            browser.append(import_visit(pw, tmp / f"profile-{i}", url, source, phases, args.after_preview,
                                        primer if args.return_visit else None, args.idle_before_pick))
        n_rate, b_rate = args.rows / statistics.median(native), args.rows / statistics.median(browser)
        print(f"import of {args.rows:,} rows ({source.stat().st_size / 1e6:.1f} MB), median of {args.repeats}:")
        print(f"  native CPython csv+executemany: {n_rate:,.0f} rows/s  ({statistics.median(native):.2f} s)")
        when = " (clicked once the preview's pass and scan were done)" if args.after_preview else ""
        when += f" (picked {args.idle_before_pick:g} s after the importer was ready)" if args.idle_before_pick else ""
        visit = "a return visit" if args.return_visit else "a first visit"
        hits = sum(int(p.get("code_cache", 0)) for p in phases)
        print(f"  browser, Start to durable{when}: {b_rate:,.0f} rows/s  ({statistics.median(browser):.2f} s), "
              f"{visit}: the runtime from the code cache in {hits} of {len(phases)}")
        print(f"  ratio browser/native: {b_rate / n_rate:.2f}  (goal >= 0.6)")
        names = [k for k in ("stage", "scan", "prepare", "parse", "convert", "insert", "commit")
                 if any(k in p for p in phases)]
        inside = statistics.median(sum(p.get(k, 0.0) for k in names) for p in phases)
        print("  where the browser's time goes (median seconds; the rest of the total is the page: the start "
              "request, hashing the file, the wait for the engine):")
        print("    " + ", ".join(f"{k} {statistics.median(p.get(k, 0.0) for p in phases):.2f}" for k in names)
              + f"; in the job {inside:.2f} of {statistics.median(browser):.2f}; before Start (pick, preview, two "
              f"types chosen) {statistics.median(p['pick'] for p in phases):.2f}")
        outside = OUTSIDE[1:]
        print("  outside the job's phases (median seconds, from the run's and steps' timestamps): "
              + ", ".join(f"{k} {statistics.median(p.get(k, 0.0) for p in phases):.3f}" for k in outside))
        for size_mb in [int(s) for s in args.memory.split(",") if s]:
            rows = size_mb * 1_000_000 // 50
            big = tmp / f"memory-{size_mb}.csv"
            generate_csv(big, rows)
            profile = tmp / f"memory-profile-{size_mb}"
            context = launch_persistent(pw, profile)
            page = context.new_page()
            page.goto(url)
            wait_for_importer(page, 120_000)
            idle = renderer_rss(profile)
            sampler = PeakSampler(profile)
            sampler.start()
            seconds = import_once(page, url, big)
            peak = sampler.stop()
            context.close()
            big.unlink()
            print(f"  memory, {size_mb} MB file ({rows:,} rows): renderer RSS idle {idle / 1e6:.0f} MB, "
                  f"peak {peak / 1e6:.0f} MB (+{(peak - idle) / 1e6:.0f} MB, {sampler.samples} samples), "
                  f"import {seconds:.1f} s")
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
