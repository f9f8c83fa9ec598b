"""Browser latency during an import: how long the engine worker takes to answer a request, and to end a run
on Cancel, while an import's batches run (issue 9 item 3: "Cancel lands within one second during any batch").

For each case a fresh headless chromium imports a file through the page's real file input; meanwhile the page
sends `runs.list` to the worker every --every ms (one at a time) and records each round trip, from
`postMessage` to the reply's arrival, until the run ends. Then a second import of the same file is cancelled
by clicking the page's Cancel button (`#current-cancel`) as its batch --cancel-at starts (batch 0 for the
giant fields, which that batch reads), and the time from the click to the `run:cancel` event is recorded.
Prints the max and median round trip per phase of the run and the cancel latency per case, against the round
trip of the same request with the engine idle (the baseline, same run).
Cases: the bench file (bench/import_native.generate_csv, --rows rows) and the giant-field files of
bench/runaway.py (a --field-mb MB field on one line, and one quoted over many lines).
Usage: ./run bench latency [--rows 1000000] [--field-mb 50] [--every 50] [--cancel-at 5] [--only NAME]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "py"))
from tests.browser.support import ARGS, CHROMIUM, call, wait_for_importer  # noqa: E402
from tools.serve import serve_in_background  # noqa: E402
from tools.vendor import bundle_engine  # noqa: E402

from bench.import_native import generate_csv  # noqa: E402
from bench.runaway import huge_line, huge_quoted  # noqa: E402

# Sends runs.list every `every` ms (one in flight at a time) until a run of the import job has ended;
# resolves with the round trips in ms and the phase of the run each one saw.
PROBE_JS = """async ({every}) => {
  const worker = window.engineWorker;
  const trips = [];
  let ended = false, nextId = 2_000_000_000;
  const began = performance.now();
  const ask = () => new Promise((resolve) => {
    const id = nextId++;
    const onReply = (event) => {
      const msg = JSON.parse(typeof event.data === "string" ? event.data : event.data.json);
      if (msg.id !== id) return;
      worker.removeEventListener("message", onReply);
      resolve(msg);
    };
    worker.addEventListener("message", onReply);
    worker.postMessage(JSON.stringify({id, method: "runs.list", params: {job: "import-csv", limit: 1}}));
  });
  while (!ended) {
    const sent = performance.now();
    const reply = await ask();
    const ms = performance.now() - sent;
    const run = reply.ok && reply.result.runs[0];
    const status = run ? run.status : "none";
    const data = run && run.progress && run.progress.data;
    const phase = data ? String(data.step || data.phase || "?") : "starting";
    if (status === "running") trips.push([ms, phase]);
    ended = ["completed", "failed", "cancelled"].includes(status) || performance.now() - began > 600_000;
    await new Promise((r) => setTimeout(r, every));
  }
  return trips;
}"""

# Waits for the import's step `batch-N` to start, then clicks Cancel at once; resolves with the ms from the
# click to the worker's run:cancel event (or how the run ended without one).
CANCEL_JS = """async ({batch}) => {
  const worker = window.engineWorker;
  return await new Promise((resolve) => {
    let clicked = null;
    worker.addEventListener("message", (event) => {
      if (typeof event.data !== "string") return;
      const msg = JSON.parse(event.data);
      if (clicked === null && msg.event === "step:start" && msg.data.step === `batch-${batch}`) {
        clicked = performance.now();
        document.querySelector("#current-cancel").click();
      } else if (["run:cancel", "run:complete", "run:fail"].includes(msg.event)) {
        resolve({ms: clicked === null ? NaN : performance.now() - clicked, event: msg.event});
      }
    });
  });
}"""


def start(page: Page, url: str, source: Path, typed: bool) -> None:
    """Open the app on a fresh page and start importing `source` from the file input."""
    page.goto(url)
    wait_for_importer(page, 120_000)
    page.set_input_files("[data-testid=file-input]", str(source))
    if typed:
        page.get_by_label("Type of column 1 (id)").select_option("integer")
    page.locator("[data-testid=start-import]").click()


def idle_trips(page: Page, url: str, count: int = 20) -> list[float]:
    page.goto(url)
    wait_for_importer(page, 120_000)
    trips = []
    for _ in range(count):
        started = time.perf_counter()
        call(page, "runs.list", job="import-csv", limit=1)
        trips.append((time.perf_counter() - started) * 1000)
    return trips


def measure(pw: Any, url: str, tmp: Path, name: str, source: Path, typed: bool, every: int,
            cancel_at: int) -> tuple[list[Any], dict[str, Any]]:
    """Round trips (ms) during a whole import of `source`, and the cancel latency of a second import."""
    context = pw.chromium.launch_persistent_context(str(tmp / f"profile-{name}-a"), executable_path=CHROMIUM,
                                                   headless=True, args=ARGS)
    page = context.new_page()
    start(page, url, source, typed)
    trips = page.evaluate(PROBE_JS, {"every": every})
    context.close()
    context = pw.chromium.launch_persistent_context(str(tmp / f"profile-{name}-b"), executable_path=CHROMIUM,
                                                   headless=True, args=ARGS)
    page = context.new_page()
    page.goto(url)
    wait_for_importer(page, 120_000)
    page.evaluate(f"(args) => {{ window.__cancelled = ({CANCEL_JS})(args); }}", {"batch": cancel_at})  # listening
    page.set_input_files("[data-testid=file-input]", str(source))
    if typed:
        page.get_by_label("Type of column 1 (id)").select_option("integer")
    page.locator("[data-testid=start-import]").click()
    cancelled = page.evaluate("() => window.__cancelled")
    context.close()
    return trips, cancelled


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--field-mb", type=int, default=50)
    parser.add_argument("--every", type=int, default=50, help="ms between probes")
    parser.add_argument("--cancel-at", type=int, default=5, help="click Cancel as batch N of the bench file starts")
    parser.add_argument("--only", default="", help="run only the cases whose name contains this")
    args = parser.parse_args()
    bundle_engine()
    server, url = serve_in_background()
    with tempfile.TemporaryDirectory() as tmp_name, sync_playwright() as pw:
        tmp = Path(tmp_name)
        bench = tmp / "people.csv"
        generate_csv(bench, args.rows)

        def written(name: str, make: tuple[dict[str, Any], Callable[[Path], None]]) -> Path:
            path = tmp / name
            make[1](path)
            return path

        cases: list[tuple[str, Path, bool]] = [(f"bench file, {args.rows:,} rows", bench, True)]
        if args.field_mb:
            cases += [
                (f"{args.field_mb} MB field on one line", written("line.csv", huge_line(args.field_mb, True)), True),
                (f"{args.field_mb} MB quoted field over lines", written("quoted.csv", huge_quoted(args.field_mb)),
                 True),
            ]
        context = pw.chromium.launch_persistent_context(str(tmp / "profile-idle"), executable_path=CHROMIUM,
                                                       headless=True, args=ARGS)
        idle = idle_trips(context.new_page(), url)
        context.close()
        print(f"runs.list round trip with the engine idle (baseline): median {statistics.median(idle):.0f} ms, "
              f"max {max(idle):.0f} ms")
        for name, source, typed in cases:
            if args.only and args.only not in name:
                continue
            cancel_at = args.cancel_at if source == bench else 0  # a giant field is read in the first batch
            trips, cancelled = measure(pw, url, tmp, name.split()[0], source, typed, args.every, cancel_at)
            if trips:
                every_ms = [ms for ms, _ in trips]
                print(f"{name}: runs.list during the import: {len(trips)} probes, median "
                      f"{statistics.median(every_ms):.0f} ms, max {max(every_ms):.0f} ms")
                for phase in sorted({phase for _, phase in trips}):
                    some = [ms for ms, seen in trips if seen == phase]
                    print(f"    answered in phase {phase}: {len(some)} probes, "
                          f"median {statistics.median(some):.0f} ms, max {max(some):.0f} ms")
            else:
                print(f"{name}: the import ended before a probe saw it running")
            print(f"{name}: Cancel click to {cancelled['event']}: {cancelled['ms']:.0f} ms")
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
