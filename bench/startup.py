"""Startup benchmark: navigation -> UI interactive and -> engine ready, cold and warm, in headless chromium.

Cold: a new browser profile each time (no HTTP cache, no service worker, empty OPFS). Warm: a reload in the
same profile. The baseline, measured in the same run, is bare Pyodide booting in a module worker from the
same vendored files (bench/startup_baseline.html): the ratio shows what the app adds on top of Pyodide.
Usage: ./run bench startup [--runs 5]
"""

from __future__ import annotations

import argparse
import http.server
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.browser.support import ARGS, CHROMIUM  # noqa: E402
from tools.serve import AppHandler, make_server  # noqa: E402

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

MARK_UI = """document.addEventListener("mpy:done", () => { window.__uiDone = performance.now(); });"""


def time_app(page: Page, url: str, *, reload: bool) -> tuple[float, float]:
    """Seconds from navigation start to UI interactive (PyScript's mpy:done) and to engine ready."""
    if reload:
        page.reload(wait_until="commit")
    else:
        page.goto(url, wait_until="commit")
    page.wait_for_function("() => document.querySelector('[data-testid=engine-status]')?.dataset.state === 'ready'",
                           timeout=120_000, polling=20)
    ready = page.evaluate("performance.now()")
    ui = page.wait_for_function("() => window.__uiDone", timeout=10_000).json_value()
    return ui / 1000, ready / 1000


def time_baseline(page: Page, url: str) -> float:
    page.goto(url + BASELINE, wait_until="commit")
    page.wait_for_function("() => document.getElementById('state')?.textContent.startsWith('ready')",
                           timeout=120_000, polling=20)
    return page.evaluate("performance.now()") / 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server = make_server(0, handler=BenchHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    cold_ui, cold_ready, warm_ui, warm_ready, base_cold, base_warm = [], [], [], [], [], []
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            context = pw.chromium.launch_persistent_context(
                f"{tmp}/profile-{i}", executable_path=CHROMIUM, headless=True, args=ARGS)
            page = context.new_page()
            page.add_init_script(MARK_UI)
            ui, ready = time_app(page, url, reload=False)
            cold_ui.append(ui)
            cold_ready.append(ready)
            ui, ready = time_app(page, url, reload=True)
            warm_ui.append(ui)
            warm_ready.append(ready)
            context.close()
            context = pw.chromium.launch_persistent_context(
                f"{tmp}/baseline-{i}", executable_path=CHROMIUM, headless=True, args=ARGS)
            page = context.new_page()
            base_cold.append(time_baseline(page, url))
            base_warm.append(time_baseline(page, url))
            context.close()
            time.sleep(0.2)
    server.shutdown()
    med = statistics.median
    print(f"startup, median of {args.runs} (seconds from navigation start):")
    print(f"  cold: UI interactive {med(cold_ui):.2f}  engine ready {med(cold_ready):.2f}  "
          f"bare Pyodide {med(base_cold):.2f}  ratio ready/bare {med(cold_ready) / med(base_cold):.2f}")
    print(f"  warm: UI interactive {med(warm_ui):.2f}  engine ready {med(warm_ready):.2f}  "
          f"bare Pyodide {med(base_warm):.2f}  ratio ready/bare {med(warm_ready) / med(base_warm):.2f}")
    print(f"  goals: UI interactive < 1 s: {'met' if med(warm_ui) < 1 and med(cold_ui) < 1 else 'NOT met'}; "
          f"engine ready warm < 2 s: {'met' if med(warm_ready) < 2 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
