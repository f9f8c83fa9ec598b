"""The rehearsal import (worker/rehearsal.py): the real import job on an engine and database of its own over a
generated file, run at the end of the worker's warm-up; it leaves nothing behind, stops when cancelled, and
touches nothing of the app's."""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
from pathlib import Path

import pytest

from importer.sql import table_names
from tests.worker.fakes import Client, FakePlatform, MemoryByteSource
from worker import rehearsal
from worker.app import WorkerApp


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary directory the rehearsal makes its own directory in (MEMFS in the browser)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def not_numbers(data: bytes) -> int:
    """The rows of a sample whose amount is not a number, read by csv.reader (not the importer)."""
    return sum(1 for row in csv.DictReader(io.StringIO(data.decode())) if row["amount"] == "not a number")


@pytest.mark.parametrize("rows", [1, 7, 1_000, 2_501])
def test_the_sample_has_its_rows_of_seven_fields_half_of_them_quoting_the_name(rows: int) -> None:
    data = rehearsal.sample_csv(rows)
    records = list(csv.reader(io.StringIO(data.decode())))
    assert records[0] == ["id", "name", "email", "amount", "active", "joined", "seen"]
    assert len(records) == rows + 1 and {len(r) for r in records} == {7}
    quoted = data.count(b'"Name, ')
    assert quoted == rows - rows // 2  # the second half


async def test_the_rehearsal_imports_its_sample_and_leaves_nothing_behind(scratch: Path) -> None:
    output = await rehearsal.rehearse()
    expected_rejects = not_numbers(rehearsal.sample_csv(rehearsal.SAMPLE_ROWS))
    assert expected_rejects > 0
    assert output.table == "rehearsal"
    assert (output.rows_accepted, output.rows_rejected) == (rehearsal.SAMPLE_ROWS - expected_rejects,
                                                             expected_rejects)
    assert list(scratch.iterdir()) == []


async def test_a_cancelled_rehearsal_stops_its_run_at_the_next_slice_and_removes_its_directory(scratch: Path) -> None:
    """Cancelled while its run waits between two batches (the worker's yield), the run goes on only to its next
    checkpoint: not one batch more commits, and the directory is gone."""
    calls = 0
    reached, release = asyncio.Event(), asyncio.Event()

    async def pause() -> None:
        nonlocal calls
        calls += 1
        if calls == 3:  # the sample is written and two batches are committed
            reached.set()
            await release.wait()

    task = asyncio.ensure_future(rehearsal.rehearse(pause=pause))
    await asyncio.wait_for(reached.wait(), 60)
    [directory] = list(scratch.iterdir())
    task.cancel()
    await asyncio.sleep(0)  # the rehearsal is in its engine's stop now, which waits for the run
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 60)
    assert calls == 3  # the run stopped inside the batch after the pause: no pause after it
    assert not directory.exists() and list(scratch.iterdir()) == []


async def test_the_warm_up_ends_with_the_rehearsal_which_touches_nothing_of_the_apps(
        scratch: Path, tmp_path: Path) -> None:
    platform = FakePlatform(tmp_path)
    app = WorkerApp(platform, rehearsal_rows=2_000)
    await app.lead(str(tmp_path / "app.sqlite"))
    await asyncio.wait_for(asyncio.gather(*app._tasks), 60)
    outcome = app.rehearsal_outcome
    expected_rejects = not_numbers(rehearsal.sample_csv(2_000))
    assert outcome["state"] == "completed", outcome
    assert (outcome["rows_accepted"], outcome["rows_rejected"]) == (2_000 - expected_rejects, expected_rejects)
    assert outcome["previewed_rows"] == 2_000  # then its sample was read as a picked file, and scanned
    client = Client(app, platform)
    assert (await client.ok("runs.list"))["total"] == 0
    assert table_names(app.require_db()) == []  # the rejects' tables too come only with an import
    assert platform.events("run:trigger") == [] and list(scratch.iterdir()) == []
    await app.engine.stop()


def scans_running() -> list[asyncio.Task[object]]:
    """The whole-file scans (worker/scans.py `scan_source`) that are tasks of their own and not done."""
    return [t for t in asyncio.all_tasks() if not t.done() and t.get_coro().__name__ == "scan_source"]  # type: ignore[union-attr]


async def test_the_preview_rehearsal_stops_its_first_scan_at_the_pause_and_scans_the_sample_to_its_end() -> None:
    """The sample read as a picked file: a scan stopped mid-way, as a Start stops one, then a whole one, whose
    rows are the sample's."""
    seen: list[asyncio.Task[object]] = []

    async def pause() -> None:
        seen.extend(scans_running())
        for _ in range(2):
            await asyncio.sleep(0)  # the scan reads its first pieces (64 KiB each; the sample has 5)
        assert seen and not seen[0].done()

    data = rehearsal.sample_csv(5_000)
    assert len(data) > 4 * (1 << 16)
    rows = await rehearsal.rehearse_preview(MemoryByteSource("sample.csv", data), pause=pause)
    assert rows == 5_000
    assert len(seen) == 1 and seen[0].cancelled()
    assert scans_running() == []


async def test_a_cancelled_preview_rehearsal_stops_its_scan() -> None:
    """A preview or Start cancels the rehearsal while its first scan runs: that scan stops with it."""
    seen: list[asyncio.Task[object]] = []
    reached = asyncio.Event()

    async def pause() -> None:
        seen.extend(scans_running())
        reached.set()
        await asyncio.Event().wait()  # held here until cancelled

    task = asyncio.ensure_future(
        rehearsal.rehearse_preview(MemoryByteSource("sample.csv", rehearsal.sample_csv(5_000)), pause=pause))
    await asyncio.wait_for(reached.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 60)
    assert len(seen) == 1 and seen[0].cancelled()
    assert scans_running() == []


async def rehearsing_app(tmp_path: Path, held: asyncio.Event | None = None) -> tuple[WorkerApp, FakePlatform]:
    """A leading worker whose rehearsal is under way: its run waits at the worker's yield. With `held`, once
    the warm-up is hurried (a preview), the rehearsal's run waits at its next yield until `held` is set."""
    platform = FakePlatform(tmp_path)
    app = WorkerApp(platform, rehearsal_rows=rehearsal.SAMPLE_ROWS)
    at_yield = asyncio.Event()
    yields = platform.next_task

    async def next_task() -> None:
        if app.rehearsal_outcome["state"] == "running":
            at_yield.set()
            if held is not None and app._hurry.is_set():
                await held.wait()
        await yields()

    platform.next_task = next_task  # type: ignore[method-assign]
    await app.lead(str(tmp_path / "app.sqlite"))
    await asyncio.wait_for(at_yield.wait(), 60)
    return app, platform


DATA = b"id,name\n1,Ada\n2,Grace\n"


async def test_a_start_cancels_the_rehearsal_and_imports_as_ever(scratch: Path, tmp_path: Path) -> None:
    """A Start that comes while the rehearsal runs cancels it; the user's import then runs alone and completes."""
    from importer.sniff import sniff

    app, platform = await rehearsing_app(tmp_path)
    source_id = app.sources.add(MemoryByteSource("people.csv", DATA))
    options = sniff(DATA, file_name="people.csv", complete=True).options.model_dump(mode="json")
    client = Client(app, platform)
    started = await client.ok("import.start", source_id=source_id, options=options)
    run = await client.wait_for_status(started["run_id"], "completed")
    assert run["output"]["rows_accepted"] == 2
    await asyncio.wait_for(asyncio.gather(*app._tasks), 60)
    assert app.rehearsal_outcome["state"] == "cancelled"
    assert list(scratch.iterdir()) == []
    await app.engine.stop()


async def test_a_preview_cancels_the_rehearsal(scratch: Path, tmp_path: Path) -> None:
    """The rehearsal is for an idle page: once a file is previewed, the cores are the preview's and its scan's."""
    app, platform = await rehearsing_app(tmp_path)
    await Client(app, platform).ok("file.preview", MemoryByteSource("people.csv", DATA))
    await asyncio.wait_for(asyncio.gather(*app._tasks), 60)
    assert app.rehearsal_outcome["state"] == "cancelled"
    assert list(scratch.iterdir()) == []
    await app.engine.stop()


async def test_a_start_during_the_rehearsals_stop_lets_that_stop_end(scratch: Path, tmp_path: Path) -> None:
    """A preview cancelled the rehearsal, whose engine now waits for its run to reach a checkpoint (held here
    at a yield) when Start comes: Start must not cancel it again, which would cut that stop short, close the
    scratch database under the run and leave the run going."""
    held = asyncio.Event()
    app, _ = await rehearsing_app(tmp_path, held)
    app.hurry_warm_up()
    for _ in range(20):
        await asyncio.sleep(0)  # the rehearsal is in its engine's stop, waiting for the held run
    app.end_warm_up()
    for _ in range(20):
        await asyncio.sleep(0)
    assert app.rehearsal_outcome["state"] == "running"  # its stop still waits for its run
    held.set()
    await asyncio.wait_for(asyncio.gather(*app._tasks), 60)
    assert app.rehearsal_outcome["state"] == "cancelled"
    assert list(scratch.iterdir()) == []
    await app.engine.stop()


async def test_a_warm_up_hurried_by_a_preview_runs_no_rehearsal(scratch: Path, tmp_path: Path) -> None:
    """A file previewed before the page was ever quiet (picked right after `ready`): the warm-up runs its other
    steps at once and no rehearsal."""
    platform = FakePlatform(tmp_path)
    app = WorkerApp(platform, warm_up_quiet=1e9, rehearsal_rows=rehearsal.SAMPLE_ROWS)  # quiet never comes
    await app.lead(str(tmp_path / "app.sqlite"))
    await Client(app, platform).ok("file.preview", MemoryByteSource("people.csv", DATA))
    await asyncio.wait_for(asyncio.gather(*app._tasks), 60)
    assert app.rehearsal_outcome == {"state": "none"}
    await app.engine.stop()
