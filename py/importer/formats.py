"""Value formats: what counts as an integer, a real, a boolean, a date or a datetime in a CSV cell.

Role: the single definition of each column type's accepted spelling, shared by inference (`infer.py`,
which asks "does this value fit?") and conversion (`convert.py`, which turns text into the stored value).
Only plain spellings of a number are accepted, so converting never changes what the user sees: spaces
around a number (` 42`, `42 `, as fixed-width exporters pad) and a missing leading zero (`.5`, `-.25`, `5.`,
as R and Fortran write them) are numbers; `007` (a leading zero that may carry meaning), `+5`, `1_000`
and `1,000` (with a decimal point) are not, and a real with more than 15 significant digits is not a real.
Dates and booleans are taken exactly as written (no padding).
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

EMAIL_RE = re.compile(r"[^@\s]+@(?:[^@\s.]+\.)+[^@\s.]{2,}")
"""A plausible email address (the `email` rule, and what inference suggests it for)."""
_EMAIL = r"[^@\s\x00]++@[^@\s.\x00]++(?:\.[^@\s.\x00]++)++(?<!\.[^.])"
"""`EMAIL_RE` without NUL and without backtracking: a local part, '@', two or more dot-separated labels, the
last of at least two characters (the look-behind refuses a one-character last label)."""
_ASCII_EMAIL = _EMAIL.replace("\\s", "\\t-\\r\\x1c- ")
"""`_EMAIL` for ASCII text: `\\s` spelled out as the ASCII characters it matches (tab to carriage return,
0x1c-0x1f and space), a plain character set that the regex engine checks faster than a category."""
EMAIL_RUN, ASCII_EMAIL_RUN = (re.compile(f"(?:\x00{e}\x00)*+") for e in (_EMAIL, _ASCII_EMAIL))
"""A run of whole values of a flanked NUL-joined column (see `email_misfits`) that are all email addresses."""
EMAIL_VALUE, ASCII_EMAIL_VALUE = (re.compile(f"\x00{e}(?=\x00)") for e in (_EMAIL, _ASCII_EMAIL))
"""One whole value of a flanked NUL-joined column that is an email address."""
EMAIL_MISSES = 64
"""Values that are not addresses stepped over one by one before `email_misfits` checks the rest value by value."""


def email_misfits(values: Sequence[str]) -> list[int]:
    """Indices of `values` that `EMAIL_RE.fullmatch` refuses, in order.

    The values are joined with two NULs and flanked (`\x00a\x00\x00b\x00`), and runs of addresses are
    matched at C speed (`EMAIL_RUN`), one Python step per value that is not one; a value holding a NUL, or
    more than `EMAIL_MISSES` misfits among the first values, sends the rest through `EMAIL_RE` one by one.
    """
    flanked = "\x00" + "\x00\x00".join(values) + "\x00"
    if flanked.count("\x00") != 2 * len(values):
        return _misfits(values, 0)
    run = ASCII_EMAIL_RUN if flanked.isascii() else EMAIL_RUN
    found: list[int] = []
    index, pos, end = 0, 0, len(flanked)
    while True:
        stop = run.match(flanked, pos).end()  # type: ignore[union-attr]  # a *+ run always matches
        index += flanked.count("\x00", pos, stop) >> 1
        if stop >= end:
            return found
        found.append(index)  # the value at `stop` is no address: step over it
        index += 1
        pos = flanked.find("\x00", stop + 1) + 1
        if pos >= end:
            return found
        if len(found) > EMAIL_MISSES and 4 * len(found) > index:  # mostly misfits: value by value is cheaper
            return found + _misfits(values[index:], index)


def _misfits(values: Sequence[str], first: int) -> list[int]:
    return [first + i for i, ok in enumerate(map(EMAIL_RE.fullmatch, values)) if not ok]


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
MAX_REAL_DIGITS = 15
INT64_MAX = 2**63 - 1
"""SQLite's INTEGER holds -INT64_MAX..INT64_MAX (and one more below; not accepted, to keep the rule symmetric)."""

PADDING = " "
"""What may surround a number (and is dropped when it is converted): spaces, nothing else."""
INTEGER_RE = re.compile(r" *-?(?:0|[1-9][0-9]*) *")
"""An integer: optional minus, no leading zero (`007` stays text), spaces around allowed."""
REAL_RE = re.compile(r" *-?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})? *")
"""A real with a decimal point: `1.5`, `.5`, `5.`, `-.25`, `1e-3`; spaces around allowed."""
COMMA_REAL_RE = re.compile(r" *-?(?:(?:[1-9][0-9]{0,2}(?:\.[0-9]{3})+|0|[1-9][0-9]*)(?:,[0-9]+)?|,[0-9]+) *")
"""A real with a decimal comma and optional point thousands: `1.234,56`, `0,5`, `,5`; spaces around allowed."""
TRUE_WORDS = frozenset({"true", "t", "yes", "y"})
FALSE_WORDS = frozenset({"false", "f", "no", "n"})
BOOLEANS: dict[str, int] = {**dict.fromkeys(TRUE_WORDS, 1), **dict.fromkeys(FALSE_WORDS, 0)}


def significant_digits(number: str) -> int:
    """Return how many significant digits the mantissa of a numeric string has (outer zeros do not count)."""
    mantissa = number.strip(PADDING).lstrip("-").split("e")[0].split("E")[0].replace(".", "").replace(",", "")
    return len(mantissa.strip("0")) or 1


def integer_problem(text: str) -> str | None:
    """Return why `text` is not an integer a column can store ("spelling" or "range"), or None if it is one."""
    if INTEGER_RE.fullmatch(text) is None:
        return "spelling"
    digits = text.strip(PADDING).lstrip("-")
    if len(digits) > len(str(INT64_MAX)) or int(digits) > INT64_MAX:
        return "range"
    return None


def real_problem(text: str, *, decimal_comma: bool = False) -> str | None:
    """Return why `text` is not a real a column can store, or None if it is one.

    "spelling": not a number as `REAL_RE` (or `COMMA_REAL_RE`) writes one; "digits": more than
    `MAX_REAL_DIGITS` significant digits that a float would round (16 or 17 digits written with a point or
    exponent are kept when they are exactly how the float prints at that precision, as Python, R and
    pandas write floats: `10.357019999999999`, `48.053808600000004`; a long whole number such as a card
    number never is); "range":
    beyond what a float holds (overflows to infinity, or so small it would lose digits or become 0).
    """
    if (COMMA_REAL_RE if decimal_comma else REAL_RE).fullmatch(text) is None:
        return "spelling"
    point = comma_to_point(text) if decimal_comma else text
    written_as_float = any(c in point for c in ".eE")  # a long whole number is an identifier: never rounded
    exact = written_as_float and _prints_as_itself(point.strip(PADDING))
    if significant_digits(text) > MAX_REAL_DIGITS and not exact:
        return "digits"
    number = abs(float(point))
    nonzero = any(c in "123456789" for c in text.split("e")[0].split("E")[0])
    if number == math.inf or (nonzero and number < sys.float_info.min):
        return "range"
    return None


def _prints_as_itself(number: str) -> bool:
    """Return True when the float nearest to `number`, printed with as many significant digits as `number`
    has (at most 17, enough for any float), is the same decimal value: the text is how that float prints,
    as R (`48.053808600000004`, 17 digits) and Python (`10.357019999999999`, shortest) write floats."""
    digits = significant_digits(number)
    try:
        return digits <= 17 and Decimal(format(float(number), f".{digits}g")) == Decimal(number)
    except (ValueError, ArithmeticError):
        return False


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

    @property
    def safe_pattern(self) -> str:
        """A regex (without groups) for the spellings of this format that are always valid dates: day at most
        28, month 1-12, year 0001-9999, hour at most 23, minutes and seconds at most 59. Every value it
        matches has a `to_iso`, so a column of such values needs no check value by value."""
        return _safe_pattern(self.order, self.sep, self.with_time)

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


def _safe_pattern(order: str, sep: str, with_time: bool) -> str:
    two = order == "ymd"  # ISO order writes month and day with two digits, the others with one or two
    parts = {
        "y": r"(?!0000)[0-9]{4}",
        "m": r"(?:0[1-9]|1[0-2])" if two else r"(?:1[0-2]|0?[1-9])",
        "d": r"(?:0[1-9]|1[0-9]|2[0-8])" if two else r"(?:1[0-9]|2[0-8]|0?[1-9])",
    }
    pattern = re.escape(sep).join(parts[c] for c in order)
    if with_time:
        zone = r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?" if order == "ymd" and sep == "-" else ""
        pattern += r"[ T](?:2[0-3]|[01]?[0-9]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?" + zone
    return pattern


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
