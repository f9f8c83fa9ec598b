"""validate.py and convert.py: every reason of a failing row, canonical conversions only."""

import json
import sqlite3

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from importer.formats import EMAIL_RE, email_misfits
from importer.options import ColumnSpec, ImportOptions
from importer.reader import BadRecord
from importer.validate import RowChecker

from .conftest import run_import


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


# -- pattern and email rules ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "values", "stored"),
    [
        ("integer", ["12", "345", "6"], [12, None, 6]),
        ("real", ["1.5", "22.5", "3.0"], [1.5, None, 3.0]),
        ("boolean", ["yes", "no", "y"], [1, None, 1]),
        ("date", ["21/02/2024", "1/3/2024", "01/03/2024"], ["2024-02-21", None, "2024-03-01"]),
    ],
)
@pytest.mark.parametrize("with_null", [False, True])
def test_a_pattern_matches_the_text_as_written_in_every_column_type(kind, values, stored, with_null):
    pattern = {"integer": "[0-9]{1,2}", "real": "[0-9]\\.[0-9]", "boolean": "yes|y", "date": ".{10}"}[kind]
    records = [[v] for v in values] + ([[""]] if with_null else [])
    date_format = "DD/MM/YYYY" if kind == "date" else None
    result = checker({"type": kind, "regex": pattern, "date_format": date_format}).check(records, 2)
    assert result.rows == [(s,) for s in stored if s is not None] + ([(None,)] if with_null else [])
    reason = f"Row 3: '{values[1]}' is not in the form {pattern!r} in column 'c0'"
    assert [r.reasons for r in result.rejects] == [[reason]]


def test_a_pattern_sees_the_padding_of_a_padded_number():
    result = checker({"type": "integer", "regex": "[0-9]+"}).check([["42"], [" 42"]], 2)
    assert result.rows == [(42,)]
    assert result.rejects[0].reasons == ["Row 3: ' 42' is not in the form '[0-9]+' in column 'c0'"]


ADDRESSES = st.one_of(
    st.sampled_from(["a@b.cc", "a@b.c", "a@b", "@b.cc", "a@.cc", "a@b..cc", "a@b.cc.", "a.b@c.dd", "a b@c.dd",
                     "", "a@b.cc\x00", "\x00", "é@ü.de", "a@b.c\u2003c", "a@b.cc\t", "a\x1c@b.cc", "x", "NA"]),
    st.text(alphabet="ab.@ \t\u00a0\x1c\x00", max_size=9),
)


@settings(max_examples=500, deadline=None, derandomize=True)
@example(values=["x"] * 70 + ["a@b.cc"] * 3 + ["y"] * 5)
@example(values=["a@b.cc"] * 200 + ["x"] * 70 + ["a@b.cc"])
@example(values=["a@b.cc", "", "", "c@d.ee", "x"])
@given(values=st.lists(ADDRESSES, max_size=300))
def test_the_email_misfits_of_a_column_are_the_values_the_email_pattern_refuses(values):
    """`email_misfits` (runs of addresses at C speed over the NUL-joined column) = `EMAIL_RE` value by value,
    whatever the column holds: empty values, NULs, other scripts, mostly misfits."""
    assert email_misfits(values) == [i for i, v in enumerate(values) if not EMAIL_RE.fullmatch(v)]


def test_the_email_rule_rejects_each_value_that_is_no_address_with_its_row():
    values = [f"user{i}@example.com" if i % 7 else f"user{i} at example.com" for i in range(1, 200)]
    result = checker({"email": True}).check([[v] for v in values], 2)
    bad = [(i + 2, v) for i, v in enumerate(values) if " at " in v]
    assert [r.reasons for r in result.rejects] == [[f"Row {n}: '{v}' is not an email address in column 'c0'"]
                                                    for n, v in bad]
    assert len(result.rows) == len(values) - len(bad)


@pytest.mark.parametrize("kind", ["integer", "real", "boolean", "date", "datetime"])
def test_the_email_rule_is_refused_outside_text_columns_with_a_sentence(kind):
    with pytest.raises(ValidationError) as caught:
        ColumnSpec(source=0, name="id", type=kind, email=True)
    assert f"the email rule is for text columns, and column 'id' is {kind}: clear the email rule" in str(caught.value)


# -- uniqueness ---------------------------------------------------------------------------------------------
def test_a_row_rejected_for_another_reason_takes_no_unique_value():
    result = checker({"unique": True}, {"type": "integer"}, {"unique": True}).check(
        [["a", "x", "p"], ["b", "1", "q"], ["a", "2", "r"], ["c", "3", "q"], ["c", "4", "s"]], 2
    )
    assert result.rows == [("b", 1, "q"), ("a", 2, "r"), ("c", 4, "s")]
    assert [r.reasons for r in result.rejects] == [
        ["Row 2: 'x' is not an integer in column 'c1'"],
        ["Row 5: 'q' repeats row 3 in column 'c2', which must be unique"],
    ]


def test_nulls_and_null_markers_are_never_duplicates():
    result = checker({"unique": True, "type": "integer"}, null_markers=["NA"]).check([[""], ["1"], [""], ["NA"]], 2)
    assert result.rows == [(None,), (1,), (None,), (None,)] and result.rejects == []


def unique_file(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


UNIQUE = {"encoding": "utf-8", "delimiter": ",", "quotechar": '"', "has_header": True, "decimal_comma": False}


def test_duplicates_across_batches_are_rejects_and_the_run_completes(tmp_path):
    lines = ["code,n"] + [f"k{i % 7},{i}" for i in range(20)] + [",20", ",21"]
    columns = [{"source": 0, "name": "code", "unique": True}, {"source": 1, "name": "n", "type": "integer"}]
    outcome = run_import(tmp_path / "job", unique_file(tmp_path, "codes.csv", lines), {**UNIQUE, "columns": columns},
                         max_batch_rows=3, slice_rows=2)
    assert outcome.error is None, outcome.error
    assert outcome.rows() == [(f"k{i}", i) for i in range(7)] + [(None, 20), (None, 21)]
    rejected = [(row, json.loads(why)) for row, _, why in outcome.rejects()]
    assert [row for row, _ in rejected] == list(range(9, 22))
    assert rejected[0] == (9, ["Row 9: 'k0' is already in column 'code', which must be unique"])


def test_an_append_rejects_values_already_in_the_table_but_not_values_of_another_type(tmp_path):
    db = tmp_path / "job" / "app.sqlite"
    db.parent.mkdir()
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE codes (code, n INTEGER)")
        conn.executemany("INSERT INTO codes VALUES (?, ?)", [(1, 0), ("x", 0), (None, 0), (2.5, 0)])
    lines = ["code,n", "1,1", "x,2", ",3", "y,4", "2.5,5", ",6", "y,7"]
    columns = [{"source": 0, "name": "code", "unique": True}, {"source": 1, "name": "n", "type": "integer"}]
    options = {**UNIQUE, "table": "codes", "if_exists": "append", "columns": columns}
    outcome = run_import(tmp_path / "job", unique_file(tmp_path, "codes.csv", lines), options)
    assert outcome.error is None, outcome.error
    assert outcome.rows()[4:] == [("1", 1), (None, 3), ("y", 4), ("2.5", 5), (None, 6)]
    assert [(row, json.loads(why)) for row, _, why in outcome.rejects()] == [
        (3, ["Row 3: 'x' is already in column 'code', which must be unique"]),
        (8, ["Row 8: 'y' repeats row 5 in column 'code', which must be unique"]),
    ]


def test_an_append_of_numbers_rejects_the_numbers_already_in_the_table(tmp_path):
    db = tmp_path / "job" / "app.sqlite"
    db.parent.mkdir()
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE amounts (amount REAL, n INTEGER)")
        conn.executemany("INSERT INTO amounts VALUES (?, ?)", [(0.1, 0), (2, 0), (1e-7, 0)])
    lines = ["amount,n", "0.1,1", "2,2", "2.0000001,3", "0.0000001,4", ".1,5"]
    columns = [{"source": 0, "name": "amount", "type": "real", "unique": True},
               {"source": 1, "name": "n", "type": "integer"}]
    options = {**UNIQUE, "table": "amounts", "if_exists": "append", "columns": columns}
    outcome = run_import(tmp_path / "job", unique_file(tmp_path, "amounts.csv", lines), options)
    assert outcome.error is None, outcome.error
    assert outcome.rows()[3:] == [(2.0000001, 3)]
    assert [row for row, _, _ in outcome.rejects()] == [2, 3, 5, 6]
