"""The import screen's finer settings in the real page, through the real controls: per-column rules (min,
max, pattern, email) with their inline checks, extra null markers, the day/month choice of an ambiguous
date column, a drop onto the drop zone, and a follower tab that does all of it through the engine's tab."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser import support
from tests.browser.support import call, set_test_hooks, wait_for_state
from tests.ui.pages import (
    assert_accessible,
    go,
    open_app,
    people,
    preview,
    shot,
    start_import,
    wait_for_run,
    write_csv,
)

START = "[data-testid=start-import]"


def open_rules(page: Page, column: int) -> None:
    """Open the Rules disclosure of 1-based `column`."""
    page.click(f"#rules-{column - 1} summary")
    page.wait_for_selector(f"#rules-{column - 1}[open]")


def start_blocked(page: Page) -> bool:
    return page.get_attribute(START, "aria-disabled") == "true"


def open_rejects(page: Page) -> list[str]:
    """Open the current run's detail and return the reasons cell of each rejected row."""
    page.click("#current-details")
    page.locator("[data-testid=reject-row]").first.wait_for()
    page.locator("#run-steps li").first.wait_for()
    return page.eval_on_selector_all("[data-testid=reject-row]", "rows => rows.map(r => r.textContent)")


def members(tmp_path: Path) -> Path:
    rows = [[i, 20 + i, f"AB{i}"] for i in range(1, 11)] + [[11, -1, "AB11"], [12, 130, "AB12"], [13, 40, "x12"]]
    return write_csv(tmp_path, "members.csv", ["id", "age", "code"], rows)


def test_min_max_and_pattern_rules_are_checked_on_the_page_and_reject_rows_with_their_reasons(
        page: Page, base_url: str, tmp_path: Path, artifacts: Path) -> None:
    open_app(page, base_url)
    preview(page, members(tmp_path))
    page.wait_for_selector("#rules-1")
    open_rules(page, 2)
    page.get_by_label("Minimum of column 2 (age)").fill("200")
    page.get_by_label("Maximum of column 2 (age)").fill("120")
    page.get_by_label("Maximum of column 2 (age)").press("Tab")
    error = page.locator("#rule-max-1-error")
    error.wait_for(state="visible")
    assert error.text_content() == "The maximum 120 is less than the minimum 200: swap them or change one."
    assert page.get_attribute("#rule-max-1", "aria-invalid") == "true"
    assert start_blocked(page)
    open_rules(page, 3)
    pattern = page.get_by_label("Pattern of column 3 (code)")
    pattern.fill("[A-Z")
    pattern.press("Tab")
    page.locator("#rule-regex-2-error").wait_for(state="visible")
    assert "'[A-Z' is not a valid regular expression" in (page.text_content("#rule-regex-2-error") or "")
    assert "Column 3 (code)" in (page.text_content("#problems") or "")
    shot(page, artifacts, "rules-errors")
    assert_accessible(page, "the rules with errors")
    page.click(START, force=True)  # aria-disabled: a click is possible, and must not start anything
    assert page.locator("progress[data-testid=run-progress]").is_hidden(), "an invalid rule must not start"

    page.get_by_label("Minimum of column 2 (age)").fill("0")
    page.get_by_label("Minimum of column 2 (age)").press("Tab")
    pattern.fill("[A-Z]{2}[0-9]+")
    pattern.press("Tab")
    page.wait_for_function("() => document.querySelector('#rule-max-1-error').hidden"
                           " && document.querySelector('#rule-regex-2-error').hidden")
    assert not start_blocked(page)
    assert (page.text_content("#rules-summary-1") or "") == ": min 0, max 120"
    shot(page, artifacts, "rules-set")
    page.click(START)
    assert wait_for_run(page, "completed", "failed") == "completed"
    assert page.text_content("#stat-rejected") == "3"
    reasons = " | ".join(open_rejects(page))
    assert "'-1' is less than the minimum 0 in column 'age'" in reasons
    assert "'130' is more than the maximum 120 in column 'age'" in reasons
    assert "'x12' is not in the form '[A-Z]{2}[0-9]+' in column 'code'" in reasons
    shot(page, artifacts, "rules-rejects")


def test_a_pattern_only_the_worker_refuses_gets_the_workers_message_beside_start(
        page: Page, base_url: str, tmp_path: Path) -> None:
    open_app(page, base_url)
    preview(page, members(tmp_path))
    page.wait_for_selector("#rules-2")
    open_rules(page, 3)
    page.get_by_label("Pattern of column 3 (code)").fill(r"([A-Z])\2")  # the page's scan misses it; Python does not
    page.click(START)
    page.wait_for_function("() => document.querySelector('#start-error').textContent !== ''")
    text = page.text_content("#start-error") or ""
    assert text.startswith("The import options are not valid: column 3's 'regex': "), text  # a sentence, no dump
    assert "invalid group reference 2" in text


def test_the_email_rule_is_suggested_for_the_whole_file_and_rejects_what_is_not_an_address(
        page: Page, base_url: str, tmp_path: Path) -> None:
    """A first look never turns the email rule on (a later value might not be an address); the whole-file
    check counts the addresses and says so, and the rule the user then adds rejects exactly the rest."""
    rows = [[i, f"user{i}@example.com"] for i in range(1, 4000)]  # past the first look (64 KB)
    path = write_csv(tmp_path, "mail.csv", ["id", "email"], rows)
    with path.open("a") as out:
        out.write("4000,not-an-address\n")
    open_app(page, base_url)
    preview(page, path)
    page.wait_for_selector("[data-testid=scan-status][data-state=done]", timeout=60_000)
    assert "3,999 of 4,000 are email addresses" in (page.text_content("#why-col-1") or "")
    open_rules(page, 2)
    assert not page.is_checked("#rule-email-1")
    page.check("#rule-email-1")
    assert (page.text_content("#rules-summary-1") or "") == ": email"
    page.click(START)
    assert wait_for_run(page, "completed", "failed") == "completed"
    assert page.text_content("#stat-rejected") == "1"
    assert "'not-an-address' is not an email address in column 'email'" in " ".join(open_rejects(page))


def test_a_null_marker_read_again_turns_its_cells_into_nulls(
        page: Page, base_url: str, tmp_path: Path, artifacts: Path) -> None:
    rows = [[i, "NA" if i % 4 == 0 else i * 10] for i in range(1, 21)]
    path = write_csv(tmp_path, "scores.csv", ["id", "score"], rows)
    open_app(page, base_url)
    preview(page, path)
    page.wait_for_selector("#columns-table tbody tr")
    # NA among numbers is a null token, found and switched on at once (the file is its own first look)
    assert page.input_value("#columns-table tbody tr:nth-child(2) select") == "integer"
    assert page.is_checked("[data-testid=null-token][data-token=NA]")
    assert "5 'NA' read as NULL" in (page.text_content("#why-col-1") or "")
    open_rules(page, 1)
    page.get_by_label("Minimum of column 1 (id)").fill("1")  # an edit that reading again must keep
    page.get_by_label("NA", exact=True).check()
    page.wait_for_function("() => document.querySelector('#problems').textContent.includes('Read again')")
    assert start_blocked(page)
    page.get_by_role("button", name="Read again with these settings").click()
    page.wait_for_function("""() => { const s = document.querySelector('#columns-table tbody tr:nth-child(2) select');
                                      return s && s.value === 'integer'; }""")
    assert page.is_checked("[data-marker=NA]")
    assert page.input_value("#rule-min-0") == "1"
    assert "NA" in (page.text_content("#why-null_markers") or "")
    assert page.text_content("#why-delimiter") != "Your choice.", "an unchanged setting keeps its evidence"
    assert page.locator("#preview-table td.null").count() == 5
    assert not start_blocked(page)
    shot(page, artifacts, "null-markers")
    page.click(START)
    assert wait_for_run(page, "completed", "failed") == "completed"
    assert page.text_content("#stat-rejected") == "0"
    result = call(page, "sql.query", sql="SELECT count(*), sum(score IS NULL), sum(score) FROM scores")
    assert result["rows"] == [[20, 5, sum(i * 10 for i in range(1, 21) if i % 4)]]


def test_an_ambiguous_date_column_offers_both_readings_and_the_chosen_one_lands(
        page: Page, base_url: str, tmp_path: Path, artifacts: Path) -> None:
    rows = [[i, f"{i:02d}/{(i % 12) + 1:02d}/2024"] for i in range(1, 13)]
    path = write_csv(tmp_path, "visits.csv", ["id", "day"], rows)
    open_app(page, base_url)
    preview(page, path)
    choice = page.locator("[data-testid=date-choice]")
    choice.wait_for()
    labels = choice.locator("label").all_text_contents()
    assert labels == ["day first (DD/MM/YYYY): 01/02/2024 is 1 Feb 2024",
                      "month first (MM/DD/YYYY): 01/02/2024 is 2 Jan 2024"]
    assert "choose one" in (page.text_content("#why-col-1") or "")
    assert page.is_checked("#date-order-1-0")
    shot(page, artifacts, "date-choice")
    assert_accessible(page, "the date-order choice")
    page.get_by_label("month first (MM/DD/YYYY): 01/02/2024 is 2 Jan 2024").check()
    page.click(START)
    assert wait_for_run(page, "completed", "failed") == "completed"
    result = call(page, "sql.query", sql="SELECT day FROM visits ORDER BY id LIMIT 2")
    assert result["rows"] == [["2024-01-02"], ["2024-02-03"]]


DROP_JS = """async () => {
  const data = new DataTransfer();
  data.items.add(new File(["id,name\\n1,Ada\\n2,Grace\\n3,Edsger\\n"], "dropped.csv", {type: "text/csv"}));
  const target = document.querySelector('#dropzone .drop-hint');  // a child: the zone gets it by bubbling
  const fire = (type) => { const e = new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true});
                           target.dispatchEvent(e); return e.defaultPrevented; };
  const over = fire('dragover');
  const highlighted = document.querySelector('#dropzone').classList.contains('dragging');
  const dropped = fire('drop');
  return {over, highlighted, dropped, after: document.querySelector('#dropzone').classList.contains('dragging')};
}"""


def test_a_file_dropped_on_the_drop_zone_is_previewed(page: Page, base_url: str) -> None:
    open_app(page, base_url)
    events = page.evaluate(DROP_JS)
    assert events == {"over": True, "highlighted": True, "dropped": True, "after": False}
    page.wait_for_selector("#preview:not([hidden]) #preview-table tbody tr", timeout=30_000)
    assert (page.text_content("#preview-file") or "").startswith("dropped.csv")
    assert page.locator("#preview-table tbody tr").count() == 3
    assert page.input_value("#table-name") == "dropped"


def test_a_follower_tab_drops_starts_cancels_retries_and_browses_through_the_engines_tab(
        context: BrowserContext, base_url: str, tmp_path: Path, artifacts: Path) -> None:
    set_test_hooks(context, {"max_batch_rows": 1_000, "hold_at_rows": [3_000]})  # held until cancelled
    first = context.new_page()
    open_app(first, base_url)
    second = context.new_page()
    second.goto(base_url)
    wait_for_state(second, "follower")
    notice = second.locator("[data-testid=follower-notice]")
    notice.wait_for(state="visible")
    assert "Another tab runs the engine. This tab sends its work there" in " ".join(
        (notice.text_content() or "").split())
    assert second.evaluate(DROP_JS)["dropped"] is True
    second.wait_for_selector("#preview:not([hidden]) #preview-table tbody tr", timeout=30_000)
    assert second.locator("#preview-table tbody tr").count() == 3
    shot(second, artifacts, "follower-import")
    assert_accessible(second, "the follower's import screen")
    second.click("#preview-cancel")  # else the next pick's wait would see this preview and Start import it
    second.locator("#preview").wait_for(state="hidden")

    start_import(second, people(tmp_path, 10_000))
    second.wait_for_selector("[data-testid=run-progress][data-status=running]", timeout=60_000)
    run_id = (second.get_attribute("#current-details", "href") or "").split("=", 1)[1]
    # Cancel once the run is held at its hold point, so it lands there, never before (then the retry would be
    # the one held, and would wait forever): the worker now serves Cancel within one batch
    support.wait_for_run(first, run_id, lambda run, steps: 3_000 in support.batch_rows(steps))
    second.click("#current-cancel")
    assert wait_for_run(second, "cancelled", "completed") == "cancelled"
    go(second, "runs")
    row = second.locator(f"[data-testid=run-row][data-run-id='{run_id}'][data-status=cancelled]")
    row.wait_for()
    row.get_by_role("button", name="Retry").click()
    second.wait_for_selector(f"[data-testid=run-row][data-run-id='{run_id}'][data-status=completed]",
                             timeout=120_000)
    go(second, "data")
    second.wait_for_function("""() => { const c = document.querySelector(
        '[data-testid=table-row-count][data-table=people]'); return c && c.textContent === '10,000'; }""",
                             timeout=30_000)
    assert call(first, "runs.get", run_id=run_id)["status"] == "completed"  # the engine's tab agrees


def test_the_new_controls_fit_a_phone_in_light_and_dark(browser: Browser, base_url: str, tmp_path: Path,
                                                        artifacts: Path) -> None:
    rows = [[i, f"{i:02d}/{(i % 12) + 1:02d}/2024", "NA" if i % 3 == 0 else i] for i in range(1, 13)]
    path = write_csv(tmp_path, "phone.csv", ["id", "day", "score"], rows)
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport={"width": 375, "height": 740}, color_scheme=scheme)
        try:
            page = context.new_page()
            open_app(page, base_url)
            preview(page, path)
            page.wait_for_selector("[data-testid=date-choice]")
            open_rules(page, 1)
            page.get_by_label("Minimum of column 1 (id)").fill("x")
            page.get_by_label("Minimum of column 1 (id)").press("Tab")
            page.locator("#rule-min-0-error").wait_for(state="visible")
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"the import screen scrolls sideways by {overflow}px on a phone"
            inside = page.evaluate("() => { const t = document.querySelector('#columns-table');"
                                   " return t.scrollWidth - t.parentNode.clientWidth; }")
            assert inside <= 0, f"the columns need {inside}px of sideways scrolling on a phone (cards expected)"
            shot(page, artifacts, f"phone-{scheme}-rules")
            assert_accessible(page, f"the rules on a phone ({scheme})")
        finally:
            context.close()


def test_the_email_rule_is_offered_for_text_columns_only_and_a_pattern_checks_numbers_as_written(
        page: Page, base_url: str, tmp_path: Path) -> None:
    rows = [[i, f"u{i}@example.com", i * 10] for i in range(1, 6)] + [[6, "u6@example.com", " 60"]]
    path = write_csv(tmp_path, "typed.csv", ["id", "mail", "score"], rows)
    open_app(page, base_url)
    preview(page, path)
    page.wait_for_selector("#rules-2")
    assert page.input_value("#columns-table tbody tr:nth-child(3) select") == "integer"  # ' 60' is a number
    for column in (1, 2, 3):
        open_rules(page, column)
    assert page.is_visible("#rule-email-1") and not page.is_visible("#rule-email-2")
    assert not page.is_visible("#rule-email-0")
    page.check("#rule-email-1")
    assert (page.text_content("#rules-summary-1") or "") == ": email"
    page.select_option("#columns-table tbody tr:nth-child(2) select", "integer")
    page.wait_for_selector("#rule-email-field-1[hidden]", state="attached")
    assert not page.is_checked("#rule-email-1") and (page.text_content("#rules-summary-1") or "") == ""
    page.select_option("#columns-table tbody tr:nth-child(2) select", "text")
    page.wait_for_selector("#rule-email-1", state="visible")
    assert not page.is_checked("#rule-email-1")
    pattern = page.get_by_label("Pattern of column 3 (score)")
    pattern.fill("[0-9]+")
    pattern.press("Tab")
    assert not start_blocked(page)
    page.click(START)
    assert wait_for_run(page, "completed", "failed") == "completed"
    assert page.text_content("#stat-rejected") == "1"
    assert "' 60' is not in the form '[0-9]+' in column 'score'" in " ".join(open_rejects(page))
