"""Memory stays bounded by the batch, not the file: a million rows through the reader and checker."""

import tracemalloc

from importer.options import ColumnSpec, ImportOptions
from importer.reader import RecordReader
from importer.validate import RowChecker


def write_lazily(path, rows):
    with open(path, "w") as f:
        f.write("id,name,amount\n")
        for start in range(0, rows, 10_000):
            f.write("".join(f"{i},name {i},{i / 4}\n" for i in range(start, min(rows, start + 10_000))))


def peak_while_importing(path, rows_per_batch=20_000):
    options = ImportOptions(
        columns=[ColumnSpec(source=0, name="id", type="integer"), ColumnSpec(source=1, name="name"),
                 ColumnSpec(source=2, name="amount", type="real")]
    )  # fmt: skip
    checker = RowChecker(options, 3)
    tracemalloc.start()
    try:
        total = 0
        with RecordReader(str(path), options, offset=len("id,name,amount\n"), row=2) as reader:
            while True:
                batch = reader.read_batch(rows_per_batch)
                total += len(checker.check(batch.records, batch.first_row).rows)
                if batch.eof:
                    break
        return total, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_million_rows_use_no_more_memory_than_a_hundred_thousand(tmp_path):
    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    write_lazily(small, 100_000)
    write_lazily(big, 1_000_000)
    rows_small, peak_small = peak_while_importing(small)
    rows_big, peak_big = peak_while_importing(big)
    assert (rows_small, rows_big) == (100_000, 1_000_000)
    assert peak_big < 64 * 1024 * 1024
    assert peak_big < peak_small * 1.5 + 2 * 1024 * 1024
