"""Helpers for the command-line tests: run the installed `csv-import` in a subprocess, read results back."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
CLI = Path(sys.executable).parent / "csv-import"
HOOKS = "CSV_IMPORT_TEST_HOOKS"


def command() -> str:
    """The installed command (./run test installs the project into .venv); fails plainly if it is not there."""
    assert CLI.exists(), f"{CLI} is missing: install the project (pip install -e .), as ./run test does"
    return str(CLI)


def env(hooks: dict[str, Any] | None = None) -> dict[str, str]:
    """The environment for a run: no hooks unless given (never inherited from the test's own environment)."""
    environ = {k: v for k, v in os.environ.items() if k != HOOKS}
    if hooks is not None:
        environ[HOOKS] = json.dumps(hooks)
    return environ


def run(*args: str | os.PathLike[str], hooks: dict[str, Any] | None = None, cwd: Path | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `csv-import args...` to its end; returns the completed process (text stdout/stderr)."""
    return subprocess.run([command(), *map(str, args)], capture_output=True, text=True, env=env(hooks), cwd=cwd,
                          timeout=timeout, check=False)


def row_digest(values: Sequence[Any]) -> int:
    """An order-independent checksum term for one row (sum them mod 2**64)."""
    return int.from_bytes(hashlib.sha256(repr(tuple(values)).encode()).digest()[:8], "big")


def checksum(rows: Iterable[Sequence[Any]]) -> tuple[int, int]:
    """(count, order-independent checksum) of `rows`."""
    count = total = 0
    for row in rows:
        count += 1
        total = (total + row_digest(row)) % (1 << 64)
    return count, total


def query(db: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Read the database with a plain, read-only sqlite3 connection."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
