"""Run the import job to its end on an engine over the database file, showing its progress.

One engine per command, as one per page: it takes the database's lease, resumes any run a killed process
left (as the page does on boot), runs the command's run, and stops. Ctrl-C or SIGTERM stops it gracefully:
the running batch commits or rolls back, the run goes back to pending, and the same command resumes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from durable import DurableError, Engine, Event, Run, RunProgressed, Step
from importer import ImportEnv, make_import_job
from importer.cli import database, hooks
from importer.cli.display import Display
from importer.cli.exits import CliError

Start = Callable[[Engine], Awaitable[Run]]
"""Queue the command's run on the started engine (trigger or retry) and return it."""

STOP_SECONDS = 10.0


class Interrupted(Exception):
    """The user stopped the command (Ctrl-C, SIGTERM); `run` went back to pending, resumable."""

    def __init__(self, run: Run, rows: int) -> None:
        self.run = run
        self.rows = rows
        super().__init__(run.id)


READ_AHEAD_MIN_BYTES = 2 << 20
"""The smallest file read ahead in a second process (ImportEnv.read_ahead_min_bytes). Measured here, in
alternation, with the child's first slice in pieces (slices.py `child_limits`), medians: 20k rows (0.95 MB)
0.086 s in one process against 0.089 s reading ahead, 45k rows (2.1 MB) 0.170 against 0.163 s, 100k rows
(4.7 MB) 0.307 against 0.274 s (docs/importer.md "Reading ahead")."""


def import_env(
    db: str, supplied: Mapping[str, str] | None = None, *, hashed: Mapping[str, tuple[int, int, str]] | None = None
) -> ImportEnv:
    """The job's environment on CPython: staged copies (only page-made runs have any) beside the database; a
    second process reads ahead while the batches insert when a core is spare (`spare_core`) and the file is
    `READ_AHEAD_MIN_BYTES` or more; batches up to 16 MB or a second, whatever their rows (Ctrl-C waits for the
    running batch at most that long; each commit costs a few fsyncs). `hashed`: files the command has just
    hashed (ImportEnv.hashed)."""
    settings: dict[str, Any] = {"read_ahead": spare_core(), "read_ahead_min_bytes": READ_AHEAD_MIN_BYTES,
                               "batch_bytes": 16 << 20, "max_batch_rows": 1 << 30, "batch_seconds": 1.0}
    return ImportEnv(staging_dir=os.path.dirname(os.path.abspath(db)), supplied=dict(supplied or {}),
                     hashed=dict(hashed or {}), **(settings | hooks.env_overrides()))


def spare_core() -> bool:
    """Whether a second process would get a core of its own: two or more, and the last minute's load below
    their number. On a busy machine the two processes would share one core and read-ahead costs more than it
    gains (measured: 3.3 s against 2.3 s for 1M rows at a load of 2-4 on two cores)."""
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:
        return False
    return cores >= 2 and load < cores


async def run_to_end(db: str, env: ImportEnv, start: Start, display: Display) -> Run:
    """Start an engine on `db`, queue the run with `start`, and return the run once it has ended.
    Raises Interrupted on Ctrl-C/SIGTERM, CliError when the database cannot be used."""
    engine = Engine(db)
    engine.register(make_import_job(env))
    ended = asyncio.Event()
    stop = asyncio.Event()
    watched: dict[str, str] = {}

    def on_event(event: Event) -> None:
        if getattr(event, "run_id", None) != watched.get("id"):
            return
        if isinstance(event, RunProgressed):
            data = _payload(event.message)
            if data is not None:
                display.progress(data)
        elif event.type in ("run:complete", "run:fail", "run:cancel"):
            ended.set()

    engine.on("*", on_event)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        try:
            await engine.start()
            run = await start(engine)
        except (sqlite3.Error, DurableError) as exc:
            raise CliError(f"Cannot use the database '{db}': {exc}") from None
        watched["id"] = run.id
        if not run.status.finished:
            await _first(ended, stop)
        latest = await engine.get_run(run.id)
        assert latest is not None
        if stop.is_set() and not latest.status.finished:
            await engine.stop(STOP_SECONDS)
            with database.read_only(db) as store:
                raise Interrupted(latest, committed_rows(store.get_steps(run.id)))
        return latest
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        display.close()
        await engine.stop(STOP_SECONDS)


def committed_rows(steps: list[Step]) -> int:
    """Data rows the run's committed batches accounted for (its cursor)."""
    cursors = [s.output for s in steps if s.name.startswith("batch-") and isinstance(s.output, dict)]
    last: dict[str, Any] = cursors[-1] if cursors else {}
    return int(last.get("accepted", 0)) + int(last.get("rejected", 0))


async def _first(*events: asyncio.Event) -> None:
    tasks = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _payload(message: str | None) -> dict[str, Any] | None:
    """The importer's progress payload from an engine progress message (JSON), or None."""
    if not message or not message.startswith("{"):
        return None
    try:
        data = json.loads(message)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
