"""Opening a database file in place of the worker's own (storage.inspect / storage.open / storage.restore), on
CPython through the worker's messages: files this build cannot use are refused with their sentence and the
current data stays; a database `csv-import` made is swapped in with the current one kept as a backup; a run the
command line left unfinished fails asking for its file until the same file is picked again, then resumes from
the command line's cursor to exactly the source's rows (and so does a page's run whose staged copy stayed in the
browser the database was downloaded from); a swap cut short by a kill is finished at the next start.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from durable.migrations import LATEST
from tests.cli.support import ROOT, checksum, command
from tests.cli.test_resume import generate
from tests.worker.fakes import Client, FakePlatform, MemoryByteSource, Tabs
from worker.app import WorkerApp
from worker.hooks import TestHooks
from worker.swap import BACKUP_NAME, MARKER_NAME

ROWS = 3_000
HOLD_AT = 1_000


def cli_env(hooks: dict[str, Any] | None = None) -> dict[str, str]:
    """This tree's code for the installed command (its editable install points at the lead's tree)."""
    environ = {k: v for k, v in os.environ.items() if k != "CSV_IMPORT_TEST_HOOKS"}
    environ["PYTHONPATH"] = str(ROOT / "py")
    if hooks is not None:
        environ["CSV_IMPORT_TEST_HOOKS"] = json.dumps(hooks)
    return environ


def cli(*args: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([command(), *map(str, args)], capture_output=True, text=True, env=cli_env(),
                          timeout=300, check=False)


def cli_killed_at(source: Path, db: Path, hold_at: int, *flags: str) -> None:
    """Run the command until it holds after the batch crossing `hold_at` rows, then SIGKILL it."""
    proc = subprocess.Popen([command(), str(source), "--db", str(db), *flags], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=cli_env({"max_batch_rows": 200,
                                                                             "hold_at_rows": [hold_at]}))
    assert proc.stderr is not None
    for line in proc.stderr:
        if " held after row " in line:
            break
    else:
        raise AssertionError(f"the command ended without holding (exit {proc.wait()})")
    proc.kill()
    proc.wait()


def source_rows(path: Path) -> tuple[tuple[int, int], int]:
    """(count, checksum) of the 4-field rows as (id, name, email, amount text), and how many rows are not."""
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


def picked(path: Path, name: str | None = None) -> MemoryByteSource:
    return MemoryByteSource(name or path.name, path.read_bytes())


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A database made by csv-import: `done.csv` imported completely, `held.csv` killed after HOLD_AT rows;
    both files then moved away from the paths the command line recorded."""
    folder = tmp_path_factory.mktemp("cli")
    done, held, db = folder / "done.csv", folder / "held.csv", folder / "made-by-cli.sqlite"
    generate(done, 500, seed=3)
    generate(held, ROWS, seed=4)
    finished = cli(done, "--db", db, "--table", "done", "--type", "amount=text", "--json")
    assert finished.returncode == 0, finished.stderr
    cli_killed_at(held, db, HOLD_AT, "--table", "held", "--type", "amount=text")
    away = folder / "elsewhere"  # as in a browser, the paths the command line read are not there
    away.mkdir()
    return {"db": db, "done": done.rename(away / done.name), "held": held.rename(away / held.name)}


async def import_here(client: Client, name: str, data: bytes) -> str:
    preview = await client.ok("file.preview", MemoryByteSource(name, data))
    started = await client.ok("import.start", source_id=preview["source_id"], options=preview["sniff"]["options"])
    run = await client.wait_for_status(started["run_id"], "completed", "failed")
    assert run["status"] == "completed", run
    return str(started["run_id"])


async def open_file(client: Client, file: MemoryByteSource) -> dict[str, Any]:
    checked = await client.ok("storage.inspect", file)
    return {**checked, **await client.ok("storage.open", token=checked["token"])}


async def test_a_database_made_by_the_command_line_is_opened_and_the_current_one_kept(
        client: Client, cli_db: dict[str, Path], tmp_path: Path) -> None:
    mine = await import_here(client, "mine.csv", b"id,v\n1,a\n2,b\n")
    declined = await client.ok("storage.inspect", picked(cli_db["db"]))
    assert os.path.exists(tmp_path / f"opening-{declined['token']}.sqlite")
    await client.ok("storage.discard", token=declined["token"])  # the user said no
    assert not os.path.exists(tmp_path / f"opening-{declined['token']}.sqlite")
    checked = await client.ok("storage.inspect", picked(cli_db["db"]))
    assert (checked["runs"], checked["unfinished"], checked["tables"], checked["current_runs"]) == (2, 1,
                                                                                                    ["done", "held"], 1)
    assert [r["id"] for r in (await client.ok("runs.list"))["runs"]] == [mine]  # nothing changed yet
    assert (await client.ok("storage.previous"))["exists"] is False
    await client.ok("storage.open", token=checked["token"])
    assert client.platform.events("storage:replaced")[-1]["data"] == {"runs": 2, "tables": 2}
    states = [e["data"]["state"] for e in client.platform.events("engine:status")]
    assert states[-2:] == ["booting", "ready"]

    runs = {r["labels"]["file"]: r for r in (await client.ok("runs.list"))["runs"]}
    assert set(runs) == {"done.csv", "held.csv"}
    assert runs["done.csv"]["status"] == "completed"
    rows = (await client.ok("sql.query", sql='SELECT id, name, email, amount FROM "done"', limit=1000))["rows"]
    want, _ = source_rows(cli_db["done"])
    assert checksum(tuple(r) for r in rows) == want
    assert not [n for n in os.listdir(tmp_path) if n.startswith("opening-")]  # the checked copy is gone

    assert (await client.ok("storage.previous"))["exists"] is True
    await client.ok("storage.restore")
    assert [r["id"] for r in (await client.ok("runs.list"))["runs"]] == [mine]
    await client.ok("storage.restore")  # and back again: the restore kept the CLI's database as the backup
    assert {r["labels"]["file"] for r in (await client.ok("runs.list"))["runs"]} == {"done.csv", "held.csv"}


async def test_a_command_line_run_left_unfinished_resumes_once_its_file_is_picked_again(
        client: Client, cli_db: dict[str, Path], tmp_path: Path) -> None:
    await open_file(client, picked(cli_db["db"]))
    (run,) = (await client.ok("runs.list", status="failed"))["runs"]
    assert run["labels"]["file"] == "held.csv"
    assert run["error"]["message"].startswith("This import was started by csv-import, which read 'held.csv' where")
    steps = await client.ok("runs.steps", run_id=run["id"])
    committed = [s["name"] for s in steps if s["name"].startswith("batch-") and s["status"] == "completed"]
    assert committed, steps

    refused = await client.call("runs.retry", run_id=run["id"])
    assert refused["error"]["code"] == "needs-file" and "pick 'held.csv' again" in refused["error"]["message"]
    other = await client.ok("file.preview", picked(cli_db["done"], "held.csv"))
    wrong = await client.call("import.resume", source_id=other["source_id"], run_id=run["id"])
    assert wrong["error"]["code"] == "conflict" and "content differs" in wrong["error"]["message"]

    again = await client.ok("file.preview", picked(cli_db["held"]))
    await client.ok("import.resume", source_id=again["source_id"], run_id=run["id"])
    done = await client.wait_for_status(run["id"], "completed", "failed")
    assert done["status"] == "completed", done
    want, rejects = source_rows(cli_db["held"])
    rows = (await client.ok("sql.query", sql='SELECT id, name, email, amount FROM "held"', limit=5000))["rows"]
    assert checksum(tuple(r) for r in rows) == want
    assert (done["output"]["rows_accepted"], done["output"]["rows_rejected"]) == (want[0], rejects)
    counted = await client.ok("sql.query", sql="SELECT count(*), count(DISTINCT row_number) FROM importer_rejects "
                                               f"WHERE run_id = '{run['id']}'")
    assert counted["rows"] == [[rejects, rejects]]
    after = [s["name"] for s in await client.ok("runs.steps", run_id=run["id"])]
    assert after[:len(committed) + 2] == [s["name"] for s in steps][:len(committed) + 2]  # replayed, not redone
    assert os.path.exists(tmp_path / f"staged-cli-{run['id']}.csv")
    await client.ok("runs.delete", run_id=run["id"])
    assert not os.path.exists(tmp_path / f"staged-cli-{run['id']}.csv")


def unrelated(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany("INSERT INTO notes (body) VALUES (?)", [("x" * 500,)] * 200)
    conn.commit()
    conn.close()


def altered(source: Path, path: Path, *sql: str) -> None:
    shutil.copy(source, path)
    conn = sqlite3.connect(path)
    for statement in sql:
        conn.execute(statement)
    conn.commit()
    conn.close()


def truncated(source: Path, path: Path) -> None:
    data = source.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def wal(source: Path, path: Path) -> None:
    shutil.copy(source, path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()


def hot_journal(source: Path, path: Path) -> None:
    """The journal a process killed inside a write leaves beside its database (copied before it is rolled back)."""
    shutil.copy(source, path.parent / "out.sqlite")
    code = ("import os, sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
            "c.execute('PRAGMA journal_mode=TRUNCATE'); c.execute('CREATE TABLE big (a)'); "
            "c.executemany('INSERT INTO big VALUES (?)', [('x' * 300,)] * 3000); c.execute('PRAGMA cache_size=1'); "
            "c.execute('BEGIN'); c.execute('UPDATE big SET a = a || randomblob(100)'); os._exit(9)")
    subprocess.run([sys.executable, "-c", code, str(path.parent / "out.sqlite")], check=False)
    assert path.stat().st_size > 0, "the killed write left its journal"


def damaged(source: Path, path: Path) -> None:
    data = bytearray(source.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    for at in range(page, len(data), page):  # every page after the first: b-tree headers become nonsense
        data[at:at + 12] = b"\xff" * 12
    path.write_bytes(bytes(data))


HOSTILE = [
    ("notes.sqlite", lambda src, p: p.write_bytes(b"id,name\n1,Ada\n" * 20),
     "'notes.sqlite' is not a SQLite database (it does not start with SQLite's header): pick the .sqlite file "
     "that the page or csv-import saved."),
    ("out.sqlite-journal", lambda src, p: hot_journal(src, p),
     "'out.sqlite-journal' is a SQLite journal, not a database: it holds a write that was never finished."),
    ("empty.sqlite", lambda src, p: p.write_bytes(b""),
     "'empty.sqlite' is empty: pick the .sqlite file that the page or csv-import saved."),
    ("other.db", lambda src, p: unrelated(p),
     "'other.db' is a SQLite database, but not one this app or csv-import made (it has no import history): open "
     "it with sqlite3 or Datasette instead."),
    ("cut.sqlite", truncated, "'cut.sqlite' is cut short or damaged: its header says "),
    ("wal.sqlite", wal, "'wal.sqlite' is in WAL mode, so its latest changes may be in a '-wal' file beside it"),
    ("bad.sqlite", damaged, "'bad.sqlite' is damaged"),
    ("newer.sqlite", lambda src, p: altered(src, p, "INSERT INTO durable_schema_version VALUES "
                                                    f"({LATEST + 1}, '2030-01-01')"),
     f"'newer.sqlite' was made by a newer version of this app (database schema {LATEST + 1}; this page reads up "
     f"to {LATEST}): reload the page to update it, then pick the file again."),
    ("jobs.sqlite", lambda src, p: altered(src, p, "UPDATE durable_runs SET job = 'mine<script>'"),
     "'jobs.sqlite' holds runs of jobs this version does not know (mine<script>): it was made by another "
     "version of this app; update the page, or continue it where it was made."),
    ("cols.sqlite", lambda src, p: altered(src, p, "DROP TABLE importer_rejects",
                                           "CREATE TABLE importer_rejects (run_id TEXT, line INTEGER)"),
     "'cols.sqlite' has an importer table of another version (importer_rejects lacks raw, reasons, row_number): "
     "it was made by another version of this app."),
]


@pytest.mark.parametrize(("name", "make", "sentence"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_a_file_this_build_cannot_use_is_refused_and_the_current_data_stays(
        client: Client, cli_db: dict[str, Path], tmp_path: Path, name: str, make: Any, sentence: str) -> None:
    mine = await import_here(client, "mine.csv", b"id,v\n1,a\n2,b\n")
    before = Path(client.app.db_path).read_bytes()
    bad = tmp_path / "hostile" / name
    bad.parent.mkdir()
    make(cli_db["db"], bad)
    reply = await client.call("storage.inspect", picked(bad))
    assert reply["error"]["code"] == "invalid", reply
    assert reply["error"]["message"].startswith(sentence), reply["error"]["message"]
    assert Path(client.app.db_path).read_bytes() == before
    assert [r["id"] for r in (await client.ok("runs.list"))["runs"]] == [mine]
    assert (await client.ok("sql.query", sql='SELECT v FROM "mine"'))["rows"] == [["a"], ["b"]]
    assert not [n for n in os.listdir(tmp_path) if n.startswith("opening-")]
    assert (await client.ok("storage.previous"))["exists"] is False


async def test_opening_is_refused_while_a_run_is_running(cli_db: dict[str, Path], tmp_path: Path) -> None:
    platform = FakePlatform(tmp_path)
    app = WorkerApp(platform, TestHooks.model_validate({"max_batch_rows": 100, "hold_at_rows": [200]}))
    await app.lead(str(tmp_path / "app.sqlite"))
    client = Client(app, platform)
    try:
        preview = await client.ok("file.preview", picked(cli_db["held"]))
        started = await client.ok("import.start", source_id=preview["source_id"],
                                  options=preview["sniff"]["options"])
        await client.wait_for_status(started["run_id"], "running")
        checked = await client.ok("storage.inspect", picked(cli_db["db"]))
        refused = await client.call("storage.open", token=checked["token"])
        assert refused["error"] == {"code": "conflict", "message": "1 run(s) still pending or running: wait for "
                                    "them to end or cancel them, then open a database file."}
        assert [r["id"] for r in (await client.ok("runs.list"))["runs"]] == [started["run_id"]]
    finally:
        await app.engine.stop()


async def test_a_tab_that_follows_opens_a_database_file_and_every_tab_hears_it(
        cli_db: dict[str, Path], tmp_path: Path) -> None:
    tabs = Tabs()
    leader, leader_platform = tabs.open("a", WorkerApp, tmp_path)
    follower, follower_platform = tabs.open("b", WorkerApp, tmp_path)
    await leader.lead(str(tmp_path / "app.sqlite"))
    follower.follow()
    try:
        page = Client(follower, follower_platform)
        opened = await open_file(page, picked(cli_db["db"]))  # forwarded to the leader, the file too
        assert (opened["runs"], opened["backup"]) == (2, True)
        for platform in (leader_platform, follower_platform):
            assert platform.events("storage:replaced")[-1]["data"] == {"runs": 2, "tables": 2}
        states = [e["data"]["state"] for e in follower_platform.events("engine:status")]
        assert states[-2:] == ["booting", "follower"], states  # its page refreshes as the engine is ready again
        again = await page.ok("storage.inspect", picked(cli_db["db"]))
        estimate = leader_platform.estimate

        async def answered_later() -> dict[str, int]:  # as the browser's: both clicks get past the first await
            await asyncio.sleep(0)
            return await estimate()

        leader_platform.estimate = answered_later  # type: ignore[method-assign]
        for request_id in (901, 902):  # a double click: one opens, the other is told the engine is busy
            leader.receive(json.dumps({"id": request_id, "method": "storage.open",
                                       "params": {"token": again["token"]}}))
        for _ in range(2000):
            replies = sorted((r for r in leader_platform.replies() if r["id"] in (901, 902)), key=lambda r: r["ok"])
            if len(replies) == 2:
                break
            await asyncio.sleep(0.001)
        assert [r["ok"] for r in replies] == [False, True], replies
        assert replies[0]["error"]["code"] == "not-ready", replies
    finally:
        await leader.engine.stop()


async def test_a_swap_cut_short_by_a_kill_is_finished_and_stale_picks_removed_when_the_worker_starts(
        cli_db: dict[str, Path], tmp_path: Path) -> None:
    db = tmp_path / "app.sqlite"
    shutil.copy(cli_db["db"], tmp_path / "opening-0123.sqlite")
    db.write_bytes(cli_db["db"].read_bytes()[:8192])  # the copy over the database was cut short
    (tmp_path / MARKER_NAME).write_text("opening-0123.sqlite")
    (tmp_path / "opening-4567.sqlite").write_bytes(b"picked, checked, never confirmed")
    platform = FakePlatform(tmp_path)
    app = WorkerApp(platform)
    await app.lead(str(db))
    try:
        assert app.state == "ready", platform.events("engine:status")[-1]
        runs = (await Client(app, platform).ok("runs.list"))["runs"]
        assert {r["labels"]["file"] for r in runs} == {"done.csv", "held.csv"}
        assert not (tmp_path / MARKER_NAME).exists() and not (tmp_path / "opening-0123.sqlite").exists()
        assert not (tmp_path / BACKUP_NAME).exists()
        assert not (tmp_path / "opening-4567.sqlite").exists()
    finally:
        await app.engine.stop()


async def test_a_page_database_opened_in_another_browser_continues_its_run_once_the_file_is_picked_again(
        cli_db: dict[str, Path], tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    made = FakePlatform(first)
    app = WorkerApp(made, TestHooks.model_validate({"max_batch_rows": 100, "hold_at_rows": [1_000]}))
    await app.lead(str(first / "app.sqlite"))
    maker = Client(app, made)
    preview = await maker.ok("file.preview", picked(cli_db["held"]))
    started = await maker.ok("import.start", source_id=preview["source_id"], options=preview["sniff"]["options"])
    run_id = started["run_id"]
    for _ in range(500):  # held after the batch crossing row 1,000: the download is taken mid-import
        steps = await maker.ok("runs.steps", run_id=run_id)
        if sum(s["name"].startswith("batch-") for s in steps) >= 10:
            break
    else:
        raise AssertionError("the import did not reach its hold point")
    downloaded = await maker.call("export.database")
    await app.engine.stop()
    for staged in [*first.glob("staged-*.csv"), *first.glob("ahead-*.csv")]:
        staged.unlink()  # the other browser's storage has not got the first one's staged copies

    platform = FakePlatform(second)
    other = WorkerApp(platform)
    await other.lead(str(second / "app.sqlite"))
    client = Client(other, platform)
    try:
        await open_file(client, MemoryByteSource("importer.sqlite", downloaded["blob"]))
        run = await client.ok("runs.get", run_id=run_id)
        assert run["status"] == "failed"
        assert run["error"]["message"] == ("This import's copy of 'held.csv' is not in this browser (its database "
                                           "was opened from a file): pick 'held.csv' again under Import and choose "
                                           "'Resume it with this file' to continue it here.")
        assert (await client.call("runs.retry", run_id=run_id))["error"]["code"] == "needs-file"
        again = await client.ok("file.preview", picked(cli_db["held"]))
        await client.ok("import.resume", source_id=again["source_id"], run_id=run_id)
        done = await client.wait_for_status(run_id, "completed", "failed")
        assert done["status"] == "completed", done
        want, rejects = source_rows(cli_db["held"])
        table = done["output"]["table"]
        rows = (await client.ok("sql.query", sql=f'SELECT id, name, email, amount FROM "{table}"', limit=5000))["rows"]
        assert checksum(tuple(r) for r in rows) == want
        assert done["output"]["rows_rejected"] == rejects
    finally:
        await other.engine.stop()


async def test_a_file_the_engine_cannot_start_on_is_put_back_and_the_current_data_stays(
        client: Client, cli_db: dict[str, Path], tmp_path: Path) -> None:
    mine = await import_here(client, "mine.csv", b"id,v\n1,a\n2,b\n")
    broken = tmp_path / "hostile" / "nolease.sqlite"
    broken.parent.mkdir()
    altered(cli_db["db"], broken, "DROP TABLE durable_lease")  # passes the checks; the engine needs its lease
    checked = await client.ok("storage.inspect", picked(broken))
    reply = await client.call("storage.open", token=checked["token"], name="nolease.sqlite")
    assert reply["error"]["code"] == "invalid", reply
    assert reply["error"]["message"].startswith("'nolease.sqlite' was not opened: the engine could not start on "
                                                "it (no such table: durable_lease")
    assert reply["error"]["message"].endswith("The database you had is back in place; nothing changed.")
    assert client.app.state == "ready"
    assert [r["id"] for r in (await client.ok("runs.list"))["runs"]] == [mine]
    assert (await client.ok("sql.query", sql='SELECT v FROM "mine"'))["rows"] == [["a"], ["b"]]
    assert client.platform.events("engine:status")[-1]["data"]["state"] == "ready"

