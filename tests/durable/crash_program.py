"""The program the crash test kills: an engine on a file database running two import-like runs.

Usage: python crash_program.py DB_PATH BATCHES. Prints "ready" once imported (before the engine opens
the database, so kills also land in start-up and recovery), "done" when both runs completed.
With CRASH_HOLD=K:inside (or K:after) in the environment it prints "held" and stops for good inside the
transaction of the K-th batch this process writes, after its rows are inserted and before it commits (or
just after that batch commits), so the test's SIGKILL lands exactly there, whatever the machine's speed.
Each run writes ROWS rows per batch with step.transaction, bumps a counter in the same transaction,
checkpoints a count with step.run every fifth batch, and logs and reports progress per batch.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "py"))

from pydantic import BaseModel

from durable import Engine, StepContext, define_job

ROWS = 20
_HOLD = os.environ.get("CRASH_HOLD", "")
HOLD_AT, HOLD_WHERE = (int(_HOLD.split(":")[0]), _HOLD.split(":")[1]) if _HOLD else (0, "")
written = 0


def hold_here(where: str) -> None:
    """Stop for good (until SIGKILL) if this is the place CRASH_HOLD names."""
    if HOLD_AT and written == HOLD_AT and where == HOLD_WHERE:
        print("held", flush=True)
        while True:
            time.sleep(3600)


class Load(BaseModel):
    name: str
    batches: int


class Loaded(BaseModel):
    rows: int


def create_tables(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS target (name TEXT NOT NULL, batch INTEGER, i INTEGER)")
    conn.execute("CREATE TABLE IF NOT EXISTS counter (name TEXT PRIMARY KEY, n INTEGER NOT NULL)")


def write_batch(conn: sqlite3.Connection, name: str, batch: int) -> dict[str, int]:
    conn.executemany("INSERT INTO target (name, batch, i) VALUES (?, ?, ?)", [(name, batch, i) for i in range(ROWS)])
    conn.execute("INSERT INTO counter (name, n) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET n = n + 1", (name,))
    global written
    written += 1
    hold_here("inside")
    return {"batch": batch, "rows": ROWS}


@define_job("load", input=Load, output=Loaded)
async def load(step: StepContext, payload: Load) -> Loaded:
    name = payload.name
    await step.transaction("schema", lambda conn: create_tables(conn))
    step.log.info("start", batches=payload.batches)
    for batch in range(payload.batches):
        step.progress(batch + 1, payload.batches, f"batch {batch}")
        step.log.info("batch", batch=batch)
        await step.transaction(f"batch-{batch}", lambda conn, b=batch: write_batch(conn, name, b))
        hold_here("after")
        if batch % 5 == 4:

            async def count(b: int = batch) -> int:
                await asyncio.sleep(0.002)
                return (b + 1) * ROWS

            await step.run(f"count-{batch}", count)
    step.log.info("end")
    return Loaded(rows=payload.batches * ROWS)


async def main(path: str, batches: int) -> None:
    print("ready", flush=True)
    # max_stalls=None: kills here often land before a run commits a step; the rule that fails a run after 3
    # such recoveries in a row has its own test (test_recovery_limit.py).
    engine = Engine(path, max_concurrent_runs=2, app_version="crash-test", max_stalls=None)
    engine.register(load)
    await engine.start()
    outputs = await asyncio.gather(
        *(
            engine.trigger_and_wait(load, {"name": name, "batches": batches}, idempotency_key=name)
            for name in ("alpha", "beta")
        )
    )
    await engine.stop()
    print("done", [o.rows for o in outputs], flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
