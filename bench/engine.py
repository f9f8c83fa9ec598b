"""Benchmark of the durable engine's per-call costs against a bare sqlite3 commit, measured in one run.

Run: python3 bench/engine.py [--n 2000] [--dir DIR]. Both sides use a file database in the same
directory with the engine's pragmas (journal_mode=TRUNCATE, synchronous=FULL). Prints microseconds per
call and the ratio to one bare `BEGIN IMMEDIATE; INSERT; COMMIT`. Best of three rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "py"))

from pydantic import BaseModel

from durable import Engine, StepContext, define_job


class Size(BaseModel):
    n: int


def bare_commits(path: Path | str, n: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = TRUNCATE")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE bare (i INTEGER, note TEXT)")
    began = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO bare VALUES (?, ?)", (i, "row"))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - began
    conn.close()
    return elapsed / n


def row(i: int) -> dict[str, int]:
    return {"i": i}


def insert(conn: sqlite3.Connection, i: int) -> int:
    return conn.execute("INSERT INTO t VALUES (?, ?)", (i, "row")).rowcount


def engine_costs(path: Path | str, n: int) -> dict[str, float]:
    timings: dict[str, float] = {}

    @define_job("bench", input=Size, output=None)
    async def bench(step: StepContext, size: Size) -> None:
        await step.transaction("schema", lambda c: c.execute("CREATE TABLE t (i INTEGER, note TEXT)") and None)
        began = time.perf_counter()
        for i in range(size.n):
            await step.run(f"run-{i}", partial(row, i))
        timings["step.run"] = (time.perf_counter() - began) / size.n
        began = time.perf_counter()
        for i in range(size.n):
            await step.transaction(f"batch-{i}", partial(insert, i=i))
        timings["step.transaction"] = (time.perf_counter() - began) / size.n
        began = time.perf_counter()
        for i in range(size.n):
            step.progress(i, size.n, "rows")
        timings["step.progress"] = (time.perf_counter() - began) / size.n
        began = time.perf_counter()
        for i in range(size.n):
            step.log.info("row", i=i)
        timings["step.log.info"] = (time.perf_counter() - began) / size.n
        await step.run("flush-logs", lambda: None)

    async def main() -> None:
        engine = Engine(path)
        engine.register(bench)
        engine.on("*", lambda event: None)  # like the worker, which forwards every event
        await engine.start()
        await engine.trigger_and_wait(bench, {"n": n})
        await engine.stop()

    asyncio.run(main())
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000, help="calls per measurement")
    parser.add_argument("--dir", type=Path, default=None, help="directory for the databases")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        where = args.dir or tempfile.gettempdir()
        report(f"file databases in {where}", lambda r: Path(tmp) / f"bench-{r}.db", args.n)
    report("in-memory databases (no I/O: the engine's own CPU cost)", lambda r: ":memory:", args.n)


def report(title: str, database: Callable[[str], Path | str], n: int) -> None:
    best_bare = float("inf")
    best: dict[str, float] = {}
    for round_ in range(3):
        best_bare = min(best_bare, bare_commits(database(f"bare-{round_}"), n))
        for name, cost in engine_costs(database(f"engine-{round_}"), n).items():
            best[name] = min(best.get(name, float("inf")), cost)
    print(f"{title}; n={n} calls per measurement, best of 3")
    print(f"  {'bare sqlite3 commit':<22} {best_bare * 1e6:9.1f} us   1.00x")
    for name, cost in best.items():
        print(f"  {name:<22} {cost * 1e6:9.1f} us  {cost / best_bare:5.2f}x")


if __name__ == "__main__":
    main()
