"""The page boots the UI and the engine worker from its own files, and shows real versions; a file can be
picked from the first paint; the boot snapshot is used only when it is the build's and intact."""

from __future__ import annotations

import gzip
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Route
from tools.vendor import ROOT, SNAPSHOT, SNAPSHOT_HEADER, VENDOR, installed_snapshot_key, snapshot_header

from tests.browser.support import (
    BOOT_TIMEOUT_MS,
    RECORD_STATUS_JS,
    STATUS,
    call,
    call_raw,
    set_test_hooks,
    wait_for_importer,
    wait_for_state,
)
from tests.ui.pages import preview, write_csv

READY = re.compile(
    r"^Engine ready: Python 3\.14\.2, SQLite 3\.39\.0, pydantic 2\.14\.3, storage OPFS \(.+ / .+\)$")
READY_TO_READ = re.compile(
    r"^Engine ready: Python 3\.14\.2, SQLite 3\.39\.0, storage OPFS \(.+ / .+\); loading the importer…$")


def test_boot_reaches_ready_with_real_versions_from_a_clean_profile(page: Page, base_url: str) -> None:
    """The engine is ready to read before pydantic is installed (docs/storage.md "Boot"), then the importer
    loads and the status names pydantic too."""
    page.add_init_script(RECORD_STATUS_JS)
    page.goto(base_url)
    wait_for_state(page, "ready")
    assert READY.match(wait_for_importer(page))
    info = call(page, "engine.info")
    assert info == {"state": "ready", "python": "3.14.2", "sqlite": "3.39.0", "pydantic": "2.14.3"}
    ready = [s for s in page.evaluate("window.__status") if s["state"] == "ready"]
    assert [s.get("importer") for s in ready] == ["loading", "ready"], ready
    assert READY_TO_READ.match(ready[0]["message"]) and "pydantic" not in ready[0]
    assert ready[0]["timings"].keys() >= {"pyodide", "app", "imports", "opfs"} and "wheels" not in ready[0]["timings"]
    assert ready[1]["timings"].keys() >= {"wheels", "importer"}


def test_boot_reaches_ready_again_after_reload(page: Page, base_url: str) -> None:
    page.goto(base_url)
    wait_for_importer(page)
    page.reload()
    assert READY_TO_READ.match(wait_for_state(page, "ready"))
    assert READY.match(wait_for_importer(page))


# The page time of the UI up: PyScript's mpy:done, listened to before the page's own scripts run.
UI_UP_AT_JS = """document.addEventListener("mpy:done", () => { window.__uiUpAt = performance.now(); });"""
FIRST_VISIT_WAIT_MS = 3000  # static/js/start-engine.mjs


def boot_order(page: Page) -> dict[str, Any]:
    """When (page ms) the UI came up and the engine's first `ready` arrived, and when and why the page let the
    engine boot (the page needs UI_UP_AT_JS and RECORD_STATUS_JS)."""
    page.wait_for_function("() => window.__status.some((s) => s.state === 'ready')", timeout=BOOT_TIMEOUT_MS)
    return page.evaluate("""() => ({ui: window.__uiUpAt, boot: window.engineBoot,
        ready: window.__statusAt[window.__status.findIndex((s) => s.state === "ready")]})""")


def test_a_first_visit_boots_the_engine_once_the_ui_is_up_and_a_later_visit_at_once(
        page: Page, base_url: str) -> None:
    """On a first visit the engine worker starts Python only when the UI is interactive, or after
    FIRST_VISIT_WAIT_MS if that comes first (docs/storage.md "A first visit: the UI first"); once the engine
    started in this browser, a reload boots it at once. Either way it reaches ready and serves."""
    page.add_init_script(UI_UP_AT_JS)
    page.add_init_script(RECORD_STATUS_JS)
    page.goto(base_url)
    first = boot_order(page)
    boot = first["boot"]
    if boot["reason"] == "after the UI":
        assert first["ui"] <= boot["at"], first
    else:  # the UI was not up by then: the engine did not wait for ever
        assert boot["reason"] == "waited long enough" and boot["at"] >= FIRST_VISIT_WAIT_MS, first
        assert first.get("ui") is None or first["ui"] >= boot["at"], first
    assert first["ready"] > boot["at"], first  # the worker started Python only when told
    assert READY.match(wait_for_importer(page))
    page.reload()
    again = boot_order(page)
    assert again["boot"]["reason"] == "at once", again
    assert READY.match(wait_for_importer(page))
    assert call(page, "engine.info")["state"] == "ready"


def test_a_first_visit_whose_ui_does_not_start_still_boots_the_engine(page: Page, base_url: str) -> None:
    """PyScript's core module never answered (the UI cannot start): after FIRST_VISIT_WAIT_MS the engine
    boots all the same, and serves (an interrupted import would resume)."""
    page.add_init_script(UI_UP_AT_JS)
    page.add_init_script(RECORD_STATUS_JS)
    page.route("**/static/vendor/pyscript/core.js", lambda route: None)  # held, never answered
    page.goto(base_url, wait_until="commit")
    order = boot_order(page)
    assert order["boot"]["reason"] == "waited long enough" and order.get("ui") is None, order
    assert order["ready"] > order["boot"]["at"] >= FIRST_VISIT_WAIT_MS, order
    assert call(page, "engine.info")["state"] == "ready"


UI_RESOURCES_JS = """() => performance.getEntriesByType("resource").map(
  (e) => [e.name.slice(location.origin.length + 1), e.initiatorType])"""


def test_the_ui_starts_from_its_files_preloaded_by_the_page(page: Page, base_url: str) -> None:
    """Every file PyScript needs to start the UI (static/vendor/ui-preload.json: the chunks it imports before
    the interpreter, MicroPython, its WebAssembly, the entry point, the UI's modules) is fetched
    once, by the page's preload (static/js/preload-ui.mjs), and PyScript's own requests are answered from it:
    without the preload they would be PyScript's `fetch`es, made one stage after another (docs/ui.md, "Start").
    Modules (the chunks, MicroPython's) are fetched once either way: their preload shows as a script.
    PyScript is held back until the links are in the page (its core module answered only then), so the test
    does not depend on which of the two asks first: the order a fast machine gives, made certain."""
    wanted = json.loads((ROOT / "static" / "vendor" / "ui-preload.json").read_text())
    assert "py/ui/main.py" in wanted and any(url.endswith(".js") for url in wanted)
    assert any(url.endswith("/micropython.wasm") for url in wanted)
    assert any(url.endswith("/app.mpy") or url.endswith("/app.py") for url in wanted)
    held: list[Route] = []
    page.route("**/static/vendor/pyscript/core.js", lambda route: held.append(route))
    page.goto(base_url, wait_until="commit")
    page.wait_for_function("n => document.querySelectorAll('link[rel=preload], link[rel=modulepreload]').length === n",
                           arg=len(wanted))
    for _ in range(3_000):  # requested during the parse of the head, long before the list arrived
        if held:
            break
        page.wait_for_timeout(10)
    assert held, "PyScript's core module was never requested"
    held[0].continue_()
    wait_for_state(page, "ready")  # the UI is up: it shows the engine's status
    fetched = page.evaluate(UI_RESOURCES_JS)
    for url in wanted:
        how = [initiator for name, initiator in fetched if name == url]
        assert how == (["script"] if url.endswith((".mjs", ".js")) else ["link"]), (url, how)


def test_malformed_messages_get_error_replies_and_the_worker_lives_on(page: Page, base_url: str) -> None:
    page.goto(base_url)
    wait_for_state(page, "ready")
    broken = page.evaluate("""() => new Promise((resolve) => {
        const worker = window.engineWorker;
        const replies = [];
        const onReply = (event) => {  // only the replies to these three (the UI has its own requests)
            const m = JSON.parse(typeof event.data === "string" ? event.data : event.data.json);
            if (!m.event && [null, undefined, 7, 8].includes(m.id)) {
                replies.push(m); if (replies.length === 3) resolve(replies); } };
        worker.addEventListener("message", onReply);
        worker.postMessage("{not json");
        worker.postMessage(JSON.stringify({id: 7, method: 42}));
        worker.postMessage(JSON.stringify({id: 8, method: "no.such.method"}));
    })""")
    codes = sorted((r["id"] or 0, r["error"]["code"]) for r in broken)
    assert codes == [(0, "bad-request"), (7, "bad-request"), (8, "unknown-method")]
    assert all(r["ok"] is False and r["error"]["message"] for r in broken)
    assert call_raw(page, "runs.get", run_id=3)["error"]["code"] == "bad-params"
    assert call(page, "engine.info")["state"] == "ready"


def test_a_boot_failure_is_shown_in_the_status_not_a_blank_page(context: BrowserContext, base_url: str) -> None:
    context.route("**/static/vendor/app.zip", lambda route: route.fulfill(status=404, body="missing"))
    page = context.new_page()
    page.goto(base_url)
    text = wait_for_state(page, "error")
    assert "app.zip" in text and "404" in text


# -- a file picked while the engine starts ----------------------------------------------------------------

UI_UP = "#app[aria-busy=false]"
PREPARING = "#preview-status[data-state=preparing]"


def test_a_file_picked_while_the_engine_starts_waits_visibly_and_is_previewed_once_it_is_ready(
        page: Page, base_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "early.csv", ["city", "visits"], [["Lyon", 3], ["Oslo", 5]])
    set_test_hooks(page, {"hold_boot": True, "diagnostics": True})  # booting until released below
    page.goto(base_url)
    page.wait_for_selector(UI_UP)
    assert page.get_attribute(STATUS, "data-state") == "booting"
    assert page.is_enabled("[data-testid=file-input]")
    page.set_input_files("[data-testid=file-input]", str(path))
    page.wait_for_selector(PREPARING)
    assert "early.csv" in (page.text_content("#preview-status") or "")
    assert "Preparing" in (page.text_content("#preview-status") or "")
    assert page.is_hidden("#preview")
    assert call(page, "diagnostics.release_boot") == {"released": True}
    wait_for_state(page, "ready")
    page.wait_for_selector("#preview:not([hidden]) #preview-table tbody tr")
    assert page.text_content("#preview-file").startswith("early.csv")
    assert page.locator("#preview-table tbody tr").count() == 2
    assert page.get_attribute("#preview-status", "data-state") is None


def test_the_run_list_answers_and_a_picked_file_waits_visibly_while_the_importer_loads(
        page: Page, base_url: str, tmp_path: Path) -> None:
    """`ready` comes before the importer (docs/storage.md "Boot"): the history and the data answer meanwhile, a
    picked file says it waits for the importer, and is previewed once it is loaded."""
    path = write_csv(tmp_path, "while.csv", ["city", "visits"], [["Lyon", 3], ["Oslo", 5]])
    set_test_hooks(page, {"hold_importer": True, "diagnostics": True})  # not loaded until released below
    page.goto(base_url)
    assert READY_TO_READ.match(wait_for_state(page, "ready"))
    page.wait_for_selector(UI_UP)
    assert page.get_attribute(STATUS, "data-importer") == "loading"
    assert call(page, "runs.list")["total"] == 0
    assert call(page, "tables.list") == []
    page.set_input_files("[data-testid=file-input]", str(path))
    page.wait_for_selector(PREPARING)
    assert "Preparing the importer… while.csv will be previewed" in (page.text_content("#preview-status") or "")
    assert page.is_hidden("#preview")
    assert call(page, "diagnostics.release_importer") == {"released": True}
    assert READY.match(wait_for_importer(page))
    page.wait_for_selector("#preview:not([hidden]) #preview-table tbody tr")
    assert page.text_content("#preview-file").startswith("while.csv")
    assert page.get_attribute("#preview-status", "data-state") is None


DROP_JS = """(text) => {
  const data = new DataTransfer();
  data.items.add(new File([text], "first.csv", { type: "text/csv" }));
  const zone = document.querySelector("#dropzone");
  const init = { dataTransfer: data, bubbles: true, cancelable: true };
  zone.dispatchEvent(new DragEvent("dragover", init));
  return zone.dispatchEvent(new DragEvent("drop", init)); // false: the page kept it (the browser would open it)
}"""


@pytest.mark.parametrize("how", ["picked", "dropped"])
def test_a_file_picked_or_dropped_before_the_ui_started_is_previewed_when_it_starts(
        context: BrowserContext, base_url: str, tmp_path: Path, how: str) -> None:
    path = write_csv(tmp_path, "first.csv", ["id", "label"], [[1, "a"], [2, "b"], [3, "c"]])
    held: list[Route] = []
    context.route("**/py/ui/main.py", lambda route: held.append(route))  # the UI's entry waits for the pick
    page = context.new_page()
    page.goto(base_url, wait_until="domcontentloaded")
    if how == "picked":
        page.set_input_files("[data-testid=file-input]", str(path))  # the page's own input, from the first paint
    else:
        assert page.evaluate(DROP_JS, path.read_text()) is False
    assert page.get_attribute("#app", "aria-busy") == "true"  # the UI has not started
    for _ in range(600):  # PyScript asks for the entry once its runtime is loaded
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "PyScript never asked for py/ui/main.py"
    held[0].continue_()
    page.wait_for_selector("#preview:not([hidden]) #preview-table tbody tr")
    assert page.text_content("#preview-file").startswith("first.csv")
    assert page.locator("#preview-table tbody tr").count() == 3


# -- the boot snapshot (tools/vendor.py, docs/storage.md "Boot") -------------------------------------------


def boot_snapshot_state(page: Page) -> str:
    """How the engine's Python started, from its `ready` status: restored, none, stale, stale app or failed: ..."""
    statuses = page.evaluate("window.__status")
    return next(s for s in statuses if s["state"] == "ready")["timings"]["snapshot"]


def snapshot_bytes() -> bytes:
    """The snapshot the build made, decompressed: its header, then Pyodide's snapshot."""
    if installed_snapshot_key() is None:
        pytest.skip("no boot snapshot was built (tools/vendor.py needs node)")
    return gzip.decompress(SNAPSHOT.read_bytes())


def boot_with_snapshot(context: BrowserContext, base_url: str, body: bytes | None) -> Page:
    """Open the app with `body` served as static/vendor/snapshot.bin (None: the built one); ready."""
    if body is not None:
        context.route("**/static/vendor/snapshot.bin", lambda route: route.fulfill(
            status=200, body=body, headers={"Content-Type": "application/gzip"}))
    page = context.new_page()
    page.add_init_script(RECORD_STATUS_JS)
    page.goto(base_url)
    wait_for_state(page, "ready")
    return page


def assert_the_app_works(page: Page, tmp_path: Path) -> None:
    """Python started fully: the versions, and a picked file is read and previewed (pydantic, the importer)."""
    assert call(page, "engine.info")["pydantic"] == "2.14.3"
    path = write_csv(tmp_path, "check.csv", ["n", "word"], [[1, "one"], [2, "two"]])
    preview(page, path)
    assert page.locator("#preview-table tbody tr").count() == 2


def test_the_engine_starts_from_the_boot_snapshot_the_build_made(
        context: BrowserContext, base_url: str, tmp_path: Path) -> None:
    snapshot_bytes()
    page = boot_with_snapshot(context, base_url, None)
    assert boot_snapshot_state(page) == "restored"
    assert_the_app_works(page, tmp_path)


def test_a_snapshot_of_another_key_is_not_used(context: BrowserContext, base_url: str, tmp_path: Path) -> None:
    data = snapshot_bytes()
    other = snapshot_header("0123456789abcdef") + data[SNAPSHOT_HEADER:]  # the same heap, another build's key
    page = boot_with_snapshot(context, base_url, gzip.compress(other, compresslevel=1))
    assert boot_snapshot_state(page) == "stale"
    assert_the_app_works(page, tmp_path)


def test_a_snapshot_of_another_app_bundle_is_not_used(context: BrowserContext, base_url: str, tmp_path: Path) -> None:
    # The snapshot holds the app's entry point imported from the app.zip it was made from; with another bundle
    # (a page and an engine of two builds: docs/storage.md "Version handshake") it would run that one's modules.
    snapshot_bytes()
    other = io.BytesIO((VENDOR / "app.zip").read_bytes())
    with zipfile.ZipFile(other, "a") as bundle:
        bundle.comment = b"another bundle"  # the same modules, other bytes
    context.route("**/static/vendor/app.zip", lambda route: route.fulfill(
        status=200, body=other.getvalue(), headers={"Content-Type": "application/zip"}))
    page = boot_with_snapshot(context, base_url, None)
    assert boot_snapshot_state(page) == "stale app"
    assert_the_app_works(page, tmp_path)


@pytest.mark.parametrize("damage", ["cut short", "garbage after its header"])
def test_a_damaged_snapshot_falls_back_to_a_normal_boot(
        context: BrowserContext, base_url: str, tmp_path: Path, damage: str) -> None:
    data = snapshot_bytes()
    if damage == "cut short":
        packed = SNAPSHOT.read_bytes()
        body = packed[:len(packed) // 2]  # the gzip stream ends early: DecompressionStream fails
    else:
        body = gzip.compress(data[:SNAPSHOT_HEADER] + b"\x07" * (len(data) - SNAPSHOT_HEADER), compresslevel=1)
    page = boot_with_snapshot(context, base_url, body)
    assert boot_snapshot_state(page).startswith("failed: ")
    assert_the_app_works(page, tmp_path)
