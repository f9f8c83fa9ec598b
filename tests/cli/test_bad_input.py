"""The installed command on the bad-input corpus (tests/data): each file ends with its exit code and, for a
file-level problem, exactly one line on stderr with the importer's own sentence (never a traceback), and
nothing is imported from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.errors import BinaryFileError, EmptyFileError, EncodingError, HeaderOnlyError, UnterminatedQuoteError
from tests.cli.support import DATA, query, run

REFUSED = [
    ("empty.csv", (), str(EmptyFileError())),
    ("blank_lines.csv", (), str(EmptyFileError())),
    ("header_only.csv", (), str(HeaderOnlyError())),
    ("binary.png.csv", (), str(BinaryFileError("a PNG image"))),
    ("xlsx_as.csv", (), str(BinaryFileError("a zip archive, such as an Excel .xlsx workbook"))),
    ("unterminated_quote.csv", (), str(UnterminatedQuoteError(2))),
    ("wrong_encoding_utf8_chosen.csv", ("--encoding", "utf-8"), str(EncodingError("utf-8", 13, "cp1250"))),
]


@pytest.mark.parametrize(("name", "flags", "sentence"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_file_level_problem_exits_3_with_the_importers_sentence(tmp_path: Path, name: str,
                                                                   flags: tuple[str, ...], sentence: str) -> None:
    result = run(DATA / name, "--db", tmp_path / "out.sqlite", *flags)
    assert result.returncode == 3, result.stderr
    assert result.stderr.splitlines() == [f"csv-import: {sentence}"]
    assert "Traceback" not in result.stderr and result.stdout == ""


# files that import, some rows rejected (row-level problems): (file, accepted, rejected)
IMPORTED = [
    ("ragged_rows.csv", 2, 2),
    ("nul_bytes.csv", None, None),
    ("latin1.csv", None, 0),
    ("cp1252.csv", None, 0),
    ("utf16le_bom.csv", None, 0),
    ("utf16be_bom.csv", None, 0),
    ("utf8_bom.csv", None, 0),
    ("semicolon_quoted.csv", None, 0),
    ("mixed_line_endings.csv", None, 0),
    ("duplicate_headers.csv", None, 0),
    ("blank_headers.csv", None, 0),
    ("decimal_comma.csv", None, 0),
    ("leading_zeros.csv", None, 0),
    ("long_integers.csv", None, 0),
    ("ambiguous_dates.csv", None, 0),
    ("settled_dates.csv", None, 0),
]


@pytest.mark.parametrize(("name", "accepted", "rejected"), IMPORTED, ids=[r[0] for r in IMPORTED])
def test_a_readable_file_imports_and_only_strict_turns_rejects_into_exit_1(
        tmp_path: Path, name: str, accepted: int | None, rejected: int | None) -> None:
    db = tmp_path / "out.sqlite"
    result = run(DATA / name, "--db", db, "--table", "t", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    import json

    summary = json.loads(result.stdout)
    assert summary["status"] == "completed"
    (count,) = query(db, 'SELECT count(*) FROM "t"')[0]
    assert count == summary["rows_accepted"]
    if accepted is not None:
        assert summary["rows_accepted"] == accepted
    if rejected is not None:
        assert summary["rows_rejected"] == rejected
    (stored_rejects,) = query(db, "SELECT count(*) FROM importer_rejects")[0]
    assert stored_rejects == summary["rows_rejected"]
    strict = run(DATA / name, "--db", tmp_path / "strict.sqlite", "--table", "t", "--strict", "--quiet")
    assert strict.returncode == (1 if summary["rows_rejected"] else 0), strict.stderr


@pytest.mark.parametrize(("args", "code", "start"), [
    (("--db",), 2, "csv-import: argument --db: expected one argument"),
    (("{data}/latin1.csv",), 2, "csv-import: the following arguments are required: --db"),
    (("{data}/latin1.csv", "--db", "{tmp}/o.sqlite", "--type", "nope=integer"), 2,
     "csv-import: --type: the file has no column 'nope'"),
    (("{data}/latin1.csv", "--db", "{tmp}/o.sqlite", "--type", "id=float"), 2,
     "csv-import: --type 'id=float': 'float' is not a type"),
    (("{data}/latin1.csv", "--db", "{tmp}/o.sqlite", "--encoding", "rot13"), 2,
     "csv-import: The import options are not valid: 'encoding': 'rot13' is not a text encoding"),
    (("{data}/latin1.csv", "--db", "{tmp}/o.sqlite", "--table", "sqlite_x"), 2,
     "csv-import: The import options are not valid: 'table': table names starting with 'sqlite_' are reserved"),
    (("{tmp}/missing.csv", "--db", "{tmp}/o.sqlite"), 3, "csv-import: Cannot read "),
    (("{tmp}", "--db", "{tmp}/o.sqlite"), 3, "csv-import: "),
    (("{data}/latin1.csv", "--db", "{data}/latin1.csv"), 3, "csv-import: "),
    (("{data}/latin1.csv", "--db", "{tmp}/no/such/dir/o.sqlite"), 3, "csv-import: Cannot use the database"),
])
def test_usage_and_environment_problems_are_one_line(tmp_path: Path, args: tuple[str, ...], code: int,
                                                      start: str) -> None:
    result = run(*(a.format(data=DATA, tmp=tmp_path) for a in args), "--quiet")
    assert result.returncode == code, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), result.stderr


def test_an_existing_table_is_refused_unless_append_or_replace(tmp_path: Path) -> None:
    db = tmp_path / "out.sqlite"
    assert run(DATA / "latin1.csv", "--db", db, "--table", "t", "-q").returncode == 0
    again = run(DATA / "cp1252.csv", "--db", db, "--table", "t", "-q")
    assert again.returncode == 3
    assert again.stderr.splitlines() == ["csv-import: A table named 't' already exists. Choose another name, or "
                                         "choose to replace it or to append to it."]
    (before,) = query(db, 'SELECT count(*) FROM "t"')[0]
    replaced = run(DATA / "latin1.csv", "--db", db, "--table", "t", "--if-exists", "replace", "--force", "-q")
    assert replaced.returncode == 0, replaced.stderr
    assert query(db, 'SELECT count(*) FROM "t"')[0] == (before,)


def test_with_json_a_failed_run_gives_its_summary_and_the_sentence(tmp_path: Path) -> None:
    import json

    db = tmp_path / "out.sqlite"
    assert run(DATA / "latin1.csv", "--db", db, "--table", "t", "-q").returncode == 0
    failed = run(DATA / "cp1252.csv", "--db", db, "--table", "t", "--json")
    assert failed.returncode == 3
    summary = json.loads(failed.stdout)
    assert summary["status"] == "failed" and summary["error"].startswith("A table named 't' already exists.")
    assert failed.stderr.splitlines() == [f"csv-import: {summary['error']}"]
