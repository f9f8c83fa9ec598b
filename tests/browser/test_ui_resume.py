"""After a reload mid-import the page says where it resumed and shows progress without a click; a second
tab shows the first tab's progress with a notice."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import BrowserContext, Page

from tests.browser.support import wait_for_state
from tests.ui.pages import assert_accessible, open_app, people, shot, start_import, wait_for_run


def test_a_reload_mid_import_shows_the_resume_banner_and_reattaches_progress(
        page: Page, base_url: str, tmp_path: Path, artifacts: Path) -> None:
    open_app(page, base_url)
    start_import(page, people(tmp_path, 1_500_000, name="big.csv"))
    page.wait_for_function("""() => { const rows = document.querySelector('#stat-rows').textContent;
        return /^[0-9,]+$/.test(rows) && parseInt(rows.replace(/,/g, '')) >= 100000; }""", timeout=120_000)
    page.reload()
    wait_for_state(page, "ready")
    banner = page.locator("[data-testid=resume-banner]")
    banner.wait_for(state="visible", timeout=60_000)
    text = banner.locator("#resume-text").text_content() or ""
    assert re.match(r"^Resumed import of big\.csv from row [0-9,]+\.$", text), text
    page.locator("progress[data-testid=run-progress]").wait_for(state="visible")
    shot(page, artifacts, "resumed")
    assert_accessible(page, "the resumed import")
    assert wait_for_run(page, "completed", "failed", timeout_ms=180_000) == "completed"
    assert page.text_content("#stat-accepted") == "1,500,000"


def test_a_second_tab_shows_the_notice_and_the_first_tabs_progress(
        context: BrowserContext, base_url: str, tmp_path: Path, artifacts: Path) -> None:
    first = context.new_page()
    open_app(first, base_url)
    second = context.new_page()
    second.goto(base_url)
    wait_for_state(second, "follower")
    second.locator("[data-testid=follower-notice]").wait_for(state="visible")
    start_import(first, people(tmp_path, 1_000_000))
    second.locator("progress[data-testid=run-progress][data-status=running]").wait_for(timeout=60_000)
    second.wait_for_function("() => /^[0-9,]+$/.test(document.querySelector('#stat-rows').textContent)")
    shot(second, artifacts, "follower")
    assert_accessible(second, "the follower tab")
    assert wait_for_run(second, "completed", timeout_ms=180_000) == "completed"
    first.close()
    wait_for_state(second, "ready")
    second.locator("[data-testid=follower-notice]").wait_for(state="hidden")
