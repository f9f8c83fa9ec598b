"""The rehearsal import in the browser (py/worker/rehearsal.py): once the engine is ready and the page quiet, the
worker imports its generated sample with the real job on a database of its own in memory; the user's
database, run history and OPFS folder show no trace of it, and an import after it stores every row."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.browser.support import call, enable_diagnostics
from tests.ui.pages import open_app, people, preview, wait_for_run
from worker.rehearsal import SAMPLE_ROWS

OPFS_NAMES_JS = """async () => {
  const names = [];
  const walk = async (dir, prefix) => {
    for await (const [name, handle] of dir.entries()) {
      names.push(prefix + name);
      if (handle.kind === "directory") await walk(handle, prefix + name + "/");
    }
  };
  await walk(await navigator.storage.getDirectory(), "");
  return names;
}"""
"""Every file and folder name in the origin's OPFS."""


def rehearsed(page: Page) -> dict[str, object]:
    """The rehearsal's outcome once it ended. Asked once a second: the warm-up waits for half a second without a
    request before it starts (worker/main.py WARM_UP_QUIET), so asking more often would keep it from starting."""
    outcome: dict[str, object] = {}
    for _ in range(120):
        page.wait_for_timeout(1_000)
        outcome = call(page, "diagnostics.rehearsal")
        if outcome["state"] not in ("none", "running"):
            return outcome
    raise AssertionError(f"the rehearsal did not end: {outcome}")


def test_the_rehearsal_runs_after_boot_and_leaves_no_trace_in_the_users_storage(
        page: Page, base_url: str, tmp_path: Path) -> None:
    enable_diagnostics(page)
    open_app(page, base_url)
    outcome = rehearsed(page)
    assert outcome["state"] == "completed", outcome
    assert outcome["rows_accepted"] + outcome["rows_rejected"] == SAMPLE_ROWS  # type: ignore[operator]
    assert outcome["rows_rejected"] > 0  # type: ignore[operator]
    assert outcome["previewed_rows"] == SAMPLE_ROWS  # its sample read as a picked `File`, then scanned
    assert call(page, "runs.list", job="import-csv", limit=5)["runs"] == []
    assert "rehearsal" not in str(call(page, "tables.list"))
    assert not [name for name in page.evaluate(OPFS_NAMES_JS) if "rehearsal" in name]

    path = people(tmp_path, 20_000, bad_every=1_000)
    preview(page, path)
    page.get_by_label("Type of column 1 (id)").select_option("integer")
    page.get_by_label("Type of column 4 (amount)").select_option("real")  # "n/a!" is then a reject
    page.wait_for_selector("[data-testid=start-import]:not([disabled])")
    page.click("[data-testid=start-import]")
    assert wait_for_run(page, "completed", "failed") == "completed"
    [run] = call(page, "runs.list", job="import-csv", limit=5)["runs"]
    assert (run["output"]["rows_accepted"], run["output"]["rows_rejected"]) == (19_980, 20)
    rows = call(page, "sql.query", sql=f'SELECT count(*), count(DISTINCT id), sum(id) FROM "{run["output"]["table"]}"')
    assert rows["rows"] == [[19_980, 19_980, sum(range(1, 20_001)) - sum(range(1_000, 20_001, 1_000))]]
