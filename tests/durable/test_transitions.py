"""Property test of run and step transitions: a hypothesis state machine drives triggers, step outcomes,
cancel, retry, delete, graceful stops and real crashes against a model of allowed run states.

The job (transitions_program.py) mixes step.transaction (one row in `effects` per commit) and step.run,
with progress and a log line per step. A crash hands the file database to a subprocess engine that resumes
the runs and is SIGKILLed at a hold point: inside its K-th transaction (row written, not committed) or just
after that commit, or once idle. The invariants then hold after every rule: no committed step lost or
doubled (`effects` rows equal the model's committed steps), and the logs and progress match them."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from tests.durable.enginekit import FakeClock, Ids
from tests.durable.transitions_program import MAX_RUNNING, make_job

from durable import (
    DurableError,
    Engine,
    InvalidRunStateError,
    RunStatus,
    StepStatus,
)

PROGRAM = Path(__file__).with_name("transitions_program.py")
QUEUED = frozenset({RunStatus.PENDING, RunStatus.RUNNING})


class Controller:
    """Each step of the job waits here until the test decides its outcome."""

    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[bool]] = {}
        self.done: dict[str, int] = {}  # committed steps per run: those replay without a decision

    async def outcome(self, run_id: str, i: int) -> bool:
        if i < self.done.get(run_id, 0):
            return True
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.waiting[run_id] = future
        try:
            ok = await future
        finally:
            self.waiting.pop(run_id, None)
        return ok


class RunModel:
    def __init__(self, steps: int, key: str | None) -> None:
        self.steps = steps
        self.key = key
        self.allowed: frozenset[RunStatus] = QUEUED
        self.done = 0
        self.failed_at: int | None = None  # a failed attempt of step `done` may have committed its log line
        self.cancel_requested = False


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.dir = Path(tempfile.mkdtemp(prefix="transitions-"))
        self.db = self.dir / "engine.sqlite"
        self.clock = FakeClock()
        self.ids = Ids()
        self.controller = Controller()
        self.job = make_job(self.controller.outcome)
        self.runs: dict[str, RunModel] = {}
        self.engine = self._new_engine()

    def _new_engine(self) -> Engine:
        # max_stalls=None: crashes here often land before a step completes; the rule that fails such a run
        # after 3 recoveries without progress has its own tests (test_recovery_limit.py).
        engine = Engine(str(self.db), MAX_RUNNING, clock=self.clock, id_factory=self.ids, max_stalls=None)
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
        shutil.rmtree(self.dir, ignore_errors=True)

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
        if model.cancel_requested:  # step.progress, before the step, is a cancellation point
            model.allowed = frozenset({RunStatus.CANCELLED})
            return
        if not ok:
            model.allowed = frozenset({RunStatus.FAILED})
            model.failed_at = model.done
            model.cancel_requested = False
            return
        self._committed(run_id)

    def _committed(self, run_id: str) -> None:
        model = self.runs[run_id]
        model.done += 1
        self.controller.done[run_id] = model.done
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
        self.controller.done.pop(run_id, None)

    @rule()
    def stop_and_restart(self) -> None:
        self.loop.run_until_complete(self.engine.stop(timeout=0))
        self.controller.waiting.clear()
        self.engine = self._new_engine()

    @rule(count=st.integers(1, 4), where=st.sampled_from(["inside", "after"]))
    def sigkill_and_restart(self, count: int, where: str) -> None:
        """Another engine (a subprocess) resumes the runs, every step succeeding, and is SIGKILLed at a hold."""
        self.loop.run_until_complete(self.engine.stop(timeout=0))
        self.controller.waiting.clear()
        proc = subprocess.Popen([sys.executable, str(PROGRAM), str(self.db), f"{count}:{where}"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(PROGRAM.parents[2])})
        assert proc.stdout is not None
        try:
            while True:
                line = proc.stdout.readline()
                assert line, f"the program ended before a hold point: {proc.communicate()[1]}"
                words = line.split()
                if words[0] == "committed":
                    self._committed(words[1])
                    if self.runs[words[1]].done == self.runs[words[1]].steps:
                        self.runs[words[1]].allowed = QUEUED | {RunStatus.COMPLETED}
                elif words[0] in ("held", "idle"):
                    break
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
        for model in self.runs.values():  # the subprocess may have finished or cancelled runs
            if model.cancel_requested:
                model.allowed = model.allowed | {RunStatus.CANCELLED}
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
            self._check_effects_logs_progress(run.id, model, run.progress.current if run.progress else None)

    def _check_effects_logs_progress(self, run_id: str, model: RunModel, progress: float | None) -> None:
        """Every committed transaction step wrote its row once; logs and progress match committed steps."""
        with sqlite3.connect(self.db) as conn:
            tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            effects = [i for (i,) in conn.execute("SELECT i FROM effects WHERE run_id = ? ORDER BY rowid", (run_id,))
                       ] if "effects" in tables else []
        assert effects == [i for i in range(model.done) if i % 2 == 0], f"{run_id}: effects {effects}"
        logs = self.loop.run_until_complete(self.engine.get_logs(run_id, limit=1000))
        lines = [entry.message for entry in logs.items]
        extra = 1 if model.failed_at == model.done else 0  # a failed attempt's line, committed with the failure
        assert lines in ([f"step {i}" for i in range(model.done + k)] for k in range(extra + 1)), f"{run_id}: {lines}"
        if model.done:
            assert progress in (model.done + k for k in range(extra + 1)), f"{run_id}: progress {progress}"

    def _check_steps(self, run_id: str, model: RunModel) -> None:
        steps = self.loop.run_until_complete(self.engine.get_steps(run_id))
        completed = [s for s in steps if s.status is StepStatus.COMPLETED]
        assert [s.ordinal for s in completed] == list(range(model.done))
        assert [s.name for s in completed] == [f"s{i}" for i in range(model.done)]
        failed = [s for s in steps if s.status is StepStatus.FAILED]
        assert all(s.ordinal == model.done for s in failed)


EngineMachine.TestCase.settings = settings(max_examples=30, stateful_step_count=25, deadline=None, derandomize=True,
                                           database=None)
test_run_and_step_transitions = EngineMachine.TestCase


def test_errors_share_one_base() -> None:
    assert issubclass(InvalidRunStateError, DurableError)
