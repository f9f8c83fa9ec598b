"""Benchmark: the import job on CPython against native csv.reader + sqlite3 executemany, same file.

Run `python3 bench/import_native.py [rows]` (default 1,000,000). Prints rows/s of each (median of 3) and
the ratio job/native. `generate_csv` and `native_baseline` are importable (bench/import.py reuses them).
"""

from __future__ import annotations

import asyncio
import csv
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "py"))

if TYPE_CHECKING:
    from importer import ImportEnv

COLUMNS = [
    {"source": 0, "name": "id", "type": "integer", "required": True},
    {"source": 1, "name": "name", "type": "text"},
    {"source": 2, "name": "email", "type": "text", "email": True},
    {"source": 3, "name": "amount", "type": "real"},
]
"""The column specs the job is given: typed and validated (required integer id, email, real amount)."""


def generate_csv(path: str | os.PathLike[str], rows: int, *, invalid_every: int = 100, seed: int = 0) -> set[int]:
    """Write an id,name,email,amount CSV of `rows` data rows; every `invalid_every`-th row is invalid.

    Returns the ids (0-based data row indexes) of the invalid rows: a bad id, email or amount in turn.
    """
    rng = random.Random(seed)
    invalid: set[int] = set()
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "name", "email", "amount"])
        for i in range(rows):
            row = [str(i), f"Name {i}", f"user{i}@example.com", f"{rng.random() * 10_000:.2f}"]
            if i % invalid_every == invalid_every // 2:
                invalid.add(i)
                kind = (i // invalid_every) % 3
                if kind == 0:
                    row[0] = f"x{i}"
                elif kind == 1:
                    row[2] = f"user{i}-at-example.com"
                else:
                    row[3] = "n/a!"
            writer.writerow(row)
    return invalid


def settle() -> None:
    """Write back to disk what earlier work left dirty in the page cache (`os.sync`), before a measurement
    starts: otherwise the kernel writes the last import's files back during the next one, on the same two
    cores, and a small import (0.2-0.3 s) measured right after another comes out 10-25% slower."""
    os.sync()


def remove_db(db_path: str | os.PathLike[str]) -> None:
    """Delete the database at `db_path` and its rollback journal, where they exist (each import starts empty)."""
    for suffix in ("", "-journal"):
        if os.path.exists(f"{db_path}{suffix}"):
            os.remove(f"{db_path}{suffix}")


async def run_job(env: ImportEnv, db_path: str | os.PathLike[str], payload: dict[str, object]) -> object:
    """Start an engine on `db_path` with the import job of `env`, run `payload` to its end, stop; the output."""
    from durable import Engine
    from importer import make_import_job

    job = make_import_job(env)
    engine = Engine(os.fspath(db_path))
    engine.register(job)
    await engine.start()
    try:
        return await engine.trigger_and_wait(job, payload)
    finally:
        await engine.stop()


def first_look(csv_path: str | os.PathLike[str]) -> dict[str, object]:
    """The options a client gives the job for `csv_path`: the reading settings of a sniff of its first bytes (the
    page's preview, csv-import's first look) and the columns of `COLUMNS` (typed and validated)."""
    from importer.sniff import SNIFF_BYTES, sniff

    with open(csv_path, "rb") as f:
        prefix = f.read(SNIFF_BYTES)
    found = sniff(prefix, file_name=os.path.basename(csv_path), complete=len(prefix) >= os.path.getsize(csv_path))
    return {**found.options.model_dump(mode="json"), "columns": COLUMNS}


def native_baseline(csv_path: str | os.PathLike[str], db_path: str | os.PathLike[str]) -> float:
    """Import with csv.reader + executemany in one transaction (no validation); return the seconds taken."""
    remove_db(db_path)
    settle()
    started = time.perf_counter()
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE t (id, name, email, amount)")
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        with conn:
            conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", reader)
    conn.close()
    return time.perf_counter() - started


def job_import(
    csv_path: str | os.PathLike[str], db_path: str | os.PathLike[str], staging_dir: str, *, defaults: bool = False,
    read_ahead: bool | None = None,
) -> tuple[float, object]:
    """Import with the engine and the import job (staging, conversion, validation); return (s, output).

    `defaults`: no column settings, so the job sniffs and checks the types over the whole file first (the
    `scan-N` steps), as a user who changes nothing gets; otherwise the columns are given (no scan), with the
    reading settings of the first look (`first_look`, before the clock), as the page gives them from its
    preview: the job then never sniffs, as on the page.
    `read_ahead` (default: where the platform can fork, `importer.slices.can_fork`): a second process reads
    and checks the next slice while the batches insert, as `csv-import` does when a core is spare, for a file
    of its `READ_AHEAD_MIN_BYTES` or more.
    """
    from importer import FileByteSource, ImportEnv
    from importer.cli.runner import READ_AHEAD_MIN_BYTES
    from importer.slices import can_fork

    remove_db(db_path)
    options = {} if defaults else first_look(csv_path)

    async def run() -> object:
        source = FileByteSource(csv_path)
        ahead = can_fork() if read_ahead is None else read_ahead
        env = ImportEnv(staging_dir=staging_dir, sources={"bench": source}, read_ahead=ahead,
                        read_ahead_min_bytes=READ_AHEAD_MIN_BYTES)
        payload = {"source_id": "bench", "file_name": source.name, "size": source.size, "options": options}
        return await run_job(env, db_path, payload)

    settle()
    started = time.perf_counter()
    output = asyncio.run(run())
    return time.perf_counter() - started, output


def cli_job_import(csv_path: str | os.PathLike[str], db_path: str | os.PathLike[str]) -> tuple[float, object]:
    """Import as `csv-import FILE` runs the job, in this process; return (s, output).

    What the command does, with the columns of `COLUMNS`: the file read where it is (`in_place`, no staged
    copy), its size, sha256 and mtime (importer.cli.hashing: a thread started, as the command starts it, just
    before the first look, which reads the file's start while it hashes; the wait for the rest is timed), the
    reading settings of the first look (sniffed before the clock starts, as the page's preview sniffs before
    Start: both clients pass them, so the job never sniffs), and the command's environment
    (importer.cli.runner `import_env`: its batch sizes, reading ahead for a file of `READ_AHEAD_MIN_BYTES` or
    more). Reading ahead is decided as
    `job_import` decides it (`can_fork`), not by the minute's load (`spare_core`): the browser imports just
    before would turn it off at random. Not timed: the interpreter's start and imports, as the page's figure
    starts at Start, not at its boot.
    """
    import dataclasses

    from importer import ImportInput
    from importer.cli.display import Display
    from importer.cli.hashing import FileHash
    from importer.cli.runner import import_env
    from importer.options import ImportOptions
    from importer.slices import can_fork

    path = os.path.abspath(csv_path)
    remove_db(db_path)
    settle()
    hashing = FileHash(path)  # as the command starts it: before its first look, which reads while it hashes
    options = ImportOptions.model_validate(first_look(path))

    started = time.perf_counter()
    size, sha256, mtime_ns = hashing.result(Display.for_flags(quiet=True, json=False))
    env = dataclasses.replace(import_env(os.fspath(db_path), hashed={path: (size, mtime_ns, sha256)}),
                              read_ahead=can_fork())
    payload = ImportInput(file_name=os.path.basename(path), size=size, sha256=sha256, staged_path=path,
                          in_place=True, options=options)
    output = asyncio.run(run_job(env, db_path, payload.model_dump(mode="json")))
    return time.perf_counter() - started, output


def main(rows: int = 1_000_000, repeats: int = 3) -> None:
    from importer.slices import can_fork

    with tempfile.TemporaryDirectory() as tmp:
        csv_path = os.path.join(tmp, "bench.csv")
        invalid = generate_csv(csv_path, rows)
        size = os.path.getsize(csv_path)
        print(f"file: {rows:,} rows, {size / 1e6:.1f} MB, {len(invalid):,} invalid")
        native, ours, scanned = [], [], []
        for n in range(repeats):
            native.append(native_baseline(csv_path, os.path.join(tmp, "native.sqlite")))
            seconds, output = job_import(csv_path, os.path.join(tmp, f"job{n}.sqlite"), os.path.join(tmp, "staging"))
            ours.append(seconds)
            os.remove(os.path.join(tmp, f"job{n}.sqlite"))
            with_scan, _ = job_import(csv_path, os.path.join(tmp, f"job{n}.sqlite"), os.path.join(tmp, "staging"),
                                      defaults=True)
            scanned.append(with_scan)
            os.remove(os.path.join(tmp, f"job{n}.sqlite"))
            print(f"  run {n + 1}: native {native[-1]:.2f} s, job {seconds:.2f} s, job with default settings "
                  f"(whole-file type scan) {with_scan:.2f} s ({output})")
        n_med, o_med, s_med = statistics.median(native), statistics.median(ours), statistics.median(scanned)
        print(f"native csv+executemany: {rows / n_med:,.0f} rows/s (median {n_med:.2f} s)")
        print(f"import job (engine):    {rows / o_med:,.0f} rows/s (median {o_med:.2f} s; reading ahead: "
              f"{can_fork()})")
        print(f"job, default settings:  {rows / s_med:,.0f} rows/s (median {s_med:.2f} s, types checked over the file)")
        print(f"ratio job/native: {n_med / o_med:.2f}; with the whole-file scan: {n_med / s_med:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
