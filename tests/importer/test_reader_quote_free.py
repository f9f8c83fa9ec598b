"""reader.py's quote-free pieces: split by `str.split` into columns, they give exactly what csv.reader gives.

Pieces without quotes whose lines all have the same number of fields are read without the csv module; the
first piece that is not so hands the rest of the file to it. Whatever the mix, the records, their order,
the nulls and every batch's end offset must be those of one csv.reader pass.
"""

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.options import ImportOptions
from importer.reader import NOT_NULL_QUOTING, RecordReader, csv_format

from .test_reader import read_all_in_batches

plain = st.text(alphabet=st.sampled_from(list("ab1 .-é€😀")), max_size=5)
"""Cells that need no quotes (with any of the delimiters below), empty ones included."""
odd = st.sampled_from(['"', 'a"b', "x\ny", "x\r\ny", "a\rb", "\x00", ",", ";", "\t"])
"""Cells that need quotes or that no quote-free piece may hold."""


def tables(width: st.SearchStrategy[int]) -> st.SearchStrategy[list[list[str]]]:
    return width.flatmap(lambda w: st.lists(st.lists(st.one_of(plain, plain, plain, plain, plain, odd), min_size=w,
                                                     max_size=w), min_size=1, max_size=40))  # fmt: skip


def write(tmp_path_factory, rows, delimiter, ending, encoding, ragged=False):
    text = io.StringIO(newline="")
    csv.writer(text, delimiter=delimiter, lineterminator=ending).writerows(rows)
    data = text.getvalue()
    if ragged:  # a line with one field more
        data += f"a{delimiter}b{delimiter}c{delimiter}d{delimiter}e{ending}"
    path = tmp_path_factory.mktemp("q") / "f.csv"
    path.write_bytes(data.encode(encoding))
    return path, data


def oracle(data: str, options: ImportOptions):
    stream = io.StringIO(data, newline="")
    return stream, csv.reader(stream, **csv_format(options))


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(tables(st.integers(1, 4)), st.sampled_from([",", ";", "\t"]), st.sampled_from(["\n", "\r\n"]),
       st.sampled_from(["utf-8", "latin-1", "utf-16-le"]), st.lists(st.integers(1, 7), min_size=1, max_size=8),
       st.integers(1, 40), st.booleans())  # fmt: skip
def test_one_readers_batches_are_one_csv_pass_records_nulls_and_offsets(tmp_path_factory, rows, delimiter, ending,
                                                                       encoding, sizes, chunk, ragged):  # fmt: skip
    if encoding == "latin-1":
        rows = [[cell.replace("€", "e").replace("😀", "s") for cell in row] for row in rows]
    path, data = write(tmp_path_factory, rows, delimiter, ending, encoding, ragged)
    options = ImportOptions(encoding=encoding, delimiter=delimiter)
    stream, expected = oracle(data, options)
    with RecordReader(str(path), options, chunk_bytes=chunk) as reader:
        for size in sizes * 200:
            got = reader.read_batch(size)
            records = got.records
            assert len(records) == got.count <= size
            assert got.end_row == got.first_row + len(records)
            for record in records:
                assert record == next(expected)
            assert got.end_offset == len(data[: stream.tell()].encode(encoding))
            if got.eof:
                assert next(expected, None) is None
                break
        else:
            pytest.fail("no end of file")


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(tables(st.integers(2, 4)), st.sampled_from(["\n", "\r\n"]), st.integers(1, 6), st.integers(1, 40))
def test_readers_started_at_each_cursor_read_on_exactly(tmp_path_factory, rows, ending, batch, chunk):
    """A resumed run opens a new reader at the last batch's cursor: reading on from each gives the rest."""
    path, data = write(tmp_path_factory, rows, ",", ending, "utf-8")
    options = ImportOptions(encoding="utf-8")
    assert read_all_in_batches(path, options, batch, chunk) == list(oracle(data, options)[1])


def test_a_quote_free_file_comes_as_columns_and_a_quote_hands_the_rest_to_csv(tmp_path):
    lines = [f"{i},name {i},{'' if i % 5 == 0 else i / 4}" for i in range(3_000)]
    lines[2_000] = '2000,"a quoted, name",1'
    path = tmp_path / "f.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    options = ImportOptions(encoding="utf-8")
    kinds = []
    with RecordReader(str(path), options, chunk_bytes=4096) as reader:
        records = []
        while True:
            got = reader.read_batch(250)
            kinds.append(got.columns is not None)
            records += got.records
            if got.eof:
                break
    assert records == list(csv.reader(io.StringIO("\r\n".join(lines) + "\r\n", newline=""), **csv_format(options)))
    assert all(kinds[:7]) and not any(kinds[-4:])  # columns up to the quote's piece, csv's records after it
    assert records[5][2] == (None if NOT_NULL_QUOTING is not None else "")  # as csv reads an unquoted empty field


def test_a_field_longer_than_the_csv_limit_is_left_to_csv_to_reject(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("a,b\n" + "x," + "y" * (csv.field_size_limit() + 1) + "\nc,d\n", encoding="utf-8")
    with RecordReader(str(path), ImportOptions(encoding="utf-8")) as reader:
        got = reader.read_batch(10)
    assert [type(r).__name__ for r in got.records] == ["list", "BadRecord", "list"]
