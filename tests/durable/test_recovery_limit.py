"""A run that hangs the engine on every resume is failed after a bounded number of recoveries, not resumed
forever; a run that makes progress between recoveries is never failed by that rule; retry clears the count.

Each "life" is a real process on a real SQLite file: it starts an engine, the run resumes, and a step hangs
for good (a busy loop that never yields, as a catastrophic pattern would) after printing "hung"; the test
SIGKILLs the process there. Nothing depends on timing: the test waits for the line, then kills (those engines
count every recovery, stall_seconds=0). That a quick kill is not a stall is checked in-process on a fake
clock, with engines abandoned mid-step.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel
from tests.durable.enginekit import FakeClock

from durable import Engine, RunStatus, StepContext, define_job
from durable.migrations import LATEST, current_version, migrate
from durable.store import stalled_message

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import asyncio, os, sys, time
sys.path.insert(0, {py!r})
from pydantic import BaseModel
from durable import Engine, StepContext, define_job, RunFailedError

HANG = os.environ.get("HANG", "")

class In(BaseModel):
    steps: int

def work(name):
    def fn():
        if name == HANG:
            print("hung", flush=True)
            while True:  # never yields: like a regex that never finishes
                time.sleep(0.01)
        return name
    return fn

@define_job("stally", input=In, output=None)
async def stally(step: StepContext, payload: In) -> None:
    for i in range(payload.steps):
        await step.run(f"s{{i}}", work(f"s{{i}}"))

async def main():
    engine = Engine(sys.argv[1], stall_seconds=0)  # every recovery of a hung life counts here
    engine.register(stally)
    await engine.start()
    if os.environ.get("RETRY"):
        await engine.retry(os.environ["RETRY"])
    try:
        await engine.trigger_and_wait(stally, {{"steps": 6}}, idempotency_key="one")
        print("completed", flush=True)
    except RunFailedError as exc:
        print("failed:", exc.error_type, exc.error_message, flush=True)
    await engine.stop()

asyncio.run(main())
"""


def life(program: Path, db: Path, hang: str = "", retry: str = "") -> str:
    """Run one process; return "hung" (then it is SIGKILLed) or its last line when it ends by itself."""
    env = {**os.environ, "HANG": hang, "RETRY": retry}
    proc = subprocess.Popen([sys.executable, str(program), str(db)], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line == "hung":
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    return line


def state(db: Path) -> tuple[str, str | None, int]:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT id, status, error, stalls FROM durable_runs").fetchone()
    finally:
        conn.close()
    return row[1], row[2], row[3]


def run_id(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("SELECT id FROM durable_runs").fetchone()[0])
    finally:
        conn.close()


def setup(tmp_path: Path) -> tuple[Path, Path]:
    program = tmp_path / "stall_program.py"
    program.write_text(PROGRAM.format(py=str(ROOT / "py")))
    return program, tmp_path / "engine.db"


def test_a_run_that_hangs_on_every_resume_fails_after_three_recoveries(tmp_path: Path) -> None:
    program, db = setup(tmp_path)
    assert life(program, db, hang="s2") == "hung"  # first life: s0, s1 commit, s2 hangs
    assert life(program, db, hang="s2") == "hung"  # recovered (1), resumed, hangs again
    assert life(program, db, hang="s2") == "hung"  # recovered (2), resumed, hangs again
    last = life(program, db, hang="s2")  # recovered (3): failed instead of resumed
    reason = stalled_message(3, "s1")
    assert reason == (
        "This run stopped the engine 3 times in a row without progress (last completed step: s1); "
        "it was stopped so the app can start. Retry it after fixing its settings."
    )
    assert last == f"failed: RunStalledError {reason}"
    status, error, _ = state(db)
    assert status == "failed" and error is not None and reason in error


def test_a_run_that_progresses_between_recoveries_is_never_failed(tmp_path: Path) -> None:
    program, db = setup(tmp_path)
    for i in range(1, 6):  # each life completes one more step, then hangs: 5 recoveries in all
        assert life(program, db, hang=f"s{i}") == "hung"
        assert state(db)[0] == "running"
    assert life(program, db) == "completed"
    assert state(db)[0] == "completed"


def test_retry_clears_the_count(tmp_path: Path) -> None:
    program, db = setup(tmp_path)
    for _ in range(3):
        assert life(program, db, hang="s2") == "hung"
    assert life(program, db, hang="s2").startswith("failed: RunStalledError")
    # Retried, it hangs twice more without progress: counted from zero, so it is resumed both times.
    assert life(program, db, hang="s2", retry=run_id(db)) == "hung"
    assert life(program, db, hang="s2") == "hung"
    assert state(db)[:2] == ("running", None)
    assert life(program, db) == "completed"


def test_version_2_database_gains_the_counter_in_place(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "v2.db", isolation_level=None)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    migrate(conn, now, target=2)
    at = "2024-12-31T00:00:00.000+00:00"
    conn.execute(
        "INSERT INTO durable_runs (id, job, status, input, created_at, updated_at) "
        "VALUES ('r', 'j', 'running', '{}', ?, ?)",
        (at, at),
    )
    assert migrate(conn, now) == LATEST and current_version(conn) == LATEST
    assert conn.execute("SELECT stalls, stall_steps, stall_attempt FROM durable_runs").fetchone() == (0, None, None)
    conn.close()


class Nothing(BaseModel):
    pass


async def _hang_forever() -> None:
    await asyncio.Event().wait()


@define_job("hangs", input=Nothing, output=None)
async def hangs(step: StepContext, payload: Nothing) -> None:
    await step.run("first", lambda: 1)
    await step.run("second", _hang_forever)


async def _life(db: Path, clock: FakeClock, seconds: float) -> RunStatus:
    """Start an engine; let the run hang for `seconds` (fake time); abandon the engine mid-step."""
    engine = Engine(db, clock=clock)
    engine.register(hangs)
    await engine.start()
    if not (await engine.list_runs()).items:
        await engine.trigger(hangs, {})
    for _ in range(50):
        await asyncio.sleep(0)
    run = (await engine.list_runs()).items[0]
    clock.advance(seconds)
    await engine.stop(timeout=0)  # the step is abandoned: the run stays running, as after a kill
    return run.status


def test_quick_kills_are_not_stalls_but_long_hangs_are(tmp_path: Path) -> None:
    async def go() -> list[RunStatus]:
        clock = FakeClock()
        db = tmp_path / "engine.db"
        seen = [await _life(db, clock, 1.0) for _ in range(5)]  # killed 1 s into the step, 5 times: resumed
        seen += [await _life(db, clock, 30.0) for _ in range(3)]  # hung 30 s, 3 times: the third is the last
        seen.append(await _life(db, clock, 30.0))
        return seen

    seen = asyncio.run(go())
    assert seen[:8] == [RunStatus.RUNNING] * 8
    assert seen[8] is RunStatus.FAILED
