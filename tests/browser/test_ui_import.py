"""The import flow in the real page: pick, preview with evidence, adjust, start, progress, duplicate, XSS."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page

from tests.ui.pages import (
    XSS,
    assert_accessible,
    forbid_dialogs,
    go,
    no_injected_elements,
    open_app,
    people,
    preview,
    shot,
    start_import,
    wait_for_run,
    write_csv,
)


def test_a_picked_file_is_previewed_with_its_detected_settings_and_their_evidence(
        page: Page, base_url: str, tmp_path: Path, artifacts: Path) -> None:
    path = write_csv(tmp_path, "ledger.csv", ["day", "account", "amount"],
                     [[f"2024-02-{d:02d}", f"ACC-{d}", f"{d},50"] for d in range(1, 21)], delimiter=";")
    open_app(page, base_url)
    assert_accessible(page, "the empty import screen")
    preview(page, path)
    assert page.text_content("#preview-file").startswith("ledger.csv")
    assert page.input_value("#set-delimiter") == ";"
    assert "20 of 20" in (page.text_content("#why-delimiter") or "") or "sample rows" in (
        page.text_content("#why-delimiter") or "")
    types = page.eval_on_selector_all("#columns-table tbody select", "els => els.map(e => e.value)")
    assert types == ["date", "text", "real"]
    assert page.input_value("#table-name") == "ledger"
    assert page.locator("#preview-table tbody tr").count() == 20
    shot(page, artifacts, "import-preview")
    assert_accessible(page, "the preview")


def test_an_import_shows_live_progress_and_ends_with_its_table_in_the_data_browser(
        page: Page, base_url: str, tmp_path: Path, artifacts: Path) -> None:
    path = people(tmp_path, 20_000, bad_every=1000)
    open_app(page, base_url)
    preview(page, path)
    page.select_option("#columns-table tbody tr:nth-child(4) select", "real")
    page.click("[data-testid=start-import]")
    bar = page.locator("progress[data-testid=run-progress]")
    bar.wait_for(state="visible")
    page.wait_for_function("""() => (document.querySelector('[data-testid=run-progress]').getAttribute('aria-label')
                                     || '').startsWith('Import progress of people.csv')""")
    assert wait_for_run(page, "completed", "failed") == "completed"
    assert page.text_content("#stat-accepted") == "19,980"
    assert page.text_content("#stat-rejected") == "20"
    shot(page, artifacts, "import-completed")
    assert_accessible(page, "the completed import")
    go(page, "data")
    page.wait_for_function("""() => { const c = document.querySelector(
        '[data-testid=table-row-count][data-table=people]'); return c && c.textContent === '19,980'; }""")


def test_the_same_file_again_offers_the_earlier_run_or_an_import_anyway(
        page: Page, base_url: str, tmp_path: Path, artifacts: Path) -> None:
    path = people(tmp_path, 50)
    open_app(page, base_url)
    start_import(page, path)
    wait_for_run(page, "completed")
    first = page.get_attribute("#current-details", "href")
    preview(page, path)
    offer = page.locator("#duplicate")
    offer.wait_for(state="visible")
    assert "imported before" in (offer.text_content() or "")
    assert offer.locator("a").get_attribute("href") == first
    shot(page, artifacts, "import-duplicate")
    offer.get_by_role("button", name="Import anyway").click()
    page.wait_for_function("(first) => document.querySelector('#current-details').getAttribute('href') !== first",
                           arg=first, timeout=30_000)
    assert wait_for_run(page, "completed") == "completed"
    go(page, "runs")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=run-row]').length === 2")


def test_a_file_that_cannot_be_read_gets_a_specific_message(page: Page, base_url: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    open_app(page, base_url)
    page.set_input_files("[data-testid=file-input]", str(empty))
    page.wait_for_function("() => document.querySelector('#preview-status').classList.contains('error')")
    assert re.search(r"empty", page.text_content("#preview-status") or "", re.I)
    assert page.locator("#preview").is_hidden()


def test_hostile_cells_show_as_text_in_the_preview_the_data_browser_and_the_rejects(
        page: Page, base_url: str, tmp_path: Path, artifacts: Path) -> None:
    rows = [[i, f"name {i}"] for i in range(1, 10)] + [[XSS, XSS], [10, XSS]]
    path = write_csv(tmp_path, XSS + ".csv", ["id", "label"], rows)
    opened = forbid_dialogs(page)
    open_app(page, base_url)
    preview(page, path)
    assert (page.text_content("#preview-file") or "").startswith(XSS + ".csv")
    assert page.locator("#preview-table td", has_text=XSS).count() == 3
    assert no_injected_elements(page, "#preview") == 0
    page.select_option("#columns-table tbody tr:nth-child(1) select", "integer")
    page.click("[data-testid=start-import]")
    assert wait_for_run(page, "completed", "failed") == "completed"
    assert (page.text_content("#current-run-title") or "").endswith(XSS + ".csv")
    assert no_injected_elements(page, "#current-run") == 0
    page.click("#current-details")
    page.locator("[data-testid=reject-row]").first.wait_for()
    rejects = page.locator("[data-testid=rejects-table]")
    assert rejects.locator("td.reasons", has_text=XSS).count() >= 1  # in the reason, as text
    page.wait_for_selector("[data-testid=reject-cell]")  # the workbench's editable cells hold it as a value
    values = page.eval_on_selector_all("[data-testid=reject-cell]", "cells => cells.map(c => c.value)")
    assert XSS in values
    assert no_injected_elements(page, "[data-testid=rejects-table]") == 0
    shot(page, artifacts, "xss-rejects")
    go(page, "data")
    page.click(".table-link")
    page.locator("[data-testid=data-row]").first.wait_for()
    assert page.locator("#rows-table td", has_text=XSS).count() == 1
    assert no_injected_elements(page, "#rows-table") == 0
    shot(page, artifacts, "xss-data")
    assert opened == []
    assert page.evaluate("() => document.querySelectorAll('img').length") == 0
