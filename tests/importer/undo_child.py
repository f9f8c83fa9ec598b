"""Child process of test_undo_crash.py: import two files into one table, then undo the first (or SIGKILLed).

Usage: python undo_child.py DB STAGING A.csv B.csv. Re-running resumes: the imports and the undo use idempotency
keys, and the engine recovers an interrupted run on start. With UNDO_HOLD=inside it prints "held" and stops for
good inside the undo's transaction, after its DELETEs ran and just before COMMIT; with UNDO_HOLD=after, at the
first statement after that COMMIT; so the test's SIGKILL lands exactly there. Otherwise it prints "done".
"""

import asyncio
import os
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "py"), str(ROOT)]

from durable import Engine  # noqa: E402
from importer import FileByteSource, ImportEnv, make_import_job  # noqa: E402
from importer.undo import make_undo_job  # noqa: E402

HOLD = os.environ.get("UNDO_HOLD", "")
READING = {"encoding": "utf-8", "delimiter": ",", "quotechar": '"', "has_header": True, "decimal_comma": False}
COLUMNS = [{"source": 0, "name": "id", "type": "integer"}, {"source": 1, "name": "name"}]


class Holder:
    def __init__(self) -> None:
        self.deleting = False
        self.committed = False

    def trace(self, statement: str) -> None:
        head = statement.lstrip()[:40].upper()
        if self.committed and HOLD == "after":
            self.stop()
        if head.startswith('DELETE FROM "A" WHERE'):
            self.deleting = True
        elif head.startswith("COMMIT") and self.deleting:
            if HOLD == "inside":
                self.stop()
            self.committed = True

    @staticmethod
    def stop() -> None:
        print("held", flush=True)
        while True:
            time.sleep(3600)


async def main(db: str, staging: str, a: str, b: str) -> None:
    holder = Holder()
    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    sources = {"a": FileByteSource(a), "b": FileByteSource(b)}
    job, undo = make_import_job(ImportEnv(staging_dir=staging, sources=sources, max_batch_rows=50)), make_undo_job()
    engine = Engine(conn)
    engine.register(job)
    engine.register(undo)
    await engine.start()
    first = await engine.trigger(job, {"source_id": "a", "file_name": "a.csv", "size": sources["a"].size,
                                       "options": {**READING, "columns": COLUMNS}}, idempotency_key="a")
    await engine.trigger_and_wait(job, {"source_id": "a", "file_name": "a.csv", "size": sources["a"].size,
                                        "options": {**READING, "columns": COLUMNS}}, idempotency_key="a")
    await engine.trigger_and_wait(job, {"source_id": "b", "file_name": "b.csv", "size": sources["b"].size,
                                        "options": {**READING, "columns": COLUMNS, "table": "a",
                                                    "if_exists": "append"}}, idempotency_key="b")
    conn.set_trace_callback(holder.trace)
    await engine.trigger_and_wait(undo, {"run_id": first.run.id, "table": "a"}, idempotency_key="undo")
    conn.set_trace_callback(None)
    print("done", flush=True)
    await engine.stop()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
