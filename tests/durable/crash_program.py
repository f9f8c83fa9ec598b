"""The program the crash test kills: an engine on a file database running two import-like runs.

Usage: python crash_program.py DB_PATH BATCHES. Prints "ready" once imported (before the engine opens
the database, so kills also land in start-up and recovery), "done" when both runs completed.
Each run writes ROWS rows per batch with step.transaction, bumps a counter in the same transaction,
checkpoints a count with step.run every fifth batch, and logs and reports progress per batch.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "py"))

from pydantic import BaseModel

from durable import Engine, StepContext, define_job

ROWS = 20


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
        if batch % 5 == 4:

            async def count(b: int = batch) -> int:
                await asyncio.sleep(0.002)
                return (b + 1) * ROWS

            await step.run(f"count-{batch}", count)
    step.log.info("end")
    return Loaded(rows=payload.batches * ROWS)


async def main(path: str, batches: int) -> None:
    print("ready", flush=True)
    engine = Engine(path, max_concurrent_runs=2, app_version="crash-test")
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
