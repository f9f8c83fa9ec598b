"""Startup benchmark: from navigation to the file input live, the UI interactive, the engine ready and its
importer ready, cold and warm, in headless chromium, with the engine's own boot phases.

"Engine ready": the first `ready` status, once the database can be read (the run list, the tables); "importer
ready": the second, once pydantic and the import job are loaded (a preview or a Start is answered from then
on; one asked before waits for it, visibly: docs/storage.md "Boot").

Cold: a new browser profile each time (no HTTP cache, no service worker, empty OPFS). Warm: a reload in the
same profile. Measured in the same run, each a median of --runs (at least 3): the app; the app with its boot
snapshot withheld (a second server answers 404 for it, so the worker starts Python as before: what the
snapshot saves); and
the baseline, bare Pyodide booting in a module worker from the same vendored files
(bench/startup_baseline.html): the ratio shows what the app adds on top of Pyodide.
"File input live": the first moment the page's file input exists and is enabled (a file picked then waits,
visibly, and is previewed once the engine is ready: py/ui/views/importer.py).
Usage: ./run bench startup [--runs 5]
"""

from __future__ import annotations

import argparse
import http.server
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.browser.support import ARGS, CHROMIUM, RECORD_STATUS_JS  # noqa: E402
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
PHASES = ("pyodide", "app", "imports", "opfs", "wheels", "importer", "importer_step")
"""The worker's boot phases (ms; docs/protocol.md engine:status): the first four before `ready`, then `wheels`
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
    context = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True, args=ARGS)
    page = context.new_page()
    page.add_init_script(MARKS)
    cold = time_app(page, url, reload=False)
    warm = time_app(page, url, reload=True)
    context.close()
    return cold, warm


def report(label: str, app: list[Sample], plain: list[Sample], bare: list[float]) -> None:
    med = statistics.median
    ready, bare_ready = med(s.ready for s in app), med(bare)
    print(f"  {label}: file input live {med(s.input for s in app):.2f}  first paint {med(s.paint for s in app):.2f}  "
          f"UI interactive {med(s.ui for s in app):.2f}  engine ready {ready:.2f}  "
          f"importer ready {med(s.importer for s in app):.2f}  "
          f"(no snapshot: UI {med(s.ui for s in plain):.2f}, ready {med(s.ready for s in plain):.2f}, "
          f"importer {med(s.importer for s in plain):.2f})  "
          f"bare Pyodide {bare_ready:.2f}  "
          f"ratio ready/bare {ready / bare_ready:.2f}")
    for name, samples in (("with snapshot", app), ("no snapshot", plain)):
        phases = "  ".join(f"{k} {med(s.phases[k] for s in samples):.0f}" for k in PHASES)
        states = ", ".join(sorted({s.snapshot for s in samples}))
        print(f"        engine phases, ms, {name}: {phases}  (snapshot: {states})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.runs < 3:
        parser.error("--runs must be at least 3 (each figure is a median)")
    server, url = serve_in_background(BenchHandler)
    plain_server, plain_url = serve_in_background(NoSnapshotHandler)
    cold, warm, cold_plain, warm_plain, base_cold, base_warm = [], [], [], [], [], []
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):  # interleaved, so that the machine's load falls on all three alike
            sample_cold, sample_warm = app_samples(pw, f"{tmp}/app-{i}", url)
            cold.append(sample_cold)
            warm.append(sample_warm)
            sample_cold, sample_warm = app_samples(pw, f"{tmp}/plain-{i}", plain_url)
            cold_plain.append(sample_cold)
            warm_plain.append(sample_warm)
            context = pw.chromium.launch_persistent_context(
                f"{tmp}/baseline-{i}", executable_path=CHROMIUM, headless=True, args=ARGS)
            page = context.new_page()
            base_cold.append(time_baseline(page, url))
            base_warm.append(time_baseline(page, url))
            context.close()
            time.sleep(0.2)
    server.shutdown()
    plain_server.shutdown()
    med = statistics.median
    print(f"startup, median of {args.runs} (seconds from navigation start):")
    report("cold", cold, cold_plain, base_cold)
    report("warm", warm, warm_plain, base_warm)
    ui = max(med(s.ui for s in cold), med(s.ui for s in warm))
    live = max(med(s.input for s in cold), med(s.input for s in warm))
    print(f"  goals: UI interactive < 1 s: {'met' if ui < 1 else 'NOT met'}; file input live < 1 s: "
          f"{'met' if live < 1 else 'NOT met'}; engine ready cold < 3 s: "
          f"{'met' if med(s.ready for s in cold) < 3 else 'NOT met'}, warm < 2 s: "
          f"{'met' if med(s.ready for s in warm) < 2 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
