"""A rehearsal import: the real import job, on an engine and database of its own in memory, over a small
generated file, run once while the page is idle, so that a user's first import does not pay for the first runs
of its code.

Why: V8 compiles the runtime's WebAssembly lazily and moves a function to its optimising tier only once it
has run hot for a while (dynamic tiering), and the browser's code cache keeps only what was optimised when
it was written. Measured on return visits (three profiles, four imports of 100k rows in one visit each,
2026-12-03): the first import's batch took 270-300 ms, the later ones 135-265 ms; with an import of 10k rows
first, the first 100k-row import's batch was no slower than the later ones. The rehearsal runs the same path
as a Start (trigger with its claim, the `stage` step taking a copy made ahead, `prepare`, the batches and their
commits, the run's end) on the same code, so the first run's cost is paid before the user clicks.

Then it reads the same sample as a picked file (`rehearse_preview`): a `File` in the browser, read through the
bridge as a user's is, sniffed, and scanned twice, the first scan stopped at its first yield as a Start stops a
scan still running. Why: V8 speculates on the targets of indirect calls in the interpreter loop
(`_PyEval_EvalFrameDefault`) and throws its optimised code away when a new one comes, then runs it on the
baseline tier until it is optimised again (about 0.15-0.2 s of a background thread, 2026-12-04, chromium 156,
`--trace-wasm-compilation-times`). In 3 of 7 return visits the user's pick, preview and Start brought such a
target and the first 100k-row import took 0.26-0.31 s instead of 0.21-0.22; with a sample read that way first
(a first version: 20,000 rows, the first scan stopped after 50 ms), in none of 7 (0.21-0.24 s), and the
functions the pick and import ran for the first time fell from ~100 to ~38.

What it touches: a directory of its own under the temporary directory (MEMFS in the browser's worker, never
the OPFS mount at /opfs), removed afterwards, with its own database and engine, and the sample as a `File` in
memory. Nothing of the app's engine, database, picked files, scans or events. It runs only while the page is
idle (no file previewed yet), one small batch (`BATCH_ROWS`) at each of the worker's yields, so a request waits
for one batch at most; a preview or a Start cancels it, and its engine stops at the run's next slice
(worker/app.py `_warm_up`).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importer import ImportOutput
    from worker.platform import ByteSource

SAMPLE_ROWS = 10_000
"""Rows in the rehearsal's file: 10k removed the first import's extra cost where 0 did not (measured above)."""
BATCH_ROWS = 500
"""Rows per rehearsal batch, one at each of the worker's yields (15-30 ms in the browser); each commits, so
the commit path runs several times too."""
SLICE_ROWS = 250
"""Rows per slice: the engine's stop lands at a slice's end, a few milliseconds away."""
REJECT_EVERY = 500
"""Every this many rows has an amount that is not a number: the rejects are rehearsed too."""
COLUMNS = (("id", "integer"), ("name", "text"), ("email", "text"), ("amount", "real"), ("active", "boolean"),
           ("joined", "date"), ("seen", "datetime"))
"""The sample's columns and their types: every type the importer converts."""
HEADER = ",".join(name for name, _ in COLUMNS)
DISTINCT_ROWS = 1_000
"""The sample repeats this many distinct rows (generating each costs more than the import's reading it)."""
DATED_EVERY = 4
"""One row in this many has its date and datetime; the others leave them empty (the costliest conversions,
rehearsed less)."""
CHUNK_BYTES = 64 << 10
"""The rehearsal reads its file in pieces this large, so quote-free and quoted pieces both occur."""


def sample_csv(rows: int) -> bytes:
    """The rehearsal's file: a header and `rows` rows of every column type the importer converts, every
    `REJECT_EVERY`th with an amount that is not a number; the second half quotes its names, so that the
    reader's csv.reader path runs as well as its quote-free one."""
    plain: list[str] = []
    quoted: list[str] = []
    for i in range(min(rows, DISTINCT_ROWS)):
        amount = "not a number" if i % REJECT_EVERY == REJECT_EVERY - 1 else f"{i * 1.25:.2f}"
        dated = i % DATED_EVERY == 0
        tail = (f",user{i}@example.com,{amount},{'true' if i % 2 else 'false'},"
                + (f"2024-{1 + i % 12:02d}-{1 + i % 28:02d},2024-05-06 07:{i % 60:02d}:00\n" if dated else ",\n"))
        plain.append(f"{i},Name {i}{tail}")
        quoted.append(f'{i},"Name, {i}"{tail}')
    half = rows // 2
    return (HEADER + "\n" + _repeat(plain, half) + _repeat(quoted, rows - half)).encode()


def _repeat(lines: list[str], rows: int) -> str:
    """`rows` lines: `lines` over and over, the last time cut short."""
    whole, left = divmod(rows, len(lines)) if lines else (0, 0)
    return "".join(lines) * whole + "".join(lines[:left])


async def rehearse(data: bytes | None = None, *,
                   pause: Callable[[], Awaitable[None]] | None = None) -> ImportOutput:
    """Import `data` (a `sample_csv`; None: one of `SAMPLE_ROWS` rows) into a scratch database in a temporary
    directory, with the app's import job on an engine of its own, and remove it all; return the run's output (a
    failed run raises its RunFailedError). `pause` is awaited between the batches (the worker passes its yield
    to the page's messages). Cancelled, it stops its engine at the run's next slice (that batch rolls back) and
    removes the directory."""
    from durable import Engine
    from importer import ImportEnv, ImportInput, ImportOptions, make_import_job
    from importer.formats import ColumnType
    from importer.options import ColumnSpec
    from worker.database import open_database

    directory = tempfile.mkdtemp(prefix="rehearsal-")
    try:
        data = sample_csv(SAMPLE_ROWS) if data is None else data
        copy = os.path.join(directory, "copy.csv")
        with open(copy, "wb") as out:
            out.write(data)
        sha256 = hashlib.sha256(data).hexdigest()
        if pause is not None:
            await pause()
        env = ImportEnv(staging_dir=directory, copied={copy: (len(data), sha256)}, pause=pause,
                        max_batch_rows=BATCH_ROWS, slice_rows=SLICE_ROWS, read_chunk_bytes=CHUNK_BYTES)
        job = make_import_job(env)
        columns = [ColumnSpec(source=i, name=name, type=ColumnType(kind)) for i, (name, kind) in enumerate(COLUMNS)]
        options = ImportOptions(encoding="utf-8", delimiter=",", quotechar='"', has_header=True, decimal_comma=False,
                                table="rehearsal", columns=columns)
        payload = ImportInput(file_name="rehearsal.csv", size=len(data), sha256=sha256, staged_path=copy,
                              options=options)
        conn = open_database(os.path.join(directory, "rehearsal.sqlite"))
        engine = Engine(conn)
        engine.register(job)
        try:
            await engine.start()
            return await engine.trigger_and_wait(job, payload)
        finally:
            await engine.stop()
            conn.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def rehearse_preview(source: ByteSource, *, pause: Callable[[], Awaitable[None]] | None = None) -> int:
    """Read `source` as a preview and its whole-file scan read a picked file: the first 64 KB sniffed, then a
    scan stopped at its first yield (`pause`, else one turn of the event loop), as a Start stops a scan still
    running, then a scan to the end. Returns the rows the last scan counted. Cancelled, it stops its scan too."""
    from importer.sniff import SNIFF_BYTES, sniff
    from worker.scans import scan_source
    from worker.sources import read

    prefix = await read(source, 0, SNIFF_BYTES)
    found = sniff(prefix, file_name=source.name, complete=len(prefix) >= source.size)
    stopped = asyncio.ensure_future(scan_source("rehearsal", source, found, _ignore))
    try:
        await (pause() if pause is not None else asyncio.sleep(0))
    finally:
        stopped.cancel()
        await asyncio.wait([stopped])
    if not stopped.cancelled():  # it ended before the stop (a sample read in one piece): say if it failed
        stopped.result()
    scanned = await scan_source("rehearsal", source, found, _ignore)
    return int(scanned["rows"])


def _ignore(progress: dict[str, object]) -> None:
    """The rehearsal's scans report their progress to nobody."""
