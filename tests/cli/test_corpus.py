"""Fidelity of the command line on the real public corpus (the page's test: tests/browser/test_corpus.py).

Every corpus CSV is imported by the installed `csv-import` with default settings, one database per file;
each stored cell is compared with the independent reading the page's fidelity test uses (Python's csv module
and that test's own conversion rules, `compare`), here reading the table with stock sqlite3 on CPython, so
the command line is held to the same expectations as the page: every row lands, no reject, no cell differs,
declared types are the plan's. The table is printed and written to artifacts/corpus-cli.txt.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_corpus import SOURCES, SQL_TYPE, Result, compare, corpus_files, quoted_name, render
from tests.cli.support import ROOT, run
from tools import corpus


def stored_rows(conn: sqlite3.Connection, table: str, kept: list[dict[str, Any]]) -> Iterator[list[Any]]:
    """The table's rows in insertion order, as sqlite3 returns them (ints, floats, text, None)."""
    names = ", ".join(quoted_name(c["name"]) for c in kept)
    for row in conn.execute(f"SELECT {names} FROM {quoted_name(table)} ORDER BY rowid"):
        yield list(row)


def plan_options(conn: sqlite3.Connection, run_id: str) -> dict[str, Any]:
    for (output,) in conn.execute("SELECT output FROM durable_steps WHERE run_id = ? AND name = 'prepare'",
                                  (run_id,)):
        return dict(json.loads(output)["options"])
    raise AssertionError("the run has no plan")


def check_file(path: Path, db: Path, result: Result) -> None:
    done = run(path, "--db", db, "--json", timeout=900)
    if done.returncode != 0:
        result.error = done.stderr.strip()[:300]
        return
    summary = json.loads(done.stdout)
    result.status = summary["status"]
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        options = plan_options(conn, summary["run_id"])
        rejected = {n: json.loads(r) for n, r in conn.execute("SELECT row_number, reasons FROM importer_rejects")}
        result.rejects = len(rejected)
        for reasons in rejected.values():
            result.reasons.update(re.sub(r"^Row \d+: ", "", reason) for reason in reasons)
        kept = [c for c in options["columns"] if not c.get("skip")]
        info = conn.execute(f"PRAGMA table_info({quoted_name(summary['table'])})")
        declared = [(name, kind) for _, name, kind, *_ in info]
        want = [(c["name"], SQL_TYPE[c["type"]]) for c in kept]
        if declared != want:
            result.error = f"declared {declared}, plan {want}"[:300]
        compare(stored_rows(conn, summary["table"], kept), path, options, kept, rejected, result)
    finally:
        conn.close()


@pytest.mark.slow
def test_the_command_line_lands_the_real_public_files_as_the_page_does(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    try:
        files = corpus_files()
    except corpus.CorpusError as exc:
        pytest.fail(f"the corpus could not be set up: {exc}")
    assert len(files) >= 25 and {label.split("/")[0] for label, _ in files} == set(SOURCES)
    started, results = time.monotonic(), []
    for number, (label, path) in enumerate(files):
        result = Result(label)
        began = time.monotonic()
        check_file(path, tmp_path / f"{number}.sqlite", result)
        result.seconds = time.monotonic() - began
        results.append(result)
    report = render(results, time.monotonic() - started)
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "corpus-cli.txt").write_text(report)
    with capsys.disabled():
        print("\n" + report)
    failing = [r.file for r in results if not r.ok]
    assert failing == [], f"{len(failing)} of {len(results)} files differ (artifacts/corpus-cli.txt)"
