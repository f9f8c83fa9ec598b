"""A reload during staging loses the picked File: picking the same file again resumes that import from its
partial copy, through the page's own offer, and every row lands once."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.browser.support import RECORD_EVENTS_JS, call, set_test_hooks, wait_for_state
from tests.ui.pages import open_app, people, preview, shot, start_import

ROWS = 400_000  # ~20 MB: five staging chunks of 4 MiB
HOLD_AT_BYTES = 2 << 20
"""Staging holds right after its first chunk, which crosses this (importer/holds.py), and reports that chunk
before it holds (the first chunk always reports): the reload lands on a copy of exactly one chunk by
construction, and the resumed copy starts past the point, so it is not held again. (The point was past the
first chunk: a reload that came before the second chunk left a copy the resumed run copied across the point
again, and it held for ever: CI, 2026-12-02.)"""


def test_reload_during_staging_then_picking_the_file_again_resumes_the_import(
        page: Page, base_url: str, tmp_path: Path, artifacts: Path) -> None:
    source = people(tmp_path, ROWS, name="huge.csv")
    set_test_hooks(page, {"hold_at_staged_bytes": HOLD_AT_BYTES})
    open_app(page, base_url)
    page.evaluate(RECORD_EVENTS_JS)
    start_import(page, source)
    # progress during a step is only live in events (the durable copy commits with the step)
    # the first chunk always reports, then the run holds (HOLD_AT_BYTES): it cannot copy more before the reload
    run_id = page.wait_for_function("""() => { const e = window.__events.find((m) => m.event === "run:progress"
        && m.data.data && m.data.data.phase === "staging" && m.data.data.bytes_done < m.data.data.bytes_total);
        return e && e.data.run_id; }""", timeout=60_000).json_value()
    page.reload()
    wait_for_state(page, "ready")
    for _ in range(300):
        run = call(page, "runs.get", run_id=run_id)
        if run["status"] == "failed":
            break
        page.wait_for_timeout(100)
    assert run["status"] == "failed" and "again" in run["error"]["message"], run
    page.wait_for_function("() => document.querySelector('#current-run-title').textContent.includes('huge.csv')")
    assert not page.locator("[data-testid=resume-banner]").is_visible(), "a failed resume is no resume"

    preview(page, source)
    resume = page.locator("[data-testid=resume-import]")
    resume.wait_for(timeout=60_000)
    shot(page, artifacts, "resume-offer")
    resume.click()
    for _ in range(1800):
        run = call(page, "runs.get", run_id=run_id)
        if run["status"] in ("completed", "failed"):
            break
        page.wait_for_timeout(100)
    assert run["status"] == "completed", run["error"]
    assert run["output"]["rows_accepted"] == ROWS
    table = run["output"]["table"]
    assert call(page, "sql.query", sql=f'SELECT count(*), count(DISTINCT id) FROM "{table}"')["rows"] == [[ROWS, ROWS]]
