"""The import job against a plain reference: every stored value and every reject, value by value.

Hypothesis writes CSV files (quoted fields holding newlines, delimiters and quotes; decimal commas with
`;`; null markers, some of which parse as values; mixed types; empty and quoted-empty fields; padded
numbers; rows of the wrong width; unique columns) and imports each through the real job on a real SQLite
file, with batches from one row to the whole file. The reference below reads the same bytes with the csv
module and converts each value on its own, following the rules in docs/importer.md; it shares no code
with `convert.py`, `formats.py` or `validate.py` (only `shown`, which quotes a value in a reason).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
import sqlite3
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.convert import shown

from .conftest import run_import

QUOTED_EMPTY_IS_TEXT = hasattr(csv, "QUOTE_NOTNULL")
"""Python >= 3.12 tells a quoted "" (empty text) from an empty field (NULL); 3.11 reads both as NULL."""

# -- the reference: the documented rules, one value at a time -------------------------------------------
INTEGER = re.compile(r" *-?(0|[1-9][0-9]*) *")
POINT_REAL = re.compile(r" *-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]{1,3})? *")
COMMA_REAL = re.compile(r" *-?([0-9]{1,3}(\.[0-9]{3})+|[0-9]+)?(,[0-9]+)? *")
WORDS = {"true": 1, "t": 1, "yes": 1, "y": 1, "false": 0, "f": 0, "no": 0, "n": 0}
DATES = {"YYYY-MM-DD": re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})"),
         "DD/MM/YYYY": re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})"),
         "DD.MM.YYYY": re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")}


class Rejected(Exception):
    """A value the column cannot store; the message is the reason without its "Row N: " prefix."""


def ref_integer(text: str, name: str) -> int:
    if INTEGER.fullmatch(text) is None:
        raise Rejected(f"{shown(text)} is not an integer in column '{name}'")
    number = int(text.strip(" "))
    if abs(number) > 2**63 - 1:
        raise Rejected(f"{shown(text)} is too large for an integer in column '{name}'")
    return number


def ref_real(text: str, name: str, decimal_comma: bool) -> float:
    plain = text.strip(" ")
    mantissa = re.split("[eE]", plain.lstrip("-"))[0]
    if decimal_comma:
        fits = COMMA_REAL.fullmatch(text) is not None and mantissa not in ("", ",") and not mantissa.endswith(",")
        plain = plain.replace(".", "").replace(",", ".")
    else:
        fits = POINT_REAL.fullmatch(text) is not None
    leading_zero = re.match(r"0[0-9.]" if decimal_comma else r"0[0-9]", mantissa) is not None
    if not fits or leading_zero:
        raise Rejected(f"{shown(text)} is not a number in column '{name}'")
    digits = re.sub(r"[^0-9]", "", mantissa).strip("0")
    number = float(plain)
    # Over 15 significant digits a float may round: kept only when written as a float (a point or an
    # exponent) and exactly the value the float prints as with that many digits (Python, R and pandas
    # write up to 17 digits).
    exact = (math.isfinite(number) and any(c in plain for c in ".eE") and len(digits) <= 17
             and Fraction(format(number, f".{len(digits)}g")) == Fraction(plain))
    if len(digits) > 15 and not exact:
        raise Rejected(f"{shown(text)} has more than 15 significant digits in column '{name}' "
                       "(import the column as text to keep them all)")
    if math.isinf(number) or (digits and abs(number) < sys.float_info.min):
        raise Rejected(f"{shown(text)} is beyond the range of a number column in column '{name}' "
                       "(import the column as text to keep it)")
    return number


def ref_date(text: str, name: str, fmt: str) -> str:
    match = DATES[fmt].fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        parts = [int(p) for p in match.groups()]
        year, month, day = parts if fmt.startswith("YYYY") else parts[::-1]
        return date(year, month, day).isoformat()
    except ValueError:
        raise Rejected(f"{shown(text)} is not a date ({fmt}) in column '{name}'") from None


@dataclass
class Column:
    name: str
    kind: str
    date_format: str | None = None
    markers: list[str] = field(default_factory=list)
    required: bool = False
    unique: bool = False
    regex: str | None = None
    low: float | None = None
    high: float | None = None

    def spec(self, source: int) -> dict[str, Any]:
        return {"source": source, "name": self.name, "type": self.kind, "date_format": self.date_format,
                "null_markers": self.markers, "required": self.required, "unique": self.unique,
                "regex": self.regex, "min": self.low, "max": self.high}

    def convert(self, raw: str | None, shared: list[str], decimal_comma: bool) -> Any:
        """The stored value of `raw` (None is NULL), or raise Rejected."""
        if raw is None or raw in shared or raw in self.markers:
            return None
        if raw == "":
            return "" if self.kind == "text" and QUOTED_EMPTY_IS_TEXT else None
        if self.kind == "integer":
            return ref_integer(raw, self.name)
        if self.kind == "real":
            return ref_real(raw, self.name, decimal_comma)
        if self.kind == "boolean":
            if raw.lower() not in WORDS:
                raise Rejected(f"{shown(raw)} is not a boolean (true/false, yes/no) in column '{self.name}'")
            return WORDS[raw.lower()]
        if self.kind == "date":
            return ref_date(raw, self.name, self.date_format or "YYYY-MM-DD")
        return raw

    def rule(self, raw: str | None, value: Any) -> str | None:
        """The reason a converted value breaks a rule of the column, or None."""
        if value is None or value == "":
            return f"column '{self.name}' is required but empty" if self.required else None
        if self.regex is not None and re.fullmatch(self.regex, raw or "") is None:
            return f"{shown(raw)} is not in the form {self.regex!r} in column '{self.name}'"
        if self.low is not None and value < self.low:
            return f"{shown(raw)} is less than the minimum {self.low} in column '{self.name}'"
        if self.high is not None and value > self.high:
            return f"{shown(raw)} is more than the maximum {self.high} in column '{self.name}'"
        return None


def records(text: str, options: dict[str, Any]) -> list[list[str | None]]:
    """The file's records as the csv module reads them (header first)."""
    dialect: dict[str, Any] = {"delimiter": options["delimiter"], "quotechar": '"', "strict": True}
    if QUOTED_EMPTY_IS_TEXT:
        dialect["quoting"] = csv.QUOTE_NOTNULL
    return list(csv.reader(io.StringIO(text, newline=""), **dialect))


def reference(text: str, columns: list[Column], options: dict[str, Any]) -> tuple[list[tuple[Any, ...]], list[Any]]:
    """The rows the import should store and its rejects [(row, raw, reasons)], from the file's text."""
    stored: list[tuple[Any, ...]] = []
    rejects: list[Any] = []
    seen: list[dict[Any, int]] = [{} for _ in columns]
    for number, record in enumerate(records(text, options)[1:], start=2):
        if not record:
            continue
        if len(record) != len(columns):
            few = "few" if len(record) < len(columns) else "many"
            rejects.append((number, record, [f"Row {number}: has {len(record)} fields, expected {len(columns)} "
                                             f"(too {few})"]))
            continue
        values, reasons = [], []
        for column, raw in zip(columns, record, strict=True):
            try:
                value = column.convert(raw, options["null_markers"], options["decimal_comma"])
            except Rejected as why:
                values.append(None)
                reasons.append(str(why))
                continue
            values.append(value)
            broken = column.rule(raw, value)
            if broken:
                reasons.append(broken)
        if not reasons:
            for column, taken, raw, value in zip(columns, seen, record, values, strict=True):
                if column.unique and value is not None and value in taken:
                    reasons.append(f"{shown(raw)} is a duplicate in column '{column.name}'")
        if reasons:
            rejects.append((number, record, [f"Row {number}: {r}" for r in reasons]))
            continue
        for column, taken, value in zip(columns, seen, values, strict=True):
            if column.unique and value is not None:
                taken[value] = number
        stored.append(tuple(values))
    return stored, rejects


DUPLICATE = re.compile(r"(repeats row [0-9]+|is already) in column '(.*)', which must be unique$")


def same_words(reason: str) -> str:
    """A duplicate's reason names the earlier row only when it is in the same batch: compare the rest."""
    return DUPLICATE.sub(lambda m: f"is a duplicate in column '{m.group(2)}'", reason)


# -- the files ------------------------------------------------------------------------------------------
EMPTY = None
VALID: dict[str, list[str]] = {
    "integer": ["0", "1", "-7", "42", "12", " 42", "42 ", "  -3 ", "-0", "9223372036854775807"],
    "real": ["1.5", "-2.25", ".5", "-.25", "5.", " 3.5 ", "0", "12", "1e3", "1E-3", "999999999999999",
             "10.357019999999999", "0.1234567890123456", "48.053808600000004", "-1.2345678901234567e-5"],
    "comma real": ["1,5", "-2,25", ",5", "-,25", " 3,5 ", "0", "12", "1.234,5", "-1.234.567,89", "0,1",
                   "0,1234567890123456"],
    "boolean": ["yes", "No", "TRUE", "f", "y", "N"],
    "YYYY-MM-DD": ["2024-02-21", "1999-12-31", "2000-02-29"],
    "DD/MM/YYYY": ["21/02/2024", "1/2/2024", "31/12/1999"],
    "DD.MM.YYYY": ["29.02.2024", "1.12.1999", "01.01.2001"],
    "text": ["a", "b", "Zoë", "a,b", "a;b", 'say "hi"', "line\nbreak", "cr\r\nlf", "  padded  ", "=1+1", "007"],
}
ODD: dict[str, list[str]] = {
    "integer": ["007", "+5", "1_000", "1,000", "1.5", "1e3", "9223372036854775808", "123456789012345678901", "٤٢",
                "\t5", "abc", "1\n2"],
    "real": ["9999999999999999", "1234567890123456", "1000000000000001", "0.12345678901234567", "1e400", "1e-400",
             "nan", "inf", "007", "+5", "1_000",
             "1,000", "1.234,5", "1.2.3", "-", ".", "00.5", "5,", "0.123,5",
             *["1,5\n2", "1.5\n2", "2\n", "\n3,5", "-4\n,5"] * 3],
    "boolean": ["maybe", " yes", "1", "0"],
    "date": ["2024-02-30", "2024-2-1", "20240221", "12/31/1999", "2024-02-21\n", "21/02/2024", "2024-02-21",
             "29.02.2023"],
    "text": [],
}
MARKERS = ["NA", "-999", "NaN", "1900-01-01", "no", "N/A", "x", "0,5", "1.5"]
REGEXES = ["[0-9 .,-]+", ".{1,4}", "[^;]*", "[a-z ]+"]
ALL_VALUES = sorted({v for pool in [*VALID.values(), *ODD.values()] for v in pool} | set(MARKERS))


@st.composite
def columns_strategy(draw: st.DrawFn) -> list[Column]:
    count = draw(st.integers(1, 4))
    columns = []
    for index in range(count):
        kind = draw(st.sampled_from(["integer", "real", "real", "boolean", "date", "text"]))
        numeric = kind in ("integer", "real")
        low = draw(st.sampled_from([None, -5.0, 0.0])) if numeric else None
        columns.append(Column(
            name=f"c{index}", kind=kind,
            date_format=draw(st.sampled_from(list(DATES))) if kind == "date" else None,
            markers=draw(st.lists(st.sampled_from(MARKERS), max_size=2, unique=True)),
            required=draw(st.integers(0, 3)) == 0, unique=draw(st.integers(0, 3)) == 0,
            regex=draw(st.sampled_from(REGEXES)) if draw(st.integers(0, 5)) == 0 else None, low=low,
            high=draw(st.sampled_from([None, 100.0])) if numeric else None,
        ))
    return columns


@st.composite
def cell(draw: st.DrawFn, column: Column, decimal_comma: bool) -> str | None:
    """A value for `column`: mostly one it can store, else an odd spelling, a marker, anything, or empty."""
    kind = column.kind
    pick = draw(st.integers(0, 20))
    if pick < 13:
        key = column.date_format if kind == "date" else "comma real" if kind == "real" and decimal_comma else kind
        return draw(st.sampled_from(VALID[key or "YYYY-MM-DD"]))
    if pick in (13, 14):
        return draw(st.sampled_from(ODD[kind] or VALID[kind]))
    if pick == 15:
        return draw(st.sampled_from(MARKERS))
    if pick == 16:
        return draw(st.sampled_from(ALL_VALUES))
    if pick == 17:
        return draw(st.text(alphabet=st.sampled_from(list('a1.,;"\n\r -é')), max_size=6))
    return EMPTY if pick in (18, 19) else ""


def field_text(value: str | None, delimiter: str, force_quotes: bool) -> str:
    """How a value is written: None as nothing, "" as "", quoted when it must be (or when asked)."""
    if value is None:
        return ""
    if force_quotes or value == "" or any(c in value for c in (delimiter, '"', "\n", "\r")):
        return '"' + value.replace('"', '""') + '"'
    return value


@st.composite
def files(draw: st.DrawFn) -> tuple[str, list[Column], dict[str, Any], dict[str, int]]:
    columns = draw(columns_strategy())
    delimiter, decimal_comma = draw(st.sampled_from([(",", False), (";", True), (";", False), (",", True)]))
    options = {"delimiter": delimiter, "decimal_comma": decimal_comma,
               "null_markers": draw(st.lists(st.sampled_from(MARKERS), max_size=3, unique=True))}
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [delimiter.join(c.name for c in columns)]
    for _ in range(draw(st.integers(1, 25))):
        row = [draw(cell(c, decimal_comma)) for c in columns]
        if draw(st.integers(0, 15)) == 0:
            row = row[:-1] if draw(st.booleans()) else [*row, "extra"]
        lines.append(delimiter.join(field_text(v, delimiter, draw(st.integers(0, 4)) == 0) for v in row))
    text = ending.join(lines) + (ending if draw(st.booleans()) else "")
    rows, slice_rows = draw(st.sampled_from([(1, 1), (2, 1), (3, 2), (5, 5), (50_000, 5_000)]))
    env = {"max_batch_rows": rows, "slice_rows": slice_rows,
           "read_chunk_bytes": draw(st.sampled_from([7, 64, 1 << 20])),
           "batch_bytes": draw(st.sampled_from([48, 4 << 20])), "read_ahead": draw(st.booleans())}
    return text, columns, options, env


# -- the test -------------------------------------------------------------------------------------------
@settings(max_examples=150, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(files())
def test_every_stored_value_and_every_reject_equal_the_plain_reference(case):
    text, columns, options, env = case
    expected_rows, expected_rejects = reference(text, columns, options)
    workdir = Path(tempfile.mkdtemp(prefix="differential-"))
    try:
        source = workdir / "data.csv"
        source.write_bytes(text.encode("utf-8"))
        job_options = {"encoding": "utf-8", "quotechar": '"', "has_header": True, "table": "t",
                       **options, "columns": [c.spec(i) for i, c in enumerate(columns)]}
        outcome = run_import(workdir / "job", source, job_options, **env)
        if not any(record for record in records(text, options)[1:]):
            assert outcome.error is not None and outcome.error.error_type == "HeaderOnlyError"
            return
        assert outcome.error is None, outcome.error
        with sqlite3.connect(outcome.db) as conn:
            stored = conn.execute("SELECT * FROM t ORDER BY rowid").fetchall()
        rejects = [(row, json.loads(raw), [same_words(r) for r in json.loads(why)])
                   for row, raw, why in outcome.rejects()]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    assert rejects == [(row, raw, reasons) for row, raw, reasons in expected_rejects]
    assert stored == expected_rows
    assert [[type(v) for v in row] for row in stored] == [[type(v) for v in row] for row in expected_rows]
