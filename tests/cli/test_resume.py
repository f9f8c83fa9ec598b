"""Resumability of the installed command: a generated file (200k rows, ~1% invalid) imported by a process that
is SIGKILLed at 12 seeded points mid-import and started again with the same command until it is done ends
with exactly the source's valid rows once (count and order-independent checksum, computed from the source
with the csv module) and each invalid row rejected once. The kills land by construction: the test-only
hold point (CSV_IMPORT_TEST_HOOKS, importer/holds.py) holds the run right after the committed batch that
crosses a seeded row count, and the test kills it once it says so."""

from __future__ import annotations

import csv
import json
import random
import signal
import subprocess
from pathlib import Path

import pytest

from tests.cli.support import checksum, command, env, query, run

ROWS = 200_000
FLAGS = ("--table", "people", "--type", "id=integer", "--type", "amount=real", "--json")


def generate(path: Path, rows: int, seed: int) -> None:
    """id,name,email,amount; about 1% invalid (an amount that is not a number, or a fifth field)."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["id", "name", "email", "amount"])
        for i in range(1, rows + 1):
            name = rng.choice(["Ada", "Grace", 'Ed "the, quoted"', "Zoë", "=cmd", "Łukasz"]) + f" {i}"
            row = [str(i), name, f"user{i}@example.org", f"{rng.randrange(-10**6, 10**6) / 100:.2f}"]
            roll = rng.random()
            if roll < 0.007:
                row[3] = f"x{i}"
            elif roll < 0.01:
                row.append("extra")
            out.writerow(row)


def expected(path: Path) -> tuple[tuple[int, int], set[int]]:
    """The valid rows' (count, checksum) and the invalid rows' row numbers, read with the csv module."""
    valid, invalid = [], set()
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        for number, row in enumerate(reader, start=2):
            try:
                if len(row) != 4:
                    raise ValueError(row)
                valid.append((int(row[0]), row[1], row[2], float(row[3])))
            except ValueError:
                invalid.add(number)
    return checksum(valid), invalid


def stored(db: Path) -> tuple[int, int]:
    return checksum(query(db, "SELECT id, name, email, amount FROM people"))


def run_until_held_or_done(args: list[str], hooks: dict[str, object]) -> tuple[bool, subprocess.Popen[str]]:
    """Start the command; return (held, process) once it holds at a hold point (still running) or ends."""
    proc = subprocess.Popen([command(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env(hooks))
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("test hooks: run ") and " held after row " in line:
            return True, proc
    proc.wait(timeout=300)
    return False, proc


@pytest.mark.slow
def test_killed_at_seeded_points_and_rerun_the_import_ends_with_every_row_once(tmp_path: Path) -> None:
    source, db = tmp_path / "people.csv", tmp_path / "out.sqlite"
    generate(source, ROWS, seed=11)
    want, invalid = expected(source)
    points = sorted(random.Random(7).sample(range(2_000, ROWS - 2_000), 12))
    hooks = {"max_batch_rows": 1_000, "hold_at_rows": points}
    args = [str(source), "--db", str(db), *FLAGS]
    kills = 0
    while True:
        held, proc = run_until_held_or_done(args, hooks)
        if not held:
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        kills += 1
        assert kills <= len(points), "the run was held more often than there are hold points"
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert kills == len(points) >= 10
    summary = json.loads(out)
    assert summary["status"] == "completed"
    assert (summary["rows_accepted"], summary["rows_rejected"]) == (want[0], len(invalid))
    assert stored(db) == want
    assert query(db, "SELECT count(DISTINCT id) FROM people") == [(want[0],)]
    assert {r for (r,) in query(db, "SELECT row_number FROM importer_rejects")} == invalid
    assert len(query(db, "SELECT id FROM durable_runs")) == 1  # every rerun continued the same run


def test_ctrl_c_stops_at_a_batch_and_the_same_command_resumes(tmp_path: Path) -> None:
    source, db = tmp_path / "people.csv", tmp_path / "out.sqlite"
    generate(source, 20_000, seed=3)
    want, invalid = expected(source)
    args = [str(source), "--db", str(db), *FLAGS[:-1]]
    held, proc = run_until_held_or_done(args, {"max_batch_rows": 1_000, "hold_at_rows": [5_000]})
    assert held
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    lines = err.strip().splitlines()
    assert lines[-1].startswith("csv-import: Interrupted after 5,000 rows: run ") and "again to resume" in lines[-1]
    assert query(db, "SELECT status FROM durable_runs") == [("pending",)]
    (partial,) = query(db, "SELECT count(*) FROM people")[0]
    assert 0 < partial < want[0]
    again = run(*args)
    assert again.returncode == 0, again.stderr
    assert "Resuming run " in again.stderr
    assert stored(db) == want
    assert {r for (r,) in query(db, "SELECT row_number FROM importer_rejects")} == invalid


def test_a_changed_file_is_refused_instead_of_resumed(tmp_path: Path) -> None:
    source, db = tmp_path / "people.csv", tmp_path / "out.sqlite"
    generate(source, 5_000, seed=5)
    args = [str(source), "--db", str(db), *FLAGS]
    held, proc = run_until_held_or_done(args, {"max_batch_rows": 500, "hold_at_rows": [1_000]})
    assert held
    proc.kill()
    proc.wait(timeout=60)
    (before,) = query(db, "SELECT count(*) FROM people")[0]
    with source.open("a", encoding="utf-8") as f:
        f.write("99999,Late,late@example.org,1.00\n")
    result = run(*args)
    assert result.returncode == 3
    (line,) = result.stderr.splitlines()
    assert line.startswith("csv-import: 'people.csv' has changed since run ") and "cannot resume" in line
    assert query(db, "SELECT count(*) FROM people") == [(before,)]


def test_a_moved_file_with_the_same_content_resumes_from_its_new_path(tmp_path: Path) -> None:
    source, db = tmp_path / "people.csv", tmp_path / "out.sqlite"
    generate(source, 5_000, seed=6)
    want, invalid = expected(source)
    held, proc = run_until_held_or_done([str(source), "--db", str(db), *FLAGS],
                                        {"max_batch_rows": 500, "hold_at_rows": [1_000]})
    assert held
    proc.kill()
    proc.wait(timeout=60)
    moved = tmp_path / "elsewhere" / "people.csv"
    moved.parent.mkdir()
    source.rename(moved)
    result = run(moved, "--db", db, *FLAGS)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "completed"
    assert stored(db) == want
    assert {r for (r,) in query(db, "SELECT row_number FROM importer_rejects")} == invalid
    assert len(query(db, "SELECT id FROM durable_runs")) == 1
