"""Updates (issue 12): a new version installs in the background and waits; the page says so with
`[data-testid=update-available]`; its button activates the new version and reloads into it; an import that
version A started completes in version B. Never a silent switch that mixes old and new files."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest
from playwright.sync_api import BrowserContext
from tools.serve import ROOT, AppHandler, make_server

from tests.browser.support import call, controlled, preview_generated_csv, set_test_hooks, wait_for_run, wait_for_state

TITLE_B = "CSV Importer (version B)"


class TwoVersions(AppHandler):
    """Serves the app as it is (version A) until `b` is set; then version B: another title in index.html and
    another version in precache.json, as a new release would have."""

    b: ClassVar[bool] = False

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if self.b and path in ("/", "/index.html"):
            return self._send((ROOT / "index.html").read_text().replace("<title>CSV Importer</title>",
                                                                        f"<title>{TITLE_B}</title>"), "text/html")
        if self.b and path == "/static/vendor/precache.json":
            listing = json.loads((ROOT / "static/vendor/precache.json").read_text())
            listing["version"] += "-b"
            return self._send(json.dumps(listing), "application/json")
        return super().do_GET()

    def _send(self, text: str, mime: str) -> None:
        body = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", mime)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def two_versions(base_url: str) -> Iterator[str]:  # base_url: the session's app.zip and precache are built
    TwoVersions.b = False
    server = make_server(0, handler=TwoVersions)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_a_new_version_waits_for_the_prompt_and_a_run_started_before_completes_after(
        context: BrowserContext, two_versions: str) -> None:
    set_test_hooks(context, {"max_batch_rows": 100, "hold_at_rows": [200, 600]})  # held in A, twice
    page = context.new_page()
    page.goto(two_versions)
    wait_for_state(page, "ready")
    controlled(page)
    preview = preview_generated_csv(page, 1_000, name="across-versions.csv")
    run_id = call(page, "import.start", source_id=preview["source_id"], options=preview["sniff"]["options"])["run_id"]
    wait_for_run(page, run_id, lambda run, steps: sum(s["name"].startswith("batch-") for s in steps) >= 2)

    TwoVersions.b = True  # a new release on the server
    page.reload()
    wait_for_state(page, "ready")
    assert page.title() == "CSV Importer"  # still version A: nothing switched silently
    page.wait_for_selector("[data-testid=update-available]", timeout=60_000)
    assert page.title() == "CSV Importer"
    assert page.evaluate("async () => !!(await navigator.serviceWorker.getRegistration()).waiting")
    held = wait_for_run(page, run_id, lambda run, steps: any(s["name"].startswith("batch-") and
                                                              s["output"]["accepted"] + s["output"]["rejected"] >= 600
                                                              for s in steps))
    assert held["status"] == "running"  # the run spans the update: A's engine holds it at row 600

    page.click("[data-testid=update-activate]")
    page.wait_for_function(f"() => document.title === {json.dumps(TITLE_B)}", timeout=60_000)
    wait_for_state(page, "ready")
    assert page.evaluate("() => navigator.serviceWorker.controller.scriptURL").endswith("-b")
    run = wait_for_run(page, run_id, lambda run, steps: run["status"] in ("completed", "failed"))
    assert run["status"] == "completed", run["error"]
    assert run["output"]["rows_accepted"] + run["output"]["rows_rejected"] == 1_000
    assert page.evaluate("async () => (await caches.keys()).filter(k => k.startsWith('csv-importer-'))") == [
        "csv-importer-" + page.evaluate("() => new URL(navigator.serviceWorker.controller.scriptURL)"
                                        ".searchParams.get('v')")]
