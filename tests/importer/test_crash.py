"""Crash test: SIGKILL an import at random moments, restart it each time; every row lands exactly once.

A child process (crash_child.py) imports a generated CSV with ~1% invalid rows into a file database. The
test kills it at least 20 times at random moments (seeds printed), restarts it, lets it finish, and then
checks the table equals the valid source rows and the rejects are exactly the invalid rows, each once.
"""

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bench.import_native import generate_csv

CHILD = Path(__file__).with_name("crash_child.py")
KILLS = 20
ROWS = 1_000_000  # big enough that even a fast machine needs more than KILLS lives to finish


def test_an_import_killed_at_random_moments_ends_with_every_row_exactly_once(tmp_path):
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    print(f"crash test seed: {seed} (rerun with CRASH_SEED={seed})")
    rng = random.Random(seed)
    csv_path, db, staging = tmp_path / "crash.csv", tmp_path / "app.sqlite", tmp_path / "staging"
    invalid = generate_csv(csv_path, ROWS, seed=seed)
    command = [sys.executable, str(CHILD), str(db), str(csv_path), str(staging)]
    kills = 0
    finished = False
    deadline = time.monotonic() + 80
    while kills < KILLS and time.monotonic() < deadline:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        delay = rng.uniform(0.2, 0.45)
        try:
            _out, err = child.communicate(timeout=delay)
            assert child.returncode == 0, err.decode()
            finished = True
            break
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
            child.communicate()
            kills += 1
    if not finished:
        done = subprocess.run(command, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr.decode()
    print(f"killed {kills} times")
    assert kills >= KILLS, "the import finished before it was killed often enough: make it bigger"

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = conn.execute("SELECT id, name, email, amount FROM crash").fetchall()
        rejects = conn.execute("SELECT row_number, raw FROM importer_rejects").fetchall()
    expected = _valid_rows(csv_path, invalid)
    assert len(rows) == len(expected)
    assert sorted(rows) == sorted(expected)
    assert sorted(number for number, _ in rejects) == sorted(i + 2 for i in invalid)
    assert all(json.loads(raw) for _, raw in rejects)


def _valid_rows(csv_path, invalid):
    import csv

    with open(csv_path, newline="") as f:
        reader = csv.reader(f)
        next(reader)
        return [(int(r[0]), r[1], r[2], float(r[3])) for i, r in enumerate(reader) if i not in invalid]
