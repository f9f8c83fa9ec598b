"""Through the real file input: a 1M-row import completes, and reloading at random moments during it still
ends with exactly the source's rows and rejects, each once (issue 4, invariant 2)."""

from __future__ import annotations

import random
import time
from pathlib import Path

from bench.import_native import generate_csv
from playwright.sync_api import Page

from tests.browser.support import call, wait_for_state

ROWS = 1_000_000
RELOADS = 5


def newest_import(page: Page) -> dict:
    runs = call(page, "runs.list", job="import-csv", limit=1)["runs"]
    return runs[0] if runs else {}


def wait_until(page: Page, predicate, timeout_s: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        page.wait_for_timeout(200)
    raise AssertionError(f"timed out waiting for {what}")


def test_million_row_import_survives_random_reloads_exactly_once(page: Page, base_url: str, tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    print(f"reload seed: {seed}")
    rng = random.Random(seed)
    source = tmp_path / "people.csv"
    invalid = generate_csv(source, ROWS)
    # the sample holds a bad id and a bad amount, so inference keeps those columns text (it never loses data);
    # the user sets them to integer and real; a bad email in the sample keeps the email rule off, so
    # bad emails are imported as text
    rejected = sorted(i for i in invalid if (i // 100) % 3 != 1)

    page.goto(base_url)
    wait_for_state(page, "ready")
    page.set_input_files("[data-testid=file-input]", str(source))
    page.get_by_label("Type of column 1 (id)").select_option("integer")
    page.get_by_label("Type of column 4 (amount)").select_option("real")
    page.locator("[data-testid=start-import]").click(timeout=60_000)
    run = wait_until(page, lambda: newest_import(page), 60, "the run to be created")
    run_id = run["id"]
    # the picked File is gone after a reload, so the first reload waits for staging to finish
    wait_until(page, lambda: (call(page, "runs.get", run_id=run_id).get("progress") or {}).get("data", {})
               .get("phase") == "importing", 120, "staging to finish")

    for number in range(RELOADS):
        page.wait_for_timeout(rng.uniform(300, 2500))
        if call(page, "runs.get", run_id=run_id)["status"] == "completed":
            break
        page.reload()
        wait_for_state(page, "ready")
        if number == 0:
            banner = page.locator("[data-testid=resume-banner]")
            banner.wait_for(state="visible", timeout=30_000)
            assert "Resumed import of people.csv from row" in (banner.text_content() or "")

    run = wait_until(page, lambda: (r := call(page, "runs.get", run_id=run_id))["status"] in
                     ("completed", "failed", "cancelled") and r, 600, "the import to end")
    assert run["status"] == "completed", run["error"]
    table = run["output"]["table"]
    expected_ids = [i for i in range(ROWS) if i not in set(rejected)]
    summary = call(page, "sql.query", sql=f'SELECT count(*), count(DISTINCT id), sum(id) FROM "{table}"')["rows"]
    assert summary == [[len(expected_ids), len(expected_ids), sum(expected_ids)]]
    rejects = call(page, "sql.query", params=[run_id], sql=(
        "SELECT count(*), count(DISTINCT row_number), sum(row_number) FROM importer_rejects WHERE run_id = ?"))
    assert rejects["rows"] == [[len(rejected), len(rejected), sum(i + 2 for i in rejected)]]
