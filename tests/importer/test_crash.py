"""Crash test: SIGKILL an import at seeded moments, restart it each time; every row lands exactly once.

A child process (crash_child.py) imports a generated CSV with ~1% invalid rows into a file database. Each
life holds where the seed says (IMPORT_HOLD): inside the transaction of its K-th batch, rows inserted and
COMMIT not yet run, or just after that batch committed; the test SIGKILLs it there, so every kill lands
mid-import whatever the machine's speed. After KILLS kills the child runs to the end, and the table must
equal the valid source rows and the rejects exactly the invalid rows, each once.
Reproduce a failure with CRASH_SEED=<seed printed in the failure>.
"""

import csv
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from bench.import_native import generate_csv

CHILD = Path(__file__).with_name("crash_child.py")
KILLS = 20
ROWS = 200_000  # 1,000 batches of 200 rows; the kills use at most KILLS * MAX_HOLD of them
MAX_HOLD = 40


def run_child(command: list[str], hold: str) -> str:
    """Start the child with IMPORT_HOLD=`hold`; SIGKILL it once it holds. Returns its last line."""
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "IMPORT_HOLD": hold})  # fmt: skip
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    if line == "held":
        child.send_signal(signal.SIGKILL)
    _out, err = child.communicate(timeout=300)
    assert line == "held" or child.returncode == 0, f"IMPORT_HOLD={hold}: exit {child.returncode}\n{err}"
    return line


def test_an_import_killed_at_seeded_moments_ends_with_every_row_exactly_once(tmp_path: Path) -> None:
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    print(f"crash test seed: {seed} (rerun with CRASH_SEED={seed})")
    rng = random.Random(seed)
    csv_path, db, staging = tmp_path / "crash.csv", tmp_path / "app.sqlite", tmp_path / "staging"
    invalid = generate_csv(csv_path, ROWS, seed=seed)
    command = [sys.executable, str(CHILD), str(db), str(csv_path), str(staging)]

    holds = [f"{rng.randint(1, MAX_HOLD)}:{rng.choice(['inside', 'after'])}" for _ in range(KILLS)]
    landed = [hold for hold in holds if run_child(command, hold) == "held"]
    assert landed == holds, "a life finished the import before its hold: make ROWS bigger"
    assert run_child(command, "").startswith("done ")

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = conn.execute("SELECT id, name, email, amount FROM crash").fetchall()
        rejects = conn.execute("SELECT row_number, raw FROM importer_rejects").fetchall()
    expected = _valid_rows(csv_path, invalid)
    assert len(rows) == len(expected)
    assert sorted(rows) == sorted(expected)
    assert sorted(number for number, _ in rejects) == sorted(i + 2 for i in invalid)
    assert all(json.loads(raw) for _, raw in rejects)


def _valid_rows(csv_path: Path, invalid: set[int]) -> list[tuple[int, str, str, float]]:
    with open(csv_path, newline="") as f:
        reader = csv.reader(f)
        next(reader)
        return [(int(r[0]), r[1], r[2], float(r[3])) for i, r in enumerate(reader) if i not in invalid]
