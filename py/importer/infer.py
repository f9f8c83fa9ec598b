"""Type inference: which type each column should be imported as, decided over a sample of rows.

Role: `sniff.py` feeds the sample's rows to a `TypeTracker`; the resulting `ColumnGuess`es become the
default column specs in `options.py`. Like sqlite-utils' TypeTracker, each column starts with every type
as a candidate and loses those that a value does not fit; empty cells and null markers abstain. Every guess
carries its evidence so the UI can show why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from importer.formats import (
    BOOLEANS,
    COMMA_REAL_RE,
    DATE_FORMATS,
    DATETIME_FORMATS,
    EMAIL_RE,
    INTEGER_RE,
    MAX_INFERRED_INTEGER_DIGITS,
    MAX_REAL_DIGITS,
    REAL_RE,
    ColumnType,
    DateFormat,
    day_month_twin,
    significant_digits,
)

_NUMERIC = (ColumnType.INTEGER, ColumnType.REAL)


@dataclass(frozen=True)
class ColumnGuess:
    """What inference decided for one column.

    `date_format` is set for date and datetime columns; `ambiguous` is True when the sample cannot tell
    day-first from month-first, in which case `alternatives` lists the other reading for the user to pick.
    """

    type: ColumnType
    evidence: str
    date_format: str | None = None
    ambiguous: bool = False
    alternatives: tuple[str, ...] = ()
    non_empty: int = 0
    email: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict of this guess."""
        return {
            "type": self.type.value,
            "evidence": self.evidence,
            "date_format": self.date_format,
            "ambiguous": self.ambiguous,
            "alternatives": list(self.alternatives),
            "non_empty": self.non_empty,
            "email": self.email,
        }


@dataclass
class _Column:
    """Mutable per-column state while rows pass."""

    types: set[ColumnType] = field(default_factory=lambda: set(ColumnType) - {ColumnType.TEXT})
    dates: list[DateFormat] = field(default_factory=lambda: list(DATE_FORMATS))
    datetimes: list[DateFormat] = field(default_factory=lambda: list(DATETIME_FORMATS))
    non_empty: int = 0
    emails: int = 0
    fits: dict[ColumnType, int] = field(default_factory=lambda: dict.fromkeys(_NUMERIC, 0))
    ruled_out: str = ""
    number_note: str = ""
    settled: str = ""


class TypeTracker:
    """Narrow candidate types per column as rows are added; `guesses()` gives the result.

    `null_markers` are values that count as empty; `decimal_comma` reads "1.234,56" as a real.
    """

    def __init__(self, *, null_markers: Iterable[str] = (), decimal_comma: bool = False) -> None:
        self._nulls = frozenset(null_markers) | {""}
        self._real = COMMA_REAL_RE if decimal_comma else REAL_RE
        self._columns: list[_Column] = []

    def add(self, row: Sequence[str | None], row_number: int) -> None:
        """Let the values of one row rule out the types they do not fit."""
        while len(self._columns) < len(row):
            self._columns.append(_Column())
        for column, value in zip(self._columns, row, strict=False):
            if value is None or value in self._nulls:
                continue
            column.non_empty += 1
            self._narrow(column, value, row_number)

    def guesses(self, count: int | None = None) -> list[ColumnGuess]:
        """Return one guess per column (at least `count` columns; unseen ones are text)."""
        columns = self._columns + [_Column() for _ in range(max(0, (count or 0) - len(self._columns)))]
        return [_guess(column) for column in columns]

    def _narrow(self, column: _Column, value: str, row: int) -> None:
        shown = f"'{value[:40]}' (row {row})"
        if "@" in value and EMAIL_RE.fullmatch(value):
            column.emails += 1
        for kind in _NUMERIC:
            if self._fits_number(kind, value):
                column.fits[kind] += 1
            elif kind in column.types:
                column.types.discard(kind)
                if not column.number_note:
                    column.number_note = _number_note(value, shown)
        if ColumnType.BOOLEAN in column.types and value.lower() not in BOOLEANS:
            column.types.discard(ColumnType.BOOLEAN)
        for kind, formats in ((ColumnType.DATE, column.dates), (ColumnType.DATETIME, column.datetimes)):
            if kind not in column.types:
                continue
            kept = [fmt for fmt in formats if fmt.to_iso(value) is not None]
            if len(kept) < len(formats) and kept and not column.settled:
                dropped = [f for f in formats if f not in kept and day_month_twin(f) in kept]
                if dropped:
                    column.settled = f"{shown} settles it"
            formats[:] = kept
            if not kept:
                column.types.discard(kind)
        if not column.types and not column.ruled_out:
            column.ruled_out = shown

    def _fits_number(self, kind: ColumnType, value: str) -> bool:
        if kind is ColumnType.INTEGER:
            return INTEGER_RE.fullmatch(value) is not None and len(value.lstrip("-")) <= MAX_INFERRED_INTEGER_DIGITS
        return self._real.fullmatch(value) is not None and significant_digits(value) <= MAX_REAL_DIGITS


def _number_note(value: str, shown: str) -> str:
    digits = value.lstrip("-")
    if digits.isdigit() and len(digits) > 1 and digits.startswith("0"):
        return f"{shown} has a leading zero, so the column stays text to keep it"
    if digits.isdigit() and len(digits) > MAX_INFERRED_INTEGER_DIGITS:
        return f"{shown} has more than {MAX_INFERRED_INTEGER_DIGITS} digits, so it stays text to keep them all"
    return ""


def _guess(column: _Column) -> ColumnGuess:
    n = column.non_empty
    if n == 0:
        return ColumnGuess(ColumnType.TEXT, "text: no values in the sample", non_empty=0)
    for kind, what in ((ColumnType.INTEGER, "whole numbers"), (ColumnType.REAL, "numbers")):
        if kind in column.types:
            return ColumnGuess(kind, f"{kind.value}: {n} of {n} sample values are {what}", non_empty=n)
    if ColumnType.BOOLEAN in column.types:
        return ColumnGuess(ColumnType.BOOLEAN, f"boolean: {n} of {n} values are yes/no words", non_empty=n)
    for kind, formats in ((ColumnType.DATE, column.dates), (ColumnType.DATETIME, column.datetimes)):
        if kind in column.types and formats:
            return _date_guess(kind, formats, column)
    if column.emails == n:
        return ColumnGuess(ColumnType.TEXT, f"text, email rule: {n} of {n} sample values are email addresses",
                           non_empty=n, email=True)
    evidence = column.number_note or f"{column.ruled_out} is not a number, boolean or date"
    return ColumnGuess(ColumnType.TEXT, f"text: {evidence}{_mostly_numbers(column)}", non_empty=n)


def _mostly_numbers(column: _Column) -> str:
    """A hint when nearly every sample value is a number: the user may want the rest as rejects."""
    n = column.non_empty
    for kind, what in ((ColumnType.INTEGER, "whole numbers"), (ColumnType.REAL, "numbers")):
        fits = column.fits[kind]
        if not column.number_note and fits >= 0.9 * n:
            return f" ({fits} of {n} are {what}: choose {kind.value} to import those and reject the rest)"
    if column.emails >= 0.9 * n:
        return f" ({column.emails} of {n} are email addresses: add the email rule to reject the rest)"
    return ""


def _date_guess(kind: ColumnType, formats: list[DateFormat], column: _Column) -> ColumnGuess:
    chosen = formats[0]
    twin = day_month_twin(chosen)
    n = column.non_empty
    if twin is not None and twin in formats:
        return ColumnGuess(
            kind,
            f"{kind.value}: {n} values fit both {chosen.name} and {twin.name}; no value settles "
            "day-first or month-first: choose one",
            date_format=chosen.name,
            ambiguous=True,
            alternatives=(twin.name,),
            non_empty=n,
        )
    settled = f"; {column.settled}" if column.settled else ""
    return ColumnGuess(
        kind,
        f"{kind.value}: {n} of {n} values are {chosen.name}{settled}",
        date_format=chosen.name,
        non_empty=n,
    )
