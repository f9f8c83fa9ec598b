"""Record reader: parse a staged CSV file from any byte offset, and know the byte offset of each row end.

Role: the import job's batches read through one `RecordReader`. It reads the file in binary chunks,
decodes them incrementally (multi-byte and UTF-16 safe), cuts the text at line ends into pieces, and
feeds the pieces' lines to one stdlib `csv.reader`. Because `csv.reader` pulls lines only as it needs
them, after each record the current piece's `tell()` is exactly that record's end, so a batch can end at
any row and its cursor (`offset`, `row`) lets a resumed run start there. Memory is one chunk plus one
batch, whatever the file size.

Pieces without quotes are read faster: a piece with no quote, NUL or lone carriage return whose every line
has the same number of fields (two or more) is split by `str.split` into columns (csv's per-character parser
costs 2.4 times native in wasm), and its batches come as columns. The first piece that is not so hands the
rest of the file to the csv reader, so a quoted record that spans pieces is read as before.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any, BinaryIO

from importer.errors import EncodingError, FieldTooLongError, UnterminatedQuoteError
from importer.options import ImportOptions, codec_and_bom

DEFAULT_CHUNK_BYTES = 1 << 20
FIRST_CHUNK_BYTES = 64 << 10
"""A reader's first chunk; each next one twice the last, up to its `chunk_bytes`. A quote-free piece is split
whole when its first row is asked for (about 15 ms a megabyte on CPython): a process reading ahead sent its
first 625 rows 19 ms after it started with 1 MB chunks, and the parent waited for them."""
MAX_RECORD_BYTES = 64 << 20
"""The scan (scan.py) fails the import on a record longer than this."""
MAX_LINE_CHARS = 8 << 20
"""A line still without its end after this many characters (checked as each chunk arrives, so a line up to one
chunk longer may pass) is not held: it is read through to its end and becomes one reject, so a 50 MB field
costs neither 50 MB (times the StringIO's 4 bytes a character) nor a stall."""
NOT_NULL_QUOTING = getattr(csv, "QUOTE_NOTNULL", None)
"""Python >= 3.12: an unquoted empty field reads as None, a quoted "" as ''. Older: both read as ''."""


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record the csv module could not parse (its `reason`); it takes the place of its row in a batch."""

    reason: str


Record = list[str | None] | BadRecord


class Batch:
    """Consecutive records starting at row `first_row`, and where the next record starts.

    A batch read from a piece of the file without quotes comes as `columns` (every record a row of the same
    width, at least two fields): `records` makes its rows only when asked."""

    __slots__ = ("_records", "columns", "count", "end_offset", "end_row", "eof", "first_row", "has_nul")

    def __init__(self, records: list[Record] | None, first_row: int, end_offset: int, end_row: int, eof: bool,
                 has_nul: bool, columns: list[list[str | None]] | None = None) -> None:  # fmt: skip
        self._records = records
        self.columns = columns
        self.count = len(records) if records is not None else len(columns[0]) if columns else 0
        self.first_row = first_row
        self.end_offset = end_offset
        self.end_row = end_row
        self.eof = eof
        self.has_nul = has_nul

    @property
    def records(self) -> list[Record]:
        if self._records is None:
            self._records = [list(row) for row in zip(*self.columns or [], strict=True)]
        return self._records


@dataclass(slots=True)
class _QuoteFreePiece:
    """A piece of the file without quotes, NUL or lone carriage returns whose every line has the same number of
    fields (`width`, at least two): its fields in file order (`fields`), as columns (`columns`), the rows handed
    out so far (`taken`), and what ends each line (1 or 2 characters)."""

    fields: list[str]
    columns: list[list[str | None]]
    width: int
    rows: int
    newline: int
    ascii: bool
    taken: int = 0


class RecordReader:
    """Read records of the file at `path` from byte `offset`, where row number `row` starts.

    `read_batch()` returns up to `max_rows` records; `offset`/`row` then point just past them.
    Raises `EncodingError` (bytes that do not decode), `UnterminatedQuoteError` (quote open at end of file)
    and `FieldTooLongError` (a quoted field over several lines longer than the csv field limit: the rows after
    it cannot be found, so one reject would be followed by a reject per line of the field). A field longer than
    the limit within one line is one reject, and so is a line longer than `max_line_chars`.
    """

    def __init__(
        self,
        path: str,
        options: ImportOptions,
        *,
        offset: int = 0,
        row: int = 1,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        max_line_chars: int = MAX_LINE_CHARS,
    ) -> None:
        self._max_line = max_line_chars
        self._path = path
        self._chunk_bytes = chunk_bytes
        self._options = options
        self._codec, bom = codec_and_bom(options.encoding or "utf-8")
        self._file: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by close()
        if offset == 0 and bom and self._file.read(len(bom)) == bom:
            offset = len(bom)
        self._file.seek(offset)
        self._chunk = min(chunk_bytes, FIRST_CHUNK_BYTES)  # grows to chunk_bytes (_next_piece)
        self._decoder = codecs.getincrementaldecoder(self._codec)()
        self._quote = '"' if options.quotechar is None else options.quotechar
        self._piece = ""
        self._piece_offset = offset
        self._piece_io = io.StringIO("", newline="")
        self._next_offset = offset
        self._eof = False
        self._nul = False
        self._piece_nul = False
        self._piece_tail = ""
        self._known: tuple[io.StringIO | None, int, int] = (None, 0, 0)  # _position's last: piece, tell, bytes
        self.row = row
        self.offset = offset
        fmt = csv_format(options)
        self._csv: Iterator[Any] = csv.reader(chain.from_iterable(self._pieces()), **fmt)
        self._delimiter: str = fmt["delimiter"]
        self._empty_is_none = NOT_NULL_QUOTING is not None and fmt.get("quoting") == NOT_NULL_QUOTING
        special = {self._delimiter, "\n", "\r", "\x00", *([self._quote] if self._quote else [])}
        self._fast: _QuoteFreePiece | None = None
        self._fast_mode = all(len(c.encode("utf-8")) == 1 for c in special) and (
            "\n," + self._delimiter).encode(self._codec) == ("\n," + self._delimiter).encode("ascii")
        """Quote-free pieces are split by `str.split` while they last: the codec writes ASCII as one byte each
        (UTF-8, Latin-1, cp1252; not UTF-16) and the special characters are ASCII."""
        self._not_special = bytes(b for b in range(256) if chr(b) not in special or b >= 128)
        self._pending: str | None = None

    def _restart(self) -> None:
        """Start a new csv reader at the line after a skipped one (the old one's piece generator has ended)."""
        self._piece = ""
        self._piece_offset = self._next_offset
        self._piece_io = io.StringIO("", newline="")
        self._csv = csv.reader(chain.from_iterable(self._pieces()), **csv_format(self._options))

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __enter__(self) -> RecordReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read_batch(self, max_rows: int) -> Batch:
        """Return the next records (at most `max_rows`; fewer at the end of the file)."""
        first = self.row
        parts: list[Batch] = []
        while self._fast_mode and self.row - first < max_rows:
            part = self._quote_free_part(max_rows - (self.row - first))
            if part is None:
                break
            parts.append(part)
        wanted = max_rows - (self.row - first)
        done = False
        if wanted and not self._fast_mode:
            at = self.row
            records = self._csv_records(wanted)
            parts.append(Batch(records, at, self.offset, self.row, False, self._nul))
            done = len(records) < wanted
        return _one_batch(parts, first, self.offset, self.row, done)

    def _csv_records(self, max_rows: int) -> list[Record]:
        """The next records (at most `max_rows`) as the csv module reads them."""
        first = self.row
        records: list[Record] = []
        self._nul = self._piece_nul
        while len(records) < max_rows:
            since = (self._position(), first + len(records))  # where this stretch of records starts
            try:
                records.extend(islice(self._csv, max_rows - len(records)))
                break
            except csv.Error as exc:
                records.append(self._bad_record(first + len(records), exc, since))
            except _LongLine:
                records.append(self._long_line())
                self._restart()
        self.row = first + len(records)
        self.offset = self._position()
        return records

    def _long_line(self) -> BadRecord:
        limit = f"{self._max_line:,}"
        return BadRecord(f"the line is longer than {limit} characters and is not imported (is a quote left open?)")

    def _quote_free_part(self, max_rows: int) -> Batch | None:
        """The next rows (at most `max_rows`) of the current quote-free piece, reading the next piece when it is
        used up; None at the end of the file, and once a piece is not quote-free: from there on the csv module
        reads the rest of the file (a record could then span pieces), starting with that piece."""
        piece = self._fast
        first = self.row
        if piece is None:
            try:
                text = self._next_piece()
            except _LongLine:
                self.row += 1
                self.offset = self._next_offset
                return Batch([self._long_line()], first, self.offset, self.row, False, False)
            piece = None if text is None else self._quote_free(text)
            if piece is None:
                self._fast_mode = False
                self._pending = text  # the csv reader starts with it (or finds the end of the file)
                return None
            self._fast = piece
        start, end = piece.taken, min(piece.rows, piece.taken + max_rows)
        piece.taken = end
        columns = piece.columns if (start, end) == (0, piece.rows) else [c[start:end] for c in piece.columns]
        # the rows' text is their fields joined by the delimiter, plus one more separator per line
        text = self._delimiter.join(piece.fields[start * piece.width : end * piece.width])
        size = (len(text) if piece.ascii else len(text.encode(self._codec))) + 1 + (end - start) * (piece.newline - 1)
        self.row += end - start
        self.offset += size
        if end == piece.rows:
            self._fast = None
        return Batch(None, first, self.offset, self.row, False, False, columns)

    def _quote_free(self, text: str) -> _QuoteFreePiece | None:
        """`text` split into fields, if it has no quote, NUL or lone carriage return, ends its every line
        alike, has the same number of fields (two or more) on every line and no field the csv module would
        refuse as too long; else None. Its skeleton (the special characters alone, in order) shows that in
        one pass: every line's skeleton must be the first line's."""
        lines = text.count("\n")
        if not lines or not text.endswith("\n"):
            return None
        skeleton = text.encode("utf-8", "surrogatepass").translate(None, self._not_special)
        line = skeleton[: skeleton.find(b"\n") + 1]
        newline = 2 if line.endswith(b"\r\n") else 1
        delimiters = line[:-newline]
        if not delimiters or delimiters != self._delimiter.encode() * len(delimiters) or skeleton != line * lines:
            return None
        if newline == 2 and text.count("\r\n") != lines:  # the skeleton of "\r;\n" is "\r\n" too: a lone "\r"
            return None
        width = len(delimiters) + 1
        half = csv.field_size_limit() // 2  # a field longer than the limit would hold a whole aligned window
        for at in range(0, len(text), max(half, 1)):
            if text.find(self._delimiter, at, at + half) < 0 and text.find("\n", at, at + half) < 0:
                return None
        fields = text.replace("\r\n" if newline == 2 else "\n", self._delimiter).split(self._delimiter)
        fields.pop()  # the empty text after the last line end
        columns: list[list[str | None]] = [fields[c::width] for c in range(width)]  # type: ignore[misc]
        if self._empty_is_none and "" in fields:  # an empty field without quotes is None (as csv reads it)
            columns = [[v or None for v in c] if "" in c else c for c in columns]
        return _QuoteFreePiece(fields, columns, width, lines, newline, text.isascii())

    def _bad_record(self, row: int, exc: csv.Error, since: tuple[int, int]) -> BadRecord:
        text = str(exc)
        if "unexpected end of data" in text:
            raise UnterminatedQuoteError(row, self._quote) from exc
        if "field larger than field limit" in text:
            limit = csv.field_size_limit()
            lines = self._lines_of(row, *since)
            if lines > 1:
                raise FieldTooLongError(row, lines, limit, self._quote) from exc
            return BadRecord(f"a field is longer than {limit:,} characters (is a quote left open?)")
        return BadRecord(f"the row cannot be parsed as CSV ({text})")

    def _lines_of(self, row: int, offset: int, first: int) -> int:
        """How many lines record `row` had taken when the csv module gave up on it: read again from `offset`
        (where record `first` starts, the records up to `row` parse), counting the lines csv pulled."""
        with RecordReader(self._path, self._options, offset=offset, row=first, chunk_bytes=self._chunk_bytes,
                          max_line_chars=self._max_line) as again:
            records: Any = again._csv  # a csv reader: it counts the lines it pulled in `line_num`
            for _ in range(row - first):
                next(records)
            before = records.line_num
            try:
                next(records)
            except csv.Error:
                return int(records.line_num - before)
            return 1

    def _position(self) -> int:
        """Byte offset just past the last record returned. Only the text since the last call in the same piece
        is encoded (a batch ends several times in a piece of a megabyte)."""
        stream, tell = self._piece_io, self._piece_io.tell()
        known, known_tell, known_bytes = self._known
        if known is not stream or known_tell > tell:
            known_tell = known_bytes = 0
        consumed = known_bytes + len(self._piece[known_tell:tell].encode(self._codec))
        self._known = (stream, tell, consumed)
        return self._piece_offset + consumed

    def _pieces(self) -> Iterator[io.StringIO]:
        """Yield each piece as a StringIO; `chain` pulls its lines at C speed (csv asks lazily, line by line)."""
        while True:
            piece, self._pending = (self._pending, None) if self._pending is not None else (self._next_piece(), None)
            if piece is None:
                self._piece, self._piece_io = "", io.StringIO("", newline="")  # the position is the end
                return
            self._piece_nul = "\x00" in piece
            self._nul = self._nul or self._piece_nul
            self._piece = piece
            self._piece_io = io.StringIO(piece, newline="")
            yield self._piece_io

    def _next_piece(self) -> str | None:
        """Decode chunks until a line end is seen; return the text up to the last line end (or the rest).

        A long line is gathered as a list of chunks and searched chunk by chunk, so its cost grows with its
        length, not with its square (a 50 MB field is 50 chunks)."""
        parts = [self._piece_tail] if self._piece_tail else []
        held = len(self._piece_tail)
        while True:
            self._piece_offset = self._next_offset
            data = self._file.read(self._chunk) if not self._eof else b""
            self._chunk = min(2 * self._chunk, self._chunk_bytes)
            self._eof = self._eof or not data
            try:
                new = self._decoder.decode(data, final=self._eof)
            except UnicodeDecodeError as exc:
                at = self._next_offset + len("".join(parts).encode(self._codec)) + exc.start
                raise EncodingError(self._codec, at) from exc
            if self._eof:
                text = "".join(parts) + new
                self._piece_tail = ""
                self._advance(text)
                return text or None
            # the tail left by a skipped line may hold whole lines; otherwise only a "\r" that ended the last
            # chunk can end a line now that more follows
            before = parts[-1] if len(parts) == 1 else parts[-1][-1:] if parts else ""
            window = before + new
            cut = max(window.rfind("\n"), window.rfind("\r", 0, len(window) - 1)) + 1
            parts.append(new)
            held += len(new)
            if cut > 0:
                text = "".join(parts)
                end = held - len(window) + cut
                piece, self._piece_tail = text[:end], text[end:]
                self._advance(piece)
                return piece
            if held > self._max_line:
                self._skip_line(parts)

    def _skip_line(self, parts: list[str]) -> None:
        """Read on to the end of the line that `parts` begin (nothing of it is kept), then raise `_LongLine`."""
        for part in parts:
            self._next_offset += len(part.encode(self._codec))
        tail = parts[-1][-1:]
        while not self._eof:
            data = self._file.read(self._chunk)
            self._eof = not data
            try:
                new = self._decoder.decode(data, final=self._eof)
            except UnicodeDecodeError as exc:
                raise EncodingError(self._codec, self._next_offset + exc.start) from exc
            window = tail + new
            cut = _first_line_end(window, final=self._eof)
            if cut > 0:
                end = cut - len(tail)  # where the line ends in `new` (0 when `tail` was its "\r")
                self._next_offset += len(new[:end].encode(self._codec))
                self._piece_tail = new[end:]
                raise _LongLine
            self._next_offset += len(new.encode(self._codec))
            tail = new[-1:] or tail
        self._piece_tail = ""
        raise _LongLine

    def _advance(self, piece: str) -> None:
        self._piece_offset = self._next_offset
        self._next_offset += len(piece.encode(self._codec))


def _one_batch(parts: list[Batch], first: int, end_offset: int, end_row: int, eof: bool) -> Batch:
    """One batch of consecutive `parts`: as columns when they all came so, with the same width."""
    widths = {len(p.columns) if p.columns is not None else -1 for p in parts}
    if len(widths) == 1 and -1 not in widths:
        if len(parts) == 1:
            return Batch(None, first, end_offset, end_row, eof, False, parts[0].columns)
        columns = [list(chain.from_iterable(p.columns[c] for p in parts)) for c in range(widths.pop())]  # type: ignore[index]
        return Batch(None, first, end_offset, end_row, eof, False, columns)
    records = parts[0].records if len(parts) == 1 else [r for p in parts for r in p.records]
    return Batch(records, first, end_offset, end_row, eof, any(p.has_nul for p in parts))


def _first_line_end(text: str, *, final: bool) -> int:
    """Where the first line of `text` ends (after its "\n", "\r\n" or "\r"), or 0; a "\r" that ends `text`
    counts only when `final` (more text may bring its "\n")."""
    ends = [i for i in (text.find("\n"), text.find("\r", 0, len(text) if final else len(text) - 1)) if i >= 0]
    if not ends:
        return 0
    cut = min(ends) + 1
    return cut + 1 if text[cut - 1] == "\r" and text[cut : cut + 1] == "\n" else cut


def plain_lines(path: str, options: ImportOptions, offset: int, limit: int, chunk_bytes: int = DEFAULT_CHUNK_BYTES
                ) -> tuple[int, int]:
    """Count up to `limit` lines of the file at `path` from byte `offset` (where a record starts) without
    reading them as records; return the byte offset after the last line counted and how many were counted.

    Only lines that are one record each beyond doubt are counted: whole lines (ended by LF or CRLF), in an
    encoding where a byte below 0x80 is always that ASCII character (`PLAIN_CODECS`), in pieces of
    `chunk_bytes` without the quote character, a NUL or a CR outside a CRLF. The count stops before the first
    piece that has one of those, and before a last line without its end: a `RecordReader` reads on from there.
    A blank line is a record too (the csv module reads it as an empty one), and so is an over-long one (a
    reject). For one who skips records, not needing them: 4.4 ms for 20,000 rows in a freshly forked child,
    where reading them took 15.5 ms.
    """
    codec, _ = codec_and_bom(options.encoding or "utf-8")
    quote = ('"' if options.quotechar is None else options.quotechar).encode("utf-8")
    if not _plain_codec(codec) or len(quote) > 1:
        return offset, 0
    special = {*quote, 0, 13, 10}
    others = bytes(b for b in range(256) if b not in special)
    counted = 0
    with open(path, "rb") as f:
        f.seek(offset)
        while counted < limit:
            chunk = f.read(chunk_bytes)
            end = chunk.rfind(b"\n") + 1  # whole lines only
            whole = chunk[:end]
            skeleton = whole.translate(None, others)  # its quotes, NULs, CRs and LFs alone, in order
            crs = skeleton.count(b"\r")  # each must be a CRLF's: "\ra\n" has the skeleton "\r\n" too
            if not end or (quote and quote in skeleton) or b"\0" in skeleton or (crs and whole.count(b"\r\n") != crs):
                break
            lines = skeleton.count(b"\n")
            if counted + lines > limit:
                lines = limit - counted
                end = _after_lines(chunk, lines)
            counted += lines
            offset += end
            f.seek(offset)
    return offset, counted


def _after_lines(chunk: bytes, lines: int) -> int:
    """Where the `lines`-th LF of `chunk` ends (it has more than `lines`, at least one is asked): from a guess
    (lines about alike), a few LFs on or back. Counting bytes is C; `split` made an object a line."""
    guess = len(chunk) * lines // chunk.count(b"\n")
    seen = chunk.count(b"\n", 0, guess)
    while seen < lines:
        guess = chunk.index(b"\n", guess) + 1
        seen += 1
    for _ in range(seen - lines + 1):  # back to the lines-th LF: the last one before `guess` is the seen-th
        guess = chunk.rindex(b"\n", 0, guess)
    return guess + 1


PLAIN_CODECS = ("utf-8", "ascii", "iso8859-", "cp125")
"""Codecs (names as `codecs.lookup` gives them, or their start) in which a byte below 0x80 is always that ASCII
character, never part of another one: UTF-8, ASCII, ISO-8859-*, Windows' cp125x. Not UTF-16 or UTF-32 (two or
four bytes a character), nor Shift-JIS, GBK or ISO-2022-JP, whose characters may hold such bytes."""


def _plain_codec(codec: str) -> bool:
    """Whether `codec` is one of `PLAIN_CODECS`."""
    try:
        name = codecs.lookup(codec).name
    except LookupError:
        return False
    return name.startswith(PLAIN_CODECS)


class _LongLine(Exception):
    """Raised through the csv reader when a line longer than the limit was skipped."""


def csv_format(options: ImportOptions) -> dict[str, Any]:
    """Return the keyword arguments for `csv.reader` that the options describe (strict quoting)."""
    quote = '"' if options.quotechar is None else options.quotechar
    fmt: dict[str, Any] = {"delimiter": options.delimiter or ",", "strict": True}
    if quote:
        fmt["quotechar"] = quote
        if NOT_NULL_QUOTING is not None:
            fmt["quoting"] = NOT_NULL_QUOTING
    else:
        fmt["quoting"] = csv.QUOTE_NONE
    return fmt


HEADER_CHUNK_BYTES = 1 << 12
"""`read_header` reads this much at a time: a header is short, and decoding a batch's 1 MB chunk for it took
16-30 ms of the browser's import (twice, before `prepare` and in it), 64 KB about 1 ms of CPython's (its lines
split into fields); a longer header takes more chunks."""


def read_header(path: str, options: ImportOptions) -> tuple[list[str], int]:
    """Return the first record of the file (the header) and the byte offset where the data starts.

    An empty file gives ([], offset). Raises what `RecordReader.read_batch` raises.
    """
    with RecordReader(path, options, chunk_bytes=HEADER_CHUNK_BYTES) as reader:
        batch = reader.read_batch(1)
    first = batch.records[0] if batch.records else []
    if isinstance(first, BadRecord):
        return [], batch.end_offset
    return [cell or "" for cell in first], batch.end_offset
