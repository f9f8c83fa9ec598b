"""The rejects workbench in the real page (issue 13 item 1): rejected rows are fixed cell by cell, checked
with the run's own rules, and inserted exactly once by a durable fix-rejects run, even when the page reloads
in the middle of inserting (held there by a test hook, so the reload lands mid-fix by construction); bulk
fixes and discard act on many rows; every fix is in the run's log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from tests.browser.support import call, set_test_hooks, wait_for_state
from tests.ui.pages import assert_accessible, open_app, people, preview, shot, wait_for_run

ROWS = 120
BAD_EVERY = 10  # amounts of ids 10, 20, ... 120 are "n/a!": rows 11, 21, ... 121 are rejected


def import_with_real_amounts(page: Page, path: Path) -> None:
    """Pick the file, make amount a real number column (so "n/a!" is rejected), start, wait for the end."""
    preview(page, path)
    page.get_by_label("Type of column 4 (amount)").select_option("real")
    page.click("[data-testid=start-import]")
    wait_for_run(page, "completed")


def import_run(page: Page) -> dict[str, Any]:
    run = call(page, "runs.list", job="import-csv", limit=1)["runs"][0]
    assert run["output"]["rows_rejected"] == ROWS // BAD_EVERY
    return run


def table_ids(page: Page, table: str) -> list[int]:
    return [r[0] for r in call(page, "sql.query", sql=f'SELECT id FROM "{table}" ORDER BY id', limit=1000)["rows"]]


def reject_numbers(page: Page, run_id: str) -> list[int]:
    return [r["row_number"] for r in call(page, "runs.rejects", run_id=run_id, limit=1000)["rows"]]


def cell(page: Page, row: int, column: str) -> Any:
    return page.locator(f"[data-testid=reject-row][data-row-number='{row}'] "
                        f"[data-testid=reject-cell][data-column={column}]")


def reasons(page: Page, row: int) -> str:
    return page.text_content(f"[data-testid=reject-row][data-row-number='{row}'] [data-testid=reject-reasons]") or ""


def wait_for_fix(page: Page, predicate: str) -> dict[str, Any]:
    """Wait until the newest fix-rejects run satisfies `predicate` (a JS expression over `run`)."""
    for _ in range(600):
        runs = call(page, "runs.list", job="fix-rejects", limit=1)["runs"]
        if runs and page.evaluate(f"(run) => {predicate}", runs[0]):
            return dict(runs[0])
        page.wait_for_timeout(100)
    raise AssertionError(f"no fix-rejects run matched {predicate}")


def test_rejected_rows_fixed_in_cells_are_checked_and_inserted_once_across_a_reload(
        page: Page, base_url: str, tmp_path: Path, artifacts: Path) -> None:
    # two rejects per fix chunk; the fix holds after its first chunk until the page goes
    set_test_hooks(page, {"max_batch_rows": 2, "hold_fix_after_chunks": 1})
    open_app(page, base_url)
    import_with_real_amounts(page, people(tmp_path, ROWS, bad_every=BAD_EVERY))
    run = import_run(page)
    run_id, table = run["id"], run["output"]["table"]
    page.goto(f"{base_url}#run={run_id}")
    page.wait_for_selector("[data-testid=reject-row][data-row-number='11'] [data-testid=reject-cell]")
    assert "is not a number" in reasons(page, 11)

    for row, amount in ((11, "12.5"), (21, "26.25"), (61, "76.25"), (91, "still bad")):
        cell(page, row, "amount").fill(amount)
    page.click("[data-testid=recheck-rejects]")
    page.wait_for_function("() => document.querySelector('[data-testid=fix-status]').textContent"
                           ".includes('3 of 4 edited rows would be inserted now')")
    assert reasons(page, 11).startswith("Passes the checks") and reasons(page, 61).startswith("Passes")
    assert "'still bad' is not a number in column 'amount'" in reasons(page, 91)
    assert table_ids(page, table) == [i for i in range(1, ROWS + 1) if i % BAD_EVERY]  # Check writes nothing
    shot(page, artifacts, "rejects-checked")
    assert_accessible(page, "the rejects workbench")

    page.click("[data-testid=insert-fixed]")
    held = wait_for_fix(page, "run.status === 'running'")
    for _ in range(600):  # the first chunk (rows 11 and 21) committed, then the run holds
        steps = call(page, "runs.steps", run_id=held["id"])
        if [s["name"] for s in steps if s["status"] == "completed"] == ["fix-0"]:
            break
        page.wait_for_timeout(100)
    assert 11 not in reject_numbers(page, run_id)
    page.reload()  # mid-fix: the new page's engine resumes the held run from its last chunk
    wait_for_state(page, "ready")
    done = wait_for_fix(page, "run.status === 'completed' || run.status === 'failed'")
    assert done["id"] == held["id"] and done["status"] == "completed", done
    assert done["output"]["inserted"] == 3

    fixed = [10, 20, 60]
    assert table_ids(page, table) == sorted([i for i in range(1, ROWS + 1) if i % BAD_EVERY] + fixed)
    left = [i + 1 for i in range(BAD_EVERY, ROWS + 1, BAD_EVERY) if i not in fixed]
    assert reject_numbers(page, run_id) == left
    stored = call(page, "runs.rejects", run_id=run_id, limit=1)["rows"][0]
    assert stored["row_number"] == 31 and stored["values"][3] == "n/a!"
    edited = [r for r in call(page, "runs.rejects", run_id=run_id, limit=100)["rows"] if r["row_number"] == 91]
    assert edited[0]["values"][3] == "still bad"  # the edit that did not pass is kept, with its new reason
    logs = [line["message"] for line in call(page, "runs.logs", run_id=run_id, limit=1000)["logs"]]
    assert "Inserted 2 fixed rows into people (rows 11, 21)" in logs
    assert "Inserted 1 fixed row into people (rows 61)" in logs, logs


def test_bulk_fixes_and_discard_act_on_the_selected_rejects(page: Page, base_url: str, tmp_path: Path) -> None:
    open_app(page, base_url)
    import_with_real_amounts(page, people(tmp_path, ROWS, bad_every=BAD_EVERY))
    run = import_run(page)
    run_id, table = run["id"], run["output"]["table"]
    page.goto(f"{base_url}#run={run_id}")
    page.wait_for_selector("[data-testid=reject-row][data-row-number='11'] [data-testid=reject-select]")

    for row in (11, 21):
        page.check(f"[data-testid=reject-row][data-row-number='{row}'] [data-testid=reject-select]")
    page.select_option("[data-testid=bulk-field]", label="amount")
    page.select_option("[data-testid=bulk-op]", "null")
    page.click("[data-testid=bulk-apply]")
    page.wait_for_function("() => document.querySelector('[data-testid=fix-status]').textContent"
                           ".startsWith('Done:')")
    page.wait_for_function("() => document.querySelector(\"[data-testid=reject-row][data-row-number='11'] "
                           "[data-testid=reject-reasons]\").textContent.startsWith('Passes')")
    page.click("[data-testid=insert-fixed]")
    page.wait_for_function("() => document.querySelector('[data-testid=fix-status]').textContent"
                           ".includes('2 inserted into the table')")
    nulls = call(page, "sql.query", sql=f'SELECT id FROM "{table}" WHERE amount IS NULL ORDER BY id')["rows"]
    assert nulls == [[10], [20]]

    page.check("[data-testid=reject-row][data-row-number='31'] [data-testid=reject-select]")
    page.click("[data-testid=discard-rejects]")
    page.click("#confirm-yes")
    page.wait_for_function("() => document.querySelector('[data-testid=fix-status]').textContent"
                           ".includes('1 discarded')")
    assert reject_numbers(page, run_id) == [i + 1 for i in range(40, ROWS + 1, BAD_EVERY)]
    assert len(table_ids(page, table)) == ROWS - ROWS // BAD_EVERY + 2
