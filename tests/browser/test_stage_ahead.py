"""Staging ahead in the real page (worker/sources.py): a previewed file is copied into OPFS before Start and
the run takes that copy; a copy no run took (the page reloaded, the file never imported) is deleted when the
engine starts again, and the run's own copy stays."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.browser.support import call, wait_for_state
from tests.ui.pages import open_app, people, preview

# The names in the app's OPFS directory, read from the page (the worker holds their handles; listing is free).
OPFS_NAMES_JS = """async () => {
  const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle("app");
  const names = [];
  for await (const name of dir.keys()) names.push(name);
  return names.sort();
}"""


def copies(page: Page) -> list[str]:
    return [n for n in page.evaluate(OPFS_NAMES_JS) if n.startswith("ahead-")]


def previewed_source(page: Page, path: Path) -> str:
    """Pick `path` in the page, wait for its preview and for its pass (hash and copy); return its source id."""
    before = set(copies(page))
    preview(page, path)
    for _ in range(300):  # the pass opens its copy once the preview has answered
        new = sorted(set(copies(page)) - before)
        if new:
            break
        page.wait_for_timeout(100)
    assert len(new) == 1, f"the previewed file was not copied ahead: {new}"
    source_id = new[0][len("ahead-"):-len(".csv")]
    call(page, "file.earlier_imports", source_id=source_id)  # waits for the pass
    return source_id


def test_the_run_takes_the_copy_made_during_the_preview_and_a_copy_no_run_took_is_swept_on_reload(
        page: Page, base_url: str, tmp_path: Path) -> None:
    open_app(page, base_url)
    taken = previewed_source(page, people(tmp_path, 20_000, name="taken.csv"))
    page.click("[data-testid=start-import]")
    page.wait_for_function("() => document.querySelector('#current-run-title').textContent.includes('taken.csv')")
    for _ in range(600):
        [run] = call(page, "runs.list", job="import-csv", limit=1)["runs"]
        if run["status"] in ("completed", "failed"):
            break
        page.wait_for_timeout(100)
    assert run["status"] == "completed", run["error"]
    assert run["input"]["staged_path"].endswith(f"/ahead-{taken}.csv") and run["output"]["rows_accepted"] == 20_000
    stage = next(s for s in call(page, "runs.steps", run_id=run["id"]) if s["name"] == "stage")
    assert stage["output"]["sha256"] == run["labels"]["sha256"]

    left = previewed_source(page, people(tmp_path, 20_000, name="left.csv"))
    assert copies(page) == sorted([f"ahead-{taken}.csv", f"ahead-{left}.csv"])
    page.reload()  # the page closes with `left.csv` previewed and never imported
    wait_for_state(page, "ready")
    for _ in range(300):
        if copies(page) == [f"ahead-{taken}.csv"]:
            break
        page.wait_for_timeout(100)
    assert copies(page) == [f"ahead-{taken}.csv"], "the copy no run took outlived its page"
