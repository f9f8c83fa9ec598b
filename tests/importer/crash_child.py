"""Child process of test_crash.py: import a CSV through the engine until done (or until SIGKILLed).

Usage: python crash_child.py DB CSV STAGING. Re-running resumes the interrupted run: the engine recovers
it on start, and the idempotency key makes the trigger return that same run.

With IMPORT_HOLD=K:inside (or K:after) in the environment it prints "held" and stops for good inside the
transaction of the K-th batch this process writes, after its rows are inserted and just before COMMIT (or
right after that batch commits), so the test's SIGKILL lands exactly there, whatever the machine's speed.
Otherwise it prints "done ACCEPTED REJECTED" at the end.
"""

import asyncio
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "py"), str(ROOT)]

from bench.import_native import COLUMNS  # noqa: E402

from durable import Engine, StepContext  # noqa: E402
from importer import FileByteSource, ImportEnv, make_import_job  # noqa: E402

TABLE = "crash"
_HOLD = os.environ.get("IMPORT_HOLD", "")
HOLD_AT, HOLD_WHERE = (int(_HOLD.split(":")[0]), _HOLD.split(":")[1]) if _HOLD else (0, "")


class Holder:
    """Counts the batches this process writes and holds at the one IMPORT_HOLD names."""

    def __init__(self) -> None:
        self.committed = 0
        self.rows_pending = False

    def hold(self, where: str) -> None:
        if HOLD_AT and self.committed + (where == "inside") == HOLD_AT and where == HOLD_WHERE:
            print("held", flush=True)
            while True:
                time.sleep(3600)

    def trace(self, statement: str) -> None:
        """sqlite3 trace callback: runs as each statement starts, so a hold at COMMIT is before it."""
        head = statement.lstrip()[:80].upper()
        if head.startswith(f'INSERT INTO "{TABLE.upper()}"'):
            self.rows_pending = True
        elif head.startswith("COMMIT") and self.rows_pending:
            self.hold("inside")
        elif head.startswith(("COMMIT", "ROLLBACK")):
            self.rows_pending = False

    async def after_batch(self, _step: StepContext, _before: dict[str, Any], _after: dict[str, Any]) -> None:
        self.rows_pending = False
        self.committed += 1
        self.hold("after")


async def main(db: str, csv_path: str, staging: str) -> None:
    holder = Holder()
    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    conn.set_trace_callback(holder.trace)
    source = FileByteSource(csv_path)
    env = ImportEnv(staging_dir=staging, sources={"src": source}, max_batch_rows=200, slice_rows=100,
                    stage_chunk_bytes=256 * 1024, after_batch=holder.after_batch)  # fmt: skip
    job = make_import_job(env)
    engine = Engine(conn)
    engine.register(job)
    await engine.start()
    payload = {"source_id": "src", "file_name": f"{TABLE}.csv", "size": source.size,
               "options": {"columns": COLUMNS}}  # fmt: skip
    output = await engine.trigger_and_wait(job, payload, idempotency_key="crash-test")
    print("done", output.rows_accepted, output.rows_rejected, flush=True)
    await engine.stop()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
