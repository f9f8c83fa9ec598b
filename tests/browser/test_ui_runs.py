"""Run history and run detail in the real page: order, filters, pages, live first page, actions, detail."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.browser import support
from tests.browser.support import set_test_hooks
from tests.ui.pages import assert_accessible, go, import_directly, open_app, people, shot, start_import, wait_for_run

ROWS = "[data-testid=run-row]"


def run_rows(page: Page) -> list[tuple[str, str]]:
    return page.eval_on_selector_all(ROWS, "rows => rows.map(r => [r.dataset.runId, r.dataset.status])")


def wait_rows(page: Page, count: int) -> None:
    page.wait_for_function(f"() => document.querySelectorAll('{ROWS}').length === {count}", timeout=60_000)


def wait_all_finished(page: Page) -> None:
    page.wait_for_function(f"""() => {{ const rows = [...document.querySelectorAll('{ROWS}')];
        return rows.length && rows.every(r => ['completed', 'failed', 'cancelled'].includes(r.dataset.status)); }}""",
                           timeout=120_000)


def test_history_lists_runs_newest_first_with_filters_and_pages(page: Page, base_url: str,
                                                                artifacts: Path) -> None:
    open_app(page, base_url, "#runs")
    started = []
    for n in range(22):
        text = "id,value\n" + "".join(f"{i},{'x' if n % 7 == 0 and i == 2 else i}\n" for i in range(1, 4))
        reply = import_directly(page, f"file-{n:02d}.csv", text)
        assert reply["ok"], reply
        started.append(reply["result"]["run_id"])
    wait_rows(page, 20)
    page.wait_for_selector(f"{ROWS}[data-run-id='{started[-1]}']:first-child", timeout=60_000)
    wait_all_finished(page)
    shown = [run_id for run_id, _ in run_rows(page)]
    assert shown == list(reversed(started))[:20], (shown, list(reversed(started)))
    assert "Page 1 of 2" in (page.text_content("#runs-page") or "")
    shot(page, artifacts, "runs")
    assert_accessible(page, "the runs list")
    page.click("#runs-next")
    wait_rows(page, 2)
    assert [run_id for run_id, _ in run_rows(page)] == list(reversed(started))[20:]
    assert page.is_disabled("#runs-next")
    page.click("#runs-prev")
    wait_rows(page, 20)
    page.select_option("#filter-status", "failed")
    page.wait_for_function(f"""() => {{ const rows = [...document.querySelectorAll('{ROWS}')];
        return rows.length > 0 && rows.every(r => r.dataset.status === 'failed') || rows.length === 0; }}""")
    page.select_option("#filter-status", "")
    page.select_option("#filter-job", "import-csv")
    wait_rows(page, 20)


def test_the_first_page_updates_live_when_a_run_starts_elsewhere(page: Page, base_url: str) -> None:
    open_app(page, base_url, "#runs")
    assert page.locator("#runs-empty").is_visible() or run_rows(page) == []
    reply = import_directly(page, "live.csv", "a,b\n1,2\n")
    run_id = reply["result"]["run_id"]
    page.wait_for_selector(f"{ROWS}[data-run-id='{run_id}'][data-status=completed]", timeout=60_000)


def test_a_finished_run_is_deleted_only_after_confirmation(page: Page, base_url: str, tmp_path: Path,
                                                           artifacts: Path) -> None:
    open_app(page, base_url)
    start_import(page, people(tmp_path, 30))
    wait_for_run(page, "completed")
    go(page, "runs")
    row = page.locator(ROWS).first
    row.wait_for()
    row.get_by_role("button", name="Delete").click()
    dialog = page.locator("dialog#confirm")
    dialog.wait_for(state="visible")
    shot(page, artifacts, "runs-confirm-delete")
    assert_accessible(page, "the delete confirmation")
    page.click("#confirm-no")
    assert page.locator(ROWS).count() == 1
    row.get_by_role("button", name="Delete").click()
    page.click("#confirm-yes")
    wait_rows(page, 0)


def test_a_running_import_is_cancelled_and_then_retried_to_completion(page: Page, base_url: str,
                                                                      tmp_path: Path, artifacts: Path) -> None:
    set_test_hooks(page, {"max_batch_rows": 20_000, "hold_at_rows": [100_000]})  # held there until cancelled
    open_app(page, base_url)
    start_import(page, people(tmp_path, 1_500_000))
    page.wait_for_selector("[data-testid=run-progress][data-status=running]", timeout=60_000)
    run_id = (page.get_attribute("#current-details", "href") or "").split("=", 1)[1]
    support.wait_for_run(page, run_id, lambda run, steps: any(r >= 100_000 for r in support.batch_rows(steps)))
    page.click("#current-cancel")  # lands mid-import by construction, not because the import is slow
    assert wait_for_run(page, "cancelled", "completed") == "cancelled"
    assert "Cancelled" in (page.text_content("#current-message") or "")
    go(page, "runs")
    row = page.locator(f"{ROWS}[data-run-id='{run_id}'][data-status=cancelled]")
    row.wait_for()
    shot(page, artifacts, "runs-cancelled")
    row.get_by_role("button", name="Retry").click()
    page.wait_for_selector(f"{ROWS}[data-run-id='{run_id}'][data-status=completed]", timeout=180_000)
    go(page, "data")
    page.wait_for_function("""() => { const c = document.querySelector(
        '[data-testid=table-row-count][data-table=people]'); return c && c.textContent === '1,500,000'; }""",
                           timeout=30_000)


def test_run_detail_shows_steps_logs_and_rejected_rows_and_downloads_the_error_report(
        page: Page, base_url: str, tmp_path: Path, artifacts: Path) -> None:
    open_app(page, base_url)
    path = people(tmp_path, 2_000, bad_every=40)
    from tests.ui.pages import preview

    preview(page, path)
    page.select_option("#columns-table tbody tr:nth-child(4) select", "real")
    page.click("[data-testid=start-import]")
    assert wait_for_run(page, "completed") == "completed"
    page.click("#current-details")
    page.locator("#run-steps li[data-status=completed]").first.wait_for()
    names = page.eval_on_selector_all("#run-steps .step-name", "els => els.map(e => e.textContent)")
    assert names[:2] == ["stage", "prepare"]
    page.locator("#run-logs li:not(.empty)").first.wait_for()
    page.locator("[data-testid=reject-row]").first.wait_for()
    assert "50 rejected rows" in (page.text_content("#rejects-page") or "")
    assert page.locator("[data-testid=reject-row]").count() == 25
    first = page.locator("[data-testid=reject-row] td:nth-child(2)").first.text_content()  # after the selector
    assert first == "41"
    page.click("#rejects-next")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=reject-row] td:nth-child(2)').textContent === '1,041'")
    shot(page, artifacts, "run-detail")
    assert_accessible(page, "the run detail")
    with page.expect_download() as download:
        page.click("#download-errors")
    saved = tmp_path / "errors.csv"
    download.value.save_as(saved)
    lines = saved.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 51 and "n/a!" in lines[1]
    page.select_option("#log-level", "error")
    page.wait_for_function("() => [...document.querySelectorAll('#run-logs li')].every(li => "
                           "li.classList.contains('empty') || li.dataset.level === 'error')")
