"""Type inference: which type each column should be imported as, decided over a sample or the whole file.

Role: `sniff.py` feeds the first look's rows to a `TypeTracker`, and `scan.py` feeds it every row of the
file; the resulting `ColumnGuess`es become the column specs in `options.py`. Like sqlite-utils'
TypeTracker, each column starts with every type as a candidate and loses those that a value does not fit;
empty cells and the user's null markers abstain. Null tokens (`NULL_TOKENS`: NA, NULL, NaN, ...) are
counted apart: in a column whose other values are numbers, booleans or dates they become the column's null
markers (they mean NULL there); in a text column they stay text. Rows arrive in batches and are counted
per distinct value, so a whole-file scan costs one pass of C-level counting plus one check per distinct
value. Every guess carries its evidence so the UI can show why; the tracker's state is JSON-able, so a
scan can stop and resume.
"""

from __future__ import annotations

import copy
import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from importer.formats import (
    ASCII_EMAIL_RUN,
    ASCII_EMAIL_VALUE,
    BOOLEANS,
    COMMA_REAL_RE,
    DATE_FORMATS,
    DATETIME_FORMATS,
    EMAIL_RE,
    EMAIL_RUN,
    EMAIL_VALUE,
    INTEGER_RE,
    MAX_INFERRED_INTEGER_DIGITS,
    MAX_REAL_DIGITS,
    PADDING,
    REAL_RE,
    ColumnType,
    DateFormat,
    day_month_twin,
    integer_problem,
    real_problem,
)

_NUMERIC = (ColumnType.INTEGER, ColumnType.REAL)
NULL_TOKENS = ("NA", "N/A", "n/a", "NULL", "null", "Null", "None", "none", "NaN", "nan", "#N/A", "#NA")
"""Values that mean "no value" in files written by R, pandas, Excel, SQL tools and others."""
_HINT_SHARE = 0.9
_EMAIL_MISSES = 64
"""Values that are not addresses tolerated in one column slice before counting the rest with `EMAIL_VALUE`."""
_DATE_MISSES = 64
"""Unsafe date spellings (day over 28, ...) checked one by one among safe ones; past this many, and more than one
value in four, the rest of the slice goes value by value (`TypeTracker._rest_dates`)."""
_NUMBERISH = re.compile(r" *-?[0-9.,]")
"""How every integer and real (`INTEGER_RE`, `REAL_RE`, `COMMA_REAL_RE`) starts: a value it does not match
is no number."""


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
    null_markers: tuple[str, ...] = ()
    null_counts: tuple[tuple[str, int], ...] = ()
    whole_file: bool = False

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
            "null_markers": list(self.null_markers),
            "null_counts": dict(self.null_counts),
            "whole_file": self.whole_file,
        }


@dataclass
class _Column:
    """Mutable per-column state while rows pass (JSON-able through `to_state`/`from_state`).

    `hints` stays True while every value so far was counted in `fits`/`emails`; a column settled as text
    stops checking values once no hint ("19 of 20 are whole numbers") can hold any more.
    """

    types: set[ColumnType] = field(default_factory=lambda: set(ColumnType) - {ColumnType.TEXT})
    dates: list[DateFormat] = field(default_factory=lambda: list(DATE_FORMATS))
    datetimes: list[DateFormat] = field(default_factory=lambda: list(DATETIME_FORMATS))
    non_empty: int = 0
    emails: int = 0
    fits: dict[ColumnType, int] = field(default_factory=lambda: dict.fromkeys(_NUMERIC, 0))
    tokens: dict[str, int] = field(default_factory=dict)
    hints: bool = True
    ruled_out: str = ""
    number_note: str = ""
    settled: str = ""

    def to_state(self) -> dict[str, Any]:
        return {
            "types": sorted(t.value for t in self.types),
            "dates": [f.name for f in self.dates],
            "datetimes": [f.name for f in self.datetimes],
            "non_empty": self.non_empty,
            "emails": self.emails,
            "fits": {k.value: v for k, v in self.fits.items()},
            "tokens": dict(self.tokens),
            "hints": self.hints,
            "ruled_out": self.ruled_out,
            "number_note": self.number_note,
            "settled": self.settled,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> _Column:
        return cls(
            types={ColumnType(t) for t in state["types"]},
            dates=[DateFormat.parse_name(n) for n in state["dates"]],
            datetimes=[DateFormat.parse_name(n) for n in state["datetimes"]],
            non_empty=int(state["non_empty"]),
            emails=int(state["emails"]),
            fits={ColumnType(k): int(v) for k, v in state["fits"].items()},
            tokens={str(k): int(v) for k, v in state["tokens"].items()},
            hints=bool(state["hints"]),
            ruled_out=str(state["ruled_out"]),
            number_note=str(state["number_note"]),
            settled=str(state["settled"]),
        )


class TypeTracker:
    """Narrow candidate types per column as rows are added; `guesses()` gives the result.

    `null_markers` are values that count as empty (the user's choice); `decimal_comma` reads "1.234,56"
    as a real. With `exact_hints` False (whole-file scans) a column that settles as text stops counting
    how many of its values are numbers or emails (which would mean looking at every distinct value):
    its evidence then has no "19 of 20 are whole numbers" hint. `rows` counts the rows added.
    """

    def __init__(
        self, *, null_markers: Iterable[str] = (), decimal_comma: bool = False, exact_hints: bool = True
    ) -> None:
        self._nulls = frozenset(null_markers) | {""}
        self._tokens = tuple(t for t in NULL_TOKENS if t not in self._nulls)
        self._decimal_comma = decimal_comma
        self._real = COMMA_REAL_RE if decimal_comma else REAL_RE
        blank = "|".join(re.escape(v) for v in sorted((*self._nulls, *self._tokens), key=len, reverse=True) if v)
        short = f"(?=[^\x00]{{1,{MAX_REAL_DIGITS}}}(?![^\x00]))"
        self._strict: dict[ColumnType, re.Pattern[str]] = {}
        self._relaxed: dict[ColumnType, re.Pattern[str]] = {}
        for kind, pattern in ((ColumnType.INTEGER, INTEGER_RE), (ColumnType.REAL, self._real)):
            line = f"{short}(?:{pattern.pattern})"
            self._strict[kind] = re.compile(f"{line}(?:\x00\x00{line})*")
            maybe = f"(?:{line}|{blank})?"
            self._relaxed[kind] = re.compile(f"{maybe}(?:\x00\x00{maybe})*")
        self._token_line = re.compile(f"\x00({_alternation(self._tokens)})\x00") if self._tokens else None
        self._token_heads = sorted({t[0] for t in self._tokens})  # every token holds one (memchr finds them fast)
        self._blank = blank
        self._date_columns: dict[tuple[Any, ...], re.Pattern[str]] = {}
        self._exact_hints = exact_hints
        self._columns: list[_Column] = []
        self.rows = 0

    def add(self, row: Sequence[str | None], row_number: int) -> None:
        """Let the values of one row rule out the types they do not fit."""
        self.add_batch([row], row_number)

    def add_batch(
        self, rows: Sequence[Sequence[str | None]], first_row: int, numbers: Sequence[int] | None = None
    ) -> None:
        """Add rows; the first is row number `first_row` of the file, or `numbers` gives each row's number.

        The result is exactly that of adding the rows one by one with `add`: rows of other widths are
        padded with None (which abstains, as a missing cell does).
        """
        if not rows:
            return
        width = max(map(len, rows))
        if min(map(len, rows)) != width:
            rows = [row if len(row) == width else [*row, *[None] * (width - len(row))] for row in rows]
        self.add_columns([list(values) for values in zip(*rows, strict=True)], first_row, numbers)

    def add_columns(
        self, columns: Sequence[Sequence[str | None]], first_row: int, numbers: Sequence[int] | None = None
    ) -> None:
        """Add rows given column by column (`columns[j][i]` is row i's value in column j, every column as
        long); the same as `add_batch` of those rows, without building them."""
        if not columns or not columns[0]:
            return
        self.rows += len(columns[0])
        while len(self._columns) < len(columns):
            self._columns.append(_Column())

        def number(index: int) -> int:
            return numbers[index] if numbers else first_row + index

        for column, values in zip(self._columns, columns, strict=False):
            first = self._first_value(column, values)
            if first:  # exact, as adding rows one by one is: the rest often meets a fast path once types narrowed
                self._add_values(column, values[:first], number)
                self._add_values(column, values[first:], functools.partial(_shifted, number, first))
            else:
                self._add_values(column, values, number)

    def _first_value(self, column: _Column, values: Sequence[str | None]) -> int:
        """Where to cut `values` so the first part ends with the column's first non-blank value (0: no cut).

        A column no value has narrowed yet takes its first values one by one (each distinct value may rule
        out types); once that first value has ruled most types out (`42`: numbers only; `Ann`: text), the
        rest of the batch is counted at C speed (`_all_numbers`) or in one loop (`_count_text`).
        """
        if column.non_empty or column.tokens or len(values) < 2:
            return 0
        for index, value in enumerate(values):
            if value and value not in self._nulls and value not in self._tokens:
                return index + 1 if index + 1 < len(values) else 0
        return 0

    def _add_values(self, column: _Column, values: Sequence[str | None], number: Callable[[int], int]) -> None:
        if not column.types and not self._exact_hints:
            self._count_only(column, values)
            return
        if not column.types and column.ruled_out:
            self._count_text(column, values)
            return
        if column.types and column.types <= set(_NUMERIC) and self._all_numbers(column, values):
            return
        if self._date_formats(column) and self._all_dates(column, values):
            return
        counts = self._distinct(column, values)
        watch = self._exact_hints and column.hints  # a hint the row-by-row fast path would drop (`_drops_hint`)
        since = 0 if watch and _numeric_only(column.types) else None
        kinds = frozenset(column.types)
        tried: tuple[frozenset[ColumnType], int, int] | None = None  # candidates `_distinct_rest` last ran for

        def row_of(value: str | None) -> Callable[[], int]:
            return lambda: number(values.index(value))

        entries = list(counts.items())
        index = 0
        while index < len(entries):
            value, count = entries[index]
            index += 1
            column.non_empty += count
            self._narrow(column, str(value), count, row_of(value))
            if watch and len(column.types) != len(kinds):
                at = values.index(value)
                if since is not None and self._drops_hint(kinds, values[since:at]):
                    column.hints = watch = False
                kinds = frozenset(column.types)
                since = at + 1 if _numeric_only(kinds) else None
            if tried != _candidates(column) and ((not self._exact_hints and _numeric_only(column.types))
                                                 or self._date_formats(column)):
                tried = _candidates(column)
                index += self._distinct_rest(column, entries[index:], row_of)  # the rest at once, as far as it fits
            if not column.types and column.ruled_out and self._exact_hints:  # settled as text: the rest at once
                self._count_text_entries(column, cast(list[tuple[str, int]], entries[index:]))
                break
            if not column.types and not self._exact_hints:  # settled as text: count the rest as _count_only does
                column.hints = False
                for rest, more in entries[index:]:
                    column.non_empty += more
                    if rest and "@" in rest and EMAIL_RE.fullmatch(rest):
                        column.emails += more
                break
        if watch and since is not None and self._drops_hint(kinds, values[since:]):
            column.hints = False

    def _distinct(self, column: _Column, values: Sequence[str | None]) -> Counter[str | None]:
        """The column's distinct values with their counts, blanks left out and null tokens counted into
        `column.tokens` (they are not values of any type)."""
        counts = Counter(values)
        for empty in self._nulls:
            counts.pop(empty, None)
        counts.pop(None, None)
        for token in self._tokens:
            if token in counts:
                column.tokens[token] = column.tokens.get(token, 0) + counts.pop(token)
        return counts

    def _count_text(self, column: _Column, values: Sequence[str | None]) -> None:
        """A column settled as text, with exact hints: count its values, tokens, email addresses and numbers
        as `_narrow` does for each distinct value once no type is left, without its per-type checks: only a
        value `_NUMBERISH` matches can be a number."""
        counts = self._distinct(column, values)
        self._count_text_entries(column, cast(Iterable[tuple[str, int]], counts.items()))

    def _count_text_entries(self, column: _Column, entries: Iterable[tuple[str, int]]) -> None:
        """`_count_text` of distinct values, none blank, with their counts. A number of at most
        `MAX_REAL_DIGITS` characters without exponent fits by its spelling alone (as in `_all_numbers`: no digit
        or range limit can refuse it, and an integer that short is also a real); longer ones are checked fully."""
        fits, numberish, integer, real = column.fits, _NUMBERISH.match, INTEGER_RE.fullmatch, self._real.fullmatch
        for value, count in entries:
            column.non_empty += count
            if "@" in value and EMAIL_RE.fullmatch(value):
                column.emails += count
            if not numberish(value):
                continue
            if len(value) <= MAX_REAL_DIGITS and "e" not in value and "E" not in value:
                if integer(value):
                    fits[ColumnType.INTEGER] += count
                    fits[ColumnType.REAL] += count
                elif real(value):
                    fits[ColumnType.REAL] += count
                continue
            for kind in _NUMERIC:
                if self._fits_number(kind, value):
                    fits[kind] += count

    def _drops_hint(self, kinds: frozenset[ColumnType], values: Sequence[str | None]) -> bool:
        """Return True when a value of `values` would turn the column's `hints` off if added row by row.

        `values` is a stretch of a batch in which the column's candidates were `kinds`, all numeric, and
        did not change. Row by row, `_all_numbers` takes each such value that is a short number without
        exponent or NUL, and turns `hints` off when it is not every numeric kind (`2.5` once integer is
        ruled out): a batch does the same, so adding a batch gives exactly the answer of adding its rows.
        """
        for value in set(values):
            if (not value or value in self._nulls or value in self._tokens or len(value) > MAX_REAL_DIGITS
                    or "e" in value or "E" in value or "\x00" in value):
                continue
            fits = {kind: self._fits_number(kind, value) for kind in _NUMERIC}
            if all(fits[kind] for kind in kinds) and not all(fits.values()):
                return True
        return False

    def _all_numbers(self, column: _Column, values: Sequence[str | None]) -> bool:
        """Fast path for a column that is still numeric: a regex over the whole column at C speed.

        True (and counted) when every value is a number of at most 15 characters without exponent (so
        it cannot break the digit and range limits), empty, a null marker or a null token; False changes
        nothing (the caller then looks at each distinct value). Values are joined with two NULs, which no
        pattern matches, and only when no value contains a NUL itself, so every line is exactly one value.
        """
        text, joined = _joined(values)
        if not text or joined.count("\x00") != 2 * (len(text) - 1) or "e" in joined or "E" in joined:
            return False
        # blanks (empty cells, markers, tokens) are allowed anywhere, so one pass per kind settles its fit, and
        # every integer of at most 15 characters is also a real: an integer column takes one pass in all
        fits = {ColumnType.INTEGER: self._relaxed[ColumnType.INTEGER].fullmatch(joined) is not None}
        if ColumnType.INTEGER in column.types and not fits[ColumnType.INTEGER]:
            return False
        fits[ColumnType.REAL] = fits[ColumnType.INTEGER] or self._relaxed[ColumnType.REAL].fullmatch(joined) is not None
        if not all(fits[kind] for kind in column.types):
            return False
        numbers = self._count_blanks(column, text, joined)
        column.non_empty += numbers
        for kind in _NUMERIC:
            if fits[kind]:
                column.fits[kind] += numbers
            elif numbers:
                column.hints = False  # this kind's count is no longer exact
        return True

    def _distinct_rest(
        self, column: _Column, rest: list[tuple[str | None, int]], row_of: Callable[[str | None], Callable[[], int]]
    ) -> int:
        """Count the first entries of `rest` (distinct values, none blank, with their counts, in order of first
        appearance) at C speed; return how many were counted (0 changes nothing).

        Short numbers of every candidate kind (whole-file scans) are counted all at once, as `_all_numbers`
        would. For a date (or datetime) column, runs of safe spellings of every format still possible
        (`DateFormat.safe_pattern`) are counted at once and each other value is narrowed as usual, until one
        changes the candidates (the caller then goes on value by value).
        """
        if not rest:
            return 0
        values: list[str] = [v for v, _ in rest]  # type: ignore[misc]
        joined = "\x00\x00".join(values)
        if joined.count("\x00") != 2 * (len(values) - 1):
            return 0
        formats = self._date_formats(column)
        if formats:
            return self._rest_dates(column, rest, f"\x00{joined}\x00", row_of)
        if "e" in joined or "E" in joined:
            return 0
        whole = self._strict[ColumnType.INTEGER].fullmatch(joined) is not None
        fits = {ColumnType.INTEGER: whole,
                ColumnType.REAL: whole or self._strict[ColumnType.REAL].fullmatch(joined) is not None}
        if not all(fits[kind] for kind in column.types):
            return 0
        numbers = sum(count for _, count in rest)
        column.non_empty += numbers
        for kind in _NUMERIC:
            if fits[kind]:
                column.fits[kind] += numbers
            else:
                column.hints = False
        return len(rest)

    def _rest_dates(
        self, column: _Column, rest: list[tuple[str | None, int]], flanked: str,
        row_of: Callable[[str | None], Callable[[], int]],
    ) -> int:
        """`_distinct_rest` for a date column; `flanked` is `rest`'s values NUL-joined (see `_count_emails`)."""
        run = self._safe_run(tuple(self._date_formats(column)))
        counts = [count for _, count in rest]
        before = _candidates(column)
        done, pos, misses = 0, 0, 0
        while done < len(rest):
            stop = run.match(flanked, pos).end()  # type: ignore[union-attr]  # a *+ run always matches
            safe = flanked.count("\x00", pos, stop) >> 1
            column.non_empty += sum(counts[done : done + safe])
            done += safe
            if done >= len(rest) or (misses >= _DATE_MISSES and 4 * misses > done):
                break
            value, count = rest[done]
            done += 1
            misses += 1
            column.non_empty += count
            self._narrow(column, str(value), count, row_of(value))
            if _candidates(column) != before:
                break
            pos = flanked.find("\x00", stop + 1) + 1
        return done

    def _safe_run(self, formats: tuple[DateFormat, ...]) -> re.Pattern[str]:
        """A run of whole values of a flanked NUL-joined column, each a safe spelling of every format."""
        key = ("run", formats)
        if key not in self._date_columns:
            checks = "".join(f"(?=(?:{fmt.safe_pattern})\x00)" for fmt in formats)
            self._date_columns[key] = re.compile(f"(?:\x00{checks}[^\x00]++\x00)*+")
        return self._date_columns[key]

    def _date_formats(self, column: _Column) -> list[DateFormat]:
        """The formats still possible for a column whose only candidate is date (or datetime), else []."""
        if len(column.types) != 1:
            return []
        if ColumnType.DATE in column.types:
            return column.dates
        return column.datetimes if ColumnType.DATETIME in column.types else []

    def _date_column(self, fmt: DateFormat, *, blanks: bool = True) -> re.Pattern[str]:
        """A NUL-joined column of `fmt.safe_pattern` values (and, with `blanks`, empty cells, markers, tokens)."""
        key = (fmt, blanks)
        if key not in self._date_columns:
            value = f"(?:{fmt.safe_pattern}|{self._blank})?" if blanks else f"(?:{fmt.safe_pattern})"
            self._date_columns[key] = re.compile(f"{value}(?:\x00\x00{value})*")
        return self._date_columns[key]

    def _all_dates(self, column: _Column, values: Sequence[str | None]) -> bool:
        """Fast path for a column whose only candidate is date (or datetime): a regex over the whole column.

        True (and counted) when every value is a safe spelling (`DateFormat.safe_pattern`) of every format
        still possible, empty, a null marker or a token: none of them could rule out a format, so only
        counting is left. False changes nothing (the caller then looks at each distinct value).
        """
        text, joined = _joined(values)
        if joined.count("\x00") != 2 * (len(text) - 1):
            return False
        if not all(self._date_column(fmt).fullmatch(joined) for fmt in self._date_formats(column)):
            return False
        column.non_empty += self._count_blanks(column, text, joined)
        return True

    def _count_blanks(self, column: _Column, text: Sequence[str], joined: str) -> int:
        """Count the null tokens among the column's values `text` (`joined` with two NULs between values) into
        `column.tokens`; return how many values are not blank (empty, a null marker or a token)."""
        flanked = f"\x00{joined}\x00"
        values = len(text) - (text.count("") if _may_have_empty(joined) else 0)
        for token, found in self._count_tokens(flanked):
            column.tokens[token] = column.tokens.get(token, 0) + found
            values -= found
        return values - sum(flanked.count(f"\x00{m}\x00") for m in self._nulls if m)

    def _count_tokens(self, flanked: str) -> Iterable[tuple[str, int]]:
        """Return (token, how many) for the null tokens among the values of a flanked NUL-free column; the
        regex runs only when a token's first character occurs (a memchr away)."""
        if self._token_line is None or not any(head in flanked for head in self._token_heads):
            return ()
        return Counter(self._token_line.findall(flanked)).items()

    def _count_only(self, column: _Column, values: Sequence[str | None]) -> None:
        """A settled text column in a whole-file scan: count values, tokens and email addresses at C speed.

        How many values are numbers is no longer counted (`hints` turns off: it would mean looking at
        every distinct value); email addresses are, with one regex over the NUL-joined column (markers
        included, as they are values of a text column).
        """
        column.hints = False
        present = list(filter(None, values))  # neither None nor ""
        if not present:
            return
        joined = "\x00\x00".join(present)
        if joined.count("\x00") != 2 * (len(present) - 1):  # a value holds a NUL: look at each distinct value
            counts = Counter(present)
            column.emails += sum(n for v, n in counts.items() if "@" in v and EMAIL_RE.fullmatch(v))
            column.non_empty += len(present) - sum(counts.get(m, 0) for m in self._nulls)
            for token in self._tokens:
                if found := counts.get(token, 0):
                    column.tokens[token] = column.tokens.get(token, 0) + found
                    column.non_empty -= found
            return
        flanked = f"\x00{joined}\x00"
        count = len(present) - sum(flanked.count(f"\x00{m}\x00") if "\x00" not in m else present.count(m)
                                   for m in self._nulls if m)
        for token, found in self._count_tokens(flanked):
            column.tokens[token] = column.tokens.get(token, 0) + found
            count -= found
        column.non_empty += count
        if "@" in joined:
            column.emails += _count_emails(flanked)

    def guesses(self, count: int | None = None, *, whole_file: bool = False) -> list[ColumnGuess]:
        """Return one guess per column (at least `count` columns; unseen ones are text).

        `whole_file` says the rows added were every row of the file (the evidence then says so).
        """
        columns = self._columns + [_Column() for _ in range(max(0, (count or 0) - len(self._columns)))]
        return [_guess(column, whole_file) for column in columns]

    def to_state(self) -> dict[str, Any]:
        """Return the tracker's state as a JSON-able dict (a scan that stops resumes from it)."""
        return {"rows": self.rows, "columns": [c.to_state() for c in self._columns]}

    def copy(self) -> TypeTracker:
        """Return a tracker in the same state that adding rows to does not change this one."""
        clone = copy.copy(self)
        clone._columns = [_Column.from_state(c.to_state()) for c in self._columns]
        return clone

    def load_state(self, state: dict[str, Any]) -> None:
        """Continue from a state `to_state` returned (for the same null markers and decimal comma)."""
        self.rows = int(state["rows"])
        self._columns = [_Column.from_state(c) for c in state["columns"]]

    def _narrow(self, column: _Column, value: str, count: int, row: Callable[[], int]) -> None:
        def shown() -> str:
            return f"'{value[:40]}' (row {row()})"

        if "@" in value and EMAIL_RE.fullmatch(value):
            column.emails += count
        for kind in _NUMERIC:
            if self._fits_number(kind, value):
                column.fits[kind] += count
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
                    column.settled = f"{shown()} settles it"
            formats[:] = kept
            if not kept:
                column.types.discard(kind)
        if not column.types and not column.ruled_out:
            column.ruled_out = shown()

    def _fits_number(self, kind: ColumnType, value: str) -> bool:
        if kind is ColumnType.INTEGER:
            digits = value.strip(PADDING).lstrip("-")
            return integer_problem(value) is None and len(digits) <= MAX_INFERRED_INTEGER_DIGITS
        return real_problem(value, decimal_comma=self._decimal_comma) is None


def _shifted(number: Callable[[int], int], by: int, index: int) -> int:
    """`number(by + index)`: the row number of value `index` of a batch's part that starts at value `by`."""
    return number(by + index)


def _alternation(words: Iterable[str]) -> str:
    """Return a regex matching exactly one of `words`, factored by first character (`N(?:A|ULL)|n(?:a)`) so
    that a search fails fast at each position."""
    heads: dict[str, list[str]] = {}
    for word in words:
        heads.setdefault(word[:1], []).append(word[1:])
    parts = []
    for head, tails in heads.items():
        rest = [t for t in tails if t]
        alternatives = "|".join(re.escape(t) for t in sorted(rest, key=len, reverse=True))
        tail = f"(?:{alternatives})" + ("?" if len(rest) < len(tails) else "") if rest else ""
        parts.append(re.escape(head) + tail)
    return "|".join(parts)


def _joined(values: Sequence[str | None]) -> tuple[Sequence[str], str]:
    """Return `values` with None as "" and their join with two NULs (a None makes `str.join` fail: no scan
    for None is needed when there is none)."""
    try:
        return values, "\x00\x00".join(values)  # type: ignore[arg-type,return-value]
    except TypeError:
        text = [v or "" for v in values]
        return text, "\x00\x00".join(text)


def _may_have_empty(joined: str) -> bool:
    """Return False when no value of a NUL-joined column (two NULs between values, none inside one) is empty."""
    return not joined or "\x00\x00\x00\x00" in joined or joined.startswith("\x00\x00") or joined.endswith("\x00\x00")


def _candidates(column: _Column) -> tuple[frozenset[ColumnType], int, int]:
    """What a value can still rule out in `column`: its candidate types and how many date formats remain."""
    return frozenset(column.types), len(column.dates), len(column.datetimes)


def _numeric_only(kinds: set[ColumnType] | frozenset[ColumnType]) -> bool:
    """Return True when `kinds` is not empty and holds only integer and real."""
    return bool(kinds) and kinds <= set(_NUMERIC)


def _count_emails(flanked: str) -> int:
    """Return how many values of a flanked NUL-joined column (`\\x00a\\x00\\x00b\\x00`, no value empty or
    holding a NUL) are email addresses, as `EMAIL_RE.fullmatch` says: runs of addresses at C speed, one step
    of Python per value that is not one (and, after `_EMAIL_MISSES` of those, one regex scan for the rest)."""
    ascii = flanked.isascii()
    run, value = (ASCII_EMAIL_RUN, ASCII_EMAIL_VALUE) if ascii else (EMAIL_RUN, EMAIL_VALUE)
    count, pos, end = 0, 0, len(flanked)
    for _ in range(_EMAIL_MISSES):
        stop = run.match(flanked, pos).end()  # type: ignore[union-attr]  # a *+ run always matches
        count += flanked.count("\x00", pos, stop) >> 1
        if stop >= end:
            return count
        pos = flanked.find("\x00", stop + 1) + 1  # past the value that is not an address
        if pos >= end:
            return count
    return count + len(value.findall(flanked, pos))


def _number_note(value: str, shown: Callable[[], str]) -> str:
    digits = value.strip().lstrip("-")
    if digits.isdigit() and len(digits) > 1 and digits.startswith("0"):
        return f"{shown()} has a leading zero, so the column stays text to keep it"
    if digits.isdigit() and len(digits) > MAX_INFERRED_INTEGER_DIGITS:
        return f"{shown()} has more than {MAX_INFERRED_INTEGER_DIGITS} digits, so it stays text to keep them all"
    return ""


def _guess(column: _Column, whole_file: bool) -> ColumnGuess:
    n = column.non_empty
    tokens = sorted(column.tokens.items(), key=lambda item: (-item[1], item[0]))
    typed = bool(column.types) or n == 0
    markers = tuple(t for t, _ in tokens) if typed else ()
    common = {"non_empty": n, "null_markers": markers, "null_counts": tuple(tokens), "whole_file": whole_file}
    nulls = _nulls_note(tokens, typed)
    if n == 0:
        what = f"every value is {_listed(tokens)}, read as NULL" if tokens else "no values"
        where = "in the file" if whole_file else "in the sample"
        return ColumnGuess(ColumnType.TEXT, f"text: {what} {where}", **common)  # type: ignore[arg-type]
    for kind, what in ((ColumnType.INTEGER, "whole numbers"), (ColumnType.REAL, "numbers")):
        if kind in column.types:
            return ColumnGuess(kind, f"{kind.value}: {_all(n, whole_file)} are {what}{nulls}", **common)  # type: ignore[arg-type]
    if ColumnType.BOOLEAN in column.types:
        return ColumnGuess(ColumnType.BOOLEAN, f"boolean: {_all(n, whole_file)} are yes/no words{nulls}", **common)  # type: ignore[arg-type]
    for kind, formats in ((ColumnType.DATE, column.dates), (ColumnType.DATETIME, column.datetimes)):
        if kind in column.types and formats:
            return _date_guess(kind, formats, column, whole_file, nulls, common)
    if column.emails == n:
        return ColumnGuess(ColumnType.TEXT, f"text, email rule: {_all(n, whole_file)} are email addresses{nulls}",
                           email=True, **common)  # type: ignore[arg-type]
    evidence = column.number_note or f"{column.ruled_out} is not a number, boolean or date"
    hint = _mostly(column)
    return ColumnGuess(ColumnType.TEXT, f"text: {evidence}{hint}{nulls}", **common)  # type: ignore[arg-type]


def _all(n: int, whole_file: bool) -> str:
    return f"all {n:,} values in the file" if whole_file else f"{n:,} of {n:,} sample values"


def _listed(tokens: list[tuple[str, int]]) -> str:
    return " or ".join(f"'{t}'" for t, _ in tokens) or "empty"


def _nulls_note(tokens: list[tuple[str, int]], typed: bool) -> str:
    if not tokens:
        return ""
    counted = ", ".join(f"{c:,} '{t}'" for t, c in tokens)
    return f"; {counted} read as NULL" if typed else f"; {counted} kept as text"


def _mostly(column: _Column) -> str:
    """A hint when nearly every value is a number or an address: the user may want the rest as rejects."""
    n = column.non_empty
    for kind, what in ((ColumnType.INTEGER, "whole numbers"), (ColumnType.REAL, "numbers")):
        fits = column.fits[kind]
        if column.hints and not column.number_note and fits >= _HINT_SHARE * n:
            return f" ({fits:,} of {n:,} are {what}: choose {kind.value} to import those and reject the rest)"
    if column.emails >= _HINT_SHARE * n:
        return f" ({column.emails:,} of {n:,} are email addresses: add the email rule to reject the rest)"
    return ""


def _date_guess(
    kind: ColumnType, formats: list[DateFormat], column: _Column, whole_file: bool, nulls: str, common: dict[str, Any]
) -> ColumnGuess:
    chosen = formats[0]
    twin = day_month_twin(chosen)
    n = column.non_empty
    if twin is not None and twin in formats:
        return ColumnGuess(
            kind,
            f"{kind.value}: {_all(n, whole_file)} fit both {chosen.name} and {twin.name}; no value settles "
            f"day-first or month-first: choose one{nulls}",
            date_format=chosen.name,
            ambiguous=True,
            alternatives=(twin.name,),
            **common,
        )
    settled = f"; {column.settled}" if column.settled else ""
    evidence = f"{kind.value}: {_all(n, whole_file)} are {chosen.name}{settled}{nulls}"
    return ColumnGuess(kind, evidence, date_format=chosen.name, **common)
