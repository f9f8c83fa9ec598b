"""Staging ahead (worker/sources.py): a previewed file is read once, hashed and copied into storage before
Start; the run takes that copy, and copies no run took are deleted (another file picked, the page closed)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.worker.fakes import Client, FakePlatform, MemoryByteSource
from worker.app import WorkerApp

ROWS = 300_000  # ~6 MB: two chunks of the pass, two of staging


def people(rows: int = ROWS, tag: bytes = b"") -> bytes:
    return b"id,name\n" + b"".join(b"%d,person %s%d\n" % (i, tag, i) for i in range(rows))


class CountingSource(MemoryByteSource):
    """A picked file that counts the bytes read from it."""

    def __init__(self, name: str, data: bytes) -> None:
        super().__init__(name, data)
        self.bytes_read = 0

    def read(self, offset: int, length: int) -> bytes:
        data = super().read(offset, length)
        self.bytes_read += len(data)
        return data


async def previewed(client: Client, source: MemoryByteSource) -> dict[str, Any]:
    """Preview `source` and wait for its pass (hash and copy) and its type scan to end."""
    preview = await client.ok("file.preview", source)
    await client.ok("file.earlier_imports", source_id=preview["source_id"])
    await client.ok("file.scan", source_id=preview["source_id"])
    return preview


async def imported(client: Client, preview: dict[str, Any], **params: Any) -> dict[str, Any]:
    params.setdefault("options", preview["sniff"]["options"])
    started = await client.ok("import.start", source_id=preview["source_id"], **params)
    run = await client.wait_for_status(started["run_id"], "completed", "failed")
    assert run["status"] == "completed", run["error"]
    return run


def copies(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("ahead-*.csv"))


async def test_a_previewed_file_is_read_once_and_its_run_takes_the_copy_staged_ahead(
        client: Client, tmp_path: Path) -> None:
    data = people()
    source = CountingSource("people.csv", data)
    preview = await previewed(client, source)
    read_before_start = source.bytes_read
    assert copies(tmp_path) == [f"ahead-{preview['source_id']}.csv"]

    run = await imported(client, preview)
    assert run["output"]["rows_accepted"] == ROWS
    staged = Path(run["input"]["staged_path"])
    assert staged.name == f"ahead-{preview['source_id']}.csv" and staged.read_bytes() == data
    assert run["labels"]["staged"] == staged.name
    assert source.bytes_read == read_before_start, "the stage step read the picked file again"
    [stage] = [s for s in await client.ok("runs.steps", run_id=run["id"]) if s["name"] == "stage"]
    assert stage["output"]["sha256"] == run["output"]["sha256"] == run["labels"]["sha256"]

    await client.ok("runs.delete", run_id=run["id"])
    assert copies(tmp_path) == [], "deleting the run deletes the copy it took"


async def test_picking_another_file_drops_the_copy_no_import_took(client: Client, tmp_path: Path) -> None:
    first = await previewed(client, MemoryByteSource("first.csv", people(tag=b"a")))
    second = await previewed(client, MemoryByteSource("second.csv", people(tag=b"b")))
    assert copies(tmp_path) == [f"ahead-{second['source_id']}.csv"]

    run = await imported(client, first)  # its copy is gone: the job stages the file itself
    assert Path(run["input"]["staged_path"]).name.startswith("staged-")
    assert "staged" not in run["labels"] and run["output"]["rows_accepted"] == ROWS


async def test_a_start_refused_as_a_duplicate_keeps_the_copy_for_a_forced_start(client: Client, tmp_path: Path) -> None:
    data = people(1_000)
    first = await previewed(client, MemoryByteSource("people.csv", data))
    options = {**first["sniff"]["options"], "if_exists": "append"}
    await imported(client, first, options=options)
    again = await previewed(client, MemoryByteSource("people.csv", data))
    refused = await client.ok("import.start", source_id=again["source_id"], options=options)
    assert refused["created"] is False
    assert f"ahead-{again['source_id']}.csv" in copies(tmp_path)

    forced = await imported(client, again, options=options, force=True)
    assert Path(forced["input"]["staged_path"]).name == f"ahead-{again['source_id']}.csv"


async def test_a_file_with_no_room_for_a_copy_is_only_hashed_and_staged_by_the_job(
        client: Client, tmp_path: Path) -> None:
    data = people(1_000)
    client.platform.quota = 1234 + len(data)  # room for one copy, not for the table as well
    preview = await previewed(client, MemoryByteSource("people.csv", data))
    assert copies(tmp_path) == []
    client.platform.quota = 10_000_000_000
    run = await imported(client, preview)
    assert Path(run["input"]["staged_path"]).name.startswith("staged-")


async def test_copies_no_run_took_are_deleted_when_the_engine_next_starts(tmp_path: Path) -> None:
    platform = FakePlatform(tmp_path)
    app = WorkerApp(platform)
    await app.lead(str(tmp_path / "app.sqlite"))
    client = Client(app, platform)
    taken = await imported(client, await previewed(client, MemoryByteSource("taken.csv", people(1_000, b"t"))))
    left = await previewed(client, MemoryByteSource("left.csv", people(1_000, b"l")))
    kept = Path(taken["input"]["staged_path"]).name
    assert copies(tmp_path) == sorted([kept, f"ahead-{left['source_id']}.csv"])
    await app.engine.stop()  # the tab closes with `left` previewed, never started

    platform = FakePlatform(tmp_path)
    app = WorkerApp(platform)
    await app.lead(str(tmp_path / "app.sqlite"))
    try:
        for _ in range(1000):  # the sweep runs after `ready`
            if copies(tmp_path) == [kept]:
                break
            await asyncio.sleep(0.01)
        assert copies(tmp_path) == [kept], "the copy no run took outlived its page"
        assert platform.removed == [f"ahead-{left['source_id']}.csv"]
    finally:
        await app.engine.stop()


class RefusingPlatform(FakePlatform):
    """Storage that refuses to open copies made ahead, as OPFS does with a JS error (a handle held elsewhere)."""

    async def prepare_file(self, name: str) -> None:
        if name.startswith("ahead-"):
            raise RuntimeError("NoModificationAllowedError: the file is open elsewhere")
        await super().prepare_file(name)


async def test_a_storage_that_refuses_the_copy_ahead_only_hashes_and_the_job_stages(tmp_path: Path) -> None:
    platform = RefusingPlatform(tmp_path)
    app = WorkerApp(platform)
    await app.lead(str(tmp_path / "app.sqlite"))
    client = Client(app, platform)
    try:
        run = await imported(client, await previewed(client, MemoryByteSource("people.csv", people(1_000))))
        assert Path(run["input"]["staged_path"]).name.startswith("staged-") and copies(tmp_path) == []
        assert run["output"]["rows_accepted"] == 1_000
    finally:
        await app.engine.stop()
