"""StepContext: checkpoints, transactions, replay, retry policies, progress and logs."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

import pytest
from pydantic import BaseModel
from tests.durable.enginekit import FakeClock, Gate, Numbers, Recorder, Total, raise_if, settle, status_is

from durable import (
    CancellationRequested,
    NonDeterministicError,
    NotJsonError,
    RetryPolicy,
    RunFailedError,
    RunStatus,
    StepContext,
    StepKind,
    StepStatus,
    TransactionMisuseError,
    define_job,
)


class Empty(BaseModel):
    pass


async def test_step_run_accepts_sync_and_async_functions_and_returns_json(make_engine: Any) -> None:
    async def later() -> dict[str, Any]:
        return {"pair": (1, 2)}

    @define_job("mixed", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        assert await step.run("sync", lambda: 41) == 41
        assert await step.run("async", later) == {"pair": [1, 2]}  # JSON: a tuple comes back as a list

    async with make_engine(job) as engine:
        assert await engine.trigger_and_wait(job, {}) is None


async def test_resumed_run_skips_completed_steps(make_engine: Any) -> None:
    calls: list[str] = []
    fail_once = {"b": True}

    def effect(name: str) -> str:
        calls.append(name)
        if fail_once.pop(name, False):
            raise RuntimeError("transient")
        return name.upper()

    @define_job("abc", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        for name in ("a", "b", "c"):
            await step.run(name, lambda name=name: effect(name))

    async with make_engine(job) as engine:
        with pytest.raises(RunFailedError) as failed:
            await engine.trigger_and_wait(job, {})
        run_id = failed.value.run_id
        await engine.retry(run_id)
        await settle(lambda: status_is(engine, run_id, RunStatus.COMPLETED))
        assert calls == ["a", "b", "b", "c"]
        steps = await engine.get_steps(run_id)
        assert [(s.name, s.status, s.output) for s in steps] == [
            ("a", StepStatus.COMPLETED, "A"),
            ("b", StepStatus.COMPLETED, "B"),
            ("c", StepStatus.COMPLETED, "C"),
        ]


async def test_transaction_commits_its_writes_with_the_checkpoint(make_engine: Any, db_path: Any) -> None:
    @define_job("write", input=Numbers, output=None)
    async def job(step: StepContext, payload: Numbers) -> None:
        await step.transaction("schema", lambda c: c.execute("CREATE TABLE target (n INTEGER)") and None)
        for i in range(payload.n):
            await step.transaction(
                f"batch-{i}", lambda c, i=i: c.execute("INSERT INTO target VALUES (?)", (i,)).rowcount
            )

    async with make_engine(job) as engine:
        await engine.trigger_and_wait(job, {"n": 4})
    conn = sqlite3.connect(db_path)
    assert [r[0] for r in conn.execute("SELECT n FROM target ORDER BY n")] == [0, 1, 2, 3]
    kinds = {r[0] for r in conn.execute("SELECT kind FROM durable_steps")}
    assert kinds == {"transaction"}


async def test_failed_transaction_rolls_back_its_writes(make_engine: Any, db_path: Any) -> None:
    @define_job("half", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        await step.transaction("schema", lambda c: c.execute("CREATE TABLE target (n INTEGER)") and None)

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO target VALUES (1)")
            raise ValueError("bad row")

        await step.transaction("batch", write)

    async with make_engine(job) as engine:
        with pytest.raises(RunFailedError, match="bad row") as failed:
            await engine.trigger_and_wait(job, {})
        assert failed.value.step == "batch"
        steps = await engine.get_steps(failed.value.run_id)
        assert steps[-1].status is StepStatus.FAILED and steps[-1].error is not None
        assert steps[-1].error.type == "ValueError"
    assert sqlite3.connect(db_path).execute("SELECT COUNT(*) FROM target").fetchone()[0] == 0


async def test_committed_transaction_is_not_run_again_on_retry(make_engine: Any, db_path: Any) -> None:
    fail = {"after": True}

    @define_job("once", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        await step.transaction("schema", lambda c: c.execute("CREATE TABLE target (n INTEGER)") and None)
        await step.transaction("insert", lambda c: c.execute("INSERT INTO target VALUES (1)") and None)
        await step.run("after", lambda: raise_if(fail.pop("after", False)))

    async with make_engine(job) as engine:
        with pytest.raises(RunFailedError) as failed:
            await engine.trigger_and_wait(job, {})
        await engine.retry(failed.value.run_id)
        await settle(lambda: status_is(engine, failed.value.run_id, RunStatus.COMPLETED))
    assert sqlite3.connect(db_path).execute("SELECT COUNT(*) FROM target").fetchone()[0] == 1


@pytest.mark.parametrize(
    ("fn", "reason"),
    [
        (lambda c: c.commit(), "committed or rolled back"),
        (lambda c: c.execute("ROLLBACK"), "committed or rolled back"),
    ],
)
async def test_transaction_refuses_a_function_that_ends_the_transaction(make_engine: Any, fn: Any, reason: str) -> None:
    @define_job("misuse", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        await step.transaction("bad", fn)

    async with make_engine(job) as engine:
        with pytest.raises(RunFailedError, match=reason) as failed:
            await engine.trigger_and_wait(job, {})
        assert failed.value.error_type == TransactionMisuseError.__name__


async def test_transaction_refuses_an_async_function(make_engine: Any) -> None:
    async def write(conn: sqlite3.Connection) -> None:
        return None

    @define_job("async-tx", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        await step.transaction("bad", write)  # type: ignore[arg-type]

    async with make_engine(job) as engine:
        with pytest.raises(RunFailedError, match="sync fn"):
            await engine.trigger_and_wait(job, {})


async def test_step_result_that_is_not_json_fails_with_a_named_error(make_engine: Any) -> None:
    @define_job("set", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        await step.run("set", lambda: {1, 2})

    async with make_engine(job) as engine:
        with pytest.raises(RunFailedError) as failed:
            await engine.trigger_and_wait(job, {})
        assert failed.value.error_type == NotJsonError.__name__
        assert isinstance(failed.value.__cause__, NotJsonError)


async def test_replay_with_a_different_step_name_raises_non_deterministic(make_engine: Any) -> None:
    names = iter(["first", "renamed"])
    fail = {"second": True}

    @define_job("drift", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        await step.run(next(names), lambda: 1)
        await step.run("second", lambda: raise_if(fail.pop("second", False)))

    async with make_engine(job) as engine:
        with pytest.raises(RunFailedError) as failed:
            await engine.trigger_and_wait(job, {})
        await engine.retry(failed.value.run_id)
        await settle(lambda: status_is(engine, failed.value.run_id, RunStatus.FAILED))
        run = await engine.get_run(failed.value.run_id)
        assert run is not None and run.error is not None
        assert run.error.type == NonDeterministicError.__name__
        assert "'first'" in run.error.message and "'renamed'" in run.error.message
        assert "not deterministic" in run.error.message


async def test_replay_check_cannot_be_swallowed_by_the_job(make_engine: Any) -> None:
    names = iter(["first", "renamed"])
    fail = {"x": True}

    @define_job("swallow", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        with contextlib.suppress(Exception):
            await step.run(next(names), lambda: 1)
        await step.run("x", lambda: raise_if(fail.pop("x", False)))

    async with make_engine(job) as engine:
        with pytest.raises(RunFailedError) as failed:
            await engine.trigger_and_wait(job, {})
        await engine.retry(failed.value.run_id)
        await settle(lambda: status_is(engine, failed.value.run_id, RunStatus.FAILED))
        run = await engine.get_run(failed.value.run_id)
        assert run is not None and run.error is not None and run.error.type == "NonDeterministicError"


async def test_job_that_returns_before_its_recorded_steps_is_non_deterministic(make_engine: Any) -> None:
    steps_to_run = iter([2, 0])
    fail = {"go": True}

    @define_job("shrink", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        for i in range(next(steps_to_run)):
            await step.run(f"s{i}", lambda: 1)
        if fail.pop("go", False):
            raise RuntimeError("stop here")

    async with make_engine(job) as engine:
        with pytest.raises(RunFailedError) as failed:
            await engine.trigger_and_wait(job, {})
        await engine.retry(failed.value.run_id)
        await settle(lambda: status_is(engine, failed.value.run_id, RunStatus.FAILED))
        run = await engine.get_run(failed.value.run_id)
        assert run is not None and run.error is not None and run.error.type == "NonDeterministicError"


async def test_retry_policy_retries_transient_errors_with_backoff(make_engine: Any, clock: FakeClock) -> None:
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("try again")
        return "ok"

    @define_job("flaky", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        assert await step.run("fetch", flaky, retry=RetryPolicy(attempts=3, backoff=1.0, factor=2.0)) == "ok"

    async with make_engine(job) as engine:
        recorder = Recorder()
        engine.on("step:fail", recorder)
        run_id = (await engine.trigger(job, {})).run.id
        await settle(lambda: status_is(engine, run_id, RunStatus.COMPLETED))
        assert clock.slept == [1.0, 2.0]
        assert [e.will_retry for e in recorder.of("step:fail")] == [True, True]
        (step,) = await engine.get_steps(run_id)
        assert step.attempts == 3 and step.status is StepStatus.COMPLETED


async def test_retry_policy_gives_up_after_its_attempts_and_skips_other_errors(make_engine: Any) -> None:
    calls = {"io": 0, "type": 0}

    def io() -> None:
        calls["io"] += 1
        raise ConnectionError("down")

    def typ() -> None:
        calls["type"] += 1
        raise TypeError("bug")

    policy = RetryPolicy(attempts=2, backoff=0.0, retry_on=(ConnectionError,))

    @define_job("give-up", input=Empty, output=None, retry=policy)
    async def job(step: StepContext, _: Empty) -> None:
        with contextlib.suppress(ConnectionError):
            await step.run("io", io)
        await step.run("type", typ)

    async with make_engine(job) as engine:
        with pytest.raises(RunFailedError, match="bug"):
            await engine.trigger_and_wait(job, {})
    assert calls == {"io": 2, "type": 1}


async def test_progress_is_stored_with_the_next_committed_step(make_engine: Any) -> None:
    gate = Gate()

    @define_job("progress", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        step.progress(1, 10, "one")
        await gate.wait("before-step")
        await step.run("a", lambda: 1)
        step.progress(2, 10)
        await gate.wait("after-step")

    async with make_engine(job) as engine:
        run_id = (await engine.trigger(job, {})).run.id
        await settle(lambda: _reached(gate, "before-step"))
        run = await engine.get_run(run_id)
        assert run is not None and run.progress is None
        gate.open("before-step")
        await settle(lambda: _reached(gate, "after-step"))
        run = await engine.get_run(run_id)
        assert run is not None and run.progress is not None
        assert (run.progress.current, run.progress.total, run.progress.message) == (1, 10, "one")
        gate.open("after-step")
        await settle(lambda: status_is(engine, run_id, RunStatus.COMPLETED))
        run = await engine.get_run(run_id)
        assert run is not None and run.progress is not None and run.progress.current == 2


async def test_progress_events_are_throttled_and_the_last_one_is_sent(make_engine: Any, clock: FakeClock) -> None:
    @define_job("many", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        for i in range(100):
            step.progress(i, 100)
            clock.advance(0.01)

    async with make_engine(job, progress_interval=0.1) as engine:
        recorder = Recorder()
        engine.on("run:progress", recorder)
        await engine.trigger_and_wait(job, {})
    currents = [e.current for e in recorder.of("run:progress")]
    assert 8 <= len(currents) <= 12
    assert currents[0] == 0 and currents[-1] == 99


async def test_logs_are_kept_with_their_step_and_level(make_engine: Any) -> None:
    @define_job("logs", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        step.log.info("start", rows=3)

        def inside() -> None:
            step.log.warning("odd value", row=2)

        await step.run("load", inside)
        step.log.error("done badly")

    async with make_engine(job) as engine:
        recorder = Recorder()
        engine.on("log:write", recorder)
        run_id = (await engine.trigger(job, {})).run.id
        await settle(lambda: status_is(engine, run_id, RunStatus.COMPLETED))
        page = await engine.get_logs(run_id)
        assert [(e.level.value, e.step, e.message, e.data) for e in page.items] == [
            ("info", None, "start", {"rows": 3}),
            ("warning", "load", "odd value", {"row": 2}),
            ("error", None, "done badly", {}),
        ]
        assert page.total == 3
        assert [e.message for e in recorder.of("log:write")] == ["start", "odd value", "done badly"]
        warnings = await engine.get_logs(run_id, level="warning")
        assert [e.message for e in warnings.items] == ["odd value", "done badly"]
        paged = await engine.get_logs(run_id, limit=1, offset=1)
        assert [e.message for e in paged.items] == ["odd value"] and paged.total == 3


async def test_logs_are_not_written_twice_when_steps_replay(make_engine: Any) -> None:
    fail = {"b": True}

    @define_job("relog", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        step.log.info("before a")
        await step.run("a", lambda: 1)
        step.log.info("before b")
        await step.run("b", lambda: raise_if(fail.pop("b", False)))
        step.log.info("after b")

    async with make_engine(job) as engine:
        with pytest.raises(RunFailedError) as failed:
            await engine.trigger_and_wait(job, {})
        run_id = failed.value.run_id
        await engine.retry(run_id)
        await settle(lambda: status_is(engine, run_id, RunStatus.COMPLETED))
        messages = [e.message for e in (await engine.get_logs(run_id)).items]
        assert messages == ["before a", "before b", "after b"]


class Target(BaseModel):
    run_id: str


async def test_a_note_lands_in_the_other_runs_log_once_as_the_runs_own_lines_do(make_engine: Any) -> None:
    fail = {"b": True}

    @define_job("plain", input=Empty, output=None)
    async def plain(step: StepContext, _: Empty) -> None:
        step.log.info("imported")

    @define_job("fixer", input=Target, output=None)
    async def fixer(step: StepContext, target: Target) -> None:
        step.log.note(target.run_id, "plain", "fixed row 7", row=7)
        await step.run("a", lambda: 1)
        step.log.note(target.run_id, "plain", "before b")
        await step.run("b", lambda: raise_if(fail.pop("b", False)))

    async with make_engine(plain, fixer) as engine:
        recorder = Recorder()
        engine.on("log:write", recorder)
        target = (await engine.trigger(plain, {})).run.id
        await settle(lambda: status_is(engine, target, RunStatus.COMPLETED))
        with pytest.raises(RunFailedError) as failed:
            await engine.trigger_and_wait(fixer, {"run_id": target})
        notes = [(e.message, e.data) for e in (await engine.get_logs(target)).items]
        assert notes == [("imported", {}), ("fixed row 7", {"row": 7}), ("before b", {})]  # as its own lines
        await engine.retry(failed.value.run_id)
        await settle(lambda: status_is(engine, failed.value.run_id, RunStatus.COMPLETED))
        after = [e.message for e in (await engine.get_logs(target)).items]
        assert after == ["imported", "fixed row 7", "before b"]  # the retry's replay adds no copy
        assert (await engine.get_logs(failed.value.run_id)).total == 0
        sent = [(e.run_id, e.job, e.message) for e in recorder.of("log:write") if e.message.startswith("fixed")]
        assert sent == [(target, "plain", "fixed row 7")]


async def test_cancellation_cannot_be_swallowed_by_except_exception(make_engine: Any) -> None:
    gate = Gate()
    swallowed: list[bool] = []

    @define_job("stubborn", input=Empty, output=None)
    async def job(step: StepContext, _: Empty) -> None:
        await gate.wait("go")
        try:
            step.progress(1)
        except Exception:
            swallowed.append(True)
        await step.run("never", lambda: 1)

    async with make_engine(job) as engine:
        run_id = (await engine.trigger(job, {})).run.id
        await settle(lambda: _reached(gate, "go"))
        await engine.cancel(run_id)
        gate.open("go")
        await settle(lambda: status_is(engine, run_id, RunStatus.CANCELLED))
        assert swallowed == []
        assert await engine.get_steps(run_id) == []


def test_cancellation_is_a_base_exception_not_an_exception() -> None:
    assert issubclass(CancellationRequested, BaseException)
    assert not issubclass(CancellationRequested, Exception)


async def test_step_kinds_are_recorded(make_engine: Any) -> None:
    @define_job("kinds", input=Empty, output=Total)
    async def job(step: StepContext, _: Empty) -> Total:
        a = await step.run("a", lambda: 2)
        b = await step.transaction("b", lambda c: 3)
        return Total(total=a + b)

    async with make_engine(job) as engine:
        assert await engine.trigger_and_wait(job, {}) == Total(total=5)
        run = (await engine.list_runs()).items[0]
        assert [s.kind for s in await engine.get_steps(run.id)] == [StepKind.RUN, StepKind.TRANSACTION]


async def _reached(gate: Gate, name: str) -> bool:
    return name in gate.reached
