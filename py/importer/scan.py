"""Whole-file type scan: every row of the file through a `TypeTracker`, in bounded memory, resumable.

Role: the first look (`sniff`) sees the first 64 KB; types settled there can be contradicted later in the
file ('NA' in row 9,000 of an integer column). The scan parses every record exactly as the import will
(`csv.reader` with `reader.csv_format(options)`), counts each column's values (`infer.TypeTracker`) and
gives whole-file guesses with evidence. Bytes are fed in order (`Scanner.feed`), from a picked `File` in
the worker's preview or from the staged copy in the import job (`scan_steps`); a record still open at the
end of the bytes fed so far waits for the next ones. `Scanner.offset`/`row` always name a record boundary
and the tracker's state is JSON-able, so a scan can stop after any chunk and resume there.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import csv
import io
import operator
from collections.abc import Callable
from itertools import compress, repeat
from typing import Any

from importer.errors import EncodingError, LineTooLongError, UnterminatedQuoteError
from importer.infer import ColumnGuess, TypeTracker
from importer.options import ColumnSpec, ImportOptions, codec_and_bom
from importer.reader import MAX_RECORD_BYTES, csv_format

SCAN_CHUNK_BYTES = 1 << 20
SCAN_STEP_BYTES = 64 << 20
"""The import job scans in steps of this many bytes, each a checkpoint a resumed run starts from."""


class Scanner:
    """Parse CSV bytes fed in order and add every data record of `width` fields to a tracker.

    `offset` and `row` are where the scan starts (byte offset and row number; 0 and 1 for the start of
    the file, where a byte-order mark is skipped and, with `skip_header`, the first record too). `state`
    continues a tracker from `TypeTracker.to_state()`. Records of another width, with NUL bytes or that
    csv cannot parse are left out: the import rejects them.

    A slice of text without quote characters, lone carriage returns, NULs or over-long lines is split
    with `str.split` (what `csv.reader` would read there, at a fraction of its cost) and handed to the
    tracker column by column; any other slice goes through `csv.reader`. A record still open (a line
    without its end, or a quoted field spanning lines) is kept as pieces and parsed again only once it
    has doubled, so a giant record costs linear time, not quadratic.
    """

    def __init__(
        self,
        options: ImportOptions,
        width: int,
        *,
        offset: int = 0,
        row: int = 1,
        skip_header: bool = False,
        state: dict[str, Any] | None = None,
    ) -> None:
        self._codec, bom = codec_and_bom(options.encoding or "utf-8")
        self._bom = bom if offset == 0 else b""
        self._decoder = codecs.getincrementaldecoder(self._codec)()
        self._format = csv_format(options)
        self._quote = self._format.get("quotechar", '"')
        self._quoting = self._format.get("quoting") != csv.QUOTE_NONE
        self._delimiter: str = self._format["delimiter"]
        self._width = width
        self._skip_header = skip_header
        self._pieces: list[str] = []  # the text after the last record parsed: an open record, maybe more
        self._chars = 0  # characters in `_pieces`
        self._pending_bytes = 0  # bytes those characters came from
        self._retry_at = 0  # parse the pieces again once they hold this many characters (and a line end)
        self._fed = offset
        self.offset = offset
        self.row = row
        self.tracker = TypeTracker(
            null_markers=options.null_markers, decimal_comma=bool(options.decimal_comma), exact_hints=False
        )
        if state is not None:
            self.tracker.load_state(state)

    def feed(self, data: bytes, *, final: bool = False) -> None:
        """Parse the complete records in `data` (after what was fed before); `final` marks the end of file.

        Raises `EncodingError` (bytes that do not decode), `UnterminatedQuoteError` (a quote open at the
        end of the file) and `LineTooLongError` (a record longer than `MAX_RECORD_BYTES`).
        """
        if self._bom and self._fed == 0 and data.startswith(self._bom):
            data = data[len(self._bom) :]
            self._fed = self.offset = len(self._bom)
        held = len(self._decoder.getstate()[0])
        try:
            text = self._decoder.decode(data, final=final)
        except UnicodeDecodeError as exc:
            raise EncodingError(self._codec, self._fed + exc.start) from exc
        self._fed += len(data)
        self._pending_bytes += held + len(data) - len(self._decoder.getstate()[0])
        if text:
            self._pieces.append(text)
            self._chars += len(text)
        ends = "\n" in text or "\r" in text
        if final or self._chars > MAX_RECORD_BYTES or (ends and self._chars >= self._retry_at):
            self._parse_pending(final)
        self.offset = self._fed - len(self._decoder.getstate()[0]) - self._pending_bytes

    def guesses(self, *, whole_file: bool) -> list[ColumnGuess]:
        """Return one guess per column for the rows scanned so far."""
        return self.tracker.guesses(self._width, whole_file=whole_file)[: self._width]

    def _parse_pending(self, final: bool) -> None:
        """Parse the complete records of the pending text; keep the rest (an open record) pending."""
        text = "".join(self._pieces)
        cut = len(text) if final else max(text.rfind("\n"), text.rfind("\r", 0, len(text) - 1)) + 1
        used = self._parse(text[:cut], final) if cut else 0
        rest = text[used:]
        if len(rest) > MAX_RECORD_BYTES:
            raise LineTooLongError(self.offset, MAX_RECORD_BYTES)
        self._pending_bytes = len(rest.encode(self._codec)) if used else self._pending_bytes
        self._pieces = [rest] if rest else []
        self._chars = len(rest)
        opened = "\n" in rest or "\r" in rest  # a quoted field spans lines: wait until it has doubled
        self._retry_at = 2 * len(rest) if opened else 0

    def _parse(self, piece: str, final: bool) -> int:
        """Add the complete records of `piece`; return how many characters they took."""
        if self._plain(piece):
            lines = _lines(piece)
            if max(map(len, lines)) <= csv.field_size_limit():  # csv.reader refuses a longer field
                self._add_lines(lines)
                return len(piece)
        stream = io.StringIO(piece, newline="")
        reader = csv.reader(stream, **self._format)
        records: list[list[str] | None] = []  # None: a record csv could not parse (it still takes a row)
        used = len(piece)
        while True:
            try:
                records.extend(reader)  # at C speed; on an error the records before it are kept
                break
            except csv.Error as exc:
                if "unexpected end of data" in str(exc):
                    if final:
                        raise UnterminatedQuoteError(self.row + len(records), self._quote) from exc
                    used = self._end_of_records(piece, len(records))  # the open record waits for more bytes
                    break
                records.append(None)
        first = self.row
        self.row += len(records)
        if self._skip_header and records:
            self._skip_header = False
            records[0] = None
        nul = "\x00" in piece
        if None not in records and not nul and {len(r) for r in records if r is not None} <= {self._width}:
            self.tracker.add_columns([list(c) for c in zip(*records, strict=True)], first)
            return used
        rows = [(first + i, r) for i, r in enumerate(records) if r is not None and len(r) == self._width]
        if nul:
            rows = [(n, r) for n, r in rows if not any("\x00" in v for v in r if v)]
        if rows:
            self.tracker.add_batch([r for _, r in rows], rows[0][0], [n for n, _ in rows])
        return used

    def _plain(self, piece: str) -> bool:
        """Return True when `csv.reader` reads `piece` as its lines split at the delimiter (when no line is
        longer than csv's field size limit): no quote character (when quoting is on), no NUL, and no
        carriage return but in CRLF."""
        if (self._quoting and self._quote in piece) or "\x00" in piece:
            return False
        return "\r" not in piece or piece.count("\r") == piece.count("\r\n")

    def _add_lines(self, lines: list[str]) -> None:
        """Add the records of a `_plain` piece split at its line ends: each line split at the delimiter."""
        if lines[-1] == "":
            lines.pop()  # the piece ends with a line end
        first, width, delimiter = self.row, self._width, self._delimiter
        self.row += len(lines)
        counts = list(map(str.count, lines, repeat(delimiter)))
        keep: list[bool] | None = None
        if counts.count(width - 1) != len(counts) or (width == 1 and "" in lines):
            keep = list(map((width - 1).__eq__, counts))
            if width == 1:  # an empty line is no record (csv.reader gives []), not one empty value
                keep = list(map(operator.and_, keep, map(bool, lines)))
        if self._skip_header and lines:
            self._skip_header = False
            keep = keep or [True] * len(lines)
            keep[0] = False
        numbers: list[int] | None = None
        if keep is not None:
            numbers = list(compress(range(first, first + len(lines)), keep))
            lines = list(compress(lines, keep))
        if not lines:
            return
        values = delimiter.join(lines).split(delimiter)
        columns = [values[j::width] for j in range(width)]
        self.tracker.add_columns(columns, numbers[0] if numbers else first, numbers)

    def _end_of_records(self, piece: str, count: int) -> int:
        """Return where the first `count` records of `piece` end (parsing them again, errors included)."""
        stream = io.StringIO(piece, newline="")
        reader = csv.reader(stream, **self._format)
        for _ in range(count):
            with contextlib.suppress(csv.Error):
                next(reader)
        return stream.tell()


def _lines(piece: str) -> list[str]:
    """Split a `Scanner._plain` piece at its line ends ("\\n" or "\\r\\n")."""
    if "\r" not in piece:
        return piece.split("\n")
    if piece.count("\n") == piece.count("\r"):  # every line ends with CRLF (splitting is cheaper than replacing)
        return piece.split("\r\n")
    return piece.replace("\r\n", "\n").split("\n")


def apply_scan(options: ImportOptions, guesses: list[ColumnGuess]) -> ImportOptions:
    """Return `options` whose provisional columns take the whole-file type, date format and null markers.

    Columns the user set (not provisional) are kept as they are, and so are every column's rules (the
    email rule included): rules are the user's, the scan only settles how values are read.
    """
    columns: list[ColumnSpec] = []
    for spec in options.columns:
        guess = guesses[spec.source] if spec.source < len(guesses) else None
        if spec.provisional and guess is not None:
            spec = spec.model_copy(update={
                "type": guess.type,
                "date_format": guess.date_format,
                "null_markers": list(guess.null_markers),
                "provisional": False,
            })
        columns.append(spec)
    return options.model_copy(update={"columns": columns})


def needs_scan(options: ImportOptions) -> bool:
    """Return True when a kept column's type is still a first look."""
    return any(spec.provisional for spec in options.kept_columns())


async def scan_file(
    path: str,
    options: ImportOptions,
    width: int,
    cursor: dict[str, Any],
    *,
    size: int,
    step_bytes: int = SCAN_STEP_BYTES,
    chunk_bytes: int = SCAN_CHUNK_BYTES,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Scan the staged file at `path` from `cursor` for about `step_bytes`; return the cursor after it.

    A cursor is `{"offset", "row", "state", "done"}`; start with `{"offset": 0, "row": 1, "state": None,
    "done": False}`. The returned cursor names a record boundary, so the next call (maybe in a resumed run)
    continues there. Yields to the event loop between chunks, so a cancel lands within one chunk.
    """
    start = int(cursor["offset"])
    scanner = Scanner(
        options,
        width,
        offset=start,
        row=int(cursor["row"]),
        skip_header=start == 0 and bool(options.has_header),
        state=cursor.get("state"),
    )
    chunk_bytes = max(1, min(chunk_bytes, step_bytes))
    with open(path, "rb") as f:
        f.seek(start)
        done = start
        while True:
            data = f.read(chunk_bytes)
            final = not data or done + len(data) >= size
            scanner.feed(data, final=final)
            done += len(data)
            if on_progress is not None:
                on_progress(scanner.offset, size)
            if final:
                break
            if done - start >= step_bytes and scanner.offset > start:  # a step ends past a record, never
                break  # inside one that is longer than the step (it would start there again, forever)
            await asyncio.sleep(0)
    return {"offset": scanner.offset, "row": scanner.row, "state": scanner.tracker.to_state(), "done": final}


def scan_guesses(cursor: dict[str, Any], options: ImportOptions, width: int) -> list[ColumnGuess]:
    """Return the whole-file guesses of a finished scan cursor."""
    tracker = TypeTracker(
        null_markers=options.null_markers, decimal_comma=bool(options.decimal_comma), exact_hints=False
    )
    if cursor.get("state"):
        tracker.load_state(cursor["state"])
    return tracker.guesses(width, whole_file=True)[:width]
