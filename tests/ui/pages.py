"""Helpers of the UI's browser tests (tests/browser/test_ui_*.py): files, imports, screenshots, axe.

Kept beside the client tests because the UI owns them; the browser fixtures themselves come from
tests/browser/conftest.py and tests/browser/support.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import Page
from tools.test_assets import axe_path

from tests.browser.support import wait_for_state

XSS = "<img src=x onerror=alert(1)>"
RUN_TIMEOUT_MS = 120_000


def write_csv(folder: Path, name: str, header: list[str], rows: list[list[Any]], delimiter: str = ",") -> Path:
    """A CSV file `name` in `folder` (cells are written as they are: tests choose them)."""
    path = folder / name
    lines = [delimiter.join(header)] + [delimiter.join(str(c) for c in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def people(folder: Path, count: int, name: str = "people.csv", bad_every: int = 0) -> Path:
    """id,name,email,amount with `count` rows; every `bad_every`-th amount is not a number."""
    with (folder / name).open("w", encoding="utf-8") as out:
        out.write("id,name,email,amount\n")
        for i in range(1, count + 1):
            amount = "n/a!" if bad_every and i % bad_every == 0 else f"{i * 1.25:.2f}"
            out.write(f"{i},Person {i},person{i}@example.com,{amount}\n")
    return folder / name


def open_app(page: Page, base_url: str, hash_: str = "") -> None:
    """Load the app and wait until the engine is ready."""
    page.goto(base_url + hash_)
    wait_for_state(page, "ready")


def forbid_dialogs(page: Page) -> list[str]:
    """Record any alert/confirm the page opens (a hostile cell must never open one)."""
    opened: list[str] = []

    def on_dialog(dialog: Any) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return opened


def preview(page: Page, path: Path) -> None:
    """Pick `path` through the real file input and wait for its preview."""
    page.set_input_files("[data-testid=file-input]", str(path))
    page.wait_for_selector("#preview:not([hidden]) #preview-table tbody tr", timeout=30_000)


def start_import(page: Page, path: Path) -> None:
    """Pick `path`, wait for the preview, press Start."""
    preview(page, path)
    page.click("[data-testid=start-import]")


def wait_for_run(page: Page, *statuses: str, timeout_ms: int = RUN_TIMEOUT_MS) -> str:
    """Wait until the current run's progress shows one of `statuses`; returns it."""
    page.wait_for_function(
        """(want) => { const bar = document.querySelector('[data-testid=run-progress]');
                        return bar && want.includes(bar.dataset.status); }""",
        arg=list(statuses), timeout=timeout_ms)
    return page.get_attribute("[data-testid=run-progress]", "data-status") or ""


def go(page: Page, view: str) -> None:
    """Open a section by its tab, with the keyboard-free click a user makes."""
    page.click(f"nav.tabs a[data-view={view}]")
    page.wait_for_selector(f"#view-{view}:not([hidden])")


def shot(page: Page, artifacts: Path, name: str) -> Path:
    """Save a full-page screenshot as artifacts/ui-NAME.png."""
    path = artifacts / f"ui-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_accessible(page: Page, screen: str) -> None:
    """Run axe-core on the page; fail on serious or critical violations, naming them and their nodes."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # not as a <script> tag: the page's Content-Security-Policy refuses inline scripts; a DevTools
        # evaluation is outside the policy
        page.context.new_cdp_session(page).send("Runtime.evaluate", {"expression": axe_path().read_text()})
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary)}));
    }""")
    assert result == [], f"axe found serious/critical problems on {screen}:\n" + json.dumps(result, indent=1)


def no_injected_elements(page: Page, selector: str) -> int:
    """How many <img> or <script> elements sit inside `selector` (hostile cells must add none)."""
    return page.evaluate(f"""() => Array.from(document.querySelectorAll({json.dumps(selector)}))
        .reduce((n, el) => n + el.querySelectorAll('img, script').length, 0)""")


# Posts {json, file} to the engine worker: creates runs quickly, without the UI (for list tests).
IMPORT_JS = """async ({name, text, force}) => {
  const worker = window.engineWorker;
  const ask = (method, params, file) => new Promise((resolve) => {
    const id = 2_000_000_000 + Math.floor(Math.random() * 100_000_000);
    const onReply = (event) => {
      const raw = typeof event.data === 'string' ? event.data : event.data.json;
      const msg = JSON.parse(raw);
      if (msg.id === id) { worker.removeEventListener('message', onReply); resolve(msg); }
    };
    worker.addEventListener('message', onReply);
    const json = JSON.stringify({id, method, params});
    worker.postMessage(file ? {json, file} : json);
  });
  const file = new File([text], name, {type: 'text/csv'});
  const seen = await ask('file.preview', {}, file);
  if (!seen.ok) return seen;
  return await ask('import.start', {source_id: seen.result.source_id, options: seen.result.sniff.options, force});
}"""


def import_directly(page: Page, name: str, text: str, force: bool = True) -> dict[str, Any]:
    """Start an import through the protocol (not the UI); returns the reply."""
    return page.evaluate(IMPORT_JS, {"name": name, "text": text, "force": force})
