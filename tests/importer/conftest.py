"""Shared helpers for importer tests: run an import through a real engine on a file database."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from durable import Engine, RunFailedError
from importer import FileByteSource, ImportEnv, ImportOutput, make_import_job

DATA = Path(__file__).resolve().parent.parent / "data"


@dataclass
class Outcome:
    """What an import left behind: its output (or error) and the database path."""

    output: ImportOutput | None
    error: RunFailedError | None
    db: Path

    def rows(self, table: str | None = None) -> list[tuple[Any, ...]]:
        name = table or (self.output.table if self.output else "")
        with sqlite3.connect(self.db) as conn:
            return conn.execute(f'SELECT * FROM "{name}"').fetchall()

    def rejects(self) -> list[tuple[int, str, str]]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute("SELECT row_number, raw, reasons FROM importer_rejects ORDER BY row_number").fetchall()


def run_import(tmp_path: Path, source: Path, options: dict[str, Any] | None = None, **env: Any) -> Outcome:
    """Import `source` into tmp_path/app.sqlite with the engine; return the outcome (never raises RunFailed)."""
    src = FileByteSource(source)
    payload = {"source_id": "s", "file_name": src.name, "size": src.size, "options": options or {}}
    return run_payload(tmp_path, payload, sources={"s": src}, **env)


def run_payload(tmp_path: Path, payload: dict[str, Any], **env: Any) -> Outcome:
    """Run the import job on `payload` into tmp_path/app.sqlite with an `ImportEnv` of `env` (staging under
    tmp_path/staging); return the outcome (never raises RunFailed)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    db = tmp_path / "app.sqlite"

    async def go() -> Outcome:
        job = make_import_job(ImportEnv(staging_dir=str(tmp_path / "staging"), **env))
        engine = Engine(str(db))
        engine.register(job)
        await engine.start()
        try:
            try:
                return Outcome(await engine.trigger_and_wait(job, payload, timeout=120), None, db)
            except RunFailedError as error:
                return Outcome(None, error, db)
        finally:
            await engine.stop()

    return asyncio.run(go())


@pytest.fixture
def data_dir() -> Path:
    return DATA
