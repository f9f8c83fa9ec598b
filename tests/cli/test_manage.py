"""The run-management commands on real databases: runs, show, errors, export, cancel, retry, delete, and
--dry-run writing nothing."""

from __future__ import annotations

import csv
import io
import json
import signal
from pathlib import Path

from tests.cli.support import DATA, query, run
from tests.cli.test_resume import FLAGS, expected, generate, run_until_held_or_done, stored

CSV = 'id,name,score\n1,Ada,10\n2,Grace,x\n3,"=SUM(A1:A2)",30\n4,Linus,40,extra\n'


def imported(tmp_path: Path) -> tuple[Path, Path, str]:
    source, db = tmp_path / "scores.csv", tmp_path / "out.sqlite"
    source.write_text(CSV, encoding="utf-8")
    result = run(source, "--db", db, "--type", "score=integer", "--json")
    assert result.returncode == 0, result.stderr
    return source, db, json.loads(result.stdout)["run_id"]


def test_runs_and_show_list_the_import(tmp_path: Path) -> None:
    _, db, run_id = imported(tmp_path)
    listed = run("runs", "--db", db, "--json")
    assert listed.returncode == 0
    (entry,) = json.loads(listed.stdout)
    assert (entry["run_id"], entry["status"], entry["table"], entry["rows_accepted"], entry["rows_rejected"]) == (
        run_id, "completed", "scores", 2, 2)
    table = run("runs", "--db", db).stdout.splitlines()
    assert table[0].split()[:2] == ["RUN", "STATUS"] and table[1].split()[:2] == [run_id, "completed"]
    shown = run("show", run_id[:8], "--db", db)
    assert shown.returncode == 0 and f"run_id:        {run_id}" in shown.stdout and "import finished" in shown.stdout


def test_errors_writes_the_rejected_rows_as_csv(tmp_path: Path) -> None:
    _, db, run_id = imported(tmp_path)
    result = run("errors", run_id, "--db", db)
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["row_number", "reasons", "id", "name", "score"]
    assert [r[0] for r in rows[1:]] == ["3", "5"]
    assert "'x' is not an integer in column 'score'" in rows[1][1]


def test_export_neutralises_formulas_as_the_page_does(tmp_path: Path) -> None:
    _, db, _ = imported(tmp_path)
    result = run("export", "scores", "--db", db)
    assert result.returncode == 0, result.stderr
    assert list(csv.reader(io.StringIO(result.stdout))) == [["id", "name", "score"], ["1", "Ada", "10"],
                                                           ["3", "'=SUM(A1:A2)", "30"]]
    missing = run("export", "nope", "--db", db)
    assert (missing.returncode, missing.stderr.strip()) == (3, f"csv-import: There is no table 'nope' in '{db}'.")


def test_listing_never_writes_or_resumes(tmp_path: Path) -> None:
    source, db = tmp_path / "people.csv", tmp_path / "out.sqlite"
    generate(source, 5_000, seed=1)
    held, proc = run_until_held_or_done([str(source), "--db", str(db), *FLAGS],
                                        {"max_batch_rows": 500, "hold_at_rows": [1_000]})
    assert held
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    before = db.read_bytes()
    (run_id,) = [r for (r,) in query(db, "SELECT id FROM durable_runs")]
    for args in (("runs",), ("show", run_id), ("errors", run_id), ("export", "people")):
        assert run(*args, "--db", db).returncode == 0
    assert db.read_bytes() == before
    assert query(db, "SELECT status FROM durable_runs") == [("running",)]


def test_cancel_then_retry_continues_and_delete_removes_the_run(tmp_path: Path) -> None:
    source, db = tmp_path / "people.csv", tmp_path / "out.sqlite"
    generate(source, 5_000, seed=2)
    want, invalid = expected(source)
    held, proc = run_until_held_or_done([str(source), "--db", str(db), *FLAGS],
                                        {"max_batch_rows": 500, "hold_at_rows": [1_000]})
    assert held
    proc.kill()
    proc.wait(timeout=60)
    (run_id,) = [r for (r,) in query(db, "SELECT id FROM durable_runs")]
    cancelled = run("cancel", run_id, "--db", db)
    assert (cancelled.returncode, cancelled.stdout.strip()) == (0, f"Run {run_id} cancelled.")
    (partial,) = query(db, "SELECT count(*) FROM people")[0]
    assert 0 < partial < want[0]
    retried = run("retry", run_id, "--db", db, "--json")
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout)["status"] == "completed"
    assert stored(db) == want
    assert len(query(db, "SELECT * FROM importer_rejects")) == len(invalid)
    assert run("delete", run_id, "--db", db, "-q").returncode == 0
    assert query(db, "SELECT count(*) FROM durable_runs") == [(0,)]
    assert query(db, "SELECT count(*) FROM importer_rejects") == [(0,)]
    assert source.exists()  # the user's file is never the job's to delete
    assert stored(db) == want  # deleting a run keeps its table, as in the page


def test_dry_run_shows_the_whole_file_plan_and_writes_nothing(tmp_path: Path) -> None:
    source, db = tmp_path / "late.csv", tmp_path / "out.sqlite"
    rows = [f"{i},{i * 2}" for i in range(1, 20_000)] + ["20000,NA", "20001,2.5"]
    source.write_text("n,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = run(source, "--db", db, "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert not db.exists()
    assert plan["settings"]["delimiter"]["value"] == "," and plan["settings"]["delimiter"]["evidence"]
    value = plan["columns"][1]
    assert (value["name"], value["type"], value["null_markers"]) == ("value", "real", ["NA"])  # past the first 64 KB
    assert plan["rows"] == 20_001 and plan["table"] == "late"
    text = run(source, "--db", db, "--dry-run").stdout
    assert "Nothing was written (--dry-run)." in text and "real" in text
    assert not db.exists()


def test_the_same_command_after_completion_reports_the_earlier_run(tmp_path: Path) -> None:
    source, db, run_id = imported(tmp_path)
    again = run(source, "--db", db, "--type", "score=integer")
    assert again.returncode == 0
    assert f"already imported with these options by run {run_id}" in again.stderr
    assert query(db, "SELECT count(*) FROM scores") == [(2,)]
    forced = run(source, "--db", db, "--type", "score=integer", "--force", "--table", "copy", "-q")
    assert forced.returncode == 0 and query(db, "SELECT count(*) FROM copy") == [(2,)]
    assert run(DATA / "latin1.csv", "--db", db, "--strict", "-q").returncode == 0


def test_hostile_names_are_printed_as_text_never_as_terminal_controls(tmp_path: Path) -> None:
    source, db = tmp_path / "x\x1b[31m\nred.csv", tmp_path / "out.sqlite"
    source.write_text('a,"b\x1b[2J"\n1,2\n', encoding="utf-8")
    outputs = [run(source, "--db", db, "--dry-run"), run(source, "--db", db)]
    run_id = json.loads(run("runs", "--db", db, "--json").stdout)[0]["run_id"]
    outputs += [run("runs", "--db", db), run("show", run_id, "--db", db)]
    for result in outputs:
        assert result.returncode == 0, result.stderr
        assert "\x1b" not in result.stdout + result.stderr
    assert "x\\x1b[31m\\x0ared.csv" in outputs[2].stdout
