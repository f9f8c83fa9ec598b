"""Conversion: one column of a batch, from CSV text to the values stored, with a reason for each misfit.

Role: `validate.py` transposes a batch into columns and calls `converter(spec, ...)` per column. A
converter returns the converted values (None where NULL or rejected) and `{index: reason}` for values
that do not fit. Converters work column-wise with C-level `map`s and fall back to per-value checks only
for the few values a cheap whole-column test flags, which is what keeps the import near native speed.
Only canonical spellings convert (see `formats.py`): nothing is silently changed.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from datetime import date
from itertools import compress
from typing import Any

from importer.formats import (
    BOOLEANS,
    COMMA_REAL_RE,
    MAX_REAL_DIGITS,
    REAL_RE,
    ColumnType,
    DateFormat,
    comma_to_point,
    significant_digits,
)
from importer.options import ColumnSpec
from importer.reader import NOT_NULL_QUOTING

Values = Sequence[str | None]
Converted = tuple[list[Any], dict[int, str]]
Converter = Callable[[Values], Converted]

INT64_MAX = 2**63 - 1
_NOT_DIGITS = re.compile(r"[^0-9.\n]")
_LEADING_ZERO = re.compile(r"\n0[0-9]")
_WHAT = {
    ColumnType.INTEGER: "an integer",
    ColumnType.REAL: "a number",
    ColumnType.BOOLEAN: "a boolean (true/false, yes/no)",
}


def shown(value: str | None, limit: int = 60) -> str:
    """Return `value` as it appears in a reason: quoted, cut to `limit` characters, controls escaped."""
    text = "" if value is None else value
    cut = text[:limit] + ("…" if len(text) > limit else "")
    return "'" + cut.encode("unicode_escape").decode("ascii").replace("\\\\", "\\") + "'"


def converter(spec: ColumnSpec, *, null_markers: Sequence[str] = (), decimal_comma: bool = False) -> Converter:
    """Return the function that converts a column of text values as `spec` says."""
    markers = frozenset(null_markers)
    name = spec.name
    if spec.type is ColumnType.INTEGER:
        return lambda values: _integers(values, name, markers)
    if spec.type is ColumnType.REAL:
        return lambda values: _reals(values, name, markers, decimal_comma)
    if spec.type is ColumnType.BOOLEAN:
        return lambda values: _booleans(values, name, markers)
    if spec.type in (ColumnType.DATE, ColumnType.DATETIME):
        fmt = DateFormat.parse_name(spec.date_format or "YYYY-MM-DD")
        return lambda values: _dates(values, name, markers, fmt)
    return lambda values: _texts(values, markers)


def _is_null(value: str | None, markers: frozenset[str]) -> bool:
    return not value or value in markers


def _reason(value: str | None, what: str, name: str) -> str:
    return f"{shown(value)} is not {what} in column '{name}'"


def _texts(values: Values, markers: frozenset[str]) -> Converted:
    if markers:
        out: list[Any] = [None if v in markers else v for v in values]
    elif NOT_NULL_QUOTING is None:
        out = [v or None for v in values]
    else:
        out = list(values)
    if NOT_NULL_QUOTING is None and markers:
        out = [v or None for v in out]
    return out, {}


def _map_with_nulls(fn: Callable[[Any], Any], values: Values, markers: frozenset[str]) -> tuple[list[Any], list[int]]:
    """Map `fn` over `values` at C speed; values it rejects become None. Returns (out, failed non-nulls)."""
    out: list[Any] = []
    failed: list[int] = []
    it = iter(values)
    while True:
        try:
            out.extend(map(fn, it))
            return out, failed
        except (ValueError, TypeError, OverflowError):
            index = len(out)
            out.append(None)
            if not _is_null(values[index], markers):
                failed.append(index)


def _integers(values: Values, name: str, markers: frozenset[str]) -> Converted:
    out, failed = _map_with_nulls(int, values, markers)
    bad = {i: _reason(values[i], "an integer", name) for i in failed}
    # int() also takes "007", "+5", " 5", "1_000": anything whose text is not str(int) is not canonical.
    for i in compress(range(len(out)), map(operator.ne, map(str, out), values)):
        if out[i] is not None:
            out[i] = None
            bad[i] = _reason(values[i], "an integer", name)
    present = out if not bad and None not in out else [x for x in out if x is not None]
    if present and (max(present) > INT64_MAX or min(present) < -INT64_MAX):
        for i, x in enumerate(out):
            if x is not None and abs(x) > INT64_MAX:
                out[i] = None
                bad[i] = f"{shown(values[i])} is too large for an integer in column '{name}'"
    return out, bad


def _reals(values: Values, name: str, markers: frozenset[str], decimal_comma: bool) -> Converted:
    text: Sequence[str] = [v or "" for v in values] if None in values else values  # type: ignore[assignment]
    joined = "\n".join(text)
    if decimal_comma or joined.count("\n") != len(values) - 1 or max(map(len, text), default=0) > 16:
        suspects: Sequence[int] = range(len(values))
    else:
        suspects = _real_suspects(joined)
    bad: dict[int, str] = {}
    pattern = COMMA_REAL_RE if decimal_comma else REAL_RE
    for i in suspects:
        value = text[i]
        if _is_null(value, markers):
            continue
        if not pattern.fullmatch(value):
            bad[i] = _reason(value, "a number", name)
        elif significant_digits(value) > MAX_REAL_DIGITS:
            bad[i] = (
                f"{shown(value)} has more than {MAX_REAL_DIGITS} significant digits in column '{name}' "
                "(import the column as text to keep them all)"
            )
    source = comma_to_point(joined).split("\n") if decimal_comma else text
    out, failed = _map_with_nulls(float, source, markers)
    for i in failed:
        bad.setdefault(i, _reason(values[i], "a number", name))
    for i in suspects:
        x = out[i]
        if x is not None and not math.isfinite(x) and i not in bad:
            bad[i] = _reason(values[i], "a finite number", name)
    for i in bad:
        out[i] = None
    return out, bad


def _real_suspects(joined: str) -> list[int]:
    """Lines that might not be canonical reals: anything but digits and one leading minus, or a leading 0."""
    unsigned = ("\n" + joined).replace("\n-", "\n")
    if _NOT_DIGITS.search(unsigned) is None and _LEADING_ZERO.search(unsigned) is None:
        return []
    found = set(_matching_lines(unsigned, _NOT_DIGITS)) | set(_matching_lines(unsigned, _LEADING_ZERO, shift=1))
    return sorted(i - 1 for i in found)


def _booleans(values: Values, name: str, markers: frozenset[str]) -> Converted:
    out: list[Any] = []
    bad: dict[int, str] = {}
    for i, value in enumerate(values):
        if _is_null(value, markers):
            out.append(None)
            continue
        flag = BOOLEANS.get((value or "").lower())
        if flag is None:
            bad[i] = _reason(value, _WHAT[ColumnType.BOOLEAN], name)
        out.append(flag)
    return out, bad


def _dates(values: Values, name: str, markers: frozenset[str], fmt: DateFormat) -> Converted:
    what = f"a {'datetime' if fmt.with_time else 'date'} ({fmt.name})"
    if fmt.name == "YYYY-MM-DD":
        parsed, failed = _map_with_nulls(date.fromisoformat, values, markers)
        out: list[Any] = list(values)
        bad = {i: _reason(values[i], what, name) for i in failed}
        for i in compress(range(len(values)), map(operator.ne, map(str, parsed), values)):
            out[i] = None
            if parsed[i] is not None:
                bad[i] = _reason(values[i], what, name)
        return out, bad
    out = []
    bad = {}
    for i, value in enumerate(values):
        iso = None if _is_null(value, markers) else fmt.to_iso(value or "")
        if iso is None and not _is_null(value, markers):
            bad[i] = _reason(value, what, name)
        out.append(iso)
    return out, bad


def _matching_lines(joined: str, pattern: re.Pattern[str], *, shift: int = 0) -> list[int]:
    """Return the indices of the lines of `joined` where `pattern` matches (at match start + `shift`)."""
    lines: list[int] = []
    position = line = 0
    for match in pattern.finditer(joined):
        start = match.start() + shift
        line += joined.count("\n", position, start)
        position = start
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines
