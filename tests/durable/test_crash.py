"""Crash test: SIGKILL the engine at random moments, restart it, and compare with an uninterrupted run.

The program (crash_program.py) runs two runs of many step.transaction batches and step.run checkpoints.
After at least 30 kills that land before the runs complete, the final database must equal the one an
uninterrupted run produced: no write lost or doubled, the same steps and logs, integrity ok.
Reproduce a failure with DURABLE_CRASH_SEED=<seed printed in the failure>.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

PROGRAM = Path(__file__).with_name("crash_program.py")
BATCHES = 800
MIN_KILLS = 30


def start(db: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(PROGRAM), str(db), str(BATCHES)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def finish(proc: subprocess.Popen[str], context: str) -> None:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, f"{context}: exit {proc.returncode}\n{out}\n{err}"
    assert "done [16000, 16000]" in out, f"{context}: {out}"


def snapshot(db: Path) -> dict[str, Any]:
    """Everything that must match, without ids and times."""
    conn = sqlite3.connect(db)
    by_key = {key: run_id for run_id, key in conn.execute("SELECT id, idempotency_key FROM durable_runs")}
    runs = conn.execute(
        "SELECT idempotency_key, job, status, input, output, error, labels, progress_current, "
        "progress_total, progress_message, cancel_requested FROM durable_runs ORDER BY idempotency_key"
    ).fetchall()
    steps = {
        key: conn.execute(
            "SELECT ordinal, name, kind, status, output, error, attempts FROM durable_steps "
            "WHERE run_id = ? ORDER BY ordinal",
            (run_id,),
        ).fetchall()
        for key, run_id in by_key.items()
    }
    logs = {
        key: conn.execute(
            "SELECT step, level, message, data FROM durable_logs WHERE run_id = ? ORDER BY id", (run_id,)
        ).fetchall()
        for key, run_id in by_key.items()
    }
    snap = {
        "integrity": conn.execute("PRAGMA integrity_check").fetchall(),
        "target": conn.execute("SELECT name, batch, i FROM target ORDER BY name, batch, i").fetchall(),
        "counter": conn.execute("SELECT name, n FROM counter ORDER BY name").fetchall(),
        "runs": runs,
        "steps": steps,
        "logs": logs,
    }
    conn.close()
    return snap


def unfinished(db: Path) -> bool:
    if not db.exists():
        return True
    conn = sqlite3.connect(db)
    try:
        done = conn.execute("SELECT COUNT(*) FROM durable_runs WHERE status = 'completed'").fetchone()[0]
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()
    return int(done) < 2


@pytest.mark.slow
def test_sigkilled_engine_resumes_to_the_same_database_as_an_uninterrupted_run(tmp_path: Path) -> None:
    seed = int(os.environ.get("DURABLE_CRASH_SEED", random.randrange(2**32)))
    print(f"crash test seed={seed}")
    rng = random.Random(seed)

    reference = tmp_path / "reference.db"
    began = time.monotonic()
    finish(start(reference), "uninterrupted run")
    work = time.monotonic() - began
    expected = snapshot(reference)
    assert expected["integrity"] == [("ok",)]
    assert len(expected["target"]) == 2 * BATCHES * 20

    crashed = tmp_path / "crashed.db"
    window = work / 25  # 30 kills x window/2 on average cover ~60% of the work
    kills = 0
    delays: list[float] = []
    while kills < MIN_KILLS:
        proc = start(crashed)
        delay = rng.uniform(0, window)
        delays.append(round(delay, 4))
        time.sleep(delay)
        if proc.poll() is not None:
            finish(proc, f"seed={seed}")
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert unfinished(crashed), f"seed={seed}: runs completed after {kills} kills (delays {delays})"
        kills += 1
    finish(start(crashed), f"seed={seed}: final restart")

    assert kills >= MIN_KILLS, f"seed={seed}: only {kills} kills landed mid-run"
    got = snapshot(crashed)
    for key in expected:
        assert got[key] == expected[key], f"seed={seed}: {key} differs after {kills} kills (delays {delays})"
