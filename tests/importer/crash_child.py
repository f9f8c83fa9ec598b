"""Child process of test_crash.py: import a CSV through the engine until done (or until SIGKILLed).

Usage: python crash_child.py DB CSV STAGING. Re-running resumes the interrupted run: the engine recovers
it on start, and the idempotency key makes the trigger return that same run.
"""

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "py"), str(ROOT)]

from bench.import_native import COLUMNS  # noqa: E402

from durable import Engine  # noqa: E402
from importer import FileByteSource, ImportEnv, make_import_job  # noqa: E402


async def main(db: str, csv_path: str, staging: str) -> None:
    source = FileByteSource(csv_path)
    env = ImportEnv(staging_dir=staging, sources={"src": source}, max_batch_rows=200, slice_rows=100,
                    stage_chunk_bytes=256 * 1024)  # fmt: skip
    job = make_import_job(env)
    engine = Engine(db)
    engine.register(job)
    await engine.start()
    payload = {"source_id": "src", "file_name": "crash.csv", "size": source.size, "options": {"columns": COLUMNS}}
    output = await engine.trigger_and_wait(job, payload, idempotency_key="crash-test")
    print("done", output.rows_accepted, output.rows_rejected, flush=True)
    await engine.stop()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
