"""Value formats: what counts as an integer, a real, a boolean, a date or a datetime in a CSV cell.

Role: the single definition of each column type's accepted spelling, shared by inference (`infer.py`,
which asks "does this value fit?") and conversion (`convert.py`, which turns text into the stored value).
Only canonical spellings are accepted, so converting never changes what the user sees: `007`, `+5`,
` 12` are not integers, and a real with more than 15 significant digits is not a real.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

EMAIL_RE = re.compile(r"[^@\s]+@(?:[^@\s.]+\.)+[^@\s.]{2,}")
"""A plausible email address (the `email` rule, and what inference suggests it for)."""


class ColumnType(StrEnum):
    """The types a column can be imported as; each maps to one SQLite storage class."""

    INTEGER = "integer"
    REAL = "real"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    TEXT = "text"


SQL_TYPES: dict[ColumnType, str] = {
    ColumnType.INTEGER: "INTEGER",
    ColumnType.REAL: "REAL",
    ColumnType.BOOLEAN: "INTEGER",
    ColumnType.DATE: "TEXT",
    ColumnType.DATETIME: "TEXT",
    ColumnType.TEXT: "TEXT",
}

MAX_INFERRED_INTEGER_DIGITS = 15
MAX_INTEGER_DIGITS = 18
MAX_REAL_DIGITS = 15

INTEGER_RE = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")
REAL_RE = re.compile(r"-?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?")
COMMA_REAL_RE = re.compile(r"-?(?:[1-9][0-9]{0,2}(?:\.[0-9]{3})+|0|[1-9][0-9]*)(?:,[0-9]+)?")
TRUE_WORDS = frozenset({"true", "t", "yes", "y"})
FALSE_WORDS = frozenset({"false", "f", "no", "n"})
BOOLEANS: dict[str, int] = {**dict.fromkeys(TRUE_WORDS, 1), **dict.fromkeys(FALSE_WORDS, 0)}


def significant_digits(number: str) -> int:
    """Return how many significant digits the mantissa of a numeric string has (outer zeros do not count)."""
    mantissa = number.lstrip("-").split("e")[0].split("E")[0].replace(".", "").replace(",", "")
    return len(mantissa.strip("0")) or 1


def comma_to_point(number: str) -> str:
    """Return a decimal-comma number ("1.234,56") in point notation ("1234.56")."""
    return number.replace(".", "").replace(",", ".")


@dataclass(frozen=True)
class DateFormat:
    """One way of writing dates: field `order` ("ymd", "dmy", "mdy") and separator `sep`.

    `name` is what the user sees ("DD/MM/YYYY"); `with_time` formats accept a time after the date
    (" HH:MM", optional seconds, fraction and, for ISO dates, a zone).
    """

    order: str
    sep: str
    with_time: bool = False

    @property
    def name(self) -> str:
        parts = {"y": "YYYY", "m": "MM", "d": "DD"}
        text = self.sep.join(parts[c] for c in self.order)
        return f"{text} HH:MM:SS" if self.with_time else text

    @property
    def regex(self) -> re.Pattern[str]:
        return _compiled(self.order, self.sep, self.with_time)

    def to_iso(self, value: str) -> str | None:
        """Return `value` as ISO text ("2024-02-21" or "2024-02-21 13:05:00"), or None if it does not fit."""
        match = self.regex.fullmatch(value)
        if match is None:
            return None
        g = match.groupdict()
        try:
            day = date(int(g["y"]), int(g["m"]), int(g["d"]))
        except ValueError:
            return None
        if not self.with_time:
            return day.isoformat()
        hour, minute, second = int(g["H"]), int(g["M"]), int(g["S"] or 0)
        if hour > 23 or minute > 59 or second > 59:
            return None
        text = f"{day.isoformat()} {hour:02d}:{minute:02d}:{second:02d}"
        if g["f"]:
            text += "." + g["f"]
        if g.get("z"):
            text += g["z"]
        return text

    @classmethod
    def parse_name(cls, name: str) -> DateFormat:
        """Return the format whose `name` is `name`; raise KeyError if there is none."""
        for fmt in DATE_FORMATS + DATETIME_FORMATS:
            if fmt.name == name:
                return fmt
        raise KeyError(name)


_REGEX_CACHE: dict[tuple[str, str, bool], re.Pattern[str]] = {}


def _compiled(order: str, sep: str, with_time: bool) -> re.Pattern[str]:
    key = (order, sep, with_time)
    if key not in _REGEX_CACHE:
        groups = {"y": r"(?P<y>[0-9]{4})", "m": r"(?P<m>[0-9]{1,2})", "d": r"(?P<d>[0-9]{1,2})"}
        if order == "ymd":
            groups = {"y": r"(?P<y>[0-9]{4})", "m": r"(?P<m>[0-9]{2})", "d": r"(?P<d>[0-9]{2})"}
        pattern = re.escape(sep).join(groups[c] for c in order)
        if with_time:
            zone = r"(?P<z>Z|[+-][0-9]{2}:?[0-9]{2})?" if order == "ymd" and sep == "-" else ""
            pattern += r"[ T](?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:\.(?P<f>[0-9]{1,6}))?)?" + zone
        _REGEX_CACHE[key] = re.compile(pattern)
    return _REGEX_CACHE[key]


DATE_FORMATS: tuple[DateFormat, ...] = (
    DateFormat("ymd", "-"),
    DateFormat("ymd", "/"),
    DateFormat("dmy", "/"),
    DateFormat("mdy", "/"),
    DateFormat("dmy", "."),
    DateFormat("dmy", "-"),
    DateFormat("mdy", "-"),
)
DATETIME_FORMATS: tuple[DateFormat, ...] = tuple(DateFormat(f.order, f.sep, with_time=True) for f in DATE_FORMATS)


def day_month_twin(fmt: DateFormat) -> DateFormat | None:
    """Return the format that swaps day and month in `fmt` (DD/MM <-> MM/DD), or None."""
    swap = {"dmy": "mdy", "mdy": "dmy"}.get(fmt.order)
    return DateFormat(swap, fmt.sep, fmt.with_time) if swap else None
