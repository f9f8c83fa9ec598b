"""Storage faults in the real browser (issue 9, item 2): a write, truncate or flush of an OPFS handle fails
mid-import, as a full disk or a QuotaExceededError would. The run (or, for a flush after COMMIT, the engine)
stops with a clear sentence in the page; the batches committed before stay; the database passes
`PRAGMA integrity_check`; once the fault is gone (the app opened again without it), retry or the automatic
resume completes with exactly the file's rows and its rejects, each once.

The fault comes from the test-only hook `storage_faults` (py/worker/hooks.py, static/js/opfs-fs.mjs): the
(after_calls + 1)-th matching handle call throws. The counts below are calls of this import on a fresh
profile, so the fault lands on the same call every run; each test asserts it landed after some batches
committed and before the last one. The storage turning read-only just before a run's end is written (the hook
`read_only_after_step`) stops the engine the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bench.import_native import generate_csv
from playwright.sync_api import BrowserContext, Page

from tests.browser.support import (
    RECORD_EVENTS_JS,
    STATUS,
    assert_exactly_once,
    batch_rows,
    call,
    set_test_hooks,
    wait_for_run,
    wait_for_state,
)
from tests.browser.test_import_reloads import wait_for_run_created

ROWS = 200_000
BATCH_ROWS = 20_000  # ten batches of ~1 MB: the fault lands between the first and the last
FINISHED = ("completed", "failed", "cancelled")
CURRENT_STATUS = "#current-status"
CURRENT_MESSAGE = "#current-message"
# What the page says. A failed write or truncate fails the batch's COMMIT, which SQLite rolls back from its
# journal, and the run fails saying the storage is full or failing (durable/errors.py `error_message`); a failed
# flush after a COMMIT stops the engine (docs/storage.md).
MESSAGES = {"run": "The storage ", "engine": "The browser's storage failed after a commit: "}


def open_app(context: BrowserContext, base_url: str, hooks: dict[str, Any]) -> Page:
    page = context.new_page()
    set_test_hooks(page, hooks)
    page.goto(base_url)
    wait_for_state(page, "ready")
    return page


def click_start(page: Page, source: Path) -> None:
    """Pick `source` in the file input, make id and amount typed (so their bad values are rejected), Start."""
    page.set_input_files("[data-testid=file-input]", str(source))
    page.get_by_label("Type of column 1 (id)").select_option("integer")
    page.get_by_label("Type of column 4 (amount)").select_option("real")
    page.locator("[data-testid=start-import]").click(timeout=60_000)


def start_import(page: Page, source: Path) -> str:
    """`click_start`; the id of the run it created."""
    click_start(page, source)
    return wait_for_run_created(page)


def wait_for_fault(page: Page) -> tuple[str, str]:
    """Wait until the page shows the import failed or the engine stopped; returns (what, sentence)."""
    page.wait_for_function(
        f"""() => document.querySelector('{STATUS}')?.dataset.state === 'error'
                  || document.querySelector('{CURRENT_STATUS}')?.textContent === 'failed'""", timeout=120_000)
    if page.locator(STATUS).get_attribute("data-state") == "error":
        return "engine", page.locator(STATUS).text_content() or ""
    page.wait_for_function(f"() => document.querySelector('{CURRENT_MESSAGE}')?.textContent", timeout=10_000)
    return "run", page.locator(CURRENT_MESSAGE).text_content() or ""


# On a fresh profile this import commits 10 batches; the calls before them are the schema's (one commit since
# the migrations commit together), the lease's, the trigger's and the first steps'. Measured: the 151st database
# write lands after 4 batches, the 231st journal write after 6, the 12th journal truncate after 6 (the 16th is
# the run's end), the 10th flush after 5 (a lease heartbeat adds a few calls): each fault lands mid-import.
FAULTS = [
    pytest.param({"op": "write", "file": "importer.sqlite", "after_calls": 150, "error": "QuotaExceededError"},
                 "run", id="write-database-quota"),
    pytest.param({"op": "write", "file": "importer.sqlite-journal", "after_calls": 230, "error": "IOError"},
                 "run", id="write-journal-io"),
    pytest.param({"op": "truncate", "file": "importer.sqlite-journal", "after_calls": 11, "error": "IOError"},
                 "run", id="truncate-journal-io"),
    pytest.param({"op": "flush", "file": "importer.sqlite", "after_calls": 9, "error": "QuotaExceededError"},
                 "engine", id="flush-database-quota"),
]


@pytest.mark.parametrize(("fault", "stops"), FAULTS)
def test_a_storage_fault_mid_import_loses_nothing_and_retry_completes_exactly_once(
        context: BrowserContext, base_url: str, tmp_path: Path, fault: dict[str, Any], stops: str) -> None:
    source = tmp_path / "people.csv"
    invalid = generate_csv(source, ROWS)
    rejected = sorted(i for i in invalid if (i // 100) % 3 != 1)  # bad emails stay text (see test_import_reloads)

    page = open_app(context, base_url, {"max_batch_rows": BATCH_ROWS, "storage_faults": [fault]})
    page.evaluate(RECORD_EVENTS_JS)
    run_id = start_import(page, source)
    what, sentence = wait_for_fault(page)
    done = page.evaluate("""() => window.__events.filter((e) => e.event === 'step:complete'
                                 && e.data.step.startsWith('batch-')).map((e) => e.data.step)""")
    print(f"injected {fault}: after {len(done)} batches committed the {what} stopped with: {sentence!r}")
    assert what == stops, sentence
    assert MESSAGES[stops] in sentence and "[object DOMException]" not in sentence
    assert done, "the fault landed before the first batch committed"
    page.close()  # the fault goes with this page's worker: the app opens again without it

    page = open_app(context, base_url, {"max_batch_rows": BATCH_ROWS, "diagnostics": True})
    assert call(page, "diagnostics.read")["integrity"] == "ok"
    run = call(page, "runs.get", run_id=run_id)
    if run["status"] == "failed":  # a failed run waits for Retry; a stopped engine's run resumes by itself
        kept = batch_rows(call(page, "runs.steps", run_id=run_id))
        assert len(kept) == len(done), (kept, done)  # every batch committed before the fault is still there
        call(page, "runs.retry", run_id=run_id)
    run = wait_for_run(page, run_id, lambda run, _: run["status"] in FINISHED, 300)
    assert run["status"] == "completed", run["error"]
    steps = call(page, "runs.steps", run_id=run_id)
    assert all(s["attempts"] == 1 for s in steps if s["name"] in done)  # never written twice
    rows = batch_rows(steps)
    landed = rows[len(done) - 1]  # rows committed when the fault struck (batches end by rows or by time)
    print(f"the fault landed after row {landed} of {ROWS}; opened again without it, the run {run['status']} "
          f"after {len(rows)} batches")
    assert 0 < landed < ROWS, "the fault did not land mid-import"
    assert_exactly_once(page, run, ROWS, rejected)


def test_a_full_disk_while_copying_the_file_fails_the_run_and_retry_completes(
        context: BrowserContext, base_url: str, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    invalid = generate_csv(source, ROWS)
    rejected = sorted(i for i in invalid if (i // 100) % 3 != 1)
    # ~12 MB staged in 4 MB chunks: the second chunk's write fails once, as a full quota would
    fault = {"op": "write", "file": "staged", "after_calls": 1, "error": "QuotaExceededError"}
    page = open_app(context, base_url, {"max_batch_rows": BATCH_ROWS, "storage_faults": [fault], "diagnostics": True})
    run_id = start_import(page, source)
    what, sentence = wait_for_fault(page)
    print(f"injected {fault}: the {what} stopped with: {sentence!r}")
    assert what == "run" and sentence.startswith("The storage is full (No space left on device): "), sentence
    assert call(page, "diagnostics.read")["integrity"] == "ok"
    assert batch_rows(call(page, "runs.steps", run_id=run_id)) == []

    call(page, "runs.retry", run_id=run_id)  # the fault fired its one time: the disk has room again
    run = wait_for_run(page, run_id, lambda run, _: run["status"] in FINISHED, 300)
    assert run["status"] == "completed", run["error"]
    assert_exactly_once(page, run, ROWS, rejected)


def test_a_run_whose_end_cannot_be_written_stops_the_engine_saying_so_and_opening_again_completes_it(
        context: BrowserContext, base_url: str, tmp_path: Path) -> None:
    """The storage refuses every write once the import's last batch committed (the test-only hook
    `read_only_after_step`: SQLite's `query_only`, as storage that turned read-only), so neither the run's end
    nor a failure in its place can be written: the page says the storage failed (it showed the run running,
    for ever, before), and opened again without the hook the run completes, its rows and rejects each once."""
    rows = 4_000  # one batch whatever the machine's speed: a batch reads a slice (5,000 rows) before its time budget
    source = tmp_path / "people.csv"
    invalid = generate_csv(source, rows)
    rejected = sorted(i for i in invalid if (i // 100) % 3 != 1)
    page = open_app(context, base_url, {"read_only_after_step": "batch-0"})
    page.evaluate(RECORD_EVENTS_JS)
    click_start(page, source)
    what, sentence = wait_for_fault(page)  # so soon that no request of the test's could ask for the run first
    [run_id] = page.evaluate("""() => window.__events.filter((e) => e.event === 'run:trigger'
                                                    && e.data.job === 'import-csv').map((e) => e.data.run_id)""")
    assert what == "engine", sentence
    assert sentence.startswith(MESSAGES["engine"] + "attempt to write a readonly database. Reload the page"), sentence
    page.close()  # the hook goes with this page's worker

    page = open_app(context, base_url, {"diagnostics": True})
    assert call(page, "diagnostics.read")["integrity"] == "ok"
    run = wait_for_run(page, run_id, lambda run, _: run["status"] in FINISHED, 300)
    assert run["status"] == "completed", run["error"]
    steps = call(page, "runs.steps", run_id=run_id)
    batches = [(s["name"], s["attempts"]) for s in steps if s["name"].startswith("batch-")]
    assert batches == [("batch-0", 1)]  # committed once, before the storage failed; not written again
    assert_exactly_once(page, run, rows, rejected)
