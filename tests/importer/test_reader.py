"""reader.py: records read in batches from any cursor equal one csv.reader pass; offsets are row ends."""

import codecs
import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.options import ImportOptions
from importer.reader import RecordReader

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
            return [["" if v is None else v for v in r] for r in records]


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
    assert read_all_in_batches(path, options, batch, chunk * 2) == expected


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
