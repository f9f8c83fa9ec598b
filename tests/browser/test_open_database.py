"""A database made by the command line, opened and continued in the page (issue 11 item 4, the reverse of
tests/browser/test_cli_interchange.py): `csv-import` (this tree's code) imports one file completely and is
SIGKILLed at a hold point in a second; the Storage panel's "Open a database file…" checks the file, asks,
and swaps it in; the run history lists both runs, the completed table browses with the source's values, and
the run the command line left unfinished asks for its file, resumes from the command line's committed cursor
once it is picked again, and ends with exactly the source's rows and each reject once. Files the page cannot
use (not SQLite, an unrelated SQLite database, a truncated copy) are refused with their sentences, and one the
user decides not to open is dropped; the page's own data stays as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from tests.browser.support import call, wait_for_state
from tests.cli.support import checksum, query
from tests.cli.test_resume import generate
from tests.ui.pages import assert_accessible, go, open_app, preview, start_import, wait_for_run, write_csv
from tests.worker.test_open_database import cli, cli_killed_at, source_rows, truncated, unrelated

ROWS = 6_000
HOLD_AT = 2_000
STATUS = "[data-testid=open-db-status]"


def cli_database(folder: Path) -> dict[str, Path]:
    """out.sqlite made by csv-import: done.csv completed (table done), held.csv killed after HOLD_AT rows."""
    done, held, db = folder / "done.csv", folder / "held.csv", folder / "out.sqlite"
    generate(done, 700, seed=31)
    generate(held, ROWS, seed=32)
    finished = cli(done, "--db", db, "--table", "done", "--type", "amount=text", "--json")
    assert finished.returncode == 0, finished.stderr
    cli_killed_at(held, db, HOLD_AT, "--table", "held", "--type", "amount=text")
    assert query(db, "SELECT status FROM durable_runs ORDER BY seq") == [("completed",), ("running",)]
    return {"db": db, "done": done, "held": held}


def table_rows(page: Page, table: str) -> list[tuple[Any, ...]]:
    """Every row of `table`, paged through the data browser's own method (tables.rows)."""
    got: list[tuple[Any, ...]] = []
    while True:
        result = call(page, "tables.rows", table=table, limit=1000, offset=len(got), order_by="id")
        got += [tuple(r) for r in result["rows"]]
        if len(result["rows"]) < 1000:
            return got


def pick_database(page: Page, path: Path) -> None:
    go(page, "storage")
    page.set_input_files("[data-testid=open-db-input]", str(path))


def test_a_database_made_by_the_command_line_is_opened_listed_browsed_and_continued(
        page: Page, base_url: str, tmp_path: Path) -> None:
    made = cli_database(tmp_path)
    open_app(page, base_url)
    start_import(page, write_csv(tmp_path, "mine.csv", ["id", "v"], [[1, "a"], [2, "b"]]))
    wait_for_run(page, "completed")
    other = page.context.new_page()  # a second tab: it follows this one's engine
    other.goto(base_url + "#runs")
    wait_for_state(other, "follower")

    pick_database(page, made["db"])
    page.wait_for_selector("#confirm[open]", timeout=60_000)
    text = page.text_content("#confirm-text") or ""
    assert page.text_content("#confirm-title") == "Open 'out.sqlite'?"
    assert text.startswith("It holds 2 runs and 2 tables, 1 of them left unfinished"), text
    assert "replaces the database in this browser (1 run), which is kept as a backup" in text, text
    assert [r["labels"]["file"] for r in call(page, "runs.list")["runs"]] == ["mine.csv"]  # nothing changed yet
    page.click("#confirm-yes")
    page.wait_for_selector(f"{STATUS}[data-state=opened]", timeout=60_000)
    assert page.text_content(STATUS) == ("Opened 'out.sqlite': 2 runs and 2 tables. The database it replaced is "
                                         "kept as a backup.")
    # shown once the storage view has heard of the backup (its own request after the swap): wait for it, as a
    # user would see it appear; `is_visible()` right after the status read it before that reply on a busy machine
    page.wait_for_selector("[data-testid=restore-db]", state="visible", timeout=30_000)

    go(page, "runs")
    page.wait_for_function("""() => { const rows = [...document.querySelectorAll('[data-testid=run-row]')];
        return rows.length === 2 && rows.some((r) => r.textContent.includes('done.csv'))
            && rows.some((r) => r.textContent.includes('held.csv')); }""", timeout=30_000)
    other.wait_for_function("""() => [...document.querySelectorAll('[data-testid=run-row]')]
        .some((r) => r.textContent.includes('held.csv'))""", timeout=30_000)  # the other tab heard it
    runs = {r["labels"]["file"]: r for r in call(page, "runs.list")["runs"]}
    assert runs["done.csv"]["status"] == "completed"
    held = runs["held.csv"]
    assert held["status"] == "failed"

    go(page, "data")
    page.goto(base_url + "#data=done")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=data-row]').length === 50")
    done_want, done_rejects = source_rows(made["done"])
    assert checksum(table_rows(page, "done")) == done_want
    assert runs["done.csv"]["output"]["rows_rejected"] == done_rejects

    page.goto(base_url + f"#run={held['id']}")
    page.wait_for_selector("#run-error:not([hidden])")
    assert "pick 'held.csv' again under Import and choose 'Resume it with this file'" in \
        (page.text_content("#run-error") or "")
    cursor = {s["name"]: s["finished_at"] for s in call(page, "runs.steps", run_id=held["id"])
              if s["name"].startswith("batch-") and s["status"] == "completed"}
    assert cursor, "the command line committed batches before it was killed"

    go(page, "import")
    preview(page, made["held"])
    page.locator("[data-testid=resume-import]").click(timeout=60_000)
    page.wait_for_function("() => document.querySelector('#preview-status').textContent.startsWith('Import resumed')",
                           timeout=120_000)  # the file was copied here and checked against the run's sha256
    for _ in range(1200):
        run = call(page, "runs.get", run_id=held["id"])
        if run["status"] in ("completed", "failed"):
            break
        page.wait_for_timeout(100)
    assert run["status"] == "completed", run["error"]
    want, rejects = source_rows(made["held"])
    assert checksum(table_rows(page, "held")) == want
    assert (run["output"]["rows_accepted"], run["output"]["rows_rejected"]) == (want[0], rejects)
    counted = call(page, "sql.query", sql="SELECT count(*), count(DISTINCT row_number) FROM importer_rejects "
                                          f"WHERE run_id = '{held['id']}'")["rows"]
    assert counted == [[rejects, rejects]]
    steps = {s["name"]: s["finished_at"] for s in call(page, "runs.steps", run_id=held["id"])}
    assert {name: steps[name] for name in cursor} == cursor  # the command line's batches were kept, not redone
    assert len([n for n in steps if n.startswith("batch-")]) > len(cursor)
    other.close()


def test_files_the_page_cannot_use_are_refused_and_its_data_stays(
        page: Page, base_url: str, tmp_path: Path) -> None:
    made = cli_database(tmp_path)
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    (hostile / "people.sqlite").write_text("id,name\n1,Ada\n" * 50, encoding="utf-8")
    unrelated(hostile / "notes.sqlite")
    truncated(made["db"], hostile / "cut.sqlite")
    sentences = {
        "people.sqlite": "'people.sqlite' is not a SQLite database (it does not start with SQLite's header): pick "
                         "the .sqlite file that the page or csv-import saved.",
        "notes.sqlite": "'notes.sqlite' is a SQLite database, but not one this app or csv-import made (it has no "
                        "import history): open it with sqlite3 or Datasette instead.",
        "cut.sqlite": "'cut.sqlite' is cut short or damaged: its header says ",
    }
    open_app(page, base_url)
    start_import(page, write_csv(tmp_path, "mine.csv", ["id", "v"], [[1, "a"], [2, "b"]]))
    wait_for_run(page, "completed")
    before = call(page, "runs.list")["runs"]
    for name, sentence in sentences.items():
        pick_database(page, hostile / name)
        page.wait_for_selector(f"{STATUS}[data-state=refused]", timeout=60_000)
        assert (page.text_content(STATUS) or "").startswith(sentence), page.text_content(STATUS)
        assert not page.locator("#confirm[open]").count(), "a refused file asks nothing"
        if name == "people.sqlite":
            assert_accessible(page, "the storage panel with a refused file")
        assert call(page, "runs.list")["runs"] == before
        assert call(page, "sql.query", sql='SELECT id, v FROM "mine" ORDER BY id')["rows"] == [[1, "a"], [2, "b"]]
        assert call(page, "storage.previous")["exists"] is False
        page.evaluate("() => document.querySelector('[data-testid=open-db-status]').removeAttribute('data-state')")
    pick_database(page, made["db"])  # a file that can be opened, but the user keeps the current database
    page.wait_for_selector("#confirm[open]", timeout=60_000)
    page.click("#confirm-no")
    page.wait_for_selector(f"{STATUS}[data-state=cancelled]")
    assert page.text_content(STATUS) == "'out.sqlite' was not opened; nothing changed."
    assert call(page, "runs.list")["runs"] == before
    go(page, "data")
    with page.expect_download() as download:
        page.click("#download-db")
    saved = tmp_path / "after.sqlite"
    download.value.save_as(saved)
    assert query(saved, "PRAGMA integrity_check") == [("ok",)]
    assert query(saved, "SELECT id, v FROM mine ORDER BY id") == [(1, "a"), (2, "b")]
