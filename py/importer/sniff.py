"""Sniffing: encoding, delimiter, quote, header and line endings, decided over a bounded prefix of bytes.

Role: the first thing the worker calls when the user picks a file. `sniff()` reads only the prefix it is
given (64 KB is plenty), decides each setting with an evidence string, applies the user's overrides,
infers column types (`infer.py`) and returns a frozen `SniffResult` whose `options` are the defaults the
UI shows and the import job takes. File-level problems visible in the prefix raise `FileFormatError`s.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from dataclasses import dataclass
from typing import Any

import charset_normalizer

from importer.errors import (
    BinaryFileError,
    EmptyFileError,
    EncodingError,
    FileFormatError,
    HeaderOnlyError,
    OptionsError,
    TooManyColumnsError,
    UnterminatedQuoteError,
)
from importer.infer import ColumnGuess, TypeTracker
from importer.names import column_names, table_name_from_file
from importer.options import MAX_COLUMNS, ColumnSpec, ImportOptions, codec_and_bom

SNIFF_BYTES = 64 * 1024
PREVIEW_ROWS = 20
DELIMITERS = (",", ";", "\t", "|")
_MAGIC = (
    (b"PK\x03\x04", "a zip archive, such as an Excel .xlsx workbook"),
    (b"\xd0\xcf\x11\xe0", "an Office document, such as an Excel .xls workbook"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
_BOMS = (  # UTF-32 first: its little-endian mark FF FE 00 00 starts with UTF-16's FF FE
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True)
class Detected:
    """One detected setting: its `value`, the `evidence` shown beside it, and whether the user chose it."""

    value: Any
    evidence: str
    overridden: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "evidence": self.evidence, "overridden": self.overridden}


@dataclass(frozen=True)
class SniffResult:
    """Everything sniffing decided, with evidence, plus the default `options` for the import."""

    encoding: Detected
    delimiter: Detected
    quotechar: Detected
    has_header: Detected
    line_ending: Detected
    decimal_comma: Detected
    header: tuple[str, ...]
    guesses: tuple[ColumnGuess, ...]
    preview: tuple[tuple[str | None, ...], ...]
    sample_rows: int
    complete: bool
    options: ImportOptions

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict (settings with evidence, columns, preview rows, default options)."""
        return {
            "encoding": self.encoding.to_dict(),
            "delimiter": self.delimiter.to_dict(),
            "quotechar": self.quotechar.to_dict(),
            "has_header": self.has_header.to_dict(),
            "line_ending": self.line_ending.to_dict(),
            "decimal_comma": self.decimal_comma.to_dict(),
            "columns": [
                {"header": h, "name": spec.name, **g.to_dict()}
                for h, spec, g in zip(self.header, self.options.columns, self.guesses, strict=True)
            ],
            "preview": [list(row) for row in self.preview],
            "sample_rows": self.sample_rows,
            "complete": self.complete,
            "options": self.options.model_dump(mode="json"),
        }


def sniff(
    prefix: bytes,
    *,
    file_name: str = "data.csv",
    complete: bool | None = None,
    existing_tables: tuple[str, ...] = (),
    overrides: dict[str, Any] | None = None,
) -> SniffResult:
    """Detect how to read the CSV whose first bytes are `prefix` and suggest import options.

    `complete` says `prefix` is the whole file (default: it is shorter than `SNIFF_BYTES`); `overrides`
    may fix any of encoding, delimiter, quotechar, has_header, decimal_comma, null_markers.
    Returns a `SniffResult`. Raises `EmptyFileError`, `HeaderOnlyError`, `BinaryFileError`,
    `EncodingError` (for an overridden encoding that does not fit), `UnterminatedQuoteError` (whole file
    seen) or `TooManyColumnsError`.
    """
    fixed = dict(overrides or {})
    whole = len(prefix) < SNIFF_BYTES if complete is None else complete
    encoding = _pick(fixed, "encoding") or detect_encoding(prefix)
    text = _decode(prefix, encoding.value, whole)
    if not text.strip():
        raise EmptyFileError()
    lines = text.splitlines(keepends=True) if whole else _complete_lines(text)
    delimiter = _pick(fixed, "delimiter") or detect_delimiter(lines)
    quotechar = _pick(fixed, "quotechar") or detect_quotechar(lines, delimiter.value)
    rows = _parse(lines, delimiter.value, quotechar.value, whole)
    widest = max((len(r) for r in rows), default=0)
    if widest > MAX_COLUMNS:
        raise TooManyColumnsError(widest, MAX_COLUMNS)
    nulls = tuple(fixed.get("null_markers") or ())
    below = _Below(rows, nulls)
    decimal_comma = _pick(fixed, "decimal_comma") or detect_decimal_comma(rows, delimiter.value, nulls, below=below)
    has_header = _pick(fixed, "has_header") or detect_header(rows, decimal_comma.value, nulls, below=below)
    body = rows[1:] if has_header.value else rows
    width = len(rows[0]) if has_header.value else Counter(len(r) for r in rows).most_common(1)[0][0]
    if whole and not body:
        raise HeaderOnlyError() if has_header.value else EmptyFileError()
    header = tuple(rows[0]) if has_header.value else ("",) * width
    if has_header.value:
        tracker = below(decimal_comma.value)
    else:
        tracker = TypeTracker(null_markers=nulls, decimal_comma=decimal_comma.value)
        tracker.add_batch(body, 1)
    guesses = tuple(tracker.guesses(width, whole_file=whole)[:width])
    names = column_names(header)
    options = ImportOptions(
        encoding=encoding.value,
        delimiter=delimiter.value,
        quotechar=quotechar.value,
        has_header=has_header.value,
        decimal_comma=decimal_comma.value,
        null_markers=list(nulls),
        table=table_name_from_file(file_name, existing_tables),
        columns=[ColumnSpec.from_guess(i, name, g) for i, (name, g) in enumerate(zip(names, guesses, strict=True))],
    )
    return SniffResult(
        encoding=encoding,
        delimiter=delimiter,
        quotechar=quotechar,
        has_header=has_header,
        line_ending=detect_line_ending(lines),
        decimal_comma=decimal_comma,
        header=header,
        guesses=guesses,
        preview=tuple(tuple(r) for r in body[:PREVIEW_ROWS]),
        sample_rows=len(body),
        complete=whole,
        options=options,
    )


def detect_encoding(prefix: bytes) -> Detected:
    """Return the encoding of `prefix` (BOM, else strict UTF-8, else charset-normalizer's best guess).

    Raises `BinaryFileError` for known binary formats and for bytes that are mostly control characters.
    """
    for bom, name in _BOMS:
        if prefix.startswith(bom):
            return Detected(name, f"{name}: the file starts with its byte-order mark")
    for magic, what in _MAGIC:
        if prefix.startswith(magic):
            raise BinaryFileError(what)
    controls = sum(prefix.count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13))
    if prefix and controls > max(8, len(prefix) // 20):
        raise BinaryFileError(f"{controls} of the first {len(prefix):,} bytes are control characters")
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(prefix, final=False)
    except UnicodeDecodeError as exc:
        return _legacy_encoding(prefix, exc)
    if prefix.isascii():
        return Detected("utf-8", f"utf-8: the first {len(prefix):,} bytes are plain ASCII")
    return Detected("utf-8", f"utf-8: the first {len(prefix):,} bytes are valid UTF-8")


def _legacy_encoding(prefix: bytes, exc: UnicodeDecodeError) -> Detected:
    """Pick a single-byte encoding: charset-normalizer's best, preferring cp1252 among equally good ones."""
    matches = list(charset_normalizer.from_bytes(prefix))
    best_chaos = min((m.chaos for m in matches), default=0.0)
    tied = [codecs.lookup(m.encoding).name for m in matches if m.chaos <= best_chaos]
    name = "cp1252" if "cp1252" in tied or not tied else tied[0]
    if not _decodes(prefix, name):
        name = "latin-1"
    others = ", ".join(t for t in tied if t != name)[:80]
    also = f" (also fits: {others})" if others else ""
    return Detected(
        name,
        f"{name}: byte 0x{prefix[exc.start]:02x} at offset {exc.start:,} is not UTF-8; charset-normalizer "
        f"reads the sample as {name}{also}",
    )


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _decode(prefix: bytes, encoding: str, whole: bool) -> str:
    try:
        codec, bom = codec_and_bom(encoding)
    except LookupError as exc:
        raise OptionsError(f"The encoding cannot be used: {exc}.") from None
    body = prefix[len(bom) :] if bom and prefix.startswith(bom) else prefix
    try:
        return codecs.getincrementaldecoder(codec)().decode(body, final=whole)
    except UnicodeDecodeError as exc:
        suggestion = detect_encoding(prefix).value
        raise EncodingError(encoding, exc.start + len(prefix) - len(body), suggestion) from exc


def _complete_lines(text: str) -> list[str]:
    """Lines of a truncated sample, without the last (probably cut) line."""
    lines = text.splitlines(keepends=True)
    return lines[:-1] if len(lines) > 1 else lines


def detect_delimiter(lines: list[str]) -> Detected:
    """Return the candidate delimiter that splits the sample rows into the same (>1) number of fields."""
    best: tuple[float, int, str] | None = None
    for delimiter in DELIMITERS:
        counts = [len(r) for r in csv.reader(io.StringIO("".join(lines), newline=""), delimiter=delimiter) if r]
        if not counts:
            continue
        width, hits = Counter(counts).most_common(1)[0]
        if width < 2:
            continue
        score = (hits / len(counts), width, delimiter)
        if best is None or score[:2] > best[:2]:
            best = (score[0], width, delimiter)
            evidence = f"{hits} of {len(counts)} sample rows have {width} fields"
    if best is None:
        return Detected(",", "',': no candidate splits the rows; reading one column")
    return Detected(best[2], f"{best[2]!r}: {evidence}")


def detect_quotechar(lines: list[str], delimiter: str) -> Detected:
    """Return '"' or "'" by counting fields that start and end with each character."""
    text = "".join(lines)
    counts = {q: text.count(f"{delimiter}{q}") + text.count(f"\n{q}") for q in ('"', "'")}
    if counts["'"] > counts['"'] and counts["'"] >= 3:
        return Detected("'", f'"\'": {counts[chr(39)]} fields start with a single quote')
    if counts['"']:
        return Detected('"', f"'\"': {counts[chr(34)]} fields start with a double quote")
    return Detected('"', "'\"': no quoted fields in the sample; using the standard double quote")


def detect_line_ending(lines: list[str]) -> Detected:
    """Return "\\r\\n", "\\n" or "\\r" (the most common), with counts as evidence; mixed endings are fine."""
    counts = Counter(
        "\r\n" if ln.endswith("\r\n") else "\n" if ln.endswith("\n") else "\r" for ln in lines if ln[-1:] in "\r\n"
    )
    if not counts:
        return Detected("\n", "single line without a line break")
    names = {"\r\n": "CRLF", "\n": "LF", "\r": "CR"}
    ending, hits = counts.most_common(1)[0]
    if len(counts) == 1:
        return Detected(ending, f"{names[ending]}: {hits} of {hits} lines")
    mixed = ", ".join(f"{n} {names[e]}" for e, n in counts.most_common())
    return Detected(ending, f"mixed line endings ({mixed}); each is read correctly")


def _parse(lines: list[str], delimiter: str, quotechar: str, whole: bool) -> list[list[str]]:
    """Parse the sample strictly; rows the csv module refuses are left out (the import rejects them).

    Raises `UnterminatedQuoteError` (whole file seen), and `FileFormatError` when no row can be read at all
    (every row malformed, or no complete row in a truncated sample), so callers always get rows.
    """
    reader = csv.reader(io.StringIO("".join(lines), newline=""), delimiter=delimiter, quotechar=quotechar, strict=True)
    rows: list[list[str]] = []
    first_error = ""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                if whole:
                    raise UnterminatedQuoteError(len(rows) + 1, quotechar) from exc
                break
            first_error = first_error or f"line {reader.line_num}: {exc}"
            continue
        if row:
            rows.append(row)
    if not rows and first_error:
        raise FileFormatError(
            f"No row of the file can be read as CSV ({first_error}).",
            hint="Check the quote character and the delimiter, or fix the quoting in the file.",
        )
    if not rows and not whole:
        raise FileFormatError(
            f"The first {len(''.join(lines)):,} characters hold no complete row: a row is longer than that, "
            "or a quoted field never closes.",
            hint="Check the quote character and the delimiter.",
        )
    if not rows:
        raise EmptyFileError()
    return rows


class _Below:
    """Trackers of the rows below the first (row numbers from 2), one per decimal-comma reading, built once
    and shared by the decimal-comma and header checks and the column guesses (none of them changes one)."""

    def __init__(self, rows: list[list[str]], nulls: tuple[str, ...]) -> None:
        self._rows, self._nulls = rows, nulls
        self._trackers: dict[bool, TypeTracker] = {}

    def __call__(self, decimal_comma: bool) -> TypeTracker:
        if decimal_comma not in self._trackers:
            tracker = TypeTracker(null_markers=self._nulls, decimal_comma=decimal_comma)
            tracker.add_batch(self._rows[1:], 2)
            self._trackers[decimal_comma] = tracker
        return self._trackers[decimal_comma]


def detect_decimal_comma(
    rows: list[list[str]], delimiter: str, nulls: tuple[str, ...], *, below: _Below | None = None
) -> Detected:
    """Return True when (delimiter not a comma) some column reads as numbers only with a decimal comma.

    `below` may share trackers of `rows[1:]` built with the same `nulls` (sniff does).
    """
    if delimiter == "," or len(rows) < 2:
        return Detected(False, "no: the delimiter is a comma" if delimiter == "," else "no: too few rows")
    below = below or _Below(rows, nulls)
    point, comma = below(False), below(True)
    numeric = ("integer", "real")
    for index, (p, c) in enumerate(zip(point.guesses(), comma.guesses(), strict=True)):
        if c.type.value in numeric and p.type.value not in numeric:
            example = next((r[index] for r in rows[1:] if index < len(r) and "," in r[index]), "")
            return Detected(True, f"yes: column {index + 1} reads as numbers only with a decimal comma ('{example}')")
    return Detected(False, "no: no column needs a decimal comma to read as numbers")


def detect_header(
    rows: list[list[str]], decimal_comma: bool, nulls: tuple[str, ...], *, below: _Below | None = None
) -> Detected:
    """Return True when the first row does not fit the types of the columns below it.

    `below` may share trackers of `rows[1:]` built with the same `nulls` (sniff does).
    """
    if len(rows) < 2:
        return Detected(True, "yes: a single row is taken as the header")
    rest = (below or _Below(rows, nulls))(decimal_comma)
    with_first = rest.copy()
    with_first.add(rows[0], 1)
    typed = 0
    for index, (b, w) in enumerate(zip(rest.guesses(), with_first.guesses(), strict=False)):
        if b.type.value == "text" or index >= len(rows[0]):
            continue
        typed += 1
        if w.type != b.type and rows[0][index] not in nulls:
            return Detected(
                True, f"yes: '{rows[0][index][:40]}' in row 1 is text above a column of {b.type.value} values"
            )
    if typed:
        return Detected(False, f"no: the first row fits the types of all {typed} typed columns")
    return Detected(True, "yes: every column is text, so the first row is taken as the names")


def _pick(fixed: dict[str, Any], key: str) -> Detected | None:
    if fixed.get(key) is None:
        return None
    return Detected(fixed[key], "chosen by you", overridden=True)
