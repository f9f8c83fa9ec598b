"""Rejects workbench methods on CPython: field names, checking edited rows (writes nothing), the fix-rejects
job started from a message (insert, save, discard), refusals in sentences, and a fix held mid-way by the
test hook, stopped as a reload stops it, and resumed by a new worker without losing or doubling a row."""

from __future__ import annotations

import json
from pathlib import Path

from tests.worker.fakes import Client, FakePlatform, MemoryByteSource
from worker.app import WorkerApp
from worker.hooks import parse_hooks

ROWS = 30
CSV = ("id,amount\n" + "".join(f"{i},{'bad' if i % 3 == 0 else i}\n" for i in range(ROWS))).encode()
BAD = [i for i in range(ROWS) if i % 3 == 0]  # ten rejects, rows i + 2


async def imported(client: Client) -> tuple[str, str]:
    preview = await client.ok("file.preview", MemoryByteSource("amounts.csv", CSV))
    options = preview["sniff"]["options"]
    options["columns"][1]["type"] = "integer"
    started = await client.ok("import.start", source_id=preview["source_id"], options=options)
    run = await client.wait_for_status(started["run_id"], "completed")
    assert run["output"]["rows_rejected"] == len(BAD)
    return started["run_id"], run["output"]["table"]


async def ids(client: Client, table: str) -> list[int]:
    return [r[0] for r in (await client.ok("sql.query", sql=f'SELECT id FROM "{table}" ORDER BY id'))["rows"]]


async def test_check_writes_nothing_and_insert_moves_the_rows_that_pass(client: Client) -> None:
    run_id, table = await imported(client)
    assert await client.ok("rejects.fields", run_id=run_id) == {"fields": ["id", "amount"], "table": table}
    edited = [{"row_number": 2, "values": ["0", "10"]}, {"row_number": 5, "values": ["3", "still bad"]}]
    checked = await client.ok("rejects.check", run_id=run_id, rows=edited)
    assert checked["rows"][0] == {"row_number": 2, "reasons": []}
    assert checked["rows"][1]["reasons"] == ["Row 5: 'still bad' is not an integer in column 'amount'"]
    assert (await client.ok("runs.rejects", run_id=run_id))["total"] == len(BAD)

    fix = await client.ok("rejects.fix", run_id=run_id, action="insert", rows=edited)
    done = await client.wait_for_status(fix["run_id"], "completed", "failed")
    assert done["output"] == {"inserted": 1, "still_rejected": len(BAD) - 1, "discarded": 0}
    assert await ids(client, table) == sorted([i for i in range(ROWS) if i not in BAD] + [0])
    left = (await client.ok("runs.rejects", run_id=run_id, limit=50))["rows"]
    assert [r["row_number"] for r in left] == [i + 2 for i in BAD if i]
    assert left[0]["values"] == ["3", "still bad"]  # the edit is kept with its reason
    logs = [line["message"] for line in (await client.ok("runs.logs", run_id=run_id))["logs"]]
    assert "Inserted 1 fixed row into amounts (rows 2)" in logs

    discard = await client.ok("rejects.fix", run_id=run_id, action="discard", only=[5, 8])
    assert (await client.wait_for_status(discard["run_id"], "completed"))["output"]["discarded"] == 2
    nulls = await client.ok("rejects.fix", run_id=run_id, action="insert",
                            bulk={"field": 1, "op": "set", "value": None})
    assert (await client.wait_for_status(nulls["run_id"], "completed"))["output"]["inserted"] == len(BAD) - 3
    assert (await client.ok("runs.rejects", run_id=run_id))["total"] == 0
    assert len(await ids(client, table)) == ROWS - 2


async def test_bad_requests_get_sentences(client: Client) -> None:
    run_id, _ = await imported(client)
    for params, code in (({"run_id": "nope", "action": "insert"}, "not-found"),
                         ({"run_id": run_id, "action": "burn"}, "bad-params"),
                         ({"run_id": run_id, "action": "insert", "rows": [{"row_number": "2"}]}, "bad-params"),
                         ({"run_id": run_id, "action": "save", "bulk": {"field": -1, "op": "set"}}, "bad-params"),
                         ({"run_id": run_id, "action": "discard", "only": "all"}, "bad-params")):
        reply = await client.call("rejects.fix", **params)
        assert reply["error"]["code"] == code, (params, reply)
        assert reply["error"]["message"].endswith("."), reply


async def test_a_fix_held_mid_way_resumes_in_a_new_worker_without_losing_or_doubling(tmp_path: Path) -> None:
    platform = FakePlatform(tmp_path)
    app = WorkerApp(platform, hooks=parse_hooks(json.dumps({"max_batch_rows": 3, "hold_fix_after_chunks": 2})))
    await app.lead(str(tmp_path / "app.sqlite"))
    client = Client(app, platform)
    run_id, table = await imported(client)
    assert app.engine is not None
    fix = await client.ok("rejects.fix", run_id=run_id, action="insert",
                          bulk={"field": 1, "op": "set", "value": "7"})
    for _ in range(2000):  # two chunks of three rejects commit, then the run holds
        steps = await client.ok("runs.steps", run_id=fix["run_id"])
        if [s["name"] for s in steps if s["status"] == "completed"] == ["fix-0", "fix-1"]:
            break
    assert (await client.ok("runs.rejects", run_id=run_id))["total"] == len(BAD) - 6
    assert (await client.ok("runs.get", run_id=fix["run_id"]))["status"] == "running"  # held
    await app.engine.stop()  # as a reload stops it: the held run goes back to pending

    platform = FakePlatform(tmp_path)  # a new page: its own messages
    app = WorkerApp(platform, hooks=parse_hooks(json.dumps({"max_batch_rows": 3, "hold_fix_after_chunks": 2})))
    await app.lead(str(tmp_path / "app.sqlite"))
    client = Client(app, platform)
    try:
        done = await client.wait_for_status(fix["run_id"], "completed", "failed")
        assert done["status"] == "completed", done
        assert await ids(client, table) == list(range(ROWS))  # each fixed row once
        assert (await client.ok("runs.rejects", run_id=run_id))["total"] == 0
    finally:
        assert app.engine is not None
        await app.engine.stop()
