"""`file.scan` on CPython: the whole-file scan a preview starts, its progress events, and superseding."""

from __future__ import annotations

from itertools import pairwise

from tests.worker.fakes import Client, MemoryByteSource
from worker import scans


def late_na(rows: int = 6000) -> bytes:
    lines = ["id,count,when"]
    for i in range(rows):
        count = "NA" if i == rows - 3 else "2.5" if i == rows - 2 else str(i)
        lines.append(f"{i},{count},2024-03-{1 + i % 28:02d}")
    return ("\n".join(lines) + "\n").encode()


async def test_the_scan_widens_the_first_look_and_speaks_of_the_whole_file(client: Client, monkeypatch) -> None:
    monkeypatch.setattr(scans, "SCAN_READ_BYTES", 10_000)
    data = late_na()
    preview = await client.ok("file.preview", MemoryByteSource("late.csv", data))
    first = preview["sniff"]["columns"][1]
    assert (first["type"], first["whole_file"]) == ("integer", False)
    assert preview["sniff"]["options"]["columns"][1]["provisional"] is True

    scanned = await client.ok("file.scan", source_id=preview["source_id"])

    assert scanned["rows"] == 6000 and scanned["bytes"] == len(data)
    count = scanned["columns"][1]
    assert (count["type"], count["null_markers"], count["whole_file"]) == ("real", ["NA"], True)
    assert count["evidence"] == "real: all 5,999 values in the file are numbers; 1 'NA' read as NULL"
    progress = client.platform.events("file:scan")
    assert progress and progress[-1]["data"]["bytes_done"] == len(data)
    assert all(e["data"]["source_id"] == preview["source_id"] for e in progress)


async def test_a_new_preview_of_the_same_file_supersedes_its_scan(client: Client, monkeypatch) -> None:
    monkeypatch.setattr(scans, "SCAN_READ_BYTES", 1_000)
    preview = await client.ok("file.preview", MemoryByteSource("late.csv", late_na()))
    source_id = preview["source_id"]
    client.next_id += 1
    import json

    client.app.receive(json.dumps({"id": client.next_id, "method": "file.scan", "params": {"source_id": source_id}}))
    waiting = client.next_id
    await client.ok("file.preview", source_id=source_id, overrides={"delimiter": ";"})
    for _ in range(1000):
        replies = [r for r in client.platform.replies() if r["id"] == waiting]
        if replies:
            break
        import asyncio

        await asyncio.sleep(0.001)
    assert replies and replies[0]["error"]["code"] == "superseded"
    again = await client.ok("file.scan", source_id=source_id)
    assert again["rows"] == 6000 and [c["type"] for c in again["columns"]] == ["text"]


async def test_a_small_file_is_whole_at_first_look_and_its_scan_answers_at_once(client: Client) -> None:
    preview = await client.ok("file.preview", MemoryByteSource("s.csv", b"a,b\n1,NA\n2,3\n"))
    assert preview["sniff"]["complete"] is True
    assert preview["sniff"]["options"]["columns"][1] == {**preview["sniff"]["options"]["columns"][1],
                                                         "provisional": False, "null_markers": ["NA"]}
    scanned = await client.ok("file.scan", source_id=preview["source_id"])
    assert scanned["rows"] == 2 and scanned["columns"][1]["type"] == "integer"


async def test_a_bad_byte_past_the_first_look_is_reported_by_the_scan(client: Client) -> None:
    data = late_na() + b"9,\xff\xfe,2024-01-01\n"
    preview = await client.ok("file.preview", MemoryByteSource("bad.csv", data))
    reply = await client.call("file.scan", source_id=preview["source_id"])
    assert reply["error"]["code"] == "invalid"
    assert "not valid utf-8" in reply["error"]["message"] and f"{len(late_na()) + 2:,}" in reply["error"]["message"]


async def test_scan_of_an_unknown_source_asks_to_pick_the_file_again(client: Client) -> None:
    reply = await client.call("file.scan", source_id="nope")
    assert reply["error"]["code"] == "bad-params"


async def test_starting_with_provisional_columns_stops_the_previews_scan(client: Client, monkeypatch) -> None:
    """The job scans the file itself for provisional columns; the preview's scan must not compete with it."""
    monkeypatch.setattr(scans, "SCAN_READ_BYTES", 1_000)
    preview = await client.ok("file.preview", MemoryByteSource("late.csv", late_na()))
    options = preview["sniff"]["options"]
    started = await client.ok("import.start", source_id=preview["source_id"], options=options)
    reply = await client.call("file.scan", source_id=preview["source_id"])
    assert reply["error"]["code"] == "superseded"
    run = await client.wait_for_status(started["run_id"], "completed", "failed")
    assert run["status"] == "completed" and run["output"]["rows_accepted"] == 6000


async def test_the_scan_yields_between_pieces_of_each_read(client: Client, monkeypatch) -> None:
    """A request that comes during a scan waits for one piece of a read, not the whole read."""
    import asyncio

    from importer.scan import Scanner

    monkeypatch.setattr(scans, "SCAN_READ_BYTES", 40_000)
    monkeypatch.setattr(scans, "SCAN_FEED_BYTES", 10_000)
    fed: list[tuple[int, bool, int]] = []
    turns = 0
    feed = Scanner.feed

    def counted(self: Scanner, data: bytes, final: bool = False) -> None:
        fed.append((len(data), final, turns))
        feed(self, data, final=final)

    async def other_task() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    monkeypatch.setattr(Scanner, "feed", counted)
    data = late_na()
    ticking = asyncio.ensure_future(other_task())
    try:
        preview = await client.ok("file.preview", MemoryByteSource("late.csv", data))
        scanned = await client.ok("file.scan", source_id=preview["source_id"])
    finally:
        ticking.cancel()
    assert scanned["rows"] == 6000
    assert sum(size for size, _, _ in fed) == len(data) and max(size for size, _, _ in fed) == 10_000
    assert [final for _, final, _ in fed] == [False] * (len(fed) - 1) + [True]
    assert all(later[2] > earlier[2] for earlier, later in pairwise(fed))  # a turn between
