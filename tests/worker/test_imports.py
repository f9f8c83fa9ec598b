"""Import methods on CPython: preview a picked file, start, finish, recognise a duplicate, delete."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.worker.fakes import Client, FakePlatform, MemoryByteSource
from worker.app import WorkerApp
from worker.hooks import TestHooks

CSV = b"id,name,amount\n1,Ada,3.5\n2,Grace,x\n3,Linus,7\n"


async def test_preview_reports_detected_settings_and_columns(client: Client) -> None:
    result = await client.ok("file.preview", MemoryByteSource("people.csv", CSV))
    assert result["name"] == "people.csv" and result["size"] == len(CSV)
    sniffed = result["sniff"]
    assert sniffed["delimiter"]["value"] == ","
    assert sniffed["has_header"]["value"] is True
    assert [c["name"] for c in sniffed["columns"]] == ["id", "name", "amount"]
    assert sniffed["options"]["table"] == "people"


async def test_preview_of_an_empty_file_is_a_specific_invalid_error(client: Client) -> None:
    reply = await client.call("file.preview", MemoryByteSource("empty.csv", b""))
    assert reply["error"]["code"] == "invalid"
    assert "empty" in reply["error"]["message"].lower()


async def test_import_runs_to_completion_and_a_duplicate_returns_the_earlier_run(client: Client) -> None:
    preview = await client.ok("file.preview", MemoryByteSource("people.csv", CSV))
    options = preview["sniff"]["options"]
    started = await client.ok("import.start", source_id=preview["source_id"], options=options)
    assert started["created"] is True
    run = await client.wait_for_status(started["run_id"], "completed", "failed")
    assert run["status"] == "completed", run
    assert run["output"]["rows_accepted"] + run["output"]["rows_rejected"] == 3
    assert run["labels"]["file"] == "people.csv"
    assert run["progress"]["data"]["rows_done"] == 3 and run["progress"]["message"].startswith("Importing")
    progress_events = client.platform.events("run:progress")
    assert progress_events and all(e["data"]["data"]["phase"] in ("staging", "importing") for e in progress_events)

    again = await client.ok("import.start", source_id=preview["source_id"], options=options)
    assert again == {"run_id": started["run_id"], "created": False}
    earlier = await client.ok("file.earlier_imports", source_id=preview["source_id"])
    assert [r["id"] for r in earlier["runs"]] == [started["run_id"]]
    forced = await client.ok("import.start", source_id=preview["source_id"], options={**options, "table": "people2"},
                             force=True)
    assert forced["created"] is True and forced["run_id"] != started["run_id"]


async def test_deleting_a_finished_import_removes_its_staged_copy(client: Client, tmp_path: Path) -> None:
    preview = await client.ok("file.preview", MemoryByteSource("people.csv", CSV))
    started = await client.ok("import.start", source_id=preview["source_id"], options=preview["sniff"]["options"])
    run = await client.wait_for_status(started["run_id"], "completed")
    staged = Path(run["input"]["staged_path"])
    assert staged.exists()
    assert await client.ok("runs.delete", run_id=run["id"]) == {}
    assert not staged.exists()
    assert (await client.call("runs.get", run_id=run["id"]))["error"]["code"] == "not-found"


async def test_tables_rows_rejects_and_exports_after_an_import(client: Client) -> None:
    data = b"id,name\n1,=HYPERLINK(\"x\")\n2,<img src=x onerror=alert(1)>\nthree,bad\n"
    preview = await client.ok("file.preview", MemoryByteSource("hostile.csv", data))
    options = preview["sniff"]["options"]
    options["columns"][0]["type"] = "integer"
    started = await client.ok("import.start", source_id=preview["source_id"], options=options)
    run = await client.wait_for_status(started["run_id"], "completed")
    tables = await client.ok("tables.list")
    assert tables == [{"name": "hostile", "columns": ["id", "name"], "rows": 2}]
    page = await client.ok("tables.rows", table="hostile", order_by="id", descending=True, limit=1)
    assert page == {"columns": ["id", "name"], "rows": [[2, "<img src=x onerror=alert(1)>"]], "total": 2}
    filtered = await client.ok("tables.rows", table="hostile", filter="HYPER")
    assert filtered["total"] == 1
    assert (await client.call("tables.rows", table="nope"))["error"]["code"] == "not-found"
    assert (await client.call("tables.rows", table="hostile", order_by="x"))["error"]["code"] == "not-found"

    rejects = await client.ok("runs.rejects", run_id=run["id"])
    assert rejects["total"] == 1
    assert rejects["rows"][0]["row_number"] == 4 and rejects["rows"][0]["values"] == ["three", "bad"]

    reply = await client.call("export.table", table="hostile")
    assert reply["result"]["name"] == "hostile.csv"
    assert b"'=HYPERLINK" in reply["blob"]
    errors = await client.call("export.errors", run_id=run["id"])
    assert errors["result"]["name"] == "hostile-errors.csv" and b"three" in errors["blob"]
    database = await client.call("export.database")
    assert database["blob"].startswith(b"SQLite format 3\x00")


async def test_clearing_storage_deletes_runs_tables_and_staged_copies(client: Client) -> None:
    preview = await client.ok("file.preview", MemoryByteSource("people.csv", CSV))
    started = await client.ok("import.start", source_id=preview["source_id"], options=preview["sniff"]["options"])
    run = await client.wait_for_status(started["run_id"], "completed")
    assert await client.ok("storage.clear") == {}
    assert await client.ok("tables.list") == []
    assert (await client.ok("runs.list"))["total"] == 0
    assert not Path(run["input"]["staged_path"]).exists()
    assert client.platform.events("storage:cleared") and client.platform.events("run:delete")


async def test_sql_query_reads_but_never_writes(client: Client) -> None:
    preview = await client.ok("file.preview", MemoryByteSource("people.csv", CSV))
    started = await client.ok("import.start", source_id=preview["source_id"], options=preview["sniff"]["options"])
    await client.wait_for_status(started["run_id"], "completed")
    result = await client.ok("sql.query", sql="SELECT count(*) AS n FROM people WHERE id > ?", params=[2])
    assert result == {"columns": ["n"], "rows": [[1]], "truncated": False}
    before = (await client.ok("sql.query", sql="SELECT count(*) FROM people"))["rows"]
    assert (await client.ok("sql.query", sql="SELECT id FROM people", limit=1))["truncated"] is True
    for statement in ("DELETE FROM people", "DROP TABLE people", "ATTACH 'x.db' AS x", "PRAGMA journal_mode=OFF",
                      "INSERT INTO people (id) VALUES (9)", "SELECT 1; DELETE FROM people"):
        reply = await client.call("sql.query", sql=statement)
        assert reply["error"]["code"] == "invalid", statement
    assert (await client.ok("sql.query", sql="SELECT count(*) FROM people"))["rows"] == before


async def test_an_import_that_cannot_fit_is_refused_before_staging(client: Client) -> None:
    preview = await client.ok("file.preview", MemoryByteSource("people.csv", CSV))
    client.platform.quota = 1234 + len(CSV)  # room for the copy, not for the table as well
    reply = await client.call("import.start", source_id=preview["source_id"], options=preview["sniff"]["options"])
    assert reply["error"]["code"] == "no-space"
    assert "people.csv" in reply["error"]["message"] and "available" in reply["error"]["message"]
    assert (await client.ok("runs.list"))["total"] == 0
    assert [name for name in client.platform.prepared if not name.startswith("ahead-")] == []  # the preview's copy


async def test_a_resumed_import_is_announced_with_its_file_and_row(tmp_path: Path) -> None:
    platform = FakePlatform(tmp_path)
    app = WorkerApp(platform, TestHooks(max_batch_rows=50_000))  # many batches: the stop lands mid-import
    await app.lead(str(tmp_path / "app.sqlite"))
    client = Client(app, platform)
    rows = 1_000_000
    data = b"id,name\n" + b"".join(b"%d,name %d\n" % (i, i) for i in range(rows))
    preview = await client.ok("file.preview", MemoryByteSource("big.csv", data))
    options = {**preview["sniff"]["options"], "batch_rows": 1000}
    started = await client.ok("import.start", source_id=preview["source_id"], options=options)
    for _ in range(1000):  # wait until a few batches are committed, then stop the engine, as a reload would
        steps = await client.ok("runs.steps", run_id=started["run_id"])
        if any(s["name"].startswith("batch-") for s in steps):
            break
        await asyncio.sleep(0.005)
    await client.app.engine.stop()
    assert client.platform.events("import:resumed") == []
    await client.app.engine.start()
    run = await client.wait_for_status(started["run_id"], "completed")
    assert run["output"]["rows_accepted"] == rows
    for _ in range(100):
        if client.platform.events("import:resumed"):
            break
        await asyncio.sleep(0.01)
    (event,) = client.platform.events("import:resumed")
    assert event["data"]["run_id"] == run["id"] and event["data"]["file_name"] == "big.csv"
    assert event["data"]["row"] > 1
    await app.engine.stop()


async def test_engine_errors_become_specific_error_replies(client: Client) -> None:
    preview = await client.ok("file.preview", MemoryByteSource("people.csv", CSV))
    started = await client.ok("import.start", source_id=preview["source_id"], options=preview["sniff"]["options"])
    await client.wait_for_status(started["run_id"], "completed")
    retry = await client.call("runs.retry", run_id=started["run_id"])
    assert retry["error"]["code"] == "conflict" and "completed" in retry["error"]["message"]
    assert (await client.call("runs.cancel", run_id="nope"))["error"]["code"] == "not-found"
    assert (await client.call("runs.delete", run_id="nope"))["error"]["code"] == "not-found"


class VanishingSource(MemoryByteSource):
    """A picked file that, once `vanish` is set, is gone after its first chunk (as a File after a reload)."""

    vanish = False

    def read(self, offset: int, length: int) -> bytes:
        if self.vanish and offset > 0:
            raise OSError("the File is gone")
        return super().read(offset, length)


async def test_an_import_whose_file_vanished_mid_staging_resumes_when_the_same_file_is_picked_again(
        client: Client) -> None:
    data = b"id,name\n" + b"".join(b"%d,name %d\n" % (i, i) for i in range(600_000))  # > one 4 MB chunk
    source = VanishingSource("big.csv", data)
    client.app.sources.copy_into(None)  # no copy staged ahead (as with no room for it): the job stages the file
    preview = await client.ok("file.preview", source)
    await client.ok("file.earlier_imports", source_id=preview["source_id"])  # the background hash is done
    source.vanish = True
    started = await client.ok("import.start", source_id=preview["source_id"], options=preview["sniff"]["options"])
    failed = await client.wait_for_status(started["run_id"], "failed")
    assert "again" in failed["error"]["message"]

    other = await client.ok("file.preview", MemoryByteSource("other.csv", b"id\n1\n"))
    refused = await client.call("import.resume", source_id=other["source_id"], run_id=started["run_id"])
    assert refused["error"]["code"] == "conflict" and "big.csv" in refused["error"]["message"]

    again = await client.ok("file.preview", MemoryByteSource("big.csv", data))
    resumed = await client.ok("import.resume", source_id=again["source_id"], run_id=started["run_id"])
    assert resumed["id"] == started["run_id"]
    run = await client.wait_for_status(started["run_id"], "completed", "failed")
    assert run["status"] == "completed", run["error"]
    assert run["output"]["rows_accepted"] == 600_000


async def test_resuming_with_the_file_picked_again_heals_a_damaged_staged_copy(client: Client, tmp_path: Path) -> None:
    rows = 200_000
    data = b"id,name\n" + b"".join(b"%d,person number %d\n" % (i, i) for i in range(rows))  # > one 4 MB chunk
    source = VanishingSource("big.csv", data)
    client.app.sources.copy_into(None)  # no copy staged ahead (as with no room for it): the job stages the file
    preview = await client.ok("file.preview", source)
    await client.ok("file.earlier_imports", source_id=preview["source_id"])  # the background hash is done
    source.vanish = True  # the copy stops after its first chunk, as when a reload closes the File
    started = await client.ok("import.start", source_id=preview["source_id"], options=preview["sniff"]["options"])
    failed = await client.wait_for_status(started["run_id"], "failed")
    copy = Path(failed["input"]["staged_path"])
    prefix = copy.read_bytes()
    assert 0 < len(prefix) < len(data) and data.startswith(prefix)
    with open(copy, "r+b") as f:  # damage the kept prefix, as a torn write would
        f.seek(1000)
        f.write(b"\x00" * 16)

    again = await client.ok("file.preview", MemoryByteSource("big.csv", data))
    await client.ok("import.resume", source_id=again["source_id"], run_id=started["run_id"])
    run = await client.wait_for_status(started["run_id"], "completed", "failed")
    assert run["status"] == "completed", run["error"]
    assert copy.read_bytes() == data
    with sqlite3.connect(tmp_path / "app.sqlite") as conn:
        table = run["output"]["table"]
        stored = conn.execute(f'SELECT id, name FROM "{table}" ORDER BY rowid').fetchall()
    assert stored == [(i, f"person number {i}") for i in range(rows)]
    assert run["output"]["rows_accepted"] == rows and run["output"]["rows_rejected"] == 0


class FlakyFlushPlatform(FakePlatform):
    """A platform whose storage flush fails once, at the `fail_in`-th flush from when it is set."""

    fail_in: int | None = None

    def flush(self) -> None:
        if self.fail_in is not None:
            self.fail_in -= 1
            if self.fail_in == 0:
                self.fail_in = None
                raise OSError("QuotaExceededError: the quota has been exceeded")
        super().flush()


async def test_a_failed_flush_mid_import_turns_the_status_to_error_and_a_reload_finishes_each_row_once(
        tmp_path: Path) -> None:
    rows = 200_000  # four batches of 50,000 rows
    data = b"id,name\n" + b"".join(b"%d,name %d\n" % (i, i) for i in range(rows))
    db = tmp_path / "app.sqlite"
    platform = FlakyFlushPlatform(tmp_path)
    app = WorkerApp(platform, TestHooks(max_batch_rows=50_000))
    await app.lead(str(db))
    client = Client(app, platform)
    preview = await client.ok("file.preview", MemoryByteSource("people.csv", data))

    def arm(event: Any) -> None:  # the flush after the next commit (batch-1's) fails
        if event.step == "batch-0":
            platform.fail_in = 1

    app.engine.on("step:complete", arm)
    started = await client.ok("import.start", source_id=preview["source_id"], options=preview["sniff"]["options"])
    assert await storage_error(app, platform, client, started["run_id"]) == (
        "The browser's storage failed after a commit: QuotaExceededError: the quota has been exceeded. Reload the "
        "page to continue; nothing committed is lost.")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM durable_runs").fetchone() == ("running",)
        done = conn.execute("SELECT COUNT(*) FROM durable_steps WHERE name GLOB 'batch-*' AND status = 'completed'"
                            ).fetchone()[0]
        assert conn.execute("SELECT COUNT(*) FROM durable_steps WHERE status = 'failed'").fetchone() == (0,)
    assert 0 < done < 4  # the flush failed mid-import, after a committed batch
    await app.engine.stop()
    app.db.close()
    await completes_after_a_reload(tmp_path, db, started["run_id"], rows)


async def test_a_run_whose_end_cannot_be_written_turns_the_status_to_error_and_a_reload_completes_it(
        tmp_path: Path) -> None:
    """No flush fails, but the database refuses every write once the last batch committed (SQLite's
    `query_only`, as storage that turned read-only): neither the run's end nor a failure in its place can be
    written, the engine stops for good, and the page is told so, as after a failed flush (it heard nothing
    before: the run stayed `running` with nobody told)."""
    rows = 4_000  # one batch, whatever the machine's speed: a batch reads one slice (5,000 rows) before its time budget
    data = b"id,name\n" + b"".join(b"%d,name %d\n" % (i, i) for i in range(rows))
    db = tmp_path / "app.sqlite"
    platform = FakePlatform(tmp_path)
    app = WorkerApp(platform, TestHooks(read_only_after_step="batch-0"))  # the last batch
    await app.lead(str(db))
    client = Client(app, platform)
    preview = await client.ok("file.preview", MemoryByteSource("people.csv", data))
    started = await client.ok("import.start", source_id=preview["source_id"], options=preview["sniff"]["options"])
    assert await storage_error(app, platform, client, started["run_id"]) == (
        "The browser's storage failed after a commit: attempt to write a readonly database. Reload the page to "
        "continue; nothing committed is lost.")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM durable_runs").fetchone() == ("running",)
        assert conn.execute("SELECT name, status FROM durable_steps WHERE name GLOB 'batch-*'").fetchall() == [
            ("batch-0", "completed")]
    await app.engine.stop()
    app.db.close()
    await completes_after_a_reload(tmp_path, db, started["run_id"], rows)


async def storage_error(app: WorkerApp, platform: FakePlatform, client: Client, run_id: str) -> str:
    """Wait for the worker's status to turn to `error` (bounded, not timed); check that it said so to the page and
    refuses a request with the same sentence; return the sentence."""
    for _ in range(20_000):  # a bound, not a measure
        if app.state == "error":
            break
        await asyncio.sleep(0.001)
    status = platform.events("engine:status")[-1]["data"]
    assert status["state"] == "error"
    refused = await client.call("runs.get", run_id=run_id)
    assert refused["error"]["code"] == "not-ready" and refused["error"]["message"] == status["message"]
    return str(status["message"])


async def completes_after_a_reload(tmp_path: Path, db: Path, run_id: str, rows: int) -> None:
    """The page reloaded: a new worker on the same database completes run `run_id`, whose table then holds the
    `id,name` rows 0 .. `rows` - 1 each once, in order."""
    reloaded = FakePlatform(tmp_path)
    again = WorkerApp(reloaded)
    await again.lead(str(db))
    assert again.state == "ready"
    run = await Client(again, reloaded).wait_for_status(run_id, "completed", "failed")
    assert run["status"] == "completed", run["error"]
    assert run["output"]["rows_accepted"] == rows and run["output"]["rows_rejected"] == 0
    with sqlite3.connect(db) as conn:
        stored = conn.execute(f'SELECT id, name FROM "{run["output"]["table"]}" ORDER BY rowid').fetchall()
    assert stored == [(i, f"name {i}") for i in range(rows)]
    await again.engine.stop()


# -- issue 8: hostile names and options get a sentence, never `internal` -------------------------------------------

HOSTILE_HEADER = b'id,"a\x00b","c\x01",durable_runs\n1,2,3,4\n'


async def test_a_file_and_headers_named_like_the_apps_own_tables_preview_and_import(client: Client) -> None:
    preview = await client.ok("file.preview", MemoryByteSource("importer_rejects.csv", HOSTILE_HEADER))
    options = preview["sniff"]["options"]
    assert options["table"] == "t_importer_rejects"
    assert [c["name"] for c in options["columns"]] == ["id", "ab", "c", "durable_runs"]
    started = await client.ok("import.start", source_id=preview["source_id"], options=options)
    run = await client.wait_for_status(started["run_id"], "completed", "failed")
    assert run["status"] == "completed", run["error"]
    assert await client.ok("tables.list") == [
        {"name": "t_importer_rejects", "columns": ["id", "ab", "c", "durable_runs"], "rows": 1}]


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"table": "durable_runs"}, "'table'", "reserved"),
        ({"table": "Importer_Rejects", "if_exists": "append"}, "'table'", "reserved"),
        ({"table": "\x00durable_runs", "if_exists": "append"}, "'table'", "NUL character"),
        ({"columns": [{"source": 0, "name": "a\x00"}, {"source": 1, "name": "a"}]}, "column 1's 'name'", "NUL"),
        ({"columns": [{"source": 0, "name": "x\ty"}]}, "column 1's 'name'", "control character U+0009"),
        ({"encoding": "base64"}, "'encoding'", "not a text encoding"),
    ],
)
async def test_import_start_with_hostile_options_says_which_field_and_why(
        client: Client, change: dict[str, Any], field: str, says: str) -> None:
    preview = await client.ok("file.preview", MemoryByteSource("people.csv", CSV))
    options = {**preview["sniff"]["options"], **change}
    reply = await client.call("import.start", source_id=preview["source_id"], options=options)
    assert reply["error"]["code"] == "bad-params", reply
    message = reply["error"]["message"]
    assert field in message and says in message, message
    assert "validation error" not in message and "pydantic" not in message and "input_value" not in message
    assert (await client.ok("runs.list"))["total"] == 0


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"encoding": "base64"}, "'encoding': 'base64' is not a text encoding"),
        ({"encoding": "rot13"}, "'encoding': 'rot13' is not a text encoding"),
        ({"delimiter": "\n"}, "'delimiter': '\\n' cannot be a delimiter"),
        ({"delimiter": 5}, "'delimiter': Input should be a valid string"),
        ({"quotechar": ";", "delimiter": ";"}, "the quote character and the delimiter must differ"),
    ],
)
async def test_file_preview_with_hostile_overrides_says_which_and_why(
        client: Client, overrides: dict[str, Any], says: str) -> None:
    reply = await client.call("file.preview", MemoryByteSource("people.csv", CSV), overrides=overrides)
    assert reply["error"]["code"] == "bad-params", reply
    assert says in reply["error"]["message"], reply["error"]["message"]
