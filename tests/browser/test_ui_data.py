"""The data browser and the storage panel in the real page."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from playwright.sync_api import Page

from tests.ui.pages import assert_accessible, go, open_app, people, shot, start_import, wait_for_run, write_csv


def cells(page: Page, column: int) -> list[str]:
    return page.eval_on_selector_all(f"#rows-table tbody tr td:nth-child({column})",
                                     "tds => tds.map(td => td.textContent)")


def test_a_table_pages_sorts_filters_and_exports(page: Page, base_url: str, tmp_path: Path,
                                                 artifacts: Path) -> None:
    open_app(page, base_url)
    start_import(page, people(tmp_path, 120))
    wait_for_run(page, "completed")
    go(page, "data")
    page.click(".table-link")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=data-row]').length === 50")
    assert cells(page, 1)[:3] == ["1", "2", "3"]
    assert "Page 1 of 3" in (page.text_content("#rows-page") or "")
    page.click("#rows-next")
    page.wait_for_function("() => document.querySelector('#rows-table tbody td').textContent === '51'")
    page.get_by_role("button", name="Sort by id").click()
    page.wait_for_function("() => document.querySelector('#rows-table th[aria-sort=ascending]')")
    page.get_by_role("button", name="Sort by id (sorted ascending)").click()
    page.wait_for_function("() => document.querySelector('#rows-table tbody td').textContent === '120'")
    page.fill("#table-filter-text", "Person 11")
    page.press("#table-filter-text", "Enter")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=data-row]').length === 11")
    shot(page, artifacts, "data-table")
    assert_accessible(page, "the data browser")
    with page.expect_download() as download:
        page.click("#export-table")
    saved = tmp_path / "export.csv"
    download.value.save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["id", "name", "email", "amount"] and len(rows) == 121
    with page.expect_download() as database:
        page.click("#download-db")
    db_path = tmp_path / "db.sqlite"
    database.value.save_as(db_path)
    assert db_path.read_bytes()[:16] == b"SQLite format 3\x00"


def test_formula_cells_are_shown_as_typed(page: Page, base_url: str, tmp_path: Path) -> None:
    open_app(page, base_url)
    start_import(page, write_csv(tmp_path, "formulas.csv", ["id", "cell"], [[1, "=1+1"], [2, "@SUM(A1)"]]))
    wait_for_run(page, "completed")
    go(page, "data")
    page.click(".table-link")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=data-row]').length === 2")
    assert cells(page, 2) == ["=1+1", "@SUM(A1)"]


def test_storage_shows_space_and_deletes_everything_after_confirmation(page: Page, base_url: str,
                                                                        tmp_path: Path, artifacts: Path) -> None:
    open_app(page, base_url)
    start_import(page, people(tmp_path, 100))
    wait_for_run(page, "completed")
    go(page, "storage")
    page.wait_for_function("() => / used of .* available/.test(document.querySelector('#storage-text').textContent)")
    shot(page, artifacts, "storage")
    assert_accessible(page, "the storage panel")
    page.click("#persist")
    page.click("#clear-all")
    page.locator("dialog#confirm").wait_for(state="visible")
    page.click("#confirm-yes")
    go(page, "data")
    page.wait_for_selector("#tables-empty:not([hidden])", timeout=30_000)
    go(page, "runs")
    page.wait_for_selector("#runs-empty:not([hidden])", timeout=30_000)
