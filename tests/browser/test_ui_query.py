"""The Data screen's query box and column profile in the real page (issue 13 items 3 and 4): queries return
the right rows, page, export, are remembered across a reload; a write and an endless query are refused with
a sentence; the profile's figures equal figures computed here from the source file."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

from playwright.sync_api import Page

from tests.browser.support import call
from tests.ui.pages import assert_accessible, go, open_app, people, shot, start_import, wait_for_run

ROWS = 120
ENDLESS = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"


def run_query(page: Page, sql: str) -> str:
    """Type `sql`, run it, wait for its answer; returns the message shown."""
    page.evaluate("() => { document.querySelector('#query-message').textContent = ''; }")
    page.fill("[data-testid=sql-query]", sql)
    page.click("[data-testid=run-query]")
    page.wait_for_function("""() => { const m = document.querySelector('#query-message').textContent;
                                      return m !== '' && m !== 'Running…'; }""", timeout=60_000)
    return page.text_content("#query-message") or ""


def result_rows(page: Page) -> list[list[str]]:
    return page.eval_on_selector_all("[data-testid=query-result] tbody tr",
                                     "trs => trs.map(tr => [...tr.cells].map(td => td.textContent))")


def test_queries_page_export_are_remembered_and_refuse_writes_and_endless_runs(
        page: Page, base_url: str, tmp_path: Path, artifacts: Path) -> None:
    open_app(page, base_url)
    start_import(page, people(tmp_path, ROWS))
    wait_for_run(page, "completed")
    go(page, "data")

    assert run_query(page, "SELECT id, name FROM people WHERE id > 115 ORDER BY id") == "Rows 1–5"
    assert result_rows(page) == [[str(i), f"Person {i}"] for i in range(116, 121)]

    assert run_query(page, "SELECT id FROM people ORDER BY id") == "Rows 1–50 (more follow)"
    page.click("#query-next")
    page.wait_for_function("() => document.querySelector('#query-message').textContent === 'Rows 51–100 (more follow)'")
    assert [r[0] for r in result_rows(page)] == [str(i) for i in range(51, 101)]
    page.click("#query-next")
    page.wait_for_function("() => document.querySelector('#query-message').textContent === 'Rows 101–120'")
    assert page.is_disabled("#query-next")
    with page.expect_download() as download:
        page.click("[data-testid=export-query]")
    saved = tmp_path / "query.csv"
    download.value.save_as(saved)
    exported = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert exported == [["id"]] + [[str(i)] for i in range(1, ROWS + 1)]

    refused = run_query(page, "DELETE FROM people")
    assert refused.startswith("The query failed") and "not authorized" in refused
    assert page.get_attribute("#query-message", "class") == "message error"
    stopped = run_query(page, ENDLESS)
    assert stopped.startswith("The query ran for more than 10 s and was stopped."), stopped
    assert call(page, "sql.query", sql="SELECT count(*) FROM people")["rows"] == [[ROWS]]
    shot(page, artifacts, "data-query")
    assert_accessible(page, "the query box")

    page.reload()
    go(page, "data")
    remembered = page.eval_on_selector_all("[data-testid=query-history] button", "bs => bs.map(b => b.textContent)")
    assert remembered[:3] == [ENDLESS, "DELETE FROM people", "SELECT id FROM people ORDER BY id"]
    page.click("#query-history-box summary")
    page.click("[data-testid=query-history] button >> nth=2")
    assert page.input_value("[data-testid=sql-query]") == "SELECT id FROM people ORDER BY id"


def test_the_column_profile_matches_figures_computed_from_the_file(
        page: Page, base_url: str, tmp_path: Path, artifacts: Path) -> None:
    source = people(tmp_path, ROWS, bad_every=0)
    with source.open(encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    amounts = [float(r["amount"]) for r in records]
    open_app(page, base_url)
    start_import(page, source)
    wait_for_run(page, "completed")
    go(page, "data")
    page.click(".table-link")
    page.click("[data-testid=profile-table]")
    page.wait_for_selector("[data-testid=column-profile] [data-testid=profile-row][data-column=amount]")

    def stat(column: str, name: str) -> str:
        return page.text_content(f"[data-testid=profile-row][data-column={column}] [data-stat={name}]") or ""

    assert stat("amount", "nulls") == "0"
    assert stat("amount", "distinct") == f"{len(set(amounts)):,}"
    assert float(stat("amount", "min")) == min(amounts) and float(stat("amount", "max")) == max(amounts)
    assert stat("id", "distinct") == f"{ROWS:,}"
    names = Counter(r["name"] for r in records)
    assert stat("name", "top").startswith(f"{min(names)} (1)")
    bars = page.eval_on_selector_all("[data-testid=histogram][data-column=amount] rect",
                                     "rs => rs.map(r => Number(r.dataset.count))")
    width = (max(amounts) - min(amounts)) / 10
    expected = Counter(min(int((a - min(amounts)) / width), 9) for a in amounts)
    assert bars == [expected.get(i, 0) for i in range(10)]
    assert page.locator("[data-testid=histogram][data-column=name]").count() == 0  # text: no histogram
    shot(page, artifacts, "data-profile")
    assert_accessible(page, "the column profile")
