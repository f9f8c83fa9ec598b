"""Property test of run and step transitions: a hypothesis state machine drives triggers, step outcomes,
cancel, retry, delete and crashes (abandoned engines) against a model of allowed run states."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from pydantic import BaseModel
from tests.durable.enginekit import FakeClock, Ids

from durable import (
    DurableError,
    Engine,
    InvalidRunStateError,
    RunStatus,
    StepContext,
    StepStatus,
    define_job,
)

MAX_RUNNING = 2
QUEUED = frozenset({RunStatus.PENDING, RunStatus.RUNNING})


class Plan(BaseModel):
    steps: int


class Controller:
    """Each step of the job waits here until the test decides its outcome."""

    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[bool]] = {}

    async def outcome(self, run_id: str) -> int:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.waiting[run_id] = future
        try:
            ok = await future
        finally:
            self.waiting.pop(run_id, None)
        if not ok:
            raise RuntimeError("step failed")
        return 1


def make_job(controller: Controller) -> Any:
    @define_job("planned", input=Plan, output=Plan)
    async def planned(step: StepContext, plan: Plan) -> Plan:
        for i in range(plan.steps):
            await step.run(f"s{i}", lambda: controller.outcome(step.run_id))
        return plan

    return planned


class RunModel:
    def __init__(self, steps: int, key: str | None) -> None:
        self.steps = steps
        self.key = key
        self.allowed: frozenset[RunStatus] = QUEUED
        self.done = 0
        self.cancel_requested = False


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.conn = sqlite3.connect(":memory:")
        self.clock = FakeClock()
        self.ids = Ids()
        self.controller = Controller()
        self.job = make_job(self.controller)
        self.runs: dict[str, RunModel] = {}
        self.engine = self._new_engine()

    def _new_engine(self) -> Engine:
        # max_stalls=None: crashes here often land before a step completes; the rule that fails such a run
        # after 3 recoveries without progress has its own tests (test_recovery_limit.py).
        engine = Engine(self.conn, MAX_RUNNING, clock=self.clock, id_factory=self.ids, max_stalls=None)
        engine.register(self.job)
        self.loop.run_until_complete(engine.start())
        self._settle()
        return engine

    def _settle(self) -> None:
        async def turns() -> None:
            for _ in range(100):
                await asyncio.sleep(0)

        self.loop.run_until_complete(turns())

    def _do(self, coro: Any) -> Any:
        result = self.loop.run_until_complete(coro)
        self._settle()
        return result

    def teardown(self) -> None:
        self.loop.run_until_complete(self.engine.stop(timeout=0))
        self.loop.close()
        self.conn.close()

    # -- rules ----------------------------------------------------------------------------------------

    @rule(steps=st.integers(1, 3), key=st.sampled_from([None, "k"]))
    def trigger(self, steps: int, key: str | None) -> None:
        run, created = self._do(self.engine.trigger(self.job, {"steps": steps}, concurrency_key=key))
        assert created
        self.runs[run.id] = RunModel(steps, key)

    @precondition(lambda self: bool(self.controller.waiting))
    @rule(data=st.data(), ok=st.booleans())
    def finish_a_step(self, data: st.DataObject, ok: bool) -> None:
        run_id = data.draw(st.sampled_from(sorted(self.controller.waiting)))
        model = self.runs[run_id]
        self.controller.waiting[run_id].set_result(ok)
        self._settle()
        if not ok:
            model.allowed = frozenset({RunStatus.FAILED})
            model.cancel_requested = False
            return
        model.done += 1
        if model.done == model.steps:
            model.allowed = frozenset({RunStatus.COMPLETED})
            model.cancel_requested = False
        elif model.cancel_requested:
            model.allowed = frozenset({RunStatus.CANCELLED})

    def _status(self, run_id: str) -> RunStatus:
        run = self.loop.run_until_complete(self.engine.get_run(run_id))
        assert run is not None
        return run.status

    @precondition(lambda self: bool(self.runs))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        run_id = data.draw(st.sampled_from(sorted(self.runs)))
        model, before = self.runs[run_id], self._status(run_id)
        if before in (RunStatus.COMPLETED, RunStatus.FAILED):
            with pytest.raises(InvalidRunStateError):
                self._do(self.engine.cancel(run_id))
            return
        self._do(self.engine.cancel(run_id))
        if before is RunStatus.RUNNING:
            model.cancel_requested = True
            model.allowed = QUEUED | {RunStatus.CANCELLED}
        else:
            model.allowed = frozenset({RunStatus.CANCELLED})

    @precondition(lambda self: bool(self.runs))
    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        run_id = data.draw(st.sampled_from(sorted(self.runs)))
        model, before = self.runs[run_id], self._status(run_id)
        if before not in (RunStatus.FAILED, RunStatus.CANCELLED):
            with pytest.raises(InvalidRunStateError):
                self._do(self.engine.retry(run_id))
            return
        self._do(self.engine.retry(run_id))
        model.allowed = QUEUED
        model.cancel_requested = False

    @precondition(lambda self: bool(self.runs))
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        run_id = data.draw(st.sampled_from(sorted(self.runs)))
        if not self._status(run_id).finished:
            with pytest.raises(InvalidRunStateError):
                self._do(self.engine.delete(run_id))
            return
        self._do(self.engine.delete(run_id))
        del self.runs[run_id]

    @rule()
    def crash_and_restart(self) -> None:
        self.loop.run_until_complete(self.engine.stop(timeout=0))
        self.controller.waiting.clear()
        self.engine = self._new_engine()

    # -- invariants -----------------------------------------------------------------------------------

    @invariant()
    def runs_match_the_model(self) -> None:
        page = self.loop.run_until_complete(self.engine.list_runs(limit=1000))
        assert {run.id for run in page.items} == set(self.runs)
        running = [run for run in page.items if run.status is RunStatus.RUNNING]
        assert len(running) <= MAX_RUNNING
        keys = [run.concurrency_key for run in running if run.concurrency_key is not None]
        assert len(keys) == len(set(keys)), "two runs with one concurrency key ran at once"
        assert {run.id for run in running} == set(self.controller.waiting)
        for run in page.items:
            model = self.runs[run.id]
            assert run.status in model.allowed, f"{run.id}: {run.status} not in {set(model.allowed)}"
            if run.status.finished:
                model.allowed = frozenset({run.status})
            else:
                model.allowed = QUEUED | {RunStatus.CANCELLED} if model.cancel_requested else QUEUED
            if run.status is RunStatus.COMPLETED:
                assert run.output == {"steps": model.steps}
            self._check_steps(run.id, model)

    def _check_steps(self, run_id: str, model: RunModel) -> None:
        steps = self.loop.run_until_complete(self.engine.get_steps(run_id))
        completed = [s for s in steps if s.status is StepStatus.COMPLETED]
        assert [s.ordinal for s in completed] == list(range(model.done))
        assert [s.name for s in completed] == [f"s{i}" for i in range(model.done)]
        failed = [s for s in steps if s.status is StepStatus.FAILED]
        assert all(s.ordinal == model.done for s in failed)


EngineMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
test_run_and_step_transitions = EngineMachine.TestCase


def test_errors_share_one_base() -> None:
    assert issubclass(InvalidRunStateError, DurableError)
