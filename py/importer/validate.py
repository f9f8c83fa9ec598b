"""Validation: turn a batch of parsed records into rows to insert and rejects with every reason.

Role: the import job hands each batch from `reader.py` to `RowChecker.check()`. Records of the wrong
width, unparsable records and records with NUL bytes are rejected whole; the rest are converted column by
column (`convert.py`), then the column rules (required, min/max, regex, email, unique) add their reasons.
A row with any reason is not inserted; its reject carries its row number, raw values and all reasons,
each phrased "Row 12: 'abc' is not an integer in column 'age'".
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress
from typing import Any

from importer.convert import Converter, converter, shown
from importer.formats import ColumnType, email_misfits
from importer.options import ColumnSpec, ImportOptions
from importer.patterns import LENGTH_LIMIT, match_cap
from importer.reader import BadRecord, Batch, Record

RAW_LIMIT = 10_000
"""Raw values kept in a reject are cut to this many characters (a 10 MB field is not copied whole)."""
MATCH_LIMIT = LENGTH_LIMIT
"""No value longer than this is matched against a column's pattern (a reject says it is too long to check);
a pattern whose backtracking can take polynomial time of degree d >= 2 has a lower cap, `match_cap` in
patterns.py (patterns that could take exponential time are refused there)."""

ExistingValues = Callable[[ColumnSpec, list[Any]], set[Any]]
"""Given a unique column and candidate values, return those already in the table."""


@dataclass(frozen=True, slots=True)
class Reject:
    """A row that was not inserted: its number in the file, its raw fields and every reason."""

    row: int
    raw: list[str | None]
    reasons: list[str]


@dataclass(slots=True)
class Checked:
    """The outcome of one batch: `rows` to insert (in table column order) and `rejects`."""

    rows: list[tuple[Any, ...]]
    rejects: list[Reject]


@dataclass(slots=True)
class CheckedColumns:
    """The outcome of one batch, column-wise: the converted `columns` (table column order) of the batch's
    well-formed records, `keep` (None: all) saying which of them are inserted, and `rejects`. `rows()` are the
    rows to insert, made lazily (what `Checked.rows` holds)."""

    columns: list[list[Any]]
    keep: list[bool] | None
    rejects: list[Reject]

    @property
    def accepted(self) -> int:
        if not self.columns:
            return 0
        return len(self.columns[0]) if self.keep is None else sum(self.keep)

    def rows(self) -> Iterator[tuple[Any, ...]]:
        rows = zip(*self.columns, strict=True)
        return rows if self.keep is None else compress(rows, self.keep)


class RowChecker:
    """Check batches against the options' kept columns; `width` is the number of fields a row must have."""

    def __init__(self, options: ImportOptions, width: int) -> None:
        self.width = width
        self.specs = options.kept_columns()
        decimal_comma = options.decimal_comma
        self._converters: list[Converter] = [
            converter(s, null_markers=sorted(s.markers(options.null_markers)), decimal_comma=bool(decimal_comma))
            for s in self.specs
        ]
        self._caps = {s.source: match_cap(s.regex) for s in self.specs if s.regex is not None}
        """source column -> (degree, cap) of its pattern."""
        self.row_steps: int = sum(cap**d for d, cap in self._caps.values())
        """The most backtracking steps the patterns of one row can cost (about)."""

    def surely_affordable(self, count: int, steps: int) -> bool:
        """Whether the patterns can check any `count` rows within `steps` steps (each row at its worst)."""
        return count * self.row_steps <= steps

    def affordable(self, records: Sequence[Record], steps: int) -> int:
        """How many leading `records` (at least one) the patterns can check within about `steps` steps, a value
        of n characters costing n**degree (nothing past its pattern's cap: it is rejected unchecked)."""
        if self.surely_affordable(len(records), steps):
            return len(records)
        spent = 0
        for count, record in enumerate(records):
            if isinstance(record, BadRecord):
                continue
            for source, (d, cap) in self._caps.items():
                value = record[source] if source < len(record) else None
                if value is not None and len(value) <= cap:
                    spent += len(value) ** d
            if spent > steps:
                return max(count, 1)
        return len(records)

    def check(
        self,
        records: Sequence[Record],
        first_row: int,
        *,
        has_nul: bool = False,
        existing: ExistingValues | None = None,
    ) -> Checked:
        """Return the rows to insert and the rejects of `records`, the first of which is row `first_row`."""
        checked = self.check_columns(records, first_row, has_nul=has_nul, existing=existing)
        return Checked(list(checked.rows()), checked.rejects)

    def check_columns(
        self,
        records: Sequence[Record],
        first_row: int,
        *,
        has_nul: bool = False,
        existing: ExistingValues | None = None,
    ) -> CheckedColumns:
        """`check()`, column-wise: no row tuples are made (the insert, or a pipe, takes the columns)."""
        columns = self._columns(records) if not has_nul else None
        if columns is not None:
            return self._check(columns, len(records), records.__getitem__, None, [], first_row, existing)  # type: ignore[arg-type]
        rows, numbers, rejects = self._shape(records, first_row, has_nul)
        if not rows:
            return CheckedColumns([], None, rejects)
        columns = list(zip(*rows))  # noqa: B905 - widths checked by _shape
        return self._check(columns, len(rows), rows.__getitem__, numbers, rejects, first_row, existing)

    def check_batch(self, batch: Batch, existing: ExistingValues | None = None) -> CheckedColumns:
        """`check_columns()` of a batch the reader read: a batch that came as columns of this width (a piece of
        the file without quotes, reader.py) is checked as it is, without making its rows."""
        columns = batch.columns
        if columns is None or len(columns) != self.width:
            return self.check_columns(batch.records, batch.first_row, has_nul=batch.has_nul, existing=existing)
        return self._check(columns, batch.count, lambda i: [c[i] for c in columns], None, [], batch.first_row,
                           existing)  # fmt: skip

    def _check(
        self,
        columns: Sequence[Sequence[str | None]],
        count: int,
        row_at: Callable[[int], Sequence[str | None]],
        numbers: list[int] | None,
        rejects: list[Reject],
        first_row: int,
        existing: ExistingValues | None,
    ) -> CheckedColumns:
        """Convert and check `columns` of `count` well-formed rows (`row_at(i)`: row i's raw fields, for its
        reject; `numbers`: their row numbers when they are not consecutive from `first_row`)."""
        outs: list[list[Any]] = []
        reasons: dict[int, list[str]] = {}
        for spec, convert in zip(self.specs, self._converters, strict=True):
            raw = columns[spec.source]
            out, bad = convert(raw)
            _merge(reasons, bad)
            _merge(reasons, _rule_reasons(spec, raw, out, bad, self._caps.get(spec.source, (1, MATCH_LIMIT))[1]))
            outs.append(out)
        unique = [(spec, columns[spec.source], out) for spec, out in zip(self.specs, outs, strict=True) if spec.unique]
        if unique:
            for index, why in _duplicates(unique, reasons, numbers, first_row, existing).items():
                reasons.setdefault(index, []).extend(why)
        if not reasons:
            return CheckedColumns(outs, None, rejects)
        keep = [True] * count
        for index in reasons:
            keep[index] = False
        for index in sorted(reasons):
            number = numbers[index] if numbers else first_row + index
            texts = [f"Row {number}: {r}" for r in reasons[index]]
            rejects.append(Reject(number, _raw(row_at(index)), texts))
        rejects.sort(key=lambda r: r.row)
        return CheckedColumns(outs, keep, rejects)

    def _columns(self, records: Sequence[Record]) -> list[tuple[str | None, ...]] | None:
        """`records` as columns when every one is a row of `width` fields (the common case), else None.

        One transposition checks the widths too (`strict`), where a pass of `len` over the records cost as
        much again in Pyodide (1M rows: 0.09 s)."""
        try:
            columns = list(zip(*records, strict=True))  # a BadRecord raises TypeError
        except (TypeError, ValueError):
            return None
        return columns if len(columns) == self.width else None

    def _shape(
        self, records: Sequence[Record], first_row: int, has_nul: bool
    ) -> tuple[Sequence[Sequence[str | None]], list[int] | None, list[Reject]]:
        """Split off records that cannot be rows; return (rows, their row numbers or None, rejects)."""
        rows: list[Sequence[str | None]] = []
        numbers: list[int] = []
        rejects: list[Reject] = []
        for number, record in enumerate(records, start=first_row):
            if isinstance(record, BadRecord):
                rejects.append(Reject(number, [], [f"Row {number}: {record.reason}"]))
            elif not record:
                continue
            elif len(record) != self.width:
                few = "few" if len(record) < self.width else "many"
                reason = f"Row {number}: has {len(record)} fields, expected {self.width} (too {few})"
                rejects.append(Reject(number, _raw(record), [reason]))
            elif has_nul and any(v and "\x00" in v for v in record):
                where = next(i for i, v in enumerate(record) if v and "\x00" in v)
                reason = f"Row {number}: contains a NUL byte in field {where + 1} (binary data in a text file?)"
                rejects.append(Reject(number, _raw(record), [reason]))
            else:
                rows.append(record)
                numbers.append(number)
        return rows, numbers, rejects


def _merge(reasons: dict[int, list[str]], found: dict[int, str]) -> None:
    for index, reason in found.items():
        reasons.setdefault(index, []).append(reason)


def _raw(record: Sequence[str | None]) -> list[str | None]:
    return [v if v is None or len(v) <= RAW_LIMIT else v[:RAW_LIMIT] + "…" for v in record]


def _rule_reasons(
    spec: ColumnSpec, raw: Sequence[str | None], out: list[Any], bad: dict[int, str], cap: int
) -> dict[int, str]:
    """Reasons from the column's rules, for values that converted (or are empty); a value longer than `cap` is
    not matched against the pattern.

    The pattern (and the email rule, which options allow on text columns only) matches the value's text as
    written in the file, whatever the column's type: ' 42' in an integer column is checked as ' 42'.
    """
    found: dict[int, str] = {}
    name = spec.name
    if spec.required:
        for i in sorted(_positions(out, None) + _positions(out, "")):
            if i not in bad:
                found[i] = f"column '{name}' is required but empty"
    checks: list[tuple[Callable[[Sequence[str]], Iterable[int]], str]] = []
    if spec.email:
        checks.append((email_misfits, "an email address"))
    if spec.regex is not None:
        checks.append((functools.partial(_pattern_misfits, re.compile(spec.regex)), f"in the form {spec.regex!r}"))
    text = [v or "" for v in raw] if checks and None in raw else raw
    if spec.regex is not None and text and max(map(len, text)) > cap:  # type: ignore[arg-type]
        text = list(text)
        for i, value in enumerate(raw):
            if value is not None and len(value) > cap:
                text[i] = ""
                if i not in bad and i not in found:
                    found[i] = (f"{shown(value)} is too long to check against the pattern {spec.regex!r} in column "
                                f"'{name}' ({len(value):,} characters; at most {cap:,} for this pattern)")  # fmt: skip
    for misfits, what in checks:
        for i in misfits(text):  # type: ignore[arg-type]
            if out[i] is not None and out[i] != "" and i not in bad and i not in found:
                found[i] = f"{shown(raw[i])} is not {what} in column '{name}'"
    if spec.min is not None or spec.max is not None:
        found.update(_range_reasons(spec, raw, out, bad, found))
    return found


def _pattern_misfits(pattern: re.Pattern[str], text: Sequence[str]) -> Iterable[int]:
    """Indices of the values of `text` that `pattern` does not match whole."""
    return compress(range(len(text)), map(operator.not_, map(pattern.fullmatch, text)))


def _positions(values: list[Any], value: object) -> list[int]:
    """Indices of `value` in `values`, found with list.index at C speed (few are expected)."""
    found: list[int] = []
    start = 0
    while True:
        try:
            start = values.index(value, start)
        except ValueError:
            return found
        found.append(start)
        start += 1


def _range_reasons(
    spec: ColumnSpec, raw: Sequence[str | None], out: list[Any], bad: dict[int, str], found: dict[int, str]
) -> dict[int, str]:
    numeric = spec.type in (ColumnType.INTEGER, ColumnType.REAL, ColumnType.BOOLEAN)
    low = _bound(spec.min, numeric)
    high = _bound(spec.max, numeric)
    result: dict[int, str] = {}
    for i, value in enumerate(out):
        if value is None or i in bad or i in found:
            continue
        subject = value if numeric else str(value)
        if low is not None and subject < low:
            result[i] = f"{shown(raw[i])} is less than the minimum {spec.min} in column '{spec.name}'"
        elif high is not None and subject > high:
            result[i] = f"{shown(raw[i])} is more than the maximum {spec.max} in column '{spec.name}'"
    return result


def _bound(value: float | str | None, numeric: bool) -> Any:
    if value is None:
        return None
    return float(value) if numeric else str(value)


def _duplicates(
    unique: Sequence[tuple[ColumnSpec, Sequence[str | None], list[Any]]],
    reasons: dict[int, list[str]],
    numbers: list[int] | None,
    first_row: int,
    existing: ExistingValues | None,
) -> dict[int, list[str]]:
    """Reasons for rows whose value in a unique column (spec, raw, converted) is taken already.

    Taken: by an earlier row of this batch that is inserted, or by a row in the table (`existing`). Rows
    are taken in file order, and a row rejected for any reason takes no value, so a later row is never
    called a repeat of a row that was not stored. NULL is never a duplicate; values compare as SQLite's
    unique index does within one column (all values of a column have the column's type).
    """
    in_table: list[set[Any]] = []
    for spec, _, out in unique:
        candidates = {v for i, v in enumerate(out) if v is not None and i not in reasons}
        in_table.append(existing(spec, list(candidates)) if existing is not None and candidates else set())
    seen: list[dict[Any, int]] = [{} for _ in unique]
    found: dict[int, list[str]] = {}
    for i in range(len(unique[0][2])):
        if i in reasons:
            continue
        why = []
        for (spec, raw, out), first_seen, taken in zip(unique, seen, in_table, strict=True):
            value = out[i]
            if value is None:
                continue
            if value in first_seen:
                j = first_seen[value]
                earlier = numbers[j] if numbers else first_row + j
                why.append(f"{shown(raw[i])} repeats row {earlier} in column '{spec.name}', which must be unique")
            elif value in taken:
                why.append(f"{shown(raw[i])} is already in column '{spec.name}', which must be unique")
        if why:
            found[i] = why
            continue
        for (_, _, out), first_seen in zip(unique, seen, strict=True):
            if out[i] is not None:
                first_seen[out[i]] = i
    return found
