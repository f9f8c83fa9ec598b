"""Crash test: an undo SIGKILLed inside its transaction (DELETEs ran, COMMIT not yet) leaves every row and no
undone mark; killed just after its COMMIT it leaves exactly the second import's rows; either way a restart
finishes the undo with exactly the second import's rows, once."""

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("undo_child.py")


def write(path: Path, ids: range) -> list[int]:
    path.write_text("id,name\n" + "".join(f"{'x' if i % 7 == 0 else i},n{i}\n" for i in ids), encoding="utf-8")
    return [i for i in ids if i % 7]


def life(command: list[str], hold: str) -> str:
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "UNDO_HOLD": hold})  # fmt: skip
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    if line == "held":
        child.send_signal(signal.SIGKILL)
    _out, err = child.communicate(timeout=120)
    assert line in ("held", "done"), f"UNDO_HOLD={hold}: exit {child.returncode}\n{err}"
    return line


def state(db: Path) -> tuple[list[int], int]:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        ids = [i for (i,) in conn.execute("SELECT id FROM a ORDER BY id")]
        marked = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'importer_undone'").fetchone()[0]
        undone = conn.execute("SELECT count(*) FROM importer_undone").fetchone()[0] if marked else 0
        return ids, undone


@pytest.mark.parametrize("hold", ["inside", "after"])
def test_an_undo_killed_mid_transaction_or_after_commit_leaves_all_or_none(tmp_path: Path, hold: str) -> None:
    first = write(tmp_path / "a.csv", range(1, 2001))
    second = write(tmp_path / "b.csv", range(2001, 3001))
    db = tmp_path / "app.sqlite"
    command = [sys.executable, str(CHILD), str(db), str(tmp_path / "staging"), str(tmp_path / "a.csv"),
               str(tmp_path / "b.csv")]
    assert life(command, hold) == "held"
    ids, undone = state(db)
    if hold == "inside":
        assert (ids, undone) == (sorted(first + second), 0)
    else:
        assert (ids, undone) == (second, 1)
    assert life(command, "") == "done"
    assert state(db) == (second, 1)
