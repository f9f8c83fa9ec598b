"""The page and the command line share one database format (issue 11): a database downloaded from the page
mid-import opens in `csv-import`, which lists its runs and continues the page's run from its committed
cursor when the file is supplied again (`retry RUN --file`), ending with every row of the source once.

The reverse (a database made by the command line opened and continued in the page) is
tests/browser/test_open_database.py.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from playwright.sync_api import Page

from tests.browser.support import batch_rows, call, set_test_hooks, wait_for_run
from tests.cli.support import checksum, query
from tests.cli.support import run as csv_import
from tests.cli.test_resume import generate
from tests.ui.pages import go, open_app, start_import

ROWS = 20_000
HOLD_AT = 3_000


def source_rows(path: Path) -> tuple[tuple[int, int], int]:
    """(count, checksum) of the source's 4-field rows as (int id, name, email, amount text), and how many rows
    have another field count (the rejects), read with the csv module."""
    valid, other = [], 0
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            if len(row) == 4:
                valid.append((int(row[0]), row[1], row[2], row[3]))
            else:
                other += 1
    return checksum(valid), other


def test_a_database_downloaded_mid_import_is_continued_by_the_command_line(page: Page, base_url: str,
                                                                           tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    generate(source, ROWS, seed=21)  # ~0.7% amounts that are not numbers (the column is text), ~0.3% 5 fields
    (want, rejects) = source_rows(source)
    set_test_hooks(page, {"max_batch_rows": 1_000, "hold_at_rows": [HOLD_AT]})
    open_app(page, base_url)
    start_import(page, source)
    run_id = ""
    while not run_id:
        runs = call(page, "runs.list", limit=5)["runs"]
        run_id = runs[0]["id"] if runs else ""
    wait_for_run(page, run_id, lambda run, steps: bool(batch_rows(steps)) and batch_rows(steps)[-1] >= HOLD_AT)
    go(page, "data")
    with page.expect_download() as download:
        page.click("#download-db")
    db = tmp_path / "page.sqlite"
    download.value.save_as(db)
    assert query(db, "SELECT status FROM durable_runs WHERE id = ?", (run_id,)) == [("running",)]
    page_steps = query(db, "SELECT name, finished_at FROM durable_steps WHERE run_id = ?", (run_id,))
    assert any(name.startswith("batch-") for name, _ in page_steps)

    listed = csv_import("runs", "--db", db, "--json")
    assert listed.returncode == 0, listed.stderr
    (entry,) = json.loads(listed.stdout)
    assert (entry["run_id"], entry["status"], entry["file"]) == (run_id, "running", "people.csv")

    without = csv_import("retry", run_id, "--db", db)
    assert without.returncode == 3
    assert without.stderr.strip() == (f"csv-import: Run {run_id} was staged in the page; give the same file "
                                       "again with --file PATH.")
    continued = csv_import("retry", run_id[:10], "--db", db, "--file", source, "--json")
    assert continued.returncode == 0, continued.stderr
    summary = json.loads(continued.stdout)
    assert (summary["status"], summary["rows_accepted"], summary["rows_rejected"]) == ("completed", want[0], rejects)
    table = summary["table"]
    assert checksum(query(db, f'SELECT id, name, email, amount FROM "{table}"')) == want
    steps = query(db, "SELECT name, finished_at FROM durable_steps WHERE run_id = ?", (run_id,))
    assert set(page_steps) < set(steps)  # the page's steps were replayed as they were, not run again
    assert query(db, "SELECT count(*) FROM importer_rejects WHERE run_id = ?", (run_id,)) == [(rejects,)]
