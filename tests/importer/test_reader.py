"""reader.py: records read in batches from any cursor equal one csv.reader pass; offsets are row ends."""

import codecs
import csv
import io
import sqlite3
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.errors import EncodingError, FieldTooLongError, UnterminatedQuoteError
from importer.options import ImportOptions
from importer.reader import FIRST_CHUNK_BYTES, RecordReader, plain_lines

cells = st.text(alphabet=st.sampled_from(list('ab,"\n\r é€😀;')), max_size=6)
tables = st.lists(st.lists(cells, min_size=2, max_size=2), min_size=1, max_size=30)


def read_all_in_batches(path, options, batch, chunk):
    """Read with a fresh reader per batch, starting each at the previous cursor (as a resumed run would)."""
    records, offset, row = [], 0, 1
    while True:
        with RecordReader(str(path), options, offset=offset, row=row, chunk_bytes=chunk) as reader:
            got = reader.read_batch(batch)
        records += got.records
        offset, row = got.end_offset, got.end_row
        if got.eof:
            return records


def file_and_oracle(directory, rows, encoding, ending):
    """`rows` written as CSV with `ending` to `directory`/f.csv in `encoding`: the file, its text, a stream over
    the text and one csv.reader pass on that stream (its `tell()` is where the pass's last record ended)."""
    text = io.StringIO(newline="")
    csv.writer(text, lineterminator=ending).writerows(rows)
    data = text.getvalue()
    path = directory / "f.csv"
    path.write_bytes(data.encode(encoding))
    stream = io.StringIO(data, newline="")
    return path, data, stream, csv.reader(stream)


@settings(max_examples=60, deadline=None)
@given(tables, st.sampled_from(["utf-8", "utf-16-le", "utf-16-be", "utf-8-sig"]), st.integers(1, 5),
       st.integers(1, 9), st.sampled_from(["\n", "\r\n", "\r"]))  # fmt: skip
def test_batches_from_cursors_read_exactly_the_records_of_one_pass(tmp_path_factory, rows, encoding, batch, chunk,
                                                                    ending):  # fmt: skip
    text = io.StringIO(newline="")
    csv.writer(text, lineterminator=ending).writerows(rows)
    codec = {"utf-8-sig": "utf-8"}.get(encoding, encoding)
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE, "utf-8-sig": codecs.BOM_UTF8}
    path = tmp_path_factory.mktemp("r") / "f.csv"
    path.write_bytes(bom.get(encoding, b"") + text.getvalue().encode(codec))
    options = ImportOptions(encoding=encoding)
    expected = list(csv.reader(io.StringIO(text.getvalue(), newline="")))
    records = read_all_in_batches(path, options, batch, chunk * 2)
    assert [["" if v is None else v for v in r] for r in records] == expected


@settings(max_examples=60, deadline=None)
@given(tables, st.sampled_from(["utf-8", "utf-16-le"]), st.lists(st.integers(1, 6), min_size=1, max_size=12),
       st.integers(1, 4), st.sampled_from(["\n", "\r\n", "\r"]))  # fmt: skip
def test_chunks_growing_from_a_small_first_one_read_the_records_of_one_pass(tmp_path_factory, rows, encoding,
                                                                             sizes, first, ending):  # fmt: skip
    """One reader whose chunks double from FIRST_CHUNK_BYTES (here 1-4 bytes) to `chunk_bytes` (64): the records
    and each batch's end offset are one csv.reader pass's, wherever the growing chunks cut the text."""
    path, data, stream, oracle = file_and_oracle(tmp_path_factory.mktemp("g"), rows, encoding, ending)
    with mock.patch("importer.reader.FIRST_CHUNK_BYTES", first), \
            RecordReader(str(path), ImportOptions(encoding=encoding), chunk_bytes=64) as reader:  # fmt: skip
        for size in sizes * 10:
            got = reader.read_batch(size)
            assert [["" if v is None else v for v in r] for r in got.records] == [next(oracle) for _ in got.records]
            assert got.end_offset == len(data[: stream.tell()].encode(encoding))
            if got.eof:
                break


def test_the_first_rows_of_a_large_file_come_from_its_first_small_chunk(tmp_path):
    """The first rows cost a split of FIRST_CHUNK_BYTES, not of `chunk_bytes`: what a process reading ahead makes
    its parent wait for before the first insert (a quote-free piece is split whole, ~15 ms a megabyte)."""
    path = tmp_path / "f.csv"
    path.write_text("a,b\n" + "".join(f"{i},x\n" for i in range(300_000)), encoding="utf-8")  # 2.5 MB
    with RecordReader(str(path), ImportOptions(encoding="utf-8"), chunk_bytes=1 << 20) as reader:
        assert reader.read_batch(3).records == [["a", "b"], ["0", "x"], ["1", "x"]]
        assert reader._file.tell() == FIRST_CHUNK_BYTES  # one chunk read, of 64 KB
        assert reader.read_batch(300_000).count == 299_998 and reader.offset == path.stat().st_size


@pytest.mark.parametrize("chunk", [2, 1 << 20])
@pytest.mark.parametrize("data", [";,;\r;\n", "a,b\r c\nd,e\r f\n", "a,b\r\nc,d\r e\n"])
def test_a_lone_carriage_return_before_a_lines_last_field_is_read_as_csv_reads_it(tmp_path, chunk, data):
    """A line's skeleton (its special characters) hides what stands between "\r" and "\n": "b\r c\n" once
    passed for a CRLF line in a quote-free piece, which split it wrong (found by the property above)."""
    path = tmp_path / "f.csv"
    path.write_bytes(data.encode())
    expected = list(csv.reader(io.StringIO(data, newline="")))
    records = read_all_in_batches(path, ImportOptions(encoding="utf-8"), 100, chunk)
    assert [["" if v is None else v for v in r] for r in records] == expected


def test_the_end_offset_is_the_byte_just_past_the_last_row(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes('a,b\n"x\ny",é\nc,d\n'.encode())
    with RecordReader(str(path), ImportOptions(), chunk_bytes=3) as reader:
        batch = reader.read_batch(2)
    assert batch.records == [["a", "b"], ["x\ny", "é"]]
    assert batch.end_offset == len('a,b\n"x\ny",é\n'.encode()) and batch.end_row == 3


@pytest.mark.parametrize("chunk", [3, 1 << 20])
def test_at_the_end_of_the_file_the_offset_is_the_file_size(tmp_path, chunk):
    """The last cursor names the end of the file (it once counted the last piece twice: progress over 100%)."""
    path = tmp_path / "f.csv"
    data = b"id,name,amount\n1,a,2.5\n2,b,NA\n3,c,x\n"
    path.write_bytes(data)
    with RecordReader(str(path), ImportOptions(), chunk_bytes=chunk) as reader:
        batch = reader.read_batch(100)
    assert batch.eof and len(batch.records) == 4
    assert batch.end_offset == reader.offset == len(data)


@pytest.mark.skipif(not hasattr(csv, "QUOTE_NOTNULL"), reason="Python < 3.12 cannot tell quoted empty from empty")
def test_an_unquoted_empty_field_is_null_and_a_quoted_one_is_empty_text(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b'a,"",c\n')
    with RecordReader(str(path), ImportOptions()) as reader:
        assert reader.read_batch(5).records == [["a", "", "c"]]
    path.write_bytes(b"a,,c\n")
    with RecordReader(str(path), ImportOptions()) as reader:
        assert reader.read_batch(5).records == [["a", None, "c"]]


LONG = "the line is longer than 1,000 characters and is not imported (is a quote left open?)"


@pytest.mark.parametrize("chunk", [1, 7, 64, 999])  # the limit is checked as chunks arrive: chunks below it
@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_a_line_past_the_limit_is_one_bad_record_and_reading_goes_on(tmp_path, chunk, end):
    from importer.reader import BadRecord

    path = tmp_path / "long.csv"
    lines = ["id,name", "1,a", "2," + "x" * 5000, "3,c", "4,d", "5," + "y" * 3000]
    path.write_bytes(end.join(lines).encode())  # the last line is long too, and has no line end
    with RecordReader(str(path), ImportOptions(), chunk_bytes=chunk, max_line_chars=1000) as reader:
        first = reader.read_batch(3)
        rest = reader.read_batch(10)
    assert first.records == [["id", "name"], ["1", "a"], BadRecord(LONG)]
    assert rest.records == [["3", "c"], ["4", "d"], BadRecord(LONG)]
    assert first.end_offset == len(end.join(lines[:3]) + end) and rest.end_offset == path.stat().st_size
    assert rest.eof
    with RecordReader(str(path), ImportOptions(), offset=first.end_offset, row=4, chunk_bytes=chunk,
                      max_line_chars=1000) as resumed:  # fmt: skip
        assert resumed.read_batch(10).records == rest.records


@pytest.mark.parametrize("tail", ["\n", ""])
def test_the_offset_after_the_last_record_is_the_file_size(tmp_path, tail):
    path = tmp_path / "small.csv"
    path.write_text("id,name\n1,a\n2,b" + tail)
    for chunk in (4, 1 << 20):
        with RecordReader(str(path), ImportOptions(), chunk_bytes=chunk) as reader:
            batch = reader.read_batch(10)
        assert (len(batch.records), batch.end_offset, batch.eof) == (3, path.stat().st_size, True)


def test_a_giant_field_is_not_held_in_memory(tmp_path):
    import tracemalloc

    path = tmp_path / "giant.csv"
    with open(path, "w") as f:
        f.write("id,name\n1,a\n2,")
        for _ in range(20):
            f.write("x" * 1_000_000)  # a 20 MB field on one line
        f.write("\n3,c\n")
    tracemalloc.start()
    try:
        with RecordReader(str(path), ImportOptions(), chunk_bytes=1 << 16, max_line_chars=1 << 20) as reader:
            batch = reader.read_batch(10)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    shapes = [r if isinstance(r, list) else "bad" for r in batch.records]
    assert shapes == [["id", "name"], ["1", "a"], "bad", ["3", "c"]]
    assert peak < 8 << 20  # held whole (and copied into a StringIO at 4 bytes a character) it took over 100 MB


def quoted_over_lines(path, lines, width=1000, before="id,name\n1,a\n"):
    """A file whose row 3 (after `before`) holds a quoted field of `lines` lines of `width` characters."""
    with open(path, "w", newline="") as f:
        f.write(before + '2,"')
        for _ in range(lines):
            f.write("x" * (width - 1) + "\n")
        f.write('"\n3,c\n4,d\n')


@pytest.mark.parametrize("chunk", [997, 1 << 16])
@pytest.mark.parametrize("batch", [1, 2, 50])
def test_a_quoted_field_over_lines_past_the_field_limit_stops_the_reader_naming_its_row(tmp_path, chunk, batch):
    from importer.errors import FieldTooLongError

    path = tmp_path / "quoted.csv"
    quoted_over_lines(path, 1000)  # about 1 MB of field over 1,000 lines; the csv limit is 131,072 characters
    limit = csv.field_size_limit()
    with RecordReader(str(path), ImportOptions(), chunk_bytes=chunk) as reader:
        records = []
        with pytest.raises(FieldTooLongError) as caught:
            while True:
                records += reader.read_batch(batch).records
    good = [["id", "name"], ["1", "a"]]  # then nothing of the field, and no row per line of it
    assert records == (good if batch < len(good) + 1 else [])  # a batch that meets the field raises whole
    error = caught.value
    assert (error.row, error.limit) == (3, limit)
    assert error.lines == limit // 1000 + 1  # the lines csv had read when the field passed the limit
    assert str(error).startswith(f"Row 3: a quoted field runs over {error.lines:,} lines and passes {limit:,} "
                                 "characters without its closing \"")


def test_a_quoted_field_over_lines_within_the_limit_is_one_value(tmp_path):
    path = tmp_path / "quoted.csv"
    quoted_over_lines(path, 100)
    with RecordReader(str(path), ImportOptions(), chunk_bytes=1 << 12) as reader:
        records = reader.read_batch(10).records
    assert records[2] == ["2", ("x" * 999 + "\n") * 100] and records[3:] == [["3", "c"], ["4", "d"]]


def test_a_field_past_the_limit_within_one_line_is_still_one_reject(tmp_path):
    from importer.reader import BadRecord

    path = tmp_path / "wide.csv"
    path.write_text('id,name\n1,a\n2,"' + "x" * 200_000 + '"\n3,c\n')
    with RecordReader(str(path), ImportOptions()) as reader:
        records = reader.read_batch(10).records
    assert records[2] == BadRecord(f"a field is longer than {csv.field_size_limit():,} characters (is a quote left "
                                   "open?)")
    assert records[3] == ["3", "c"]


def test_an_import_of_a_giant_quoted_field_fails_once_with_the_row_and_the_limit(tmp_path):
    from tests.importer.conftest import run_import

    path = tmp_path / "quoted.csv"
    quoted_over_lines(path, 5000, before="id,name\n" + "".join(f"{i},n{i}\n" for i in range(1, 2)))
    outcome = run_import(tmp_path / "run", path, {"columns": [{"source": 0, "name": "id", "type": "integer"},
                                                              {"source": 1, "name": "name"}]})
    assert outcome.output is None and outcome.error is not None
    message = str(outcome.error)
    assert "Row 3: a quoted field runs over 132 lines and passes 131,072 characters" in message, message
    with sqlite3.connect(outcome.db) as conn:  # no reject per line of the field was stored
        assert conn.execute("SELECT count(*) FROM importer_rejects").fetchone() == (0,)


@settings(max_examples=80, deadline=None)
@given(tables, st.sampled_from(["utf-8", "utf-16-le"]), st.lists(st.integers(1, 6), min_size=1, max_size=12),
       st.integers(1, 9), st.sampled_from(["\n", "\r\n"]))  # fmt: skip
def test_one_readers_batches_end_at_the_byte_offsets_of_their_last_rows(tmp_path_factory, rows, encoding, sizes,
                                                                         chunk, ending):  # fmt: skip
    """One reader, batch after batch (the position is counted on from the last batch's end within a piece):
    each batch's end offset is the byte length of the text csv.reader had read by its last record."""
    path, data, stream, oracle = file_and_oracle(tmp_path_factory.mktemp("o"), rows, encoding, ending)
    with RecordReader(str(path), ImportOptions(encoding=encoding), chunk_bytes=chunk * 2) as reader:
        for size in sizes * 10:
            got = reader.read_batch(size)
            for _ in got.records:
                next(oracle)
            assert got.end_offset == len(data[: stream.tell()].encode(encoding))
            if got.eof:
                break


@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8])
@pytest.mark.parametrize("quoted", [False, True])
def test_a_header_longer_than_what_read_header_reads_at_a_time_is_read_whole(tmp_path, bom, quoted):
    """`read_header` reads small chunks: a header over several of them (a quoted name spanning lines, too) comes
    back whole, with the offset where the data starts, as a reader of the whole file would give them."""
    from importer.reader import HEADER_CHUNK_BYTES, read_header

    names = [f"column_{i:05d}_" + "é" * 20 for i in range(HEADER_CHUNK_BYTES // 20)]
    if quoted:
        names[len(names) // 2] = "a name\nover two lines, with a comma"
    header = ",".join(f'"{n}"' if quoted else n for n in names)
    data = bom + (header + "\r\n").encode() + b"1,2\r\n"
    path = tmp_path / "wide.csv"
    path.write_bytes(data)
    options = ImportOptions(encoding="utf-8-sig" if bom else "utf-8", delimiter=",", quotechar='"', has_header=True)
    assert read_header(str(path), options) == (names, len(data) - len(b"1,2\r\n"))


ReaderError = (UnterminatedQuoteError, FieldTooLongError, EncodingError)
line_parts = st.sampled_from(["a", "b7", ",", ";", " ", '"', "é", "€", "\x00", "\r", "\n", "\r\n", "\r\n", "\n"])


@settings(max_examples=200, deadline=None)
@given(st.lists(line_parts, max_size=60), st.sampled_from(["utf-8", "cp1252", "utf-16-le", "latin-1"]),
       st.sampled_from(['"', "'", ""]), st.integers(0, 25), st.integers(1, 40))  # fmt: skip
def test_plain_lines_stop_at_a_record_boundary_the_reader_reaches_too(tmp_path_factory, parts, encoding, quote,
                                                                      records, chunk):  # fmt: skip
    """Whatever `plain_lines` counts (LF-ended lines without a quote, NUL or lone CR, in a codec where ASCII
    bytes are only themselves), reading on from there with the reader ends where reading `records` records
    from the start does: the child of a read-ahead skips the parent's head this way (slices.py)."""
    text = "".join(parts)
    if encoding == "cp1252":
        text = text.replace("€", "e")  # cp1252 has the euro sign at 0x80: any character it can write will do
    path = tmp_path_factory.mktemp("p") / "f.csv"
    path.write_bytes(text.encode("latin-1" if encoding == "latin-1" else encoding, "replace"))
    options = ImportOptions(encoding=encoding, quotechar=quote)

    def read(offset: int, row: int, count: int) -> object:
        """Where reading `count` records from there ends, or the error the file raises on the way."""
        try:
            with RecordReader(str(path), options, offset=offset, row=row, chunk_bytes=chunk) as reader:
                batch = reader.read_batch(count)
        except ReaderError as exc:
            return type(exc)
        return batch.end_offset, batch.end_row

    offset, lines = plain_lines(str(path), options, 0, records, chunk_bytes=chunk)
    assert lines <= records
    assert lines == 0 or encoding in ("utf-8", "cp1252", "latin-1")
    assert read(offset, 1 + lines, records - lines) == read(0, 1, records)


def test_plain_lines_count_the_lines_of_a_plain_file_and_stop_before_a_quote(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"1,a\r\n2,b\r\n\r\n3,c\r\n4,\"d\"\r\n5,e\r\n")
    options = ImportOptions(encoding="utf-8", quotechar='"')
    assert plain_lines(str(path), options, 0, 3, chunk_bytes=12) == (12, 3)  # a blank line is a record too
    assert plain_lines(str(path), options, 0, 10, chunk_bytes=17) == (17, 4)  # up to the piece with the quote
    assert plain_lines(str(path), options, 0, 10) == (0, 0)  # the quote in the first piece
    assert plain_lines(str(path), ImportOptions(encoding="utf-8", quotechar=""), 0, 10) == (29, 6)  # no quoting
