"""Engine: trigger, wait, cancel, retry, retrigger, delete, purge, queries, stop and recovery, the lease."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from tests.durable.enginekit import (
    FakeClock,
    Gate,
    Ids,
    Numbers,
    Recorder,
    Total,
    raise_if,
    settle,
    status_is,
    stop_while_held,
    sum_job,
)

from durable import (
    Engine,
    EngineNotStartedError,
    InvalidInputError,
    InvalidRunStateError,
    JobAlreadyRegisteredError,
    JobNotFoundError,
    LeaseLostError,
    Run,
    RunCancelledError,
    RunFailedError,
    RunNotFoundError,
    RunStatus,
    StepContext,
    WaitTimeoutError,
    define_job,
)


class Empty(BaseModel):
    pass


def gated_job(gate: Gate, name: str = "gated") -> Any:
    @define_job(name, input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        await step.run("before", lambda: 1)
        await gate.wait(step.run_id)
        await step.run("after", lambda: 2)

    return job


async def test_trigger_returns_the_run_and_created(make_engine: Any) -> None:
    async with make_engine(sum_job) as engine:
        recorder = Recorder()
        engine.on("run:trigger", recorder)
        run, created = await engine.trigger(sum_job, {"n": 2}, labels={"source": "test"})
        assert created is True
        # a free slot: the trigger's transaction claimed it, so it is returned running, in its first attempt
        assert run.status is RunStatus.RUNNING and run.attempt == 1 and run.started_at is not None
        assert run.input == {"n": 2} and run.labels == {"source": "test"}
        assert recorder.of("run:trigger")[0].run_id == run.id


async def test_a_trigger_with_a_free_slot_claims_its_run_in_its_own_commit(make_engine: Any) -> None:
    """Trigger to first step: one commit (insert and claim), not two; the run then completes as before."""
    commits: list[str] = []
    async with make_engine(sum_job, on_commit=lambda: commits.append("commit")) as engine:
        steps: list[int] = []
        engine.on("step:start", lambda event: steps.append(len(commits)))
        before = len(commits)
        run, _ = await engine.trigger(sum_job, {"n": 2})
        assert len(commits) - before == 1
        await settle(lambda: status_is(engine, run.id, RunStatus.COMPLETED))
        assert steps[0] - before == 1  # nothing committed between the trigger and the first step


async def test_a_trigger_without_a_free_slot_leaves_its_run_pending(make_engine: Any) -> None:
    gate = Gate()
    async with make_engine(gated_job(gate, "held"), sum_job) as engine:
        held, _ = await engine.trigger("held", {})
        await settle(lambda: _reached(gate, held.id))
        queued, _ = await engine.trigger(sum_job, {"n": 1})
        assert queued.status is RunStatus.PENDING  # the one slot is taken: the worker's loop claims it later
        gate.open(held.id)
        await settle(lambda: status_is(engine, queued.id, RunStatus.COMPLETED))


async def test_trigger_by_name_works_like_trigger_by_job(make_engine: Any) -> None:
    async with make_engine(sum_job) as engine:
        assert await engine.trigger_and_wait("sum", {"n": 4}) == Total(total=6)


async def test_idempotency_key_returns_the_existing_run(make_engine: Any) -> None:
    async with make_engine(sum_job) as engine:
        first = await engine.trigger(sum_job, {"n": 2}, idempotency_key="file-hash")
        second = await engine.trigger(sum_job, {"n": 9}, idempotency_key="file-hash")
        assert second.created is False and second.run.id == first.run.id
        assert (await engine.list_runs()).total == 1


async def test_invalid_input_is_a_clear_error_and_stores_nothing(make_engine: Any) -> None:
    async with make_engine(sum_job) as engine:
        with pytest.raises(InvalidInputError, match=r"Invalid input for job 'sum': n: ") as error:
            await engine.trigger(sum_job, {"n": "many"})
        assert error.value.errors[0]["loc"] == ("n",)
        assert (await engine.list_runs()).total == 0


async def test_unknown_job_and_duplicate_registration_are_named_errors(make_engine: Any) -> None:
    async with make_engine(sum_job) as engine:
        with pytest.raises(JobNotFoundError, match=r"engine\.register"):
            await engine.trigger("nope", {})
        other = define_job("sum", input=Numbers, output=Total)(sum_job.fn)
        with pytest.raises(JobAlreadyRegisteredError):
            engine.register(other)
        engine.register(sum_job)  # the same job again is fine


async def test_methods_need_a_started_engine(db_path: Path) -> None:
    engine = Engine(db_path)
    engine.register(sum_job)
    with pytest.raises(EngineNotStartedError, match=r"engine\.start"):
        await engine.trigger(sum_job, {})
    with pytest.raises(EngineNotStartedError):
        await engine.list_runs()


async def test_trigger_and_wait_returns_the_validated_output(make_engine: Any) -> None:
    async with make_engine(sum_job) as engine:
        assert await engine.trigger_and_wait(sum_job, {"n": 5}) == Total(total=10)


async def test_trigger_and_wait_raises_the_runs_error(make_engine: Any) -> None:
    @define_job("boom", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        await step.run("explode", lambda: raise_if(True))

    async with make_engine(job) as engine:
        with pytest.raises(RunFailedError, match="planned failure") as failed:
            await engine.trigger_and_wait(job, {})
        assert failed.value.step == "explode" and failed.value.error_type == "RuntimeError"
        assert isinstance(failed.value.__cause__, RuntimeError)
        run = await engine.get_run(failed.value.run_id)
        assert run is not None and run.status is RunStatus.FAILED and run.finished_at is not None


async def test_trigger_and_wait_times_out_without_stopping_the_run(make_engine: Any) -> None:
    gate = Gate()
    job = gated_job(gate)
    async with make_engine(job) as engine:
        with pytest.raises(WaitTimeoutError) as waited:
            await engine.trigger_and_wait(job, {}, timeout=0.05)
        assert isinstance(waited.value, TimeoutError)
        gate.open(waited.value.run_id)
        await settle(lambda: status_is(engine, waited.value.run_id, RunStatus.COMPLETED))


async def test_invalid_output_fails_the_run(make_engine: Any) -> None:
    @define_job("bad-out", input=Empty, output=Total)
    async def job(step: StepContext, _: Empty) -> Total:
        return {"total": "lots"}  # type: ignore[return-value]

    async with make_engine(job) as engine:
        with pytest.raises(RunFailedError, match="invalid output") as failed:
            await engine.trigger_and_wait(job, {})
        assert failed.value.error_type == "InvalidOutputError"


async def test_cancel_pending_run_takes_effect_at_once(make_engine: Any) -> None:
    gate = Gate()
    job = gated_job(gate)
    async with make_engine(job) as engine:
        first = (await engine.trigger(job, {})).run
        second = (await engine.trigger(job, {})).run
        await settle(lambda: _reached(gate, first.id))
        recorder = Recorder()
        engine.on("run:cancel", recorder)
        cancelled = await engine.cancel(second.id)
        assert cancelled.status is RunStatus.CANCELLED
        assert [e.run_id for e in recorder.of("run:cancel")] == [second.id]
        gate.open(first.id)
        await settle(lambda: status_is(engine, first.id, RunStatus.COMPLETED))
        assert await engine.get_steps(second.id) == []


async def test_cancel_running_run_takes_effect_at_the_next_checkpoint(make_engine: Any) -> None:
    gate = Gate()
    job = gated_job(gate)
    async with make_engine(job) as engine:
        run = (await engine.trigger(job, {})).run
        await settle(lambda: _reached(gate, run.id))
        requested = await engine.cancel(run.id)
        assert requested.status is RunStatus.RUNNING and requested.cancel_requested
        gate.open(run.id)
        await settle(lambda: status_is(engine, run.id, RunStatus.CANCELLED))
        assert [s.name for s in await engine.get_steps(run.id)] == ["before"]


async def test_trigger_and_wait_raises_when_the_run_is_cancelled(make_engine: Any) -> None:
    gate = Gate()
    job = gated_job(gate)
    async with make_engine(job) as engine:
        waiting = asyncio.create_task(engine.trigger_and_wait(job, {}))
        await settle(lambda: _any_reached(gate))
        await engine.cancel(gate.reached[0])
        gate.open(gate.reached[0])
        with pytest.raises(RunCancelledError):
            await waiting


async def test_cancel_of_a_finished_run_is_refused(make_engine: Any) -> None:
    async with make_engine(sum_job) as engine:
        await engine.trigger_and_wait(sum_job, {"n": 1})
        run = (await engine.list_runs()).items[0]
        with pytest.raises(InvalidRunStateError, match="it is completed"):
            await engine.cancel(run.id)
        with pytest.raises(RunNotFoundError):
            await engine.cancel("missing")


async def test_retry_resumes_a_cancelled_run_from_its_checkpoints(make_engine: Any) -> None:
    gate = Gate()
    job = gated_job(gate)
    async with make_engine(job) as engine:
        recorder = Recorder()
        engine.on("*", recorder)
        run = (await engine.trigger(job, {})).run
        await settle(lambda: _reached(gate, run.id))
        await engine.cancel(run.id)
        gate.open(run.id)
        await settle(lambda: status_is(engine, run.id, RunStatus.CANCELLED))
        retried = await engine.retry(run.id)
        assert retried.status in (RunStatus.PENDING, RunStatus.RUNNING)
        await settle(lambda: status_is(engine, run.id, RunStatus.COMPLETED))
        done = await engine.get_run(run.id)
        assert done is not None and done.attempt == 2
        assert [s.name for s in await engine.get_steps(run.id)] == ["before", "after"]
        starts = recorder.of("run:start")
        assert [e.resumed for e in starts] == [False, True]
        assert "run:retry" in recorder.types()


async def test_retry_of_a_running_or_completed_run_is_refused(make_engine: Any) -> None:
    async with make_engine(sum_job) as engine:
        await engine.trigger_and_wait(sum_job, {"n": 1})
        run = (await engine.list_runs()).items[0]
        with pytest.raises(InvalidRunStateError, match="only failed or cancelled"):
            await engine.retry(run.id)


async def test_retrigger_starts_a_fresh_run_with_the_same_input(make_engine: Any) -> None:
    async with make_engine(sum_job) as engine:
        first, _ = await engine.trigger(sum_job, {"n": 3}, labels={"file": "a.csv"}, concurrency_key="k")
        await settle(lambda: status_is(engine, first.id, RunStatus.COMPLETED))
        fresh = await engine.retrigger(first.id)
        assert fresh.id != first.id
        assert (fresh.input, fresh.labels, fresh.concurrency_key) == ({"n": 3}, {"file": "a.csv"}, "k")
        await settle(lambda: status_is(engine, fresh.id, RunStatus.COMPLETED))


async def test_delete_removes_run_steps_and_logs_and_calls_the_hook(make_engine: Any, db_path: Path) -> None:
    deleted: list[str] = []

    def on_delete(conn: sqlite3.Connection, run: Run) -> None:
        conn.execute("DELETE FROM staged WHERE run_id = ?", (run.id,))
        deleted.append(run.id)

    @define_job("staged", input=Empty, output=None, on_delete=on_delete)
    async def job(step: StepContext, _: Empty) -> None:
        await step.transaction("stage", lambda c: c.execute("INSERT INTO staged VALUES (?)", (step.run_id,)) and None)
        step.log.info("staged")

    sqlite3.connect(db_path).execute("CREATE TABLE staged (run_id TEXT)").connection.commit()
    async with make_engine(job) as engine:
        recorder = Recorder()
        engine.on("run:delete", recorder)
        await engine.trigger_and_wait(job, {}, labels={"file": "x"})
        run = (await engine.list_runs()).items[0]
        await engine.delete(run.id)
        assert await engine.get_run(run.id) is None
        assert await engine.get_steps(run.id) == []
        assert (await engine.get_logs(run.id)).total == 0
        assert deleted == [run.id]
        assert [(e.run_id, e.labels) for e in recorder.of("run:delete")] == [(run.id, {"file": "x"})]
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT COUNT(*) FROM staged").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM durable_run_labels").fetchone()[0] == 0


async def test_delete_of_an_unfinished_run_is_refused(make_engine: Any) -> None:
    gate = Gate()
    job = gated_job(gate)
    async with make_engine(job) as engine:
        run = (await engine.trigger(job, {})).run
        await settle(lambda: _reached(gate, run.id))
        with pytest.raises(InvalidRunStateError, match=r"Cannot delete run .*: it is running"):
            await engine.delete(run.id)
        gate.open(run.id)


async def test_purge_deletes_runs_that_finished_before_the_cutoff(make_engine: Any, clock: FakeClock) -> None:
    async with make_engine(sum_job) as engine:
        old = await engine.trigger(sum_job, {"n": 1})
        await settle(lambda: status_is(engine, old.run.id, RunStatus.COMPLETED))
        clock.advance(3600 * 24 * 10)
        new = await engine.trigger(sum_job, {"n": 1})
        await settle(lambda: status_is(engine, new.run.id, RunStatus.COMPLETED))
        assert await engine.purge(older_than=timedelta(days=7)) == 1
        assert [r.id for r in (await engine.list_runs()).items] == [new.run.id]
        assert await engine.purge(older_than=clock.now() + timedelta(seconds=1)) == 1


async def test_list_runs_is_newest_first_with_filters_and_a_total(make_engine: Any) -> None:
    gate = Gate()
    job = gated_job(gate)
    async with make_engine(sum_job, job) as engine:
        a = await engine.trigger(sum_job, {"n": 1}, labels={"file": "a.csv", "kind": "csv"})
        await settle(lambda: status_is(engine, a.run.id, RunStatus.COMPLETED))
        b = await engine.trigger(sum_job, {"n": 1}, labels={"file": "b.csv", "kind": "csv"})
        await settle(lambda: status_is(engine, b.run.id, RunStatus.COMPLETED))
        c = await engine.trigger(job, {})
        await settle(lambda: _reached(gate, c.run.id))
        every = await engine.list_runs()
        assert [r.id for r in every.items] == [c.run.id, b.run.id, a.run.id] and every.total == 3
        assert [r.id for r in (await engine.list_runs(status="running")).items] == [c.run.id]
        assert (await engine.list_runs(status=["completed", RunStatus.RUNNING])).total == 3
        assert [r.id for r in (await engine.list_runs(job="sum")).items] == [b.run.id, a.run.id]
        labelled = await engine.list_runs(label={"file": "a.csv"})
        assert [r.id for r in labelled.items] == [a.run.id]
        assert (await engine.list_runs(label={"kind": "csv", "file": "b.csv"})).total == 1
        page = await engine.list_runs(limit=1, offset=1)
        assert [r.id for r in page.items] == [b.run.id] and page.total == 3
        gate.open(c.run.id)


async def test_get_run_of_an_unknown_id_is_none(make_engine: Any) -> None:
    async with make_engine(sum_job) as engine:
        assert await engine.get_run("nope") is None


async def test_at_most_max_concurrent_runs_run_at_once(make_engine: Any) -> None:
    gate = Gate()
    job = gated_job(gate)
    async with make_engine(job, max_concurrent_runs=2) as engine:
        runs = [(await engine.trigger(job, {})).run for _ in range(4)]
        await settle(lambda: _count_reached(gate, 2))
        await settle()
        assert (await engine.list_runs(status="running")).total == 2
        for run in runs:
            gate.open(run.id)
        for run in runs:
            await settle(lambda run=run: status_is(engine, run.id, RunStatus.COMPLETED))


async def test_runs_sharing_a_concurrency_key_run_one_at_a_time_in_fifo_order(make_engine: Any) -> None:
    gate = Gate()
    job = gated_job(gate)
    async with make_engine(job, max_concurrent_runs=3) as engine:
        k1 = (await engine.trigger(job, {}, concurrency_key="file")).run
        k2 = (await engine.trigger(job, {}, concurrency_key="file")).run
        free = (await engine.trigger(job, {})).run
        k3 = (await engine.trigger(job, {}, concurrency_key="file")).run
        await settle(lambda: _count_reached(gate, 2))
        await settle()
        assert sorted(gate.reached) == sorted([k1.id, free.id])
        gate.open(k1.id)
        await settle(lambda: _reached(gate, k2.id))
        await settle()
        assert k3.id not in gate.reached
        gate.open(k2.id)
        await settle(lambda: _reached(gate, k3.id))
        gate.open(k3.id)
        gate.open(free.id)


async def test_each_run_records_the_app_version_that_ran_it(make_engine: Any) -> None:
    async with make_engine(sum_job, app_version="1.2.3") as engine:
        await engine.trigger_and_wait(sum_job, {"n": 1})
        assert (await engine.list_runs()).items[0].app_version == "1.2.3"


async def test_on_commit_runs_after_every_commit(make_engine: Any) -> None:
    commits: list[int] = []
    async with make_engine(sum_job, on_commit=lambda: commits.append(1)) as engine:
        before = len(commits)
        await engine.trigger_and_wait(sum_job, {"n": 3})
        # the trigger with its claim, three checkpoints, the completion
        assert len(commits) - before == 5


async def test_graceful_stop_requeues_the_run_and_the_next_start_resumes_it(db_path: Path, clock: FakeClock) -> None:
    gate = Gate()
    run = await stop_while_held(db_path, clock, gated_job(gate), gate)
    row = sqlite3.connect(db_path).execute("SELECT status FROM durable_runs").fetchone()
    assert row == ("pending",)

    calls: list[str] = []

    @define_job("gated", input=Empty, output=None)
    async def resumed(step: StepContext, _: Empty) -> None:
        await step.run("before", lambda: calls.append("before"))
        await step.run("after", lambda: calls.append("after"))

    again = Engine(db_path, clock=clock, id_factory=Ids("b"))
    again.register(resumed)
    await again.start()
    await settle(lambda: status_is(again, run.id, RunStatus.COMPLETED))
    assert calls == ["after"]
    await again.stop()


async def test_start_resumes_runs_a_dead_engine_left_running(db_path: Path, clock: FakeClock) -> None:
    gate = Gate()
    job = gated_job(gate)
    dead = Engine(db_path, clock=clock, id_factory=Ids("dead"))
    dead.register(job)
    await dead.start()
    run = (await dead.trigger(job, {})).run
    await settle(lambda: _reached(gate, run.id))
    await dead.stop(timeout=0)  # abandons the task mid-run: the run stays "running", like a crash
    assert sqlite3.connect(db_path).execute("SELECT status FROM durable_runs").fetchone() == ("running",)

    gate.open(run.id)
    recorder = Recorder()
    alive = Engine(db_path, clock=clock, id_factory=Ids("alive"))
    alive.register(job)
    alive.on("run:start", recorder)
    await alive.start()
    await settle(lambda: status_is(alive, run.id, RunStatus.COMPLETED))
    assert [(e.run_id, e.resumed, e.attempt) for e in recorder.of("run:start")] == [(run.id, True, 2)]
    await alive.stop()


async def test_an_opened_engine_answers_queries_and_runs_nothing_until_started(db_path: Path, clock: FakeClock) -> None:
    """`open` requeues what a dead engine left running and serves queries; only `start` runs the run, with the job
    registered after `open` (as the browser registers its jobs once pydantic is loaded)."""
    gate = Gate()
    dead = Engine(db_path, clock=clock, id_factory=Ids("dead"))
    dead.register(gated_job(gate))
    await dead.start()
    run = (await dead.trigger("gated", {})).run
    await settle(lambda: _reached(gate, run.id))
    await dead.stop(timeout=0)  # abandons the task mid-run: the run stays "running", like a crash
    gate.open(run.id)

    recorder = Recorder()
    alive = Engine(db_path, clock=clock, id_factory=Ids("alive"))
    alive.on("run:start", recorder)
    await alive.open()
    assert alive.opened and not alive.running
    page = await alive.list_runs()
    assert [(r.id, r.status) for r in page.items] == [(run.id, RunStatus.PENDING)]
    assert (await alive.get_run(run.id)) is not None
    assert [s.name for s in await alive.get_steps(run.id)] == ["before"]
    assert (await alive.get_logs(run.id)).total >= 0
    with pytest.raises(EngineNotStartedError):
        await alive.trigger("gated", {})
    for _ in range(5):
        await asyncio.sleep(0)
    assert recorder.of("run:start") == [] and (await alive.get_run(run.id)).status == RunStatus.PENDING  # type: ignore[union-attr]

    alive.register(gated_job(gate))
    await alive.start()
    await settle(lambda: status_is(alive, run.id, RunStatus.COMPLETED))
    assert [(e.run_id, e.resumed) for e in recorder.of("run:start")] == [(run.id, True)]
    await alive.stop()
    assert not alive.opened


async def test_stopping_an_opened_engine_releases_its_lease(db_path: Path, clock: FakeClock) -> None:
    first = Engine(db_path, clock=clock, id_factory=Ids("first"), takeover="wait")
    await first.open()
    await first.stop()
    assert sqlite3.connect(db_path).execute("SELECT owner FROM durable_lease").fetchone() is None
    second = Engine(db_path, clock=clock, id_factory=Ids("second"), takeover="wait")
    await asyncio.wait_for(second.open(), 5)  # no wait for a stale lease: it was released
    await second.stop()


async def test_a_stale_engines_late_write_is_refused(db_path: Path, clock: FakeClock) -> None:
    gate = Gate()
    job = gated_job(gate)
    stale = Engine(db_path, clock=clock, id_factory=Ids("stale"))
    stale.register(job)
    await stale.start()
    run = (await stale.trigger(job, {})).run
    await settle(lambda: _reached(gate, run.id))

    fresh = Engine(db_path, clock=clock, id_factory=Ids("fresh"))
    fresh.register(sum_job)  # not the gated job: the fresh engine leaves that run alone
    await fresh.start()
    gate.open(run.id)
    await settle(lambda: _stopped(stale))
    with pytest.raises(EngineNotStartedError):
        await stale.trigger(job, {})
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT name FROM durable_steps").fetchall() == [("before",)]
    assert conn.execute("SELECT status FROM durable_runs").fetchone() == ("pending",)
    await stale.stop()
    await fresh.stop()


async def test_a_stale_engine_cannot_trigger(db_path: Path, clock: FakeClock) -> None:
    stale = Engine(db_path, clock=clock, id_factory=Ids("stale"))
    stale.register(sum_job)
    await stale.start()
    fresh = Engine(db_path, clock=clock, id_factory=Ids("fresh"))
    await fresh.start()
    with pytest.raises(LeaseLostError, match="no longer owns"):
        await stale.trigger(sum_job, {})
    await fresh.stop()
    await stale.stop()


async def test_wait_takeover_waits_for_a_stale_lease(db_path: Path, clock: FakeClock) -> None:
    holder = Engine(db_path, clock=clock, id_factory=Ids("holder"))
    holder.register(sum_job)
    await holder.start()
    waiter = Engine(db_path, clock=clock, id_factory=Ids("waiter"), takeover="wait", lease_seconds=30)
    await waiter.start()  # the fake clock's sleeps age the holder's heartbeat past the lease
    assert sum(clock.slept) >= 30
    with pytest.raises(LeaseLostError):
        await holder.trigger(sum_job, {})
    await waiter.stop()
    await holder.stop()


async def test_a_released_lease_is_taken_without_waiting(db_path: Path, clock: FakeClock) -> None:
    first = Engine(db_path, clock=clock)
    await first.start()
    await first.stop()
    second = Engine(db_path, clock=clock, takeover="wait")
    await second.start()
    assert clock.slept == []
    await second.stop()


async def test_engine_runs_on_a_connection_it_does_not_own(clock: FakeClock) -> None:
    conn = sqlite3.connect(":memory:")
    engine = Engine(conn, clock=clock)
    engine.register(sum_job)
    await engine.start()
    assert await engine.trigger_and_wait(sum_job, {"n": 2}) == Total(total=1)
    await engine.stop()
    assert conn.execute("SELECT COUNT(*) FROM durable_runs").fetchone() == (1,)


async def _reached(gate: Gate, name: str) -> bool:
    return name in gate.reached


async def _any_reached(gate: Gate) -> bool:
    return bool(gate.reached)


async def _count_reached(gate: Gate, count: int) -> bool:
    return len(gate.reached) >= count


async def _stopped(engine: Engine) -> bool:
    return not engine.running
