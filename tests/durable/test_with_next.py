"""`step.run(..., with_next=True)`: the result is stored by the run's next write, and called again when the run
stops before that write."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from tests.durable.enginekit import FakeClock, Gate, Ids, settle, status_is, stop_while_held

from durable import Engine, RunFailedError, RunStatus, StepContext, StepStatus, define_job


class Empty(BaseModel):
    pass


def recorded(db_path: Path) -> list[tuple[int, str, str, str | None]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT ordinal, name, status, output FROM durable_steps ORDER BY ordinal").fetchall()


async def test_its_result_is_committed_with_the_next_step(make_engine: Any, db_path: Path) -> None:
    commits: list[int] = []
    seen: list[list[tuple[int, str, str, str | None]]] = []

    @define_job("staged", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        assert await step.run("stage", lambda: {"size": 3}, with_next=True) == {"size": 3}
        seen.append(recorded(db_path))  # not written yet
        before = len(commits)
        await step.transaction("prepare", lambda conn: conn.execute("CREATE TABLE t (x)") and None)
        assert len(commits) - before == 1  # one commit for both
        await step.run("after", lambda: 1)

    async with make_engine(job, on_commit=lambda: commits.append(1)) as engine:
        run, _ = await engine.trigger(job, {})
        await settle(lambda: status_is(engine, run.id, RunStatus.COMPLETED))
    assert seen == [[]]
    assert recorded(db_path) == [(0, "stage", "completed", '{"size":3}'), (1, "prepare", "completed", "null"),
                                 (2, "after", "completed", "1")]


async def test_a_run_that_ends_after_it_stores_it_with_its_end(make_engine: Any, db_path: Path) -> None:
    @define_job("last", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        await step.run("only", lambda: "done", with_next=True)

    async with make_engine(job) as engine:
        await engine.trigger_and_wait(job, {})
    assert recorded(db_path) == [(0, "only", "completed", '"done"')]


async def test_a_later_failure_stores_it_and_a_retry_does_not_call_it_again(make_engine: Any, db_path: Path) -> None:
    calls: list[str] = []
    fail = [True]

    def then() -> None:
        if fail.pop(0) if fail else False:
            raise ValueError("broken")

    @define_job("failing", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        await step.run("stage", lambda: calls.append("stage"), with_next=True)
        await step.run("then", then)

    async with make_engine(job) as engine:
        with pytest.raises(RunFailedError):
            await engine.trigger_and_wait(job, {})
        assert recorded(db_path) == [(0, "stage", "completed", "null"), (1, "then", "failed", None)]
        run_id = (await engine.list_runs()).items[0].id
        await engine.retry(run_id)
        await settle(lambda: status_is(engine, run_id, RunStatus.COMPLETED))
    assert calls == ["stage"]
    assert [s[2] for s in recorded(db_path)] == [StepStatus.COMPLETED.value] * 2


async def test_a_run_stopped_before_the_next_write_calls_it_again(db_path: Path, clock: FakeClock) -> None:
    calls: list[str] = []
    gate = Gate()

    @define_job("stopped", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        await step.run("stage", lambda: calls.append("stage") or len(calls), with_next=True)
        await gate.wait(step.run_id)
        await step.run("after", lambda: calls.append("after"))

    run = await stop_while_held(db_path, clock, job, gate)
    assert recorded(db_path) == []  # the stop wrote no step: the result was not stored

    again = Engine(db_path, clock=clock, id_factory=Ids("b"))
    again.register(job)
    await again.start()
    await settle(lambda: status_is(again, run.id, RunStatus.COMPLETED))
    await again.stop()
    assert calls == ["stage", "stage", "after"]
    assert recorded(db_path) == [(0, "stage", "completed", "2"), (1, "after", "completed", "null")]

