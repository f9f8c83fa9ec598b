"""Slices of checked rows for the import's batches: read and checked here, or ahead in a second process.

Role: a batch (job.py `_Batches`) takes consecutive slices, each the rows to insert and the rejects of up to
`slice_rows` records, and inserts them. `LocalSlices` reads and checks each slice when asked, in this process
(the browser's only choice). `ForkedSlices` does the same work in a forked child process, one slice ahead, so
on a machine with two cores the parsing and checking of the next slice overlaps the insert of this one; the
parent only unpacks and inserts. Both give the same slices from the same position: the child runs a
`LocalSlices` itself. The cursor a batch commits is always the end of a slice the parent has inserted, so a
child that dies, fails or is left behind costs nothing but its work: the parent reads on by itself from the
last slice it got (and meets the same error there, if the file has one).

A child cannot see rows of the batch not committed yet, so a table with a unique column reads locally.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from importer.options import ImportOptions
from importer.reader import Batch, RecordReader, plain_lines
from importer.validate import CheckedColumns, ExistingValues, Reject, RowChecker

if TYPE_CHECKING:
    from multiprocessing.connection import Connection


@dataclass(slots=True)
class Slice:
    """One slice: what its check found (`checked`: the rows to insert, column-wise, and the rejects), how many
    `records` it read, the position after it, and the seconds its reading (`parse`) and checking (`convert`)
    took, in whichever process did them. It travels between processes as `pack()`'s bytes."""

    checked: CheckedColumns
    records: int
    offset: int
    row: int
    eof: bool
    parse: float
    convert: float
    local: bool = field(default=False, compare=False)
    """Read and checked in this process (not packed: a slice that came through the pipe was not); where a slice
    came from, not what it holds, so two slices alike but for it are equal."""

    def pack(self) -> bytes:
        """This slice as marshal bytes: columns of plain values (int, float, str, None) marshal in about half
        the time pickle takes, both ways. Raises ValueError for a value marshal cannot write."""
        c = self.checked
        rejects = [(r.row, r.raw, r.reasons) for r in c.rejects]
        return marshal.dumps((c.columns, c.keep, rejects, self.records, self.offset, self.row, self.eof,
                              self.parse, self.convert))

    @classmethod
    def unpack(cls, data: bytes) -> Slice:
        """The slice `pack()` wrote."""
        columns, keep, rejects, records, offset, row, eof, parse, convert = marshal.loads(data)
        checked = CheckedColumns(columns, keep, [Reject(*r) for r in rejects])
        return cls(checked, records, offset, row, eof, parse, convert)


@dataclass(frozen=True, slots=True)
class SliceSettings:
    """What reading a slice needs besides the position."""

    path: str
    options: ImportOptions
    width: int
    chunk_bytes: int
    slice_steps: int


class LocalSlices:
    """Read and check slices in this process, from byte `offset` where row number `row` starts."""

    def __init__(self, settings: SliceSettings, checker: RowChecker, offset: int, row: int) -> None:
        self._settings = settings
        self._checker = checker
        self._reader = self._open(offset, row)

    @property
    def position(self) -> tuple[int, int]:
        """(byte offset, row number) just past the last slice."""
        return self._reader.offset, self._reader.row

    def next(self, limit: int, existing: ExistingValues | None) -> Slice:
        """The next slice of at most `limit` records; `existing` looks up values of unique columns in the table."""
        began = time.perf_counter()
        batch = self._read(limit)
        parsed = time.perf_counter()
        checked = self._checker.check_batch(batch, existing)
        return Slice(checked, batch.count, batch.end_offset, batch.end_row, batch.eof, parsed - began,
                     time.perf_counter() - parsed, local=True)

    def skip(self, records: int) -> None:
        """Move past the next `records` records (fewer at the end of the file) without checking them: lines
        that are a record each beyond doubt are only counted (reader.py `plain_lines`), the rest read."""
        offset, row = self.position
        after, lines = plain_lines(self._settings.path, self._settings.options, offset, records,
                                   self._settings.chunk_bytes)
        if lines:
            self._reader.close()
            self._reader = self._open(after, row + lines)
        if records > lines:
            self._reader.read_batch(records - lines)

    def close(self) -> None:
        self._reader.close()

    def _read(self, limit: int) -> Batch:
        """Up to `limit` records, fewer when the column patterns could not check them all within `slice_steps`
        (then the reader is opened again where the slice began and reads only those), so the batch's time
        budget is looked at again before the patterns can cost more."""
        offset, row = self.position
        batch = self._reader.read_batch(limit)
        if self._checker.surely_affordable(batch.count, self._settings.slice_steps):
            return batch  # without making the rows of a batch that came as columns
        fit = self._checker.affordable(batch.records, self._settings.slice_steps)
        if fit == batch.count:
            return batch
        self._reader.close()
        self._reader = self._open(offset, row)
        return self._reader.read_batch(fit)

    def _open(self, offset: int, row: int) -> RecordReader:
        s = self._settings
        return RecordReader(s.path, s.options, offset=offset, row=row, chunk_bytes=s.chunk_bytes)


HEAD_SLICES = 4
"""The first slices a `ForkedSlices` reads here, while its child skips them: see `ForkedSlices`."""


class ForkedSlices:
    """Slices of `slice_rows` records read and checked one ahead by a forked child process.

    The first `HEAD_SLICES` slices' records are read and checked here, while the child only moves past them
    (`LocalSlices.skip`: their lines counted where each is a record beyond doubt, else read without the check or the
    packing) and goes on from there. The child's work sets the pace of an import (it reads and checks, this process
    only inserts), and a forked child starts late and slow (its first rows came 4.5 ms after the fork, its first
    5,000 at 2.2 us a row, warm 1.05): this process would only wait for it meanwhile, so it takes the head of the
    file instead, and the child is that much further on when it is needed. The child first sends the position it
    starts from; one other than where the head ended here (which reading the same records from the same place rules
    out) stops it, and the slices go on here.
    `next()` ignores its `limit` after the head: the child cuts every slice at `slice_rows`, its first and
    its last in smaller pieces that add up to it (`child_limits`), so a batch of a multiple of it ends at the
    row a local one would. If the child stops early (an error in the file, a crash), the slices go on locally
    from the position after the last one received.
    """

    def __init__(self, settings: SliceSettings, checker: RowChecker, offset: int, row: int, slice_rows: int) -> None:
        self._settings = settings
        self._checker = checker
        self._position = (offset, row)
        self._local: LocalSlices | None = None
        self._head: LocalSlices | None = LocalSlices(settings, checker, offset, row)
        self._head_left = HEAD_SLICES * slice_rows
        import multiprocessing  # here: never imported in the browser, which cannot fork

        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        _widen(send)
        self._child = context.Process(target=_produce, daemon=True,
                                      args=(self._receive, send, settings, offset, row, slice_rows, self._head_left))
        self._child.start()
        send.close()

    @property
    def position(self) -> tuple[int, int]:
        return self._local.position if self._local is not None else self._position

    def next(self, limit: int, existing: ExistingValues | None) -> Slice:
        if self._head is not None:
            piece = self._head.next(min(limit, self._head_left), existing)
            self._head_left -= piece.records
            self._position = (piece.offset, piece.row)
            if piece.eof or self._head_left <= 0:
                self._end_head(piece.eof)
            return piece
        if self._local is None:
            try:
                got: Slice | None = Slice.unpack(self._receive.recv_bytes())
            except (EOFError, OSError, ValueError, TypeError):  # the child died, or said it stopped (b"")
                got = None
            if got is not None:
                self._position = (got.offset, got.row)
                return got
            self._read_here()
        assert self._local is not None
        return self._local.next(limit, existing)

    def close(self) -> None:
        self._stop_child()
        for source in (self._head, self._local):
            if source is not None:
                source.close()

    def _end_head(self, eof: bool) -> None:
        """The head is read: go on with the child's slices if it starts where the head ended, else here."""
        head, self._head = self._head, None
        assert head is not None
        if eof:  # nothing is left for the child
            self._stop_child()
            self._local = head
            return
        head.close()
        try:
            start = marshal.loads(self._receive.recv_bytes())
        except (EOFError, OSError, ValueError, TypeError):  # the child died, or said it stopped (b"")
            start = None
        if start != self._position:
            self._read_here()

    def _read_here(self) -> None:
        self._stop_child()
        self._local = LocalSlices(self._settings, self._checker, *self._position)

    def _stop_child(self) -> None:
        if self._child.is_alive():
            self._child.kill()
        self._child.join()
        self._receive.close()


def _produce(receive: Connection, send: Connection, settings: SliceSettings, offset: int, row: int,
             slice_rows: int, skip: int) -> None:
    """The child: read past the `skip` records the parent reads itself, send the position it starts from, then
    packed slices until the end of the file; on any error send b"" (the parent reads on by itself, and meets
    the error where it is). Leaves with os._exit: nothing the parent holds is closed or
    flushed here. It first closes its copy of the pipe's reading end (`receive`, inherited by the fork): kept
    open, a parent that was killed left the child blocked for ever on a full pipe that only it could read."""
    gc.disable()  # as the batches run in the parent: millions of new objects, none in cycles
    receive.close()
    try:
        source = LocalSlices(settings, RowChecker(settings.options, settings.width), offset, row)
        source.skip(skip)
        send.send_bytes(marshal.dumps(source.position))
        limits = child_limits(slice_rows, os.path.getsize(settings.path), lambda: source.position[0])
        while True:
            piece = source.next(next(limits), None)
            send.send_bytes(piece.pack())
            if piece.eof:
                break
    except BaseException:  # whatever it is, the parent meets it again when it reads locally
        with contextlib.suppress(BaseException):  # the parent may have gone: nothing to tell then
            send.send_bytes(b"")
    finally:
        os._exit(0)


def child_limits(slice_rows: int, size: int, offset: Callable[[], int]) -> Iterator[int]:
    """The child's limit for each slice: `slice_rows`, but the first `slice_rows` records in `slice_pieces`,
    smallest first, and the last ones in the same pieces, smallest last, from where no more than one and a
    half slices as long as the last are left of the file's `size` bytes (`offset()`: where the next slice
    starts). The pieces add up to `slice_rows`, so every slice still ends at a multiple of it. The parent
    waits for the child's first piece and inserts its last one after the child is done: a forked child's
    first 5,000 rows took 23 ms to arrive (the fork, then a cold child) where 625 rows took 8 ms (reading
    5,000 here took 14 ms); the rest follows while the parent inserts."""
    pieces = slice_pieces(slice_rows)
    start = offset()
    yield from pieces
    while True:
        at = offset()
        if size - at <= 1.5 * (at - start):  # the end is near: rows at the end of a file are often longer
            yield from reversed(pieces)
        else:
            yield slice_rows
        start = at


def slice_pieces(slice_rows: int) -> list[int]:
    """`slice_rows` cut into 1/8, 1/8, 1/4 and the rest (about 1/2); fewer pieces when it is under 8."""
    eighth, quarter = slice_rows // 8, slice_rows // 4
    return [n for n in (eighth, eighth, quarter, slice_rows - 2 * eighth - quarter) if n > 0]


PIPE_BYTES = 1 << 20
"""The pipe's buffer (Linux's default is 64 KB): room for a few slices, so the child reads on while the parent
commits a batch instead of waiting for it to take the next slice."""


def _widen(end: Any) -> None:
    """Give the pipe behind `end` a buffer of PIPE_BYTES where the platform allows it (Linux); else leave it."""
    with contextlib.suppress(ImportError, AttributeError, OSError):
        import fcntl

        fcntl.fcntl(end.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def can_fork() -> bool:
    """Whether this platform can read ahead in a forked process (not in the browser, nor on Windows)."""
    try:
        import multiprocessing  # here: see ForkedSlices

        return "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) > 1
    except ImportError:
        return False
