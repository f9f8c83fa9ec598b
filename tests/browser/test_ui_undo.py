"""Undo and redo of an import in the real page (issue 13 item 2): two imports append to one table through the
page; Undo on the first's run detail leaves exactly the second's rows; Redo puts the first's back, once."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.browser.support import call
from tests.ui.pages import assert_accessible, open_app, preview, shot, write_csv


def import_into(page: Page, path: Path, table: str, if_exists: str) -> str:
    """Pick `path`, name the table, choose what to do if it exists, start; returns the completed run's id."""
    preview(page, path)
    page.fill("#table-name", table)
    page.select_option("[data-testid=if-exists]", if_exists)
    page.click("[data-testid=start-import]")
    for _ in range(600):  # the current-run panel may still show the previous run: wait for this file's run
        runs = call(page, "runs.list", job="import-csv", limit=1)["runs"]
        if runs and runs[0]["labels"]["file"] == path.name and runs[0]["status"] in ("completed", "failed"):
            assert runs[0]["status"] == "completed", runs[0]["error"]
            return str(runs[0]["id"])
        page.wait_for_timeout(100)
    raise AssertionError(f"the import of {path.name} did not end")


def ids(page: Page) -> list[int]:
    return [r[0] for r in call(page, "sql.query", sql='SELECT id FROM "sales" ORDER BY id', limit=1000)["rows"]]


def test_undoing_the_first_of_two_appends_leaves_the_seconds_rows_and_redo_brings_them_back(
        page: Page, base_url: str, tmp_path: Path, artifacts: Path) -> None:
    first_ids, second_ids = list(range(1, 41)), list(range(500, 530))
    first = write_csv(tmp_path, "january.csv", ["id", "amount"], [[i, i * 3] for i in first_ids])
    second = write_csv(tmp_path, "february.csv", ["id", "amount"], [[i, i * 3] for i in second_ids])
    open_app(page, base_url)
    first_run = import_into(page, first, "sales", "fail")
    import_into(page, second, "sales", "append")
    assert ids(page) == first_ids + second_ids

    page.goto(f"{base_url}#run={first_run}")
    page.click("[data-testid=undo-run]")
    page.click("#confirm-yes")
    page.wait_for_selector("[data-testid=run-undone]")
    assert page.text_content("[data-testid=run-undone]") == "Undone: 40 rows removed"
    assert ids(page) == second_ids
    shot(page, artifacts, "run-undone")
    assert_accessible(page, "an undone run")
    logs = [line["message"] for line in call(page, "runs.logs", run_id=first_run)["logs"]]
    assert any(m.startswith("Undone by run") and "removed 40 rows from 'sales'" in m for m in logs), logs

    page.click("[data-testid=redo-run]")
    page.wait_for_function(f"() => location.hash.startsWith('#run=') && location.hash !== '#run={first_run}'")
    redo_run = page.evaluate("location.hash.slice(5)")
    for _ in range(300):
        if call(page, "runs.get", run_id=redo_run)["status"] in ("completed", "failed"):
            break
        page.wait_for_timeout(100)
    assert call(page, "runs.get", run_id=redo_run)["status"] == "completed"
    assert ids(page) == sorted(first_ids + second_ids)  # back once, not twice


def test_pages_past_the_gap_an_undo_left_are_the_offset_querys_pages(page: Page, base_url: str,
                                                                      tmp_path: Path) -> None:
    """Three imports append to one table and the middle one is undone: every page the data browser serves
    (worker/browse.py, which reads the gap from the importer's ledger and proves it) is the page of the plain
    OFFSET query, on either side of the gap and across it, in Pyodide's SQLite."""
    parts = [write_csv(tmp_path, f"part-{n}.csv", ["id", "name"], [[i, f"row {i}"] for i in range(lo, hi)])
             for n, (lo, hi) in enumerate([(0, 1_200), (5_000, 5_300), (9_000, 10_200)])]
    open_app(page, base_url)
    runs = [import_into(page, path, "parts", "fail" if n == 0 else "append") for n, path in enumerate(parts)]
    page.goto(f"{base_url}#run={runs[1]}")
    page.click("[data-testid=undo-run]")
    page.click("#confirm-yes")
    page.wait_for_selector("[data-testid=run-undone]")
    total = 2_400
    for offset in (0, 1_000, 1_150, 1_190, 1_199, 1_200, 1_201, 1_500, 2_350, 2_399, 2_400):
        got = call(page, "tables.rows", table="parts", limit=50, offset=offset)
        want = call(page, "sql.query", sql='SELECT * FROM "parts" ORDER BY rowid LIMIT 50 OFFSET ?', params=[offset])
        assert got["total"] == total and got["rows"] == want["rows"], offset
    assert call(page, "tables.rows", table="parts", limit=1, offset=1_200)["rows"] == [[9_000, "row 9000"]]
