"""The copier (static/js/copier.mjs): the pass over a picked file (sha256 and the copy staged ahead) runs in a
worker of its own, off the engine's thread; the engine opens the copy it wrote and the run takes it. Without a
copier the pass runs in Python as before; a failed write drops the copy and keeps the hash; a second pick
drops the first file's copy while it is being made."""

from __future__ import annotations

import base64
import hashlib
import threading
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page
from tools.serve import make_server

from tests.browser.support import call, controlled, enable_diagnostics, set_test_hooks, wait_for_state
from tests.browser.test_stage_ahead import copies, previewed_source
from tests.ui.pages import open_app, people, preview

ROWS = 200_000  # about 10 MB: three chunks of the pass (4 MB each)


def copy_bytes(page: Page, name: str) -> bytes:
    """The copy `name` as the engine's own file system reads it, piece by piece."""
    pieces, offset = [], 0
    while True:
        reply = call(page, "diagnostics.read_copy", name=name, offset=offset)
        piece = base64.b64decode(reply["data"])
        pieces.append(piece)
        offset += len(piece)
        if not piece or offset >= reply["size"]:
            return b"".join(pieces)


def finish(page: Page) -> dict[str, Any]:
    """Click Start and wait for the run to end; returns the run."""
    page.click("[data-testid=start-import]")
    runs: list[dict[str, Any]] = []
    for _ in range(900):
        runs = call(page, "runs.list", job="import-csv", limit=1)["runs"]
        if runs and runs[0]["status"] in ("completed", "failed"):
            return runs[0]
        page.wait_for_timeout(100)
    raise AssertionError(f"the run did not end: {runs}")


SPLIT = "hash-wasm (a second copier)"  # hashed chunk by chunk by one copier while another writes the copy


@pytest.mark.parametrize(("whole_bytes", "hashed_by"), [(None, "webcrypto"), (1 << 20, SPLIT)])
def test_the_copier_copies_the_file_byte_for_byte_and_the_run_takes_it_without_reading_the_file(
        page: Page, base_url: str, tmp_path: Path, whole_bytes: int | None, hashed_by: str) -> None:
    """Both ways the copier hashes: a file of at most 64 MiB in one piece with the browser's SHA-256, a larger
    one (here: one larger than the hook's 1 MiB) chunk by chunk with hash-wasm, in a second copier that reads
    the file on its own while the first writes the copy."""
    if whole_bytes is not None:
        set_test_hooks(page, {"copier_whole_bytes": whole_bytes})
    enable_diagnostics(page)
    open_app(page, base_url)
    path = people(tmp_path, ROWS, name="copied.csv")
    data = path.read_bytes()
    source_id = previewed_source(page, path)

    assert call(page, "diagnostics.source_pass", source_id=source_id) == {"made_by": "copier", "hashed_by": hashed_by}
    sha256 = call(page, "file.earlier_imports", source_id=source_id)["sha256"]
    assert sha256 == hashlib.sha256(data).hexdigest()
    assert copy_bytes(page, f"ahead-{source_id}.csv") == data

    call(page, "file.scan", source_id=source_id)  # the preview's type scan is the last reader of the file
    path.unlink()  # from now on the picked File cannot be read: staging must take the copy as it is
    run = finish(page)
    assert run["status"] == "completed", run["error"]
    assert run["input"]["staged_path"].endswith(f"/ahead-{source_id}.csv")
    assert run["output"]["rows_accepted"] == ROWS and run["labels"]["sha256"] == sha256
    stage = next(s for s in call(page, "runs.steps", run_id=run["id"]) if s["name"] == "stage")
    assert stage["output"]["sha256"] == sha256


def test_without_a_copier_the_pass_runs_in_python_and_still_stages_the_copy(
        page: Page, base_url: str, tmp_path: Path) -> None:
    set_test_hooks(page, {"copier_missing": True})
    enable_diagnostics(page)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    open_app(page, base_url)
    path = people(tmp_path, ROWS, name="python.csv")
    data = path.read_bytes()
    source_id = previewed_source(page, path)

    made_by = call(page, "diagnostics.source_pass", source_id=source_id)["made_by"]
    assert made_by.startswith("python (the copier failed: the copier did not start"), made_by
    assert any("hashed and copied in Python" in line for line in console), console[-20:]
    assert call(page, "file.earlier_imports", source_id=source_id)["sha256"] == hashlib.sha256(data).hexdigest()
    assert copy_bytes(page, f"ahead-{source_id}.csv") == data
    run = finish(page)
    assert run["status"] == "completed", run["error"]
    assert run["input"]["staged_path"].endswith(f"/ahead-{source_id}.csv") and run["output"]["rows_accepted"] == ROWS


@pytest.mark.parametrize("whole_bytes", [None, 1 << 20])
def test_a_write_that_fails_mid_copy_leaves_no_copy_and_still_gives_the_sha256(
        page: Page, base_url: str, tmp_path: Path, whole_bytes: int | None) -> None:
    """One copier, or two (`whole_bytes` below the file's size: the failed writer ends, the hasher goes on)."""
    set_test_hooks(page, {"storage_faults": [{"op": "write", "file": "ahead", "after_calls": 1}],
                          **({"copier_whole_bytes": whole_bytes} if whole_bytes else {})})
    enable_diagnostics(page)
    open_app(page, base_url)
    path = people(tmp_path, ROWS, name="full.csv")
    data = path.read_bytes()
    preview(page, path)
    [source_id] = call(page, "diagnostics.sources")["sources"]

    assert call(page, "diagnostics.source_pass", source_id=source_id)["made_by"] == "copier"
    assert call(page, "file.earlier_imports", source_id=source_id)["sha256"] == hashlib.sha256(data).hexdigest()
    assert copies(page) == [], "the copy the failed write cut short is still in the storage"
    run = finish(page)  # the job stages the file itself
    assert run["status"] == "completed", run["error"]
    assert "/staged-" in run["input"]["staged_path"] and run["output"]["rows_accepted"] == ROWS


@pytest.mark.parametrize("whole_bytes", [None, 1 << 20])
def test_picking_another_file_while_the_first_is_being_copied_drops_the_first_copy(
        page: Page, base_url: str, tmp_path: Path, whole_bytes: int | None) -> None:
    """One copier, or two (`whole_bytes` below the files' sizes: the held one is the writer)."""
    # each copy waits after its first chunk for the next pick
    set_test_hooks(page, {"hold_copier": True, **({"copier_whole_bytes": whole_bytes} if whole_bytes else {})})
    enable_diagnostics(page)
    open_app(page, base_url)
    first = people(tmp_path, ROWS, name="first.csv")
    preview(page, first)
    for _ in range(300):  # the copier created the first copy; it cannot end before the next pick
        if copies(page):
            break
        page.wait_for_timeout(100)
    [first_copy] = copies(page)

    second = people(tmp_path, ROWS // 4, name="second.csv")  # one chunk: nothing to hold
    preview(page, second)
    sources = call(page, "diagnostics.sources")["sources"]
    first_id, second_id = first_copy[len("ahead-"):-len(".csv")], sources[-1]
    assert first_id in sources and second_id != first_id
    assert call(page, "file.earlier_imports", source_id=first_id)["sha256"] == hashlib.sha256(
        first.read_bytes()).hexdigest(), "the first file's pass stopped copying but must hash on"
    assert call(page, "file.earlier_imports", source_id=second_id)["sha256"] == hashlib.sha256(
        second.read_bytes()).hexdigest()
    assert copies(page) == [f"ahead-{second_id}.csv"]
    assert call(page, "diagnostics.source_pass", source_id=first_id)["made_by"] == "copier"


@pytest.mark.parametrize(("whole_bytes", "hashed_by"), [(None, "webcrypto"), (1_000, SPLIT)])
def test_offline_the_copier_still_makes_the_pass(context: BrowserContext, base_url: str, tmp_path: Path,
                                                 whole_bytes: int | None, hashed_by: str) -> None:
    """Either way of hashing: hash-wasm is loaded only for a pass that needs it, from the precache, and the
    second copier's script too."""
    server = make_server(0)  # base_url: the bundle is built; this server is the test's own, to stop
    threading.Thread(target=server.serve_forever, daemon=True).start()
    if whole_bytes is not None:
        set_test_hooks(context, {"copier_whole_bytes": whole_bytes})
    enable_diagnostics(context)
    page = context.new_page()
    open_app(page, f"http://127.0.0.1:{server.server_address[1]}/")
    controlled(page)  # the service worker precached this version, the copier and hash-wasm included
    server.shutdown()
    server.server_close()
    page.reload()
    wait_for_state(page, "ready")

    path = people(tmp_path, 2_000, name="offline.csv")
    source_id = previewed_source(page, path)
    assert call(page, "diagnostics.source_pass", source_id=source_id) == {"made_by": "copier", "hashed_by": hashed_by}
    assert copy_bytes(page, f"ahead-{source_id}.csv") == path.read_bytes()
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    assert call(page, "file.earlier_imports", source_id=source_id)["sha256"] == sha256
