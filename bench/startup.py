"""Startup benchmark: from navigation to the file input live, the UI interactive, the engine ready and its
importer ready, cold, warm and on a return visit, in headless chromium, with the engine's own boot phases.

"Engine ready": the first `ready` status, once the database can be read (the run list, the tables); "importer
ready": the second, once pydantic and the import job are loaded (a preview or a Start is answered from then
on; one asked before waits for it, visibly: docs/storage.md "Boot").

Cold: a new browser profile each time (no HTTP cache, no service worker, empty OPFS). Warm: a reload in the
same profile, right after. Return: the browser started again on that profile, after a visit served by the
service worker stayed open `LINGER` seconds, as a user who comes back: V8 then finds the runtime's compiled
code in the browser's code cache (docs/storage.md "Boot"); the visit is traced to say whether it did
(`code cache hit`), and bare Pyodide gets the same treatment. Measured in the same run, each a median of
--runs (at least 3): the app; the app with its boot snapshot withheld (a second server answers 404 for it,
so the worker starts Python as before: what the snapshot saves); and the baseline, bare Pyodide booting in a
module worker from the same vendored files (bench/startup_baseline.html): the ratio shows what the app adds
on top of Pyodide.
"File input live": the first moment the page's file input exists and is enabled (a file picked then waits,
visibly, and is previewed once the engine is ready: py/ui/views/importer.py).
Usage: ./run bench startup [--runs 5]
"""

from __future__ import annotations

import argparse
import http.server
import math
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.browser.support import RECORD_STATUS_JS, launch_persistent  # noqa: E402
from tools.serve import AppHandler, serve_in_background  # noqa: E402

BASELINE = "bench/startup_baseline.html"


class BenchHandler(AppHandler):
    """The app's server, plus the baseline page; that page alone has no policy (an inline module script
    that starts a blob: worker, outside what the app's policy allows)."""

    def send_head(self):  # type: ignore[no-untyped-def]
        if self.path.split("?")[0].lstrip("/") == BASELINE:
            return http.server.SimpleHTTPRequestHandler.send_head(self)
        return super().send_head()

    def policy(self) -> str:
        return "" if self.path.split("?")[0].lstrip("/") == BASELINE else super().policy()

    def end_headers(self) -> None:
        if self.policy():
            super().end_headers()
        else:
            self.send_header("Cache-Control", "no-cache")
            http.server.SimpleHTTPRequestHandler.end_headers(self)

class NoSnapshotHandler(BenchHandler):
    """The same server, with no boot snapshot: its request gets a 404 and the worker starts Python as before
    (a server of its own, not a playwright route: routing turns the HTTP cache off, which would slow all)."""

    def send_head(self):  # type: ignore[no-untyped-def]
        if self.path.split("?")[0].endswith("/static/vendor/snapshot.bin"):
            self.send_error(404)
            return None
        return super().send_head()


# Marks, in page time: the file input present and enabled, first contentful paint, PyScript's mpy:done
# (the UI is interactive), and the engine's status events with their boot timings.
MARKS = """
window.__marks = {};
const watch = new MutationObserver(() => {
  const input = document.querySelector("[data-testid=file-input]");
  if (input && !input.disabled) {
    window.__marks.input = performance.now();
    watch.disconnect(); // no cost to the page after that
  }
});
watch.observe(document, { subtree: true, childList: true });
document.addEventListener("mpy:done", () => { window.__marks.ui = performance.now(); });
""" + RECORD_STATUS_JS
PHASES = ("held", "pyodide", "app", "imports", "opfs", "wheels", "importer", "importer_step")
"""The worker's boot phases (ms; docs/protocol.md engine:status): `held` (a first visit's wait for its UI),
then four before `ready`, then `wheels`
(from Pyodide's start to the wheels installed, overlapping the others), `importer` (its imports) and
`importer_step` (the longest of them: what a request during that phase may wait)."""


@dataclass
class Sample:
    """One page load: seconds from navigation start, and the engine's boot phases (ms) and snapshot state."""

    input: float
    paint: float
    ui: float
    ready: float
    importer: float
    phases: dict[str, float]
    snapshot: str
    code_cache: str = ""
    """"hit" or "miss": whether V8 compiled the runtime from the browser's code cache (return visits only)."""


def time_app(page: Page, url: str, *, reload: bool) -> Sample:
    if reload:
        page.reload(wait_until="commit")
    else:
        page.goto(url, wait_until="commit")
    page.wait_for_function("() => document.querySelector('[data-testid=engine-status]')?.dataset.state === 'ready'",
                           timeout=120_000, polling=20)
    ready = page.evaluate("performance.now()")
    page.wait_for_function("() => document.querySelector('[data-testid=engine-status]')?.dataset.importer === 'ready'",
                           timeout=120_000, polling=20)
    importer = page.evaluate("performance.now()")
    marks = page.wait_for_function("() => window.__marks.ui && window.__marks", timeout=10_000).json_value()
    paint = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN")
    status = [s for s in page.evaluate("window.__status") if s["state"] == "ready"][-1]  # every phase in the last
    timings = status.get("timings", {})
    return Sample(marks["input"] / 1000, paint / 1000, marks["ui"] / 1000, ready / 1000, importer / 1000,
                  {k: float(timings.get(k, "nan")) for k in PHASES}, str(timings.get("snapshot", "?")))


def time_baseline(page: Page, url: str) -> float:
    page.goto(url + BASELINE, wait_until="commit")
    page.wait_for_function("() => document.getElementById('state')?.textContent.startsWith('ready')",
                           timeout=120_000, polling=20)
    return page.evaluate("performance.now()") / 1000


def app_samples(pw: Playwright, profile: str, url: str) -> tuple[Sample, Sample]:
    """A first visit and a reload in a new profile."""
    context = launch_persistent(pw, Path(profile))
    page = context.new_page()
    page.add_init_script(MARKS)
    cold = time_app(page, url, reload=False)
    warm = time_app(page, url, reload=True)
    context.close()
    return cold, warm


LINGER = 10.0
"""Seconds a visit stays open before a return visit is measured. V8 hands the browser the runtime's compiled
code as its optimising compiler finishes the hot functions, in the background (traced here 4-8 s after
navigation, twice a visit); the next visit starts from the last copy."""

RUNTIME = "/pyodide.asm.wasm"


def runtime_delivery(page: Page) -> str:
    """How the worker's runtime (pyodide.asm.wasm) reached it: "cache-storage" (the service worker's precache),
    "cache" (the HTTP cache), "" (the network), or "none" (no worker fetched it)."""
    for worker in page.workers:
        found = worker.evaluate(f"""() => performance.getEntriesByType("resource")
            .filter((e) => e.name.endsWith("{RUNTIME}")).map((e) => e.deliveryType)""")
        if found:
            return str(found[0])
    return "none"


class CodeCacheTrace:
    """Says whether V8 took the runtime from the browser's code cache ("hit") or compiled it ("miss") in what
    happens between `start()` and `stop()`, by Blink's `v8.wasm.moduleCacheHit` trace event (a category
    DevTools records: it can only slow what it traces)."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.page, self.cdp = page, context.new_cdp_session(page)
        self.events: list[dict] = []
        self.done = False
        self.cdp.on("Tracing.dataCollected", lambda p: self.events.extend(p["value"]))
        self.cdp.on("Tracing.tracingComplete", lambda p: setattr(self, "done", True))

    def start(self) -> None:
        config = {"includedCategories": ["disabled-by-default-devtools.timeline"]}
        self.cdp.send("Tracing.start", {"traceConfig": config, "transferMode": "ReportEvents"})

    def stop(self) -> str:
        self.cdp.send("Tracing.end")
        while not self.done:
            self.page.wait_for_timeout(50)
        hit = any(e.get("name") == "v8.wasm.moduleCacheHit"
                  and str((e.get("args") or {}).get("url", "")).endswith(RUNTIME) for e in self.events)
        return "hit" if hit else "miss"


def return_sample(pw: Playwright, profile: str, url: str) -> Sample:
    """A return visit to the app: the browser started again on `profile` (after `app_samples`), a visit whose
    runtime the service worker served left open `LINGER` s, then a reload, measured and traced."""
    context = launch_persistent(pw, Path(profile))
    page = context.new_page()
    page.add_init_script(MARKS)
    for _ in range(3):
        time_app(page, url, reload=False)
        if runtime_delivery(page) == "cache-storage":
            break
        page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=60_000)
    time.sleep(LINGER)
    trace = CodeCacheTrace(context, page)
    trace.start()
    sample = time_app(page, url, reload=True)
    sample.code_cache = trace.stop()
    context.close()
    return sample


def baseline_return(pw: Playwright, profile: str, url: str) -> tuple[float, str]:
    """Bare Pyodide's return visit, as `return_sample` (no service worker there: the HTTP cache): seconds to
    ready and the code cache's "hit" or "miss"."""
    context = launch_persistent(pw, Path(profile))
    page = context.new_page()
    time_baseline(page, url)
    time.sleep(LINGER)
    trace = CodeCacheTrace(context, page)
    trace.start()
    seconds = time_baseline(page, url)
    cache = trace.stop()
    context.close()
    return seconds, cache


def report(label: str, app: list[Sample], plain: list[Sample], bare: list[float]) -> None:
    med = statistics.median
    ready, bare_ready = med(s.ready for s in app), med(bare)
    without = (f"(no snapshot: UI {med(s.ui for s in plain):.2f}, ready {med(s.ready for s in plain):.2f}, "
               f"importer {med(s.importer for s in plain):.2f})  " if plain else "")
    print(f"  {label}: file input live {med(s.input for s in app):.2f}  first paint {med(s.paint for s in app):.2f}  "
          f"UI interactive {med(s.ui for s in app):.2f}  engine ready {ready:.2f}  "
          f"importer ready {med(s.importer for s in app):.2f}  {without}"
          f"bare Pyodide {bare_ready:.2f}  "
          f"ratio ready/bare {ready / bare_ready:.2f}")
    for name, samples in (("with snapshot", app), ("no snapshot", plain)):
        if not samples:
            continue
        phases = "  ".join(f"{k} {phase_median(samples, k)}" for k in PHASES)
        states = ", ".join(sorted({s.snapshot for s in samples}))
        print(f"        engine phases, ms, {name}: {phases}  (snapshot: {states})")


def phase_median(samples: list[Sample], phase: str) -> str:
    """The median ms of a boot phase over the samples that had it ("-" if none did: `held` is a first
    visit's)."""
    had = [s.phases[phase] for s in samples if not math.isnan(s.phases[phase])]
    return f"{statistics.median(had):.0f}" if had else "-"


def hits(states: list[str]) -> str:
    return f"{states.count('hit')} of {len(states)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.runs < 3:
        parser.error("--runs must be at least 3 (each figure is a median)")
    server, url = serve_in_background(BenchHandler)
    plain_server, plain_url = serve_in_background(NoSnapshotHandler)
    cold, warm, cold_plain, warm_plain, base_cold, base_warm = [], [], [], [], [], []
    back: list[Sample] = []
    base_back: list[tuple[float, str]] = []
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):  # interleaved, so that the machine's load falls on all three alike
            sample_cold, sample_warm = app_samples(pw, f"{tmp}/app-{i}", url)
            cold.append(sample_cold)
            warm.append(sample_warm)
            back.append(return_sample(pw, f"{tmp}/app-{i}", url))
            sample_cold, sample_warm = app_samples(pw, f"{tmp}/plain-{i}", plain_url)
            cold_plain.append(sample_cold)
            warm_plain.append(sample_warm)
            context = launch_persistent(pw, Path(f"{tmp}/baseline-{i}"))
            page = context.new_page()
            base_cold.append(time_baseline(page, url))
            base_warm.append(time_baseline(page, url))
            context.close()
            base_back.append(baseline_return(pw, f"{tmp}/baseline-{i}", url))
            time.sleep(0.2)
    server.shutdown()
    plain_server.shutdown()
    med = statistics.median
    print(f"startup, median of {args.runs} (seconds from navigation start):")
    report("cold", cold, cold_plain, base_cold)
    report("warm", warm, warm_plain, base_warm)
    report("return", back, [], [seconds for seconds, _ in base_back])
    print(f"        return visits: the runtime's compiled code came from the code cache in "
          f"{hits([s.code_cache for s in back])} (bare Pyodide: {hits([state for _, state in base_back])})")
    ui = max(med(s.ui for s in cold), med(s.ui for s in warm))
    live = max(med(s.input for s in cold), med(s.input for s in warm))
    returning = med(s.ready for s in back)
    print(f"  goals: UI interactive < 1 s: {'met' if ui < 1 else 'NOT met'}; file input live < 1 s: "
          f"{'met' if live < 1 else 'NOT met'}; engine ready cold < 3 s: "
          f"{'met' if med(s.ready for s in cold) < 3 else 'NOT met'}, warm < 2 s: "
          f"{'met' if med(s.ready for s in warm) < 2 else 'NOT met'} (a return visit: "
          f"{'met' if returning < 2 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
