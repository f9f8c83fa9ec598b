"""Undo and redo through the worker's messages on CPython: runs.undo removes exactly the first import's rows
after a second appended, the run shows `undone`, fixes and a second undo are refused, runs.redo imports the
staged copy again into the same table."""

from __future__ import annotations

from typing import Any

from tests.worker.fakes import Client, MemoryByteSource


def csv(ids: range) -> bytes:
    return ("id,amount\n" + "".join(f"{i},{i * 2}\n" for i in ids)).encode()


async def load(client: Client, name: str, ids: range, **table: Any) -> str:
    preview = await client.ok("file.preview", MemoryByteSource(name, csv(ids)))
    options = {**preview["sniff"]["options"], **table}
    started = await client.ok("import.start", source_id=preview["source_id"], options=options)
    run = await client.wait_for_status(started["run_id"], "completed", "failed")
    assert run["status"] == "completed", run
    return str(started["run_id"])


async def ids(client: Client) -> list[int]:
    return [r[0] for r in (await client.ok("sql.query", sql='SELECT id FROM "t" ORDER BY id', limit=1000))["rows"]]


async def test_undo_then_redo_through_messages(client: Client) -> None:
    first = await load(client, "a.csv", range(1, 61), table="t")
    await load(client, "b.csv", range(100, 130), table="t", if_exists="append")
    undo = await client.ok("runs.undo", run_id=first)
    done = await client.wait_for_status(undo["run_id"], "completed", "failed")
    assert done["status"] == "completed" and done["output"] == {"table": "t", "rows_removed": 60, "restored": False,
                                                                    "dropped": False}
    assert await ids(client) == list(range(100, 130))
    run = await client.ok("runs.get", run_id=first)
    assert run["undone"]["undo_run_id"] == undo["run_id"] and run["undone"]["rows"] == 60
    listed = {r["id"]: r for r in (await client.ok("runs.list", job="import-csv"))["runs"]}
    assert "undone" in listed[first] and len([r for r in listed.values() if "undone" in r]) == 1

    again = await client.call("runs.undo", run_id=first)
    assert again["error"]["code"] == "conflict" and "undone already" in again["error"]["message"]
    fix = await client.call("rejects.fix", run_id=first, action="insert")
    assert fix["error"]["code"] == "conflict" and "redo it" in fix["error"]["message"]

    redo = await client.ok("runs.redo", run_id=first)
    redone = await client.wait_for_status(redo["run_id"], "completed", "failed")
    assert redone["status"] == "completed", redone
    assert await ids(client) == list(range(1, 61)) + list(range(100, 130))
    refused = await client.call("runs.redo", run_id=redo["run_id"])
    assert refused["error"] == {"code": "conflict", "message": "Only an undone import can be redone."}
