"""The page boots the UI and the engine worker from its own files, and shows real versions."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page

from tests.browser.support import call, call_raw, wait_for_state

READY = re.compile(
    r"^Engine ready: Python 3\.14\.2, SQLite 3\.39\.0, pydantic 2\.14\.3, storage OPFS \(.+ / .+\)$")


def test_boot_reaches_ready_with_real_versions_from_a_clean_profile(page: Page, base_url: str) -> None:
    page.goto(base_url)
    assert READY.match(wait_for_state(page, "ready"))
    info = call(page, "engine.info")
    assert info == {"state": "ready", "python": "3.14.2", "sqlite": "3.39.0", "pydantic": "2.14.3"}


def test_boot_reaches_ready_again_after_reload(page: Page, base_url: str) -> None:
    page.goto(base_url)
    wait_for_state(page, "ready")
    page.reload()
    assert READY.match(wait_for_state(page, "ready"))


def test_malformed_messages_get_error_replies_and_the_worker_lives_on(page: Page, base_url: str) -> None:
    page.goto(base_url)
    wait_for_state(page, "ready")
    broken = page.evaluate("""() => new Promise((resolve) => {
        const worker = window.engineWorker;
        const replies = [];
        const onReply = (event) => {  // only the replies to these three (the UI has its own requests)
            const m = JSON.parse(typeof event.data === "string" ? event.data : event.data.json);
            if (!m.event && [null, undefined, 7, 8].includes(m.id)) {
                replies.push(m); if (replies.length === 3) resolve(replies); } };
        worker.addEventListener("message", onReply);
        worker.postMessage("{not json");
        worker.postMessage(JSON.stringify({id: 7, method: 42}));
        worker.postMessage(JSON.stringify({id: 8, method: "no.such.method"}));
    })""")
    codes = sorted((r["id"] or 0, r["error"]["code"]) for r in broken)
    assert codes == [(0, "bad-request"), (7, "bad-request"), (8, "unknown-method")]
    assert all(r["ok"] is False and r["error"]["message"] for r in broken)
    assert call_raw(page, "runs.get", run_id=3)["error"]["code"] == "bad-params"
    assert call(page, "engine.info")["state"] == "ready"


def test_a_boot_failure_is_shown_in_the_status_not_a_blank_page(context: BrowserContext, base_url: str) -> None:
    context.route("**/static/vendor/app.zip", lambda route: route.fulfill(status=404, body="missing"))
    page = context.new_page()
    page.goto(base_url)
    text = wait_for_state(page, "error")
    assert "app.zip" in text and "404" in text
