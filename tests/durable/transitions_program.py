"""The job of the transitions state machine, and the program it SIGKILLs.

`make_job(outcome)`: a run of `steps` steps; before step i the job awaits `outcome(run_id)` (True: the step
commits, False: it fails; a recorded step is answered True at once), reports progress i+1 and logs
"step i", then runs step i: even i a step.transaction that writes one row (run, i) to `effects` in its
commit, odd i a step.run checkpoint.

Usage: python transitions_program.py DB_PATH K:inside|K:after. An engine on DB_PATH resumes whatever is
pending or running, every step succeeding, and prints "committed RUN I" after each step commits. It
prints "held" and stops for good inside the K-th transaction step it runs (row written, not committed) or
just after it commits, or prints "idle" when nothing is left to run; the test SIGKILLs it there.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "py"))

from durable import Engine, RunStatus, StepContext, define_job

MAX_RUNNING = 2


class Plan(BaseModel):
    steps: int


def write_effect(run_id: str, i: int, ok: bool, hold: Callable[[], None], conn: sqlite3.Connection) -> int:
    conn.execute("CREATE TABLE IF NOT EXISTS effects (run_id TEXT NOT NULL, i INTEGER NOT NULL)")
    conn.execute("INSERT INTO effects (run_id, i) VALUES (?, ?)", (run_id, i))
    if not ok:
        raise RuntimeError("step failed")
    hold()
    return i


def make_job(
    outcome: Callable[[str, int], Awaitable[bool]],
    hold: Callable[[], None] = lambda: None,
    committed: Callable[[str, int], None] = lambda run_id, i: None,
) -> Any:
    @define_job("planned", input=Plan, output=Plan)
    async def planned(step: StepContext, plan: Plan) -> Plan:
        for i in range(plan.steps):
            ok = await outcome(step.run_id, i)
            step.progress(i + 1, plan.steps, f"s{i}")
            step.log.info(f"step {i}")
            ran: list[int] = []  # fn runs only when the step executes (not when a committed step replays)
            if i % 2 == 0:

                def write(conn: sqlite3.Connection, i: int = i, ok: bool = ok, ran: list[int] = ran) -> int:
                    ran.append(i)
                    return write_effect(step.run_id, i, ok, hold, conn)

                await step.transaction(f"s{i}", write)
            else:

                def check(ok: bool = ok, i: int = i, ran: list[int] = ran) -> int:
                    ran.append(i)
                    if not ok:
                        raise RuntimeError("step failed")
                    return i

                await step.run(f"s{i}", check)
            if ran:
                committed(step.run_id, i)
        return plan

    return planned


def main(path: str, hold_at: str) -> None:
    count, where = int(hold_at.split(":")[0]), hold_at.split(":")[1]
    seen = 0

    def stop_for_good() -> None:
        print("held", flush=True)
        while True:
            time.sleep(3600)

    def hold() -> None:
        nonlocal seen
        seen += 1
        if seen == count and where == "inside":
            stop_for_good()

    def committed(run_id: str, i: int) -> None:
        print(f"committed {run_id} {i}", flush=True)
        if seen == count and where == "after" and i % 2 == 0:
            stop_for_good()

    async def ok(run_id: str, i: int) -> bool:
        return True

    async def run() -> None:
        engine = Engine(path, MAX_RUNNING, max_stalls=None)  # its kills land before commits on purpose
        engine.register(make_job(ok, hold, committed))
        await engine.start()
        print("ready", flush=True)
        while True:
            page = await engine.list_runs(status=[RunStatus.PENDING, RunStatus.RUNNING], limit=1)
            if not page.total:
                break
            await asyncio.sleep(0.005)
        print("idle", flush=True)
        stop_for_good()

    asyncio.run(run())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
