"""validate.py and convert.py: every reason of a failing row, canonical conversions only."""

import pytest

from importer.options import ColumnSpec, ImportOptions
from importer.reader import BadRecord
from importer.validate import RowChecker


def checker(*specs, width=None, **options):
    cols = [ColumnSpec(source=i, name=f"c{i}", **s) for i, s in enumerate(specs)]
    return RowChecker(ImportOptions(columns=cols, **options), width or len(cols))


@pytest.mark.parametrize(
    ("spec", "value", "stored", "reason"),
    [
        ({"type": "integer"}, "42", 42, None),
        ({"type": "integer"}, "abc", None, "Row 2: 'abc' is not an integer in column 'c0'"),
        ({"type": "integer"}, "007", None, "Row 2: '007' is not an integer in column 'c0'"),
        ({"type": "integer"}, "", None, None),
        ({"type": "real"}, "-1.5", -1.5, None),
        ({"type": "real"}, "1,5", None, "Row 2: '1,5' is not a number in column 'c0'"),
        ({"type": "real"}, "nan", None, "Row 2: 'nan' is not a number in column 'c0'"),
        ({"type": "boolean"}, "Yes", 1, None),
        ({"type": "date"}, "2024-02-21", "2024-02-21", None),
        ({"type": "date"}, "2024-02-30", None, "Row 2: '2024-02-30' is not a date (YYYY-MM-DD) in column 'c0'"),
        ({"type": "date", "date_format": "DD/MM/YYYY"}, "21/02/2024", "2024-02-21", None),
        (
            {"type": "datetime", "date_format": "DD.MM.YYYY HH:MM:SS"},
            "21.02.2024 13:05",
            "2024-02-21 13:05:00",
            None,
        ),
        ({"required": True}, "", None, "Row 2: column 'c0' is required but empty"),
        (
            {"type": "integer", "min": 0, "max": 10},
            "11",
            None,
            "Row 2: '11' is more than the maximum 10.0 in column 'c0'",
        ),
        ({"regex": "[A-Z]{3}"}, "abc", None, "Row 2: 'abc' is not in the form '[A-Z]{3}' in column 'c0'"),
        ({"email": True}, "a@b.io", "a@b.io", None),
        ({"email": True}, "a.b.io", None, "Row 2: 'a.b.io' is not an email address in column 'c0'"),
    ],
)
def test_one_value_converts_or_is_rejected_with_its_reason(spec, value, stored, reason):
    result = checker(spec).check([[value]], 2)
    if reason is None:
        assert result.rows == [(stored,)] and result.rejects == []
    else:
        assert result.rows == [] and result.rejects[0].reasons == [reason]


def test_a_row_reports_every_reason_and_keeps_its_raw_values():
    result = checker({"type": "integer"}, {"type": "real"}, {"required": True}).check([["x", "y", ""]], 12)
    (reject,) = result.rejects
    assert reject.row == 12 and reject.raw == ["x", "y", ""]
    assert reject.reasons == [
        "Row 12: 'x' is not an integer in column 'c0'",
        "Row 12: 'y' is not a number in column 'c1'",
        "Row 12: column 'c2' is required but empty",
    ]


def test_rows_of_the_wrong_width_unparsable_rows_and_nul_bytes_are_rejected_whole():
    records = [["1", "a"], ["2"], ["3", "b", "c"], BadRecord("bad quoting"), ["5", "x\x00y"], [], ["7", "g"]]
    result = checker({"type": "integer"}, {}).check(records, 2, has_nul=True)
    assert result.rows == [(1, "a"), (7, "g")]
    assert [(r.row, r.reasons[0]) for r in result.rejects] == [
        (3, "Row 3: has 1 fields, expected 2 (too few)"),
        (4, "Row 4: has 3 fields, expected 2 (too many)"),
        (5, "Row 5: bad quoting"),
        (6, "Row 6: contains a NUL byte in field 2 (binary data in a text file?)"),
    ]


def test_unique_values_repeat_neither_in_the_batch_nor_in_the_table():
    result = checker({"unique": True}).check([["a"], ["b"], ["a"], ["c"]], 2, existing=lambda spec, vals: {"c"})
    assert result.rows == [("a",), ("b",)]
    assert [r.reasons for r in result.rejects] == [
        ["Row 4: 'a' repeats row 2 in column 'c0', which must be unique"],
        ["Row 5: 'c' is already in column 'c0', which must be unique"],
    ]


def test_null_markers_and_decimal_comma_apply_to_conversion():
    result = checker({"type": "real"}, null_markers=["NA"], decimal_comma=True).check([["1.234,5"], ["NA"]], 2)
    assert result.rows == [(1234.5,), (None,)]
