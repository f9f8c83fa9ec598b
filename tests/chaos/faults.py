"""Storage faults at seeded random calls: the loop form of tests/browser/test_storage_faults.py.

Each case opens a fresh context whose worker gets one test-only storage fault (py/worker/hooks.py
`storage_faults`): a write, truncate or flush of the database, its journal or the staged copy throws
(QuotaExceededError or an I/O error) at a call drawn from the seed, and the chaos file is imported through the
page. A fault that fires must stop the run (or, for a flush after COMMIT, the engine) with the page's clear
sentence; the app opened again without the fault must find every batch committed before it, pass
`PRAGMA integrity_check`, and complete (Retry, or the automatic resume) with the file's rows and rejects,
each once, no committed batch written twice (a fault while copying the picked file is retried in the same
page, which still holds the File, as tests/browser/test_storage_faults.py does). A drawn call past the
import's last such call never fires: the case is counted apart and still verified.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page

from tests.browser.support import RECORD_EVENTS_JS, STATUS, batch_rows, call, wait_for_run
from tests.browser.test_storage_faults import CURRENT_MESSAGE, CURRENT_STATUS, MESSAGES, open_app
from tests.chaos.data import Expected
from tests.chaos.interrupts import FINISHED, start_import
from tests.chaos.verify import verify_import

BATCH_ROWS = 20_000
# Calls to draw from, per (op, file), around the spans an import of ~200,000 rows in 20,000-row batches makes
# on a fresh profile (test_storage_faults.py): some land before the first batch or past the last one.
SPANS = {
    ("write", "importer.sqlite"): (30, 300),
    ("write", "importer.sqlite-journal"): (80, 360),
    ("truncate", "importer.sqlite-journal"): (5, 24),
    ("flush", "importer.sqlite"): (3, 20),
    ("write", "staged"): (0, 2),
}
ERRORS = ("QuotaExceededError", "IOError")
TIMEOUT_MS = 600_000


@dataclass
class FaultTally:
    """Faults fired (`injected`), of which after some and before the last batch (`mid_import`); cases whose
    fault never fired; and what the checks found after the retries."""

    cases: int = 0
    injected: int = 0
    mid_import: int = 0
    never_fired: int = 0
    lost: int = 0
    duplicated: int = 0
    integrity: int = 0
    unclear: int = 0  # a fault the page reported without its clear sentence
    notes: list[str] = field(default_factory=list)


def draw_fault(rng: random.Random) -> dict[str, Any]:
    """One fault: a random (op, file), a call within its span, a random error."""
    op, file = rng.choice(sorted(SPANS))
    low, high = SPANS[(op, file)]
    return {"op": op, "file": file, "after_calls": rng.randint(low, high), "error": rng.choice(ERRORS)}


def wait_for_end(page: Page) -> tuple[str, str]:
    """Wait until the engine stopped, or the import failed or completed; returns (what, sentence) with what
    one of "engine", "run" (failed) or "completed"."""
    page.wait_for_function(
        f"""() => document.querySelector('{STATUS}')?.dataset.state === 'error'
                  || ['failed', 'completed'].includes(document.querySelector('{CURRENT_STATUS}')?.textContent)""",
        timeout=TIMEOUT_MS)
    if page.locator(STATUS).get_attribute("data-state") == "error":
        return "engine", page.locator(STATUS).text_content() or ""
    if page.locator(CURRENT_STATUS).text_content() == "completed":
        return "completed", ""
    page.wait_for_function(f"() => document.querySelector('{CURRENT_MESSAGE}')?.textContent", timeout=10_000)
    return "run", page.locator(CURRENT_MESSAGE).text_content() or ""


def fault_case(browser: Browser, base_url: str, source: Path, expected: Expected, fault: dict[str, Any],
               tally: FaultTally, log: Callable[[str], None]) -> None:
    """Run one case and add what it found to `tally`."""
    context = browser.new_context()
    try:
        page = open_app(context, base_url, {"max_batch_rows": BATCH_ROWS, "storage_faults": [fault],
                                            "diagnostics": True})
        page.evaluate(RECORD_EVENTS_JS)
        run_id = start_import(page, source)
        what, sentence = wait_for_end(page)
        done = page.evaluate("""() => window.__events.filter((e) => e.event === 'step:complete'
                                     && e.data.step.startsWith('batch-')).map((e) => e.data.step)""")
        if fault["file"] != "staged":  # the fault goes with this page's worker: the app opens again without it
            page.close()
            page = open_app(context, base_url, {"max_batch_rows": BATCH_ROWS, "diagnostics": True})
        # else the same page retries: a closed page takes the picked File along (the user would pick it again),
        # and the fault fired its one time, as a disk that has room again
        integrity = call(page, "diagnostics.read")["integrity"]
        run = call(page, "runs.get", run_id=run_id)
        kept = batch_rows(call(page, "runs.steps", run_id=run_id))
        lost_batches = max(0, len(done) - len(kept))  # a batch the events saw committed is gone
        if run["status"] == "failed":
            call(page, "runs.retry", run_id=run_id)
        run = wait_for_run(page, run_id, lambda r, _: r["status"] in FINISHED, TIMEOUT_MS / 1000)
        steps = call(page, "runs.steps", run_id=run_id)
        rewritten = sum(1 for s in steps if s["name"] in done and s["attempts"] != 1)
        verdict = verify_import(page, run, expected) if run["status"] == "completed" else None
    finally:
        context.close()

    tally.cases += 1
    rows = batch_rows(steps)
    struck = rows[len(done) - 1] if done and len(rows) >= len(done) else 0
    if what == "completed":
        tally.never_fired += 1
    else:
        tally.injected += 1
        tally.mid_import += 0 < struck < expected.data_rows
        if MESSAGES[what] not in sentence or "[object DOMException]" in sentence:
            tally.unclear += 1
            tally.notes.append(f"{fault}: unclear sentence {sentence!r}")
    if verdict is None:
        tally.integrity += 1
        tally.notes.append(f"{fault}: the run ended {run['status']}: {run['error']}")
    else:
        tally.lost += verdict.lost + lost_batches
        tally.duplicated += verdict.duplicated + rewritten
        tally.integrity += verdict.integrity + int(integrity != "ok")
        tally.notes += [f"{fault}: {note}" for note in verdict.notes]
    if integrity != "ok":
        tally.notes.append(f"{fault}: integrity_check after the fault: {integrity}")
    log(f"fault {fault}: " + ("never fired (the import made fewer such calls)" if what == "completed" else
        f"the {what} stopped after row {struck:,} with {sentence!r}") + f"; then {run['status']}"
        + (f", lost {verdict.lost}, duplicated {verdict.duplicated}" if verdict else ""))


def storage_faults(browser: Browser, base_url: str, source: Path, expected: Expected, seed: int, count: int,
                   log: Callable[[str], None] = print) -> FaultTally:
    """`count` seeded fault cases (seed `seed`) on the chaos file `source`."""
    rng = random.Random(seed)
    tally = FaultTally()
    for _ in range(count):
        fault_case(browser, base_url, source, expected, draw_fault(rng), tally, log)
    return tally
