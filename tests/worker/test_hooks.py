"""worker/hooks.py: the test-only hooks parse strictly, and `hold_at_rows` holds an import right after the
committed batch that crossed a point until Cancel or a stop (`hold_at_staged_bytes` the same for a staged
chunk); a resumed run is held only by later points."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.worker.fakes import Client, FakePlatform, MemoryByteSource
from worker.app import WorkerApp
from worker.hooks import HoldAt, TestHooksError, parse_hooks, storage_faults_json

ROWS = 1_000
HOOKS = json.dumps({"max_batch_rows": 100, "hold_at_rows": [250, 650]})
CSV = ("id,amount\n" + "".join(f"{i},{i / 2}\n" for i in range(ROWS))).encode()


class JsNull:
    """Stands for `pyodide.ffi.jsnull`, what a JS null becomes in Python."""


@pytest.mark.parametrize("text", [None, "", JsNull()], ids=["none", "empty", "jsnull"])
def test_no_hooks_text_means_no_hooks(text: object) -> None:
    assert parse_hooks(text) is None


def test_hooks_shape_the_import_env() -> None:
    hooks = parse_hooks(HOOKS)
    assert hooks is not None
    overrides = hooks.env_overrides()
    assert overrides["max_batch_rows"] == 100
    assert isinstance(overrides["after_batch"], HoldAt) and overrides["after_batch"].points == [250, 650]
    assert parse_hooks("{}").env_overrides() == {}  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ['{"hold_at": [5]}', '{"max_batch_rows": 0}', '{"hold_at_rows": [-1]}',
                                  '{"hold_at_rows": "5"}', "not json", "[1]"])
def test_invalid_hooks_are_refused_with_a_sentence(text: str) -> None:
    with pytest.raises(TestHooksError, match=r"^The test hooks are not valid: "):
        parse_hooks(text)


def test_storage_faults_are_passed_to_the_file_system_with_their_defaults() -> None:
    text = json.dumps({"storage_faults": [{"op": "write", "file": "importer.sqlite", "after_calls": 5}]})
    assert json.loads(storage_faults_json(text)) == [
        {"op": "write", "file": "importer.sqlite", "after_calls": 5, "error": "QuotaExceededError", "times": 1}]
    assert parse_hooks(text).env_overrides() == {}  # type: ignore[union-attr]  # no effect on the import job
    for no_hooks in (None, "", JsNull(), "{}"):  # production: nothing to inject
        assert storage_faults_json(no_hooks) == "[]"


@pytest.mark.parametrize("fault", [
    {"op": "read", "file": "importer.sqlite", "after_calls": 1},  # only write, truncate and flush
    {"op": "write", "file": "other.sqlite", "after_calls": 1},
    {"op": "write", "file": "staged", "after_calls": -1},
    {"op": "flush", "file": "staged", "after_calls": 1, "times": 0},
    {"op": "flush", "file": "staged", "after_calls": 1, "error": "DiskFull"},
    {"op": "flush", "file": "staged", "after_calls": 1, "when": "now"},  # an unknown key
    {"op": "flush", "file": "staged"},  # which call is not optional
])
def test_invalid_storage_faults_are_refused(fault: dict[str, object]) -> None:
    with pytest.raises(TestHooksError, match=r"^The test hooks are not valid: "):
        parse_hooks(json.dumps({"storage_faults": [fault]}))
    with pytest.raises(TestHooksError):
        storage_faults_json(json.dumps({"storage_faults": [fault]}))


async def batch_rows(client: Client, run_id: str) -> list[int]:
    steps = await client.ok("runs.steps", run_id=run_id)
    return [s["output"]["accepted"] + s["output"]["rejected"] for s in steps
            if s["name"].startswith("batch-") and s["status"] == "completed"]


async def wait_for_rows(client: Client, run_id: str, rows: int) -> list[int]:
    for _ in range(2000):
        done = await batch_rows(client, run_id)
        if done and done[-1] >= rows:
            return done
    raise AssertionError(f"run {run_id} did not commit row {rows}")


async def started_app(tmp_path: Path) -> tuple[WorkerApp, Client]:
    platform = FakePlatform(tmp_path)
    app = WorkerApp(platform, hooks=parse_hooks(HOOKS))
    await app.lead(str(tmp_path / "app.sqlite"))
    return app, Client(app, platform)


async def test_a_held_import_waits_after_the_crossing_batch_cancels_and_resumes_past_its_points(
        tmp_path: Path) -> None:
    app, client = await started_app(tmp_path)
    preview = await client.ok("file.preview", MemoryByteSource("rows.csv", CSV))
    started = await client.ok("import.start", source_id=preview["source_id"], options=preview["sniff"]["options"])
    run_id = started["run_id"]

    assert await wait_for_rows(client, run_id, 250) == [100, 200, 300]  # held after the batch (200, 300]
    assert (await client.ok("runs.get", run_id=run_id))["status"] == "running"
    await client.ok("runs.cancel", run_id=run_id)
    await client.wait_for_status(run_id, "cancelled")
    assert await batch_rows(client, run_id) == [100, 200, 300]

    await client.ok("runs.retry", run_id=run_id)  # replays three batches without holding at 250 again
    assert await wait_for_rows(client, run_id, 650) == [100, 200, 300, 400, 500, 600, 700]
    assert (await client.ok("runs.get", run_id=run_id))["status"] == "running"
    assert app.engine is not None
    await app.engine.stop()  # the held run goes back to pending, as when the page is reloaded

    app, client = await started_app(tmp_path)  # a new worker: resumes from row 700, past both points
    try:
        run = await client.wait_for_status(run_id, "completed", "failed", "cancelled")
        assert run["status"] == "completed", run
        table = run["output"]["table"]
        summary = await client.ok("sql.query", sql=f'SELECT count(*), count(DISTINCT id), sum(id) FROM "{table}"')
        assert summary["rows"] == [[ROWS, ROWS, sum(range(ROWS))]]  # each row once, none lost
    finally:
        assert app.engine is not None
        await app.engine.stop()


async def test_a_run_held_while_staging_waits_after_the_crossing_chunk_and_resumes_past_it(tmp_path: Path) -> None:
    platform = FakePlatform(tmp_path)
    app = WorkerApp(platform, hooks=parse_hooks(json.dumps({"hold_at_staged_bytes": 1})))
    await app.lead(str(tmp_path / "app.sqlite"))
    client = Client(app, platform)
    preview = await client.ok("file.preview", MemoryByteSource("rows.csv", CSV))
    started = await client.ok("import.start", source_id=preview["source_id"], options=preview["sniff"]["options"])
    run_id = started["run_id"]
    for _ in range(2000):  # the one chunk is copied, then the run holds inside the "stage" step
        staged = list(tmp_path.glob("staged-*.csv"))
        if staged and staged[0].stat().st_size == len(CSV):
            break
        await client.ok("runs.get", run_id=run_id)
    assert staged[0].read_bytes() == CSV
    assert [s["name"] for s in await client.ok("runs.steps", run_id=run_id)] == []  # still staging
    await client.ok("runs.cancel", run_id=run_id)
    await client.wait_for_status(run_id, "cancelled")

    await client.ok("runs.retry", run_id=run_id)  # the copy is complete: no chunk crosses the point again
    run = await client.wait_for_status(run_id, "completed", "failed")
    assert run["status"] == "completed", run
    assert run["output"]["rows_accepted"] == ROWS
    assert app.engine is not None
    await app.engine.stop()
