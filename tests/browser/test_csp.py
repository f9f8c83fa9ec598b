"""A locked-down page (issue 12): the Content-Security-Policy holds through a whole flow, hostile links and
hostile messages get answers, not a broken page or a silent worker.

Violations are recorded two ways: a `securitypolicyviolation` listener the page gets before any of its
scripts (init script), and the policy's reports, which the test server adds a `report-uri` for and records:
reports come from the page AND from the workers, whose violations no page listener can see. At the end a
deliberate violation in the page and one in the engine worker prove that both channels were listening.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from playwright.sync_api import BrowserContext, Page
from tools.serve import AppHandler, make_server

from tests.browser.support import call_raw, wait_for_state
from tests.ui.pages import go, preview, wait_for_run, write_csv

REPORT_PATH = "/__csp-report"
SENTINEL = "http://sentinel.invalid/"
LISTEN_JS = """window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(
    {directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber}), true);"""


class ReportingHandler(AppHandler):
    """The app's server, with `report-uri` added to each policy and the reports kept in `reports`."""

    reports: ClassVar[list[dict[str, Any]]] = []

    def policy(self) -> str:
        return super().policy() + f"; report-uri {REPORT_PATH}"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == REPORT_PATH:
            self.reports.append(json.loads(body)["csp-report"])
        self.send_response(204)
        self.end_headers()


@pytest.fixture
def reporting_base(base_url: str) -> Iterator[str]:  # base_url: the session's app.zip is built
    ReportingHandler.reports = []
    server = make_server(0, handler=ReportingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def reports() -> list[dict[str, Any]]:
    return list(ReportingHandler.reports)


def hostile_csv(folder: Path) -> Path:
    rows = [[1, "=1+1", "1.5"], [2, "<img src=x onerror=alert(1)>", "n/a!"], [3, "javascript:alert(1)", "-2.5"],
            [4, "@SUM(A1)", "oops"], [5, "plain", "7"]]
    return write_csv(folder, "hostile.csv", ["id", "cell", "amount"], rows)


def test_a_whole_flow_runs_with_zero_policy_violations(context: BrowserContext, reporting_base: str,
                                                       tmp_path: Path) -> None:
    requests: list[str] = []
    failed: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    context.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    context.add_init_script(LISTEN_JS)
    page = context.new_page()
    page.goto(reporting_base)
    wait_for_state(page, "ready")
    assert page.evaluate("() => document.querySelector('#app').getAttribute('aria-busy')") == "false"

    preview(page, hostile_csv(tmp_path))  # preview
    page.select_option("#columns-table tbody tr:nth-child(3) select", "real")
    page.click("[data-testid=start-import]")  # import
    assert wait_for_run(page, "completed") == "completed"
    page.click("#current-details")
    page.locator("[data-testid=reject-row]").first.wait_for()
    with page.expect_download() as errors:  # export: the error report
        page.click("#download-errors")
    assert "n/a!" in Path(errors.value.path()).read_text(encoding="utf-8-sig")
    go(page, "data")  # browse
    page.click(".table-link")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=data-row]').length === 3")
    with page.expect_download() as table:  # export: the table, then the database
        page.click("#export-table")
    assert "'=1+1" in Path(table.value.path()).read_text(encoding="utf-8-sig")
    with page.expect_download() as database:
        page.click("#download-db")
    assert Path(database.value.path()).read_bytes()[:16] == b"SQLite format 3\x00"
    go(page, "storage")  # the storage panel: usage, and the answer to the persistence request Start made
    page.wait_for_selector("[data-testid=storage-text][data-usage]", state="attached")
    page.wait_for_selector("[data-testid=storage-persisted][data-asked=true]", state="attached")

    assert page.evaluate("() => window.__cspViolations") == []
    # sentinels: one violation in the page and one in the engine worker must be seen, or nothing was listening
    page.evaluate(f"() => {{ const img = new Image(); img.src = '{SENTINEL}page.png'; document.body.append(img); }}")
    worker = next(w for w in page.workers if w.url.endswith("engine-worker.mjs"))
    worker.evaluate(f"() => fetch('{SENTINEL}worker').catch(() => null)")
    page.wait_for_function("() => window.__cspViolations.length > 0")  # once per policy: header and meta
    assert _wait_for_reports(page, 2), reports()
    seen = [(r["effective-directive"], r["blocked-uri"], r["document-uri"]) for r in reports()]
    assert sorted(seen) == sorted([("connect-src", SENTINEL + "worker", reporting_base + "static/js/engine-worker.mjs"),
                                   ("img-src", SENTINEL + "page.png", reporting_base)]), seen
    outside = [url for url in requests if not url.startswith((reporting_base, "data:", "blob:", SENTINEL))]
    assert outside == []
    assert [f for f in failed if "sentinel.invalid" not in f and not f.endswith("/favicon.ico")] == []


def _wait_for_reports(page: Page, count: int) -> bool:
    """Poll (through the page's event loop, not a sleep) until `count` reports arrived; False after 30 s."""
    for _ in range(300):
        if len(reports()) >= count:
            return True
        page.wait_for_timeout(100)
    return False


def test_a_link_with_a_broken_escape_still_renders_the_app(page: Page, base_url: str) -> None:
    page.goto(base_url + "#data=%")
    wait_for_state(page, "ready")
    page.wait_for_function("() => document.querySelector('#app').getAttribute('aria-busy') === 'false'")
    assert page.is_visible("#view-data")
    go(page, "import")
    assert page.is_visible("#view-import")


def test_hostile_messages_each_get_a_reply_and_test_probes_do_not_exist(page: Page, base_url: str) -> None:
    page.goto(base_url)
    wait_for_state(page, "ready")
    deep = "[" * 200_000 + "]" * 200_000
    cases = ['{"id": 41, "method": "engine.info", "params": ' + deep + "}", deep, "1e999999", "null",
             '{"id": 43, "method": "\\ud800"}',
             '{"id": 44, "method": "sql.query", "params": {"sql": "SELECT 1", "limit": 1e999}}',
             '{"id": 45, "method": "diagnostics.bulk_write", "params": {"rows": 50000000}}']
    replies = page.evaluate("""(cases) => new Promise((resolve) => {
        const worker = window.engineWorker, replies = [];
        worker.addEventListener("message", (event) => {
            const m = JSON.parse(typeof event.data === "string" ? event.data : event.data.json);
            if (m.event || !(m.id == null || [41, 43, 44, 45].includes(m.id))) return;  // not the page's own
            replies.push(m); if (replies.length === cases.length) resolve(replies); });
        cases.forEach((c) => worker.postMessage(c));
        setTimeout(() => resolve(replies), 60000);  // a deadline to fail on, not a wait: replies come first
    })""", cases)
    codes = sorted((r["id"] or 0, r["error"]["code"]) for r in replies if not r["ok"])
    assert codes == [(0, "bad-request"), (0, "bad-request"), (0, "bad-request"), (41, "bad-request"),
                     (43, "unknown-method"), (44, "bad-params"), (45, "unknown-method")], replies
    assert "nested too deeply" in next(r for r in replies if r["id"] == 41)["error"]["message"]
    assert call_raw(page, "engine.info")["ok"] is True  # the worker lives on
