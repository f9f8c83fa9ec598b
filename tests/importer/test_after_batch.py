"""job.py: `ImportEnv.after_batch` is awaited once per batch this execution commits, with the cursors
before and after it, before the next batch starts; batches replayed on resume are not reported again."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from durable import Engine, RunStatus, StepContext
from importer import FileByteSource, ImportEnv, make_import_job

COLUMNS = [{"source": 0, "name": "id", "type": "integer"}, {"source": 1, "name": "amount", "type": "real"}]
ROWS = 1_000
BATCH = 100


def write_rows(path: Path, count: int) -> None:
    with open(path, "w") as f:
        f.write("id,amount\n")
        for i in range(count):
            f.write(f"{i},{'oops' if i % 10 == 3 else i / 2}\n")


def payload(src: FileByteSource) -> dict[str, Any]:
    return {"source_id": "s", "file_name": "rows.csv", "size": src.size, "options": {"columns": COLUMNS}}


def batch_outputs(steps: list[Any]) -> list[dict[str, Any]]:
    return [s.output for s in steps if s.name.startswith("batch-")]


async def test_after_batch_is_awaited_once_per_committed_batch_with_its_cursors(tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"
    write_rows(source, ROWS)
    calls: list[tuple[dict[str, Any], dict[str, Any], int]] = []
    engine = Engine(str(tmp_path / "app.sqlite"))

    async def after_batch(step: StepContext, before: dict[str, Any], after: dict[str, Any]) -> None:
        committed = batch_outputs(await engine.get_steps(step.run_id))  # the batch is committed before the call
        calls.append((before, after, len(committed)))

    src = FileByteSource(source)
    job = make_import_job(ImportEnv(staging_dir=str(tmp_path / "st"), sources={"s": src}, max_batch_rows=BATCH,
                                    slice_rows=50, after_batch=after_batch))
    engine.register(job)
    await engine.start()
    try:
        output = await engine.trigger_and_wait(job, payload(src), timeout=60)
        run_id = (await engine.list_runs()).items[0].id
        committed = batch_outputs(await engine.get_steps(run_id))
    finally:
        await engine.stop()
    assert output.rows_accepted + output.rows_rejected == ROWS
    assert len(committed) >= ROWS // BATCH and committed[-1]["done"]
    assert [after for _, after, _ in calls] == committed
    assert [count for _, _, count in calls] == list(range(1, len(committed) + 1))
    assert [before for before, _, _ in calls[1:]] == committed[:-1]
    assert (calls[0][0]["accepted"], calls[0][0]["rejected"]) == (0, 0)


async def test_batches_replayed_on_resume_are_not_reported_again(tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"
    write_rows(source, ROWS)
    db = str(tmp_path / "app.sqlite")
    src = FileByteSource(source)
    stop_after = asyncio.Event()
    first: list[dict[str, Any]] = []
    second: list[tuple[dict[str, Any], dict[str, Any]]] = []

    async def stop_at_the_third(step: StepContext, before: dict[str, Any], after: dict[str, Any]) -> None:
        first.append(after)
        if len(first) == 3:
            stop_after.set()
            while True:  # until the engine stops: the run goes back to pending with three batches committed
                step.checkpoint()
                await asyncio.sleep(0.01)

    async def record(step: StepContext, before: dict[str, Any], after: dict[str, Any]) -> None:
        second.append((before, after))

    def env(hook: Any) -> ImportEnv:
        return ImportEnv(staging_dir=str(tmp_path / "st"), sources={"s": src}, max_batch_rows=BATCH, slice_rows=50,
                         after_batch=hook)

    engine = Engine(db)
    job = make_import_job(env(stop_at_the_third))
    engine.register(job)
    await engine.start()
    run, _ = await engine.trigger(job, payload(src))
    await asyncio.wait_for(stop_after.wait(), 60)
    await engine.stop()

    engine = Engine(db)
    job = make_import_job(env(record))
    engine.register(job)
    ended = asyncio.Event()
    for event in ("run:complete", "run:fail", "run:cancel"):
        engine.on(event, lambda _: ended.set())
    await engine.start()  # resumes the run: three batches replayed, the rest committed now
    try:
        await asyncio.wait_for(ended.wait(), 60)
        finished = await engine.get_run(run.id)
        committed = batch_outputs(await engine.get_steps(run.id))
    finally:
        await engine.stop()
    assert finished is not None and finished.status is RunStatus.COMPLETED
    assert len(first) == 3 and committed[:3] == first
    assert [after for _, after in second] == committed[3:]
    assert second[0][0] == first[-1]
