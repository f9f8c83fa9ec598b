"""Conversion: one column of a batch, from CSV text to the values stored, with a reason for each misfit.

Role: `validate.py` transposes a batch into columns and calls `converter(spec, ...)` per column. A
converter returns the converted values (None where NULL or rejected) and `{index: reason}` for values
that do not fit. Converters work column-wise with C-level `map`s and fall back to per-value checks only
for the few values a cheap whole-column test flags, which is what keeps the import near native speed.
Only the spellings `formats.py` defines convert (the same ones inference accepts): nothing is silently
changed. The fast paths only ever decide which values get the per-value check; a value with a newline,
a null marker or anything unusual ends up in the plain per-value path, never in a different row.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from datetime import date
from itertools import compress, repeat
from typing import Any

from importer.formats import (
    BOOLEANS,
    MAX_REAL_DIGITS,
    ColumnType,
    DateFormat,
    comma_to_point,
    integer_problem,
    real_problem,
)
from importer.options import ColumnSpec
from importer.reader import NOT_NULL_QUOTING

Values = Sequence[str | None]
Converted = tuple[list[Any], dict[int, str]]
Converter = Callable[[Values], Converted]

_LEADING_ZERO = re.compile(r"\n0[0-9]")
_LONG_REAL = re.compile(rf"\n[^\n]{{{MAX_REAL_DIGITS + 1}}}")
"""A line (a value, its minus dropped) longer than `MAX_REAL_DIGITS`: it may have too many digits."""
_LONG_INTEGER = re.compile(r"\n[0-9]{19}")
"""A line (a value, its minus dropped) of as many digits as INT64_MAX has, or more: it may be out of range (the
per-value check says). Anchored on the line start: a bare `[0-9]{19}` tries a match at every digit, five
times slower in Pyodide (and `max` over the int()s, without their None, took as long as this search there)."""
_TRAILING_COMMA = re.compile(r",(?=\n|$)")
_NOT_NEWLINE = re.compile(r"[^\n]")
_DIGITS = "0123456789"
_PLAIN_INTEGER, _PLAIN_POINT_REAL, _PLAIN_COMMA_REAL = (
    str.maketrans("", "", chars) for chars in (_DIGITS, _DIGITS + ".", _DIGITS + ",")
)
"""Translation tables that drop the characters a plain value of the type is made of: what is left of a column's
text besides its newlines are the characters that make values suspects. One `translate` and a search of what
is left cost a third of a regex search for the odd characters over the whole text."""
_WHAT = {
    ColumnType.INTEGER: "an integer",
    ColumnType.REAL: "a number",
    ColumnType.BOOLEAN: "a boolean (true/false, yes/no)",
}


def shown(value: str | None, limit: int = 60) -> str:
    """Return `value` as it appears in a reason: quoted, cut to `limit` characters, unprintables escaped.

    Letters of any script stay as they are ('Zoë'); controls, newlines and invisible format characters
    (such as bidi overrides) are written as escapes ('a\\nb'), so a reason shows what the cell holds.
    """
    text = "" if value is None else value
    cut = text[:limit]
    if not cut.isprintable():
        cut = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in cut)
    return "'" + cut + ("…" if len(text) > limit else "") + "'"


def converter(spec: ColumnSpec, *, null_markers: Sequence[str] = (), decimal_comma: bool = False) -> Converter:
    """Return the function that converts a column of text values as `spec` says.

    A value in `null_markers` is NULL whatever the column's type and whatever it would parse as
    (`-999` in an integer column, `NaN` in a real one, `1900-01-01` in a date one).
    """
    convert = _typed(spec, decimal_comma)
    markers = frozenset(null_markers)
    if not markers:
        return convert
    return lambda values: convert(_without_markers(values, markers))


def _typed(spec: ColumnSpec, decimal_comma: bool) -> Converter:
    name = spec.name
    if spec.type is ColumnType.INTEGER:
        return lambda values: _integers(values, name)
    if spec.type is ColumnType.REAL:
        return lambda values: _reals(values, name, decimal_comma)
    if spec.type is ColumnType.BOOLEAN:
        return lambda values: _booleans(values, name)
    if spec.type in (ColumnType.DATE, ColumnType.DATETIME):
        fmt = DateFormat.parse_name(spec.date_format or "YYYY-MM-DD")
        return lambda values: _dates(values, name, fmt)
    return _texts


def _without_markers(values: Values, markers: frozenset[str]) -> Values:
    """Return `values` with each null marker replaced by None (the same list when there is none)."""
    if markers.isdisjoint(values):
        return values
    return [None if v in markers else v for v in values]


def _reason(value: str | None, what: str, name: str) -> str:
    return f"{shown(value)} is not {what} in column '{name}'"


def _texts(values: Values) -> Converted:
    if NOT_NULL_QUOTING is None and "" in values:  # Python < 3.12: an empty field is '' (NULL)
        return [v or None for v in values], {}
    return list(values), {}


def _map_with_nulls(fn: Callable[[Any], Any], source: Sequence[Any], values: Values) -> tuple[list[Any], list[int]]:
    """Map `fn` over `source` at C speed; where it fails, None. Returns (out, failed indices of non-empty values).

    `values` are the column's values as read (`source` may be them rewritten): empty ones are NULL, not failures.
    """
    out: list[Any] = []
    failed: list[int] = []
    it = iter(source)
    while True:
        try:
            out.extend(map(fn, it))
            return out, failed
        except (ValueError, TypeError, OverflowError):
            index = len(out)
            out.append(None)
            if values[index]:
                failed.append(index)


def _integers(values: Values, name: str) -> Converted:
    out, failed = _map_with_nulls(int, values, values)
    # int() also takes "007", "+5", "1_000", "٤٢" and refuses nothing it should keep: whatever is not exactly
    # str(int) (padded, "-0", over 4,300 digits, not a number) gets the per-value check of formats.py.
    odd = _integer_suspects(values)
    bad: dict[int, str] = {}
    for i in sorted({i for i in odd if out[i] is not None} | set(failed)):
        value = values[i] or ""
        problem = integer_problem(value)
        out[i] = int(value) if problem is None else None
        if problem == "range":
            bad[i] = f"{shown(value)} is too large for an integer in column '{name}'"
        elif problem is not None:
            bad[i] = _reason(value, "an integer", name)
    return out, bad


def _reals(values: Values, name: str, decimal_comma: bool) -> Converted:
    suspects = _real_suspects(values, decimal_comma)
    bad: dict[int, str] = {}
    for i in suspects:
        value = values[i] or ""
        problem = real_problem(value, decimal_comma=decimal_comma) if value else None
        if problem == "spelling":
            bad[i] = _reason(value, "a number", name)
        elif problem == "digits":
            bad[i] = (
                f"{shown(value)} has more than {MAX_REAL_DIGITS} significant digits in column '{name}' "
                "(import the column as text to keep them all)"
            )
        elif problem == "range":
            bad[i] = (
                f"{shown(value)} is beyond the range of a number column in column '{name}' "
                "(import the column as text to keep it)"
            )
    source = [comma_to_point(v or "") for v in values] if decimal_comma else values
    out, failed = _map_with_nulls(float, source, values)
    for i in failed:
        bad.setdefault(i, _reason(values[i], "a number", name))
    for i in bad:
        out[i] = None
    return out, bad


def _integer_suspects(values: Values) -> Sequence[int]:
    """Indices of values that may not be exactly how their int() prints or may not fit SQLite's INTEGER (a
    superset: every other value is `-?(0|[1-9][0-9]{0,17})` in ASCII digits, not "-0", so str(int(value)) ==
    value and it is within INT64_MAX). Empty and None values are never suspects (they are NULL, not integers)."""
    joined = _joined(values)
    if joined is None:
        return range(len(values))
    found = _odd_values(joined, _PLAIN_INTEGER, starts=(_LEADING_ZERO, _LONG_INTEGER))
    if "\n-0\n" in joined or joined.endswith("\n-0"):
        found.update(compress(range(len(values)), map(operator.eq, values, repeat("-0"))))
    return sorted(found)


def _real_suspects(values: Values, decimal_comma: bool) -> Sequence[int]:
    """Indices of values that float() alone cannot be trusted with (the rest are plain reals).

    Plain: after one optional leading minus, only digits and the decimal mark (a point, or a comma not at
    the end), no leading "0" before a digit, at most `MAX_REAL_DIGITS` characters after the minus (so at most
    that many significant digits, and no overflow). float() rejects what else is wrong with those ("1.2.3"); thousands
    points, exponents and padding make a value a suspect.
    """
    joined = _joined(values)
    if joined is None:
        return range(len(values))
    plain = _PLAIN_COMMA_REAL if decimal_comma else _PLAIN_POINT_REAL
    found = _odd_values(joined, plain, starts=(_LEADING_ZERO, _LONG_REAL))
    if decimal_comma:
        found.update(_matching_lines(joined, _TRAILING_COMMA, first=-1))
    return sorted(found)


def _joined(values: Values) -> str | None:
    """The values joined by newlines after a newline ("\\na\\nb"; None and empty values as empty lines), or None
    when a value holds a newline itself (the lines would not be the values)."""
    try:
        joined = "\n" + "\n".join(values)  # type: ignore[arg-type]
    except TypeError:  # a None (an empty field): one pass to replace them, only then
        joined = "\n" + "\n".join([v or "" for v in values])
    return joined if joined.count("\n") == len(values) else None


def _odd_values(joined: str, plain: dict[int, int | None], *, starts: Sequence[re.Pattern[str]]) -> set[int]:
    """Indices of the values of `joined` (see `_joined`) where, after one leading minus, a character `plain`
    does not drop is left, or one of `starts` (patterns that begin with the newline before a value, such as
    `_LEADING_ZERO`) matches at the value's start."""
    unsigned = joined.replace("\n-", "\n")
    rest = unsigned.translate(plain)  # the newlines, and the characters no plain value has
    found = {i - 1 for i in _matching_lines(rest, _NOT_NEWLINE)} if len(rest) > rest.count("\n") else set()
    found.update(i - 1 for pattern in starts for i in _matching_lines(unsigned, pattern, shift=1))
    return found


def _booleans(values: Values, name: str) -> Converted:
    out: list[Any] = []
    bad: dict[int, str] = {}
    for i, value in enumerate(values):
        if not value:
            out.append(None)
            continue
        flag = BOOLEANS.get(value.lower())
        if flag is None:
            bad[i] = _reason(value, _WHAT[ColumnType.BOOLEAN], name)
        out.append(flag)
    return out, bad


def _dates(values: Values, name: str, fmt: DateFormat) -> Converted:
    what = f"a {'datetime' if fmt.with_time else 'date'} ({fmt.name})"
    if fmt.name == "YYYY-MM-DD":
        parsed, failed = _map_with_nulls(date.fromisoformat, values, values)
        out: list[Any] = list(values)
        bad = {i: _reason(values[i], what, name) for i in failed}
        # fromisoformat also takes "20240221" and "2024-W08-3": only a value that is str(date) is kept.
        for i in compress(range(len(values)), map(operator.ne, map(str, parsed), values)):
            out[i] = None
            if parsed[i] is not None:
                bad[i] = _reason(values[i], what, name)
        return out, bad
    out = []
    bad = {}
    for i, value in enumerate(values):
        iso = fmt.to_iso(value) if value else None
        if iso is None and value:
            bad[i] = _reason(value, what, name)
        out.append(iso)
    return out, bad


def _matching_lines(joined: str, pattern: re.Pattern[str], *, shift: int = 0, first: int = 0) -> list[int]:
    """Return the indices of the lines of `joined` where `pattern` matches (at match start + `shift`), the first
    line numbered `first`."""
    lines: list[int] = []
    position, line = 0, first
    for match in pattern.finditer(joined):
        start = match.start() + shift
        line += joined.count("\n", position, start)
        position = start
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines
