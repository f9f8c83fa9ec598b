"""sniff.py adds its sample to the trackers in whole batches and shares them between the decimal-comma check,
the header check and the column guesses: every answer equals the row-by-row reference (the former code)."""

from __future__ import annotations

import csv
import io

from hypothesis import example, given, settings
from hypothesis import strategies as st

from importer.formats import ColumnType
from importer.infer import TypeTracker
from importer.sniff import sniff

CELLS = st.one_of(
    st.sampled_from(["", "1", "-2", " 42", ".5", "5.", "007", "+5", "1_000", "2.5", "1,5", "1.234,56", "1e5",
                     "12345678901234567", "10.357019999999999", "NA", "NaN", "null", "#N/A", "-999", "yes", "no",
                     "2024-02-03", "03/02/2024", "13/02/2024", "a@b.cc", "x", "id", "name", "é"]),
    st.integers(min_value=-10**16, max_value=10**16).map(str),
    st.text(alphabet="ab1.,-@ ", max_size=5),
)


def per_row(rows: list[list[str]], first: int, nulls: tuple[str, ...], decimal_comma: bool) -> TypeTracker:
    tracker = TypeTracker(null_markers=nulls, decimal_comma=decimal_comma)
    for number, row in enumerate(rows, start=first):
        tracker.add(row, number)
    return tracker


def reference_decimal_comma(rows: list[list[str]], delimiter: str, nulls: tuple[str, ...]) -> bool:
    if delimiter == "," or len(rows) < 2:
        return False
    point, comma = per_row(rows[1:], 2, nulls, False), per_row(rows[1:], 2, nulls, True)
    numeric = (ColumnType.INTEGER, ColumnType.REAL)
    return any(c.type in numeric and p.type not in numeric
               for p, c in zip(point.guesses(), comma.guesses(), strict=True))


def reference_header(rows: list[list[str]], decimal_comma: bool, nulls: tuple[str, ...]) -> bool:
    if len(rows) < 2:
        return True
    below, with_first = per_row(rows[1:], 2, nulls, decimal_comma), per_row(rows[1:], 2, nulls, decimal_comma)
    with_first.add(rows[0], 1)
    typed = 0
    for index, (b, w) in enumerate(zip(below.guesses(), with_first.guesses(), strict=False)):
        if b.type is ColumnType.TEXT or index >= len(rows[0]):
            continue
        typed += 1
        if w.type != b.type and rows[0][index] not in nulls:
            return True
    return not typed


@settings(max_examples=250, deadline=None, derandomize=True)
@example(rows=[["a"], ["1"], *[[f"{n}.5"] for n in range(2, 13)], ["x"]], delimiter=";", nulls=())  # a dropped hint
@example(rows=[["a", "b"], ["1", "2,5"], ["2", "1.234,5"], ["x"]], delimiter=";", nulls=("-999",))
@given(rows=st.lists(st.lists(CELLS, min_size=1, max_size=3), min_size=1, max_size=30),
       delimiter=st.sampled_from([",", ";"]), nulls=st.sampled_from([(), ("-999",), ("NA",)]))
def test_sniffing_in_batches_gives_the_row_by_row_answers(rows, delimiter, nulls):
    text = io.StringIO(newline="")
    csv.writer(text, delimiter=delimiter, lineterminator="\n").writerows(rows)
    data = text.getvalue().encode("utf-8")
    parsed = [r for r in csv.reader(io.StringIO(text.getvalue(), newline=""), delimiter=delimiter, strict=True) if r]
    if not parsed or not any(cell.strip() for row in parsed for cell in row):
        return  # an empty file: a file-level error, not a guess
    overrides = {"delimiter": delimiter, "quotechar": '"', "encoding": "utf-8", "null_markers": list(nulls)}
    try:
        result = sniff(data, complete=True, overrides=overrides)
    except Exception as exc:  # a header-only file: no guesses to compare
        assert type(exc).__name__ in ("HeaderOnlyError", "EmptyFileError"), exc
        return

    decimal_comma = reference_decimal_comma(parsed, delimiter, nulls)
    has_header = reference_header(parsed, decimal_comma, nulls)
    assert (result.decimal_comma.value, result.has_header.value) == (decimal_comma, has_header)
    body = parsed[1:] if has_header else parsed
    width = len(parsed[0]) if has_header else len(result.header)
    expected = per_row(body, 2 if has_header else 1, nulls, decimal_comma).guesses(width, whole_file=True)[:width]
    assert list(result.guesses) == expected
