"""The preview as a first look, then the whole file, in the real page with the real worker.

The file's first 64 KB hold only whole numbers in `count`; a later row holds NA and another 2.5. The
preview first shows integer (a first look from the first 64 KB), then, when the worker's whole-file scan
replies, real with NA as a null marker and evidence about the whole file. To see the first look for
certain, whatever the machine's speed, the page holds the worker's `file.scan` reply (only its delivery to
the UI: the worker and its scan are real) until the test has looked, then lets it through.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page

from tests.browser.support import call
from tests.ui.pages import assert_accessible, open_app, preview, shot, wait_for_run

ROWS = 20_000
NA_ROW, REAL_ROW = 12_000, 17_000  # far past the first 64 KB (about 3,000 rows)
START = "[data-testid=start-import]"
STATUS = "[data-testid=scan-status]"

# Wraps Worker before the page's scripts run: ids of `file.scan` requests are noted as they are posted,
# and while `__scanGate.hold` is true their replies are kept from the page (the first listener stops
# them) and counted; `__scanGate.release()` delivers them, in order, to the UI's own handler.
SCAN_GATE_JS = """(() => {
  const Native = window.Worker;
  const gate = window.__scanGate = {hold: true, held: [], ids: new Set(), replies: 0, release: () => {}};
  window.Worker = class extends Native {
    constructor(url, options) {
      super(url, options);
      const post = this.postMessage.bind(this);
      this.postMessage = (message, ...rest) => {
        const text = typeof message === "string" ? message : message && message.json;
        try { const m = JSON.parse(text); if (m.method === "file.scan") gate.ids.add(m.id); } catch (e) {}
        return post(message, ...rest);
      };
      this.addEventListener("message", (event) => {
        if (!gate.hold || typeof event.data !== "string") return;
        let m;
        try { m = JSON.parse(event.data); } catch (e) { return; }
        if (m.id === undefined || !gate.ids.has(m.id)) return;
        event.stopImmediatePropagation();
        gate.replies += 1;
        gate.held.push(event.data);
      });
      gate.release = () => {
        gate.hold = false;
        for (const data of gate.held.splice(0)) this.dispatchEvent(new MessageEvent("message", {data}));
      };
    }
  };
})();"""


def late_surprises(folder: Path) -> Path:
    """id,count,code,label: `count` is whole numbers except NA at NA_ROW and 2.5 at REAL_ROW."""
    path = folder / "late.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("id,count,code,label\n")
        for i in range(1, ROWS + 1):
            count = "NA" if i == NA_ROW else "2.5" if i == REAL_ROW else str(i % 997)
            out.write(f"{i},{count},{1000 + i % 50},row {i}\n")
    return path


def column_type(page: Page, index: int) -> str:
    return page.input_value(f'#columns-table tbody tr[data-column="{index}"] td.type select')


def open_held(page: Page, base_url: str) -> None:
    page.add_init_script(SCAN_GATE_JS)
    open_app(page, base_url)


def wait_until_the_scan_replied(page: Page) -> None:
    """The worker has answered `file.scan` (the reply is held from the UI) and the bar has stopped moving."""
    page.wait_for_function("() => window.__scanGate.replies >= 1", timeout=120_000)
    page.wait_for_function("() => document.getAnimations().length === 0")


def shot_top(page: Page, artifacts: Path, name: str) -> None:
    """What a phone shows from the file name down (artifacts/ui-NAME-top.png), beside the full page."""
    page.locator("#preview-file").scroll_into_view_if_needed()
    page.evaluate("() => window.scrollTo(0, document.querySelector('#preview-file').offsetTop - 8)")
    page.screenshot(path=str(artifacts / f"ui-{name}-top.png"))


def release(page: Page) -> None:
    page.evaluate("() => window.__scanGate.release()")
    page.wait_for_selector(f"{STATUS}[data-state=done]", timeout=30_000)


def test_the_preview_is_a_first_look_then_the_whole_file_and_every_row_lands(
        page: Page, base_url: str, tmp_path: Path, artifacts: Path) -> None:
    open_held(page, base_url)
    preview(page, late_surprises(tmp_path))
    page.wait_for_selector(f"{STATUS}[data-state=scanning]")
    page.wait_for_selector('#columns-table tbody tr[data-column="1"]')
    assert column_type(page, 1) == "integer", "the first 64 KB hold only whole numbers"
    first = page.text_content("#scan-text") or ""
    assert first.startswith("First look: the first 64 KB ("), first
    assert "Checking the whole file…" in first
    assert "sample values" in (page.text_content("#why-col-1") or "")
    bar = page.locator("progress[data-testid=scan-progress]")
    assert bar.is_visible()
    assert (bar.get_attribute("aria-label") or "").startswith("Checking the whole of late.csv: ")
    assert page.is_enabled(START) and page.get_attribute(START, "aria-disabled") is None, "Start is never dead"
    page.select_option('#columns-table tbody tr[data-column="2"] td.type select', "text")  # before the scan ends
    wait_until_the_scan_replied(page)
    shot(page, artifacts, "scan-first-look")
    assert_accessible(page, "the first look while the whole file is checked")

    release(page)
    page.wait_for_function("""() => document.querySelector(
        '#columns-table tbody tr[data-column="1"] td.type select').value === 'real'""")
    assert page.text_content("#scan-text") == f"Checked all {ROWS:,} rows: the types hold for the whole file."
    assert bar.is_hidden()
    why = page.text_content("#why-col-1") or ""
    assert "values in the file are numbers" in why and "1 'NA' read as NULL" in why, why
    assert column_type(page, 2) == "text", "a type the user chose stays"
    assert column_type(page, 0) == "integer"
    token = page.locator("[data-testid=null-token][data-token=NA]")
    assert token.is_checked()
    assert "NA: NULL in count (1)" in (page.text_content("label[for=null-token-0]") or "")
    shot(page, artifacts, "scan-whole-file")
    assert_accessible(page, "the preview after the whole-file check")

    page.click(START)
    assert wait_for_run(page, "completed", "failed") == "completed"
    assert page.text_content("#stat-rejected") == "0"
    assert page.text_content("#stat-accepted") == f"{ROWS:,}"
    result = call(page, "sql.query", sql="SELECT count(*), sum(count IS NULL), max(typeof(count)),"
                                         " min(typeof(code)), max(typeof(code)) FROM late WHERE id IN (?, ?, 1)",
                  params=[NA_ROW, REAL_ROW])
    assert result["rows"] == [[3, 1, "real", "text", "text"]]
    assert call(page, "sql.query", sql="SELECT count FROM late WHERE id = ?", params=[REAL_ROW])["rows"] == [[2.5]]


def test_start_before_the_scan_ends_sends_the_first_look_and_the_job_checks_the_file_itself(
        page: Page, base_url: str, tmp_path: Path) -> None:
    open_held(page, base_url)
    preview(page, late_surprises(tmp_path))
    page.wait_for_selector(f"{STATUS}[data-state=scanning]")
    page.wait_for_selector('#columns-table tbody tr[data-column="2"]')
    page.select_option('#columns-table tbody tr[data-column="2"] td.type select', "text")
    assert column_type(page, 1) == "integer"
    page.click(START)  # the scan's reply is still held from the page: the draft is a first look
    assert wait_for_run(page, "completed", "failed") == "completed"
    assert page.text_content("#stat-rejected") == "0"
    result = call(page, "sql.query", sql="SELECT count(*), sum(count IS NULL), max(typeof(count)),"
                                         " max(typeof(code)) FROM late")
    assert result["rows"] == [[ROWS, 1, "real", "text"]]


def test_switching_a_null_token_off_makes_it_a_value_and_the_evidence_says_so(
        page: Page, base_url: str, tmp_path: Path, artifacts: Path) -> None:
    open_app(page, base_url)
    preview(page, late_surprises(tmp_path))
    page.wait_for_selector(f"{STATUS}[data-state=done]", timeout=120_000)
    token = page.locator("[data-testid=null-token][data-token=NA]")
    token.uncheck()
    why = page.locator("#why-col-1")
    assert (why.text_content() or "") == ("real: all 19,999 values in the file are numbers. 'NA' is not NULL (your "
                                          "choice), so 1 row is rejected ('NA' is not a real).")
    assert "not NULL (your choice): a value in count (1)" in (page.text_content("label[for=null-token-0]") or "")
    shot(page, artifacts, "scan-token-off")
    page.click(START)
    assert wait_for_run(page, "completed", "failed") == "completed"
    assert page.text_content("#stat-rejected") == "1"
    landed = call(page, "sql.query", sql="SELECT count(*) FROM late WHERE id = ?", params=[NA_ROW])
    assert landed["rows"] == [[0]], "the NA row is a reject, not a row"


def test_the_first_look_and_the_whole_file_read_well_on_a_phone(
        browser: Browser, base_url: str, tmp_path: Path, artifacts: Path) -> None:
    path = late_surprises(tmp_path)
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport={"width": 375, "height": 740}, color_scheme=scheme)
        try:
            page = context.new_page()
            open_held(page, base_url)
            preview(page, path)
            page.wait_for_selector(f"{STATUS}[data-state=scanning]")
            wait_until_the_scan_replied(page)
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"the first look scrolls sideways by {overflow}px on a phone"
            shot(page, artifacts, f"phone-{scheme}-scan-first-look")
            shot_top(page, artifacts, f"phone-{scheme}-scan-first-look")
            release(page)
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"the checked preview scrolls sideways by {overflow}px on a phone"
            shot(page, artifacts, f"phone-{scheme}-scan-whole-file")
            shot_top(page, artifacts, f"phone-{scheme}-scan-whole-file")
            assert_accessible(page, f"the checked preview on a phone ({scheme})")
        finally:
            context.close()
