"""Reading ahead in a second process (importer.slices): the same slices as reading here, whatever happens to
the child, and the same table through the whole job."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.importer.conftest import run_import

from importer import UnterminatedQuoteError
from importer.options import ImportOptions
from importer.slices import (
    HEAD_SLICES,
    ForkedSlices,
    LocalSlices,
    Slice,
    SliceSettings,
    can_fork,
    child_limits,
    slice_pieces,
)
from importer.validate import RowChecker

pytestmark = pytest.mark.skipif(not can_fork(), reason="reading ahead needs fork and two cores")

COLUMNS = [
    {"source": 0, "name": "id", "type": "integer", "required": True},
    {"source": 1, "name": "name", "type": "text", "regex": "[A-Z][a-z]+ [0-9]+"},
    {"source": 2, "name": "amount", "type": "real", "min": 0},
]


def write_file(path: Path, rows: int, *, tail: str = "") -> None:
    rng = random.Random(7)
    lines = ["id,name,amount"]
    for i in range(rows):
        kind = rng.randrange(40)
        if kind == 0:
            lines.append(f"x{i},Name {i},1.5")  # not an integer
        elif kind == 1:
            lines.append(f"{i},Name {i}")  # too few fields
        elif kind == 2:
            lines.append(f'{i},"Name\n{i}",-3')  # a newline in a field, a negative amount
        elif kind == 3:
            lines.append(f"{i},Name {i},2\x00")  # a NUL byte
        else:
            lines.append(f"{i},Name {i},{rng.random() * 100:.2f}")
    path.write_text("\n".join(lines) + "\n" + tail, encoding="utf-8")


def settings(path: Path) -> SliceSettings:
    options = ImportOptions.model_validate({"encoding": "utf-8", "delimiter": ",", "quotechar": '"',
                                            "has_header": True, "columns": COLUMNS})
    return SliceSettings(str(path), options, 3, chunk_bytes=4096, slice_steps=10_000_000)


def every_slice(source: LocalSlices | ForkedSlices, limit: int, limits: Iterator[int] | None = None) -> list[Slice]:
    """Every slice to the end, of `limits`' records each, or `limit`; the source closed after."""
    out: list[Slice] = []
    limits = limits or iter(())
    try:
        while not (out and out[-1].eof):
            out.append(source.next(next(limits, limit), None))
        return out
    finally:
        source.close()


def content(piece: Slice) -> tuple[object, ...]:
    """What a slice holds and where it ends, without the timings (which differ by run)."""
    return list(piece.checked.rows()), piece.checked.rejects, piece.records, piece.offset, piece.row, piece.eof


def drain(source: LocalSlices | ForkedSlices, limit: int, limits: Iterator[int] | None = None
          ) -> list[tuple[object, ...]]:
    """The content of every slice to the end (`every_slice`)."""
    return [content(piece) for piece in every_slice(source, limit, limits)]


def drain_as_forked(s: SliceSettings, slice_rows: int) -> list[tuple[object, ...]]:
    """Every slice, read here as a `ForkedSlices` gives them: its head (`HEAD_SLICES` slices, read in the
    parent) in slices of `slice_rows`, the limit asked, then the child's slices, with the child's limits."""
    local = LocalSlices(s, RowChecker(s.options, 3), 15, 2)

    def limits() -> Iterator[int]:
        yield from [slice_rows] * HEAD_SLICES
        yield from child_limits(slice_rows, os.path.getsize(s.path), lambda: local.position[0])

    return drain(local, slice_rows, limits())


def flat(slices: list[tuple[object, ...]]) -> tuple[object, ...]:
    """The rows and rejects of `slices` one after the other, their records and the position after the last."""
    rows = [r for p in slices for r in p[0]]  # type: ignore[attr-defined]
    rejects = [r for p in slices for r in p[1]]  # type: ignore[attr-defined]
    return rows, rejects, sum(p[2] for p in slices), slices[-1][3:]  # type: ignore[misc]


def test_forked_slices_equal_local_ones(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    write_file(path, 20_000)
    s = settings(path)
    local = drain_as_forked(s, 700)
    forked = drain(ForkedSlices(s, RowChecker(s.options, 3), 15, 2, slice_rows=700), 700)
    assert forked == local
    # the head read here, then the child's first 700 records in pieces, then 700s
    assert [p[2] for p in forked[:HEAD_SLICES + 5]] == [700] * HEAD_SLICES + [87, 87, 175, 351, 700]
    assert forked[-1][2] <= 351  # and the last ones: the parent has less to insert once the child is done
    assert flat(local) == flat(drain(LocalSlices(s, RowChecker(s.options, 3), 15, 2), 700))  # the same rows
    assert sum(len(p[1]) for p in local) > 1_000  # the file's rejects came through


def test_the_parent_reads_the_head_while_the_child_reads_past_it(tmp_path: Path) -> None:
    """The first `HEAD_SLICES` slices are read here, the rest came from the child (the one process checks
    them, the other only reads past them), and together they are the file's slices read here."""
    path = tmp_path / "data.csv"
    write_file(path, 20_000)
    s = settings(path)
    pieces = every_slice(ForkedSlices(s, RowChecker(s.options, 3), 15, 2, slice_rows=700), 700)
    assert [p.local for p in pieces[:HEAD_SLICES + 1]] == [True] * HEAD_SLICES + [False]
    assert not any(p.local for p in pieces[HEAD_SLICES:])
    assert flat([content(p) for p in pieces]) == flat(drain(LocalSlices(s, RowChecker(s.options, 3), 15, 2), 700))


def test_a_child_that_starts_elsewhere_than_the_head_ended_is_not_used(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The child says where its slices start; one that read past a record more than the parent read (a
    mistake the same reader from the same place rules out, made here on purpose) is stopped, and the parent
    reads on by itself: no row lost, none twice."""
    skip = LocalSlices.skip
    monkeypatch.setattr(LocalSlices, "skip", lambda self, records: skip(self, records + 1))  # the forked child's
    path = tmp_path / "data.csv"
    write_file(path, 20_000)
    s = settings(path)
    pieces = every_slice(ForkedSlices(s, RowChecker(s.options, 3), 15, 2, slice_rows=700), 700)
    assert all(p.local for p in pieces)
    assert flat([content(p) for p in pieces]) == flat(drain(LocalSlices(s, RowChecker(s.options, 3), 15, 2), 700))


def test_a_file_shorter_than_the_head_is_read_here_and_the_child_stopped(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    write_file(path, 1_000)
    s = settings(path)
    forked = ForkedSlices(s, RowChecker(s.options, 3), 15, 2, slice_rows=700)
    first, second = forked.next(700, None), forked.next(700, None)
    assert (first.eof, second.eof, first.local, second.local) == (False, True, True, True)
    assert not forked._child.is_alive()  # stopped once the head reached the end of the file
    forked.close()
    assert [content(first), content(second)] == drain(LocalSlices(s, RowChecker(s.options, 3), 15, 2), 700)


@pytest.mark.parametrize(("slice_rows", "pieces"), [(1, [1]), (2, [2]), (5, [1, 4]), (8, [1, 1, 2, 4]),
                                                  (700, [87, 87, 175, 351]), (5_000, [625, 625, 1_250, 2_500])])
def test_a_slice_cut_in_pieces_adds_up_to_one_slice(slice_rows: int, pieces: list[int]) -> None:
    """So a batch of a multiple of `slice_rows` records ends at the same row reading ahead as reading here."""
    assert slice_pieces(slice_rows) == pieces


def test_the_child_cuts_its_first_and_last_slice_in_pieces() -> None:
    """A file of 104 one-byte records, slices of 8: the first slice in pieces smallest first, then whole ones
    while more than a slice's bytes are left, then the last slice's pieces smallest last."""
    at = 0
    limits = child_limits(8, 104, lambda: at)
    got = []
    while at < 104:
        got.append(next(limits))
        at += got[-1]
    assert got == [1, 1, 2, 4, *[8] * 11, 4, 2, 1, 1]


def test_a_child_killed_mid_file_leaves_the_parent_reading_on_by_itself(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    write_file(path, 20_000)
    s = settings(path)
    local = drain(LocalSlices(s, RowChecker(s.options, 3), 15, 2), 700)
    forked = ForkedSlices(s, RowChecker(s.options, 3), 15, 2, slice_rows=700)
    first = [forked.next(700, None) for _ in range(HEAD_SLICES + 1)]  # the head, then the child's first piece
    assert not first[-1].local
    forked._child.kill()  # the child dies with slices unsent (some may still be in the pipe)
    forked._child.join()
    rest = drain(forked, 700)
    # no row lost, none twice: wherever the child stopped, the parent went on
    assert flat([*map(content, first), *rest]) == flat(local)


def test_the_child_reads_several_slices_ahead_of_a_parent_that_is_busy(tmp_path: Path) -> None:
    """The pipe holds about PIPE_BYTES, not the platform's 64 KB: a child whose parent takes nothing (as while
    it commits a batch) sends on, here to the end of a file of about 300 KB, and exits; the slices are then
    the same as reading here."""
    path = tmp_path / "data.csv"
    write_file(path, 10_000)
    s = settings(path)
    forked = ForkedSlices(s, RowChecker(s.options, 3), 15, 2, slice_rows=1_000)
    forked._child.join(timeout=120)  # with a 64 KB pipe the child waits, unfinished, for the parent to read
    assert forked._child.exitcode == 0
    assert drain(forked, 1_000) == drain_as_forked(s, 1_000)


def test_a_slice_packs_to_bytes_and_back_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    write_file(path, 2_000)
    s = settings(path)
    source = LocalSlices(s, RowChecker(s.options, 3), 15, 2)
    piece = source.next(2_000, None)
    source.close()
    again = Slice.unpack(piece.pack())
    assert again == piece
    assert piece.checked.rejects and piece.checked.keep  # rejects and the keep mask made the trip


def test_an_error_in_the_file_is_raised_where_reading_here_raises_it(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    write_file(path, 3_000, tail='9,"open quote,1\n')
    s = settings(path)
    with pytest.raises(UnterminatedQuoteError) as here:
        drain(LocalSlices(s, RowChecker(s.options, 3), 15, 2), 500)
    with pytest.raises(UnterminatedQuoteError) as ahead:
        drain(ForkedSlices(s, RowChecker(s.options, 3), 15, 2, slice_rows=500), 500)
    assert str(ahead.value) == str(here.value)


def test_the_job_stores_the_same_rows_and_rejects_reading_ahead(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    write_file(path, 30_000)
    options = {"encoding": "utf-8", "delimiter": ",", "quotechar": '"', "has_header": True, "table": "t",
               "columns": COLUMNS}
    env = {"max_batch_rows": 4_000, "slice_rows": 1_000}
    here = run_import(tmp_path / "here", path, options, **env)
    ahead = run_import(tmp_path / "ahead", path, options, read_ahead=True, **env)
    assert here.output is not None and ahead.output is not None
    assert "wait" in ahead.output.timings and "wait" not in here.output.timings
    assert ahead.rows() == here.rows() and len(here.rows()) > 25_000
    assert ahead.rejects() == here.rejects()


def test_a_file_below_the_read_ahead_size_reads_here(tmp_path: Path) -> None:
    """`read_ahead_min_bytes` (the command line's 2 MiB): a smaller file is read in this process, one of that
    size or more by a second one; the rows are the same."""
    path = tmp_path / "data.csv"
    write_file(path, 3_000)
    size = path.stat().st_size
    options = {"encoding": "utf-8", "delimiter": ",", "quotechar": '"', "has_header": True, "table": "t",
               "columns": COLUMNS}
    env = {"read_ahead": True, "max_batch_rows": 1_000, "slice_rows": 500}
    here = run_import(tmp_path / "here", path, options, read_ahead_min_bytes=size + 1, **env)
    ahead = run_import(tmp_path / "ahead", path, options, read_ahead_min_bytes=size, **env)
    assert here.output is not None and ahead.output is not None
    assert "wait" not in here.output.timings and "wait" in ahead.output.timings
    assert here.rows() == ahead.rows() and len(here.rows()) > 2_500


def test_a_unique_column_reads_here(tmp_path: Path) -> None:
    """A child cannot see the batch's rows before they commit, so a unique column is checked here."""
    path = tmp_path / "data.csv"
    path.write_text("id\n1\n2\n1\n3\n2\n", encoding="utf-8")
    options = {"encoding": "utf-8", "delimiter": ",", "quotechar": '"', "has_header": True, "table": "t",
               "columns": [{"source": 0, "name": "id", "type": "integer", "unique": True}]}
    out = run_import(tmp_path / "job", path, options, read_ahead=True, max_batch_rows=2, slice_rows=2)
    assert out.output is not None and "wait" not in out.output.timings
    assert sorted(out.rows()) == [(1,), (2,), (3,)]
    assert [row for row, _, _ in out.rejects()] == [4, 6]


KILLED_PARENT = """
import sys, time
from pathlib import Path
from tests.importer.test_slices import settings
from importer.slices import ForkedSlices
from importer.validate import RowChecker
s = settings(Path(sys.argv[1]))
forked = ForkedSlices(s, RowChecker(s.options, 3), 15, 2, slice_rows=1_000)
print(forked._child.pid, flush=True)
time.sleep(3600)
"""


def _running(pid: int) -> bool:
    """Whether process `pid` still runs (an exited child that nobody reaped yet is a zombie: not running)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_the_child_of_a_killed_parent_exits(tmp_path: Path) -> None:
    """A parent killed while its child reads ahead (the command line killed, as tests/cli/test_resume.py does)
    must not leave the child behind: it held the pipe's reading end too, so once the pipe was full it waited
    for ever. The file is far larger than the pipe holds, so that child would have to wait."""
    path = tmp_path / "data.csv"
    write_file(path, 200_000)
    root = Path(__file__).resolve().parents[2]
    parent = subprocess.Popen([sys.executable, "-c", KILLED_PARENT, str(path)], stdout=subprocess.PIPE, text=True,
                              cwd=root, env={**os.environ, "PYTHONPATH": f"{root / 'py'}{os.pathsep}{root}"})
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait(timeout=60)
    deadline = time.monotonic() + 120  # only a child that never leaves reaches it
    while _running(child):
        if time.monotonic() > deadline:
            os.kill(child, signal.SIGKILL)
            pytest.fail("the read-ahead child outlived its killed parent")
        time.sleep(0.05)
