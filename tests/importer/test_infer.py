"""infer.py: column types narrowed over a sample; nothing that would lose data."""

from collections import Counter

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from importer.formats import ColumnType
from importer.infer import TypeTracker


def guess(values, **kwargs):
    tracker = TypeTracker(**kwargs)
    for number, value in enumerate(values, start=2):
        tracker.add([value], number)
    return tracker.guesses()[0]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "2", "-3"], ColumnType.INTEGER),
        (["1", "2.5", ""], ColumnType.REAL),
        (["1.5e3", "2"], ColumnType.REAL),
        (["yes", "No", "TRUE"], ColumnType.BOOLEAN),
        (["2024-01-31", "", "2023-12-01"], ColumnType.DATE),
        (["2024-01-31 10:00:00", "2024-02-01T11:30"], ColumnType.DATETIME),
        (["007", "123"], ColumnType.TEXT),
        (["1234567890123456"], ColumnType.TEXT),
        (["123456789012345"], ColumnType.INTEGER),
        (["0.1234567890123456789"], ColumnType.TEXT),
        (["1", "abc"], ColumnType.TEXT),
        (["", ""], ColumnType.TEXT),
        (["2024-02-30"], ColumnType.TEXT),
        ([" 12", "42 "], ColumnType.INTEGER),
        ([".5", "-.25", "5.", " 1.5 "], ColumnType.REAL),
        (["+5"], ColumnType.TEXT),
        (["1_000"], ColumnType.TEXT),
        (["1,000"], ColumnType.TEXT),
        (["\t12"], ColumnType.TEXT),
    ],
)
def test_each_column_gets_the_narrowest_type_that_fits_every_value(values, expected):
    assert guess(values).type is expected


def test_leading_zeros_keep_a_column_text_and_say_why():
    result = guess(["12345", "01234"])
    assert result.type is ColumnType.TEXT
    assert "leading zero" in result.evidence


def test_long_integers_stay_text_and_say_why():
    assert "more than 15 digits" in guess(["4111111111111111"]).evidence


def test_day_month_ambiguity_is_reported_for_the_user_to_decide():
    result = guess(["01/02/2024", "03/04/2024"])
    assert result.type is ColumnType.DATE and result.ambiguous
    assert result.date_format == "DD/MM/YYYY" and result.alternatives == ("MM/DD/YYYY",)


@pytest.mark.parametrize(
    ("values", "expected"), [(["01/02/2024", "21/02/2024"], "DD/MM/YYYY"), (["02/21/2024", "01/02/2024"], "MM/DD/YYYY")]
)
def test_a_day_above_twelve_settles_day_or_month_first(values, expected):
    result = guess(values)
    assert not result.ambiguous and result.date_format == expected
    assert "settles" in result.evidence


def test_null_markers_abstain():
    assert guess(["1", "NA", "2"], null_markers=["NA"]).type is ColumnType.INTEGER


def test_decimal_comma_reads_grouped_numbers_as_reals():
    assert guess(["1.234,56", "99,9"], decimal_comma=True).type is ColumnType.REAL
    assert guess(["1.234,56", "99,9"]).type is ColumnType.TEXT


@given(st.lists(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1), min_size=1, max_size=20))
def test_any_integers_infer_as_integer(numbers):
    assert guess([str(n) for n in numbers]).type is ColumnType.INTEGER


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=1, max_size=20))
def test_any_short_reals_infer_as_a_number(numbers):
    assert guess([repr(float(f"{n:.6g}")) for n in numbers]).type in (ColumnType.REAL, ColumnType.INTEGER)


@given(st.lists(st.text(max_size=8), min_size=1, max_size=20))
def test_inference_never_picks_a_type_a_value_does_not_fit(values):
    from importer.convert import converter
    from importer.options import ColumnSpec

    result = guess(values)
    spec = ColumnSpec(source=0, name="c", type=result.type, date_format=result.date_format)
    _, bad = converter(spec)(values)
    assert bad == {}


def test_a_column_of_email_addresses_gets_the_email_rule_by_default() -> None:
    tracker = TypeTracker()
    for number, value in enumerate(["ada@example.com", "", "grace@navy.mil"], start=2):
        tracker.add([value, "x"], number)
    emails, other = tracker.guesses()
    assert emails.type is ColumnType.TEXT and emails.email is True
    assert emails.evidence == "text, email rule: 2 of 2 sample values are email addresses"
    assert other.email is False


def test_a_mostly_numeric_column_stays_text_and_says_how_to_reject_the_rest() -> None:
    tracker = TypeTracker()
    values = [str(i) for i in range(1, 20)] + ["x20"]
    for number, value in enumerate(values, start=2):
        tracker.add([value], number)
    (guess,) = tracker.guesses()
    assert guess.type is ColumnType.TEXT and guess.email is False
    assert guess.evidence == ("text: 'x20' (row 21) is not a number, boolean or date "
                              "(19 of 20 are whole numbers: choose integer to import those and reject the rest)")


def test_a_mostly_email_column_stays_without_the_rule_and_says_how_to_add_it() -> None:
    tracker = TypeTracker()
    for number, value in enumerate([f"u{i}@example.com" for i in range(9)] + ["nobody"], start=2):
        tracker.add([value], number)
    (guess,) = tracker.guesses()
    assert guess.email is False
    assert guess.evidence.endswith("(9 of 10 are email addresses: add the email rule to reject the rest)")


TRICKY = st.one_of(
    st.sampled_from([
        "", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "None", "none", "#N/A", "#NA", "-999", " 42", "42 ",
        ".5", "5.", "-.25", "007", "+5", "1_000", "1,000", "1,5", "1.234,56", "0", "-0", "1e5", "1E-400", "2.5",
        "10.357019999999999", "48.053808600000004", "9999999999999999", "123456789012345", "1234567890123456",
        "0.1234567890123456", "yes", "No", "t", "2024-02-03", "03/02/2024", "13/02/2024", "2024-02-30",
        "2024-01-01 10:00", "a@b.cc", "a@b.c", "x y@z.de", "a@b@c.de", "é@ü.de", "text", "\x00", "1\x002", "  ",
    ]),
    st.integers(min_value=-10**17, max_value=10**17).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(alphabet="0123456789.-e ,@aN/", max_size=8),
)


def _rows(draw_rows, none_for_empty):  # type: ignore[no-untyped-def]
    return [[None if (v == "" and none_for_empty) else v for v in row] for row in draw_rows]


@settings(max_examples=400, deadline=None, derandomize=True)
@example(rows=[["1"], ["2.5"], ["3.5"], ["x"]], cuts=[], markers=(), comma=False, exact=True, none_for_empty=False)
@example(rows=[["2.5", "1"], ["1"], ["3.5", "x", "y"]], cuts=[], markers=("-999",), comma=False, exact=True,
         none_for_empty=True)
@example(rows=[["2.5"], ["1"], ["3.5"]], cuts=[1], markers=(), comma=False, exact=True, none_for_empty=False)
@example(rows=[["x"], ["1"], ["1.5"], ["a@b.cc"], ["12345678901234567"], ["1e5"], ["-0"], ["."]], cuts=[],
         markers=(), comma=False, exact=True, none_for_empty=False)
@given(rows=st.lists(st.lists(TRICKY, min_size=1, max_size=3), min_size=1, max_size=25),
       cuts=st.lists(st.integers(min_value=1, max_value=25), max_size=4),
       markers=st.sampled_from([(), ("-999",), ("NA",), ("x y@z.de", "2.5")]), comma=st.booleans(),
       exact=st.booleans(), none_for_empty=st.booleans())
def test_adding_rows_in_batches_gives_exactly_what_adding_them_one_by_one_gives(
    rows, cuts, markers, comma, exact, none_for_empty
):
    """Batches (any cut, ragged widths) reach the state of row-by-row adds: the sniff adds whole batches."""
    rows = _rows(rows, none_for_empty)
    options = {"null_markers": markers, "decimal_comma": comma, "exact_hints": exact}
    one, batched = TypeTracker(**options), TypeTracker(**options)
    for number, row in enumerate(rows, start=2):
        one.add(row, number)
    at = 0
    for end in [*sorted(set(cuts)), len(rows)]:
        if end > at:
            batched.add_batch(rows[at:end], at + 2)
            at = end
    def state(tracker: TypeTracker) -> list[dict[str, object]]:
        # `fits` are exact while `hints` holds (a guess reads them only then); without exact hints neither is kept
        hint_only = () if exact else ("fits", "hints")
        return [{k: v for k, v in c.items() if k not in hint_only and (k != "fits" or c["hints"])}
                for c in tracker.to_state()["columns"]]

    assert state(batched) == state(one)
    if exact:
        assert batched.guesses() == one.guesses()


@settings(max_examples=400, deadline=None, derandomize=True)
@example(values=["1", "1.5", "007", " 42 ", "-0", ".", "1,5", "1.234,56", "123456789012345", "1234567890123456",
                 "1e5", "-.25", "a@b.cc", "NA", "", None], markers=(), comma=False)
@example(values=["1", "1.5", "1,5", "1.234,56", ",5", "1.2.3"], markers=("1",), comma=True)
@given(values=st.lists(st.one_of(TRICKY, st.none()), max_size=40),
       markers=st.sampled_from([(), ("-999",), ("NA", "1")]), comma=st.booleans())
def test_a_text_column_counts_its_values_as_the_per_value_path_does(values, markers, comma):
    """A column settled as text counts values, tokens, addresses and numbers in one loop (`_count_text`): the
    same counts as narrowing each distinct value (`_narrow`, the per-value path) with no type left."""
    tracker = TypeTracker(null_markers=markers, decimal_comma=comma)
    tracker.add(["settles it as text"], 2)
    reference = tracker.copy()
    tracker.add_batch([[v] for v in values], 3)
    [column] = reference._columns
    blank = {"", None, *markers}
    for value, count in Counter(values).items():
        if value in blank:
            continue
        if value in reference._tokens:
            column.tokens[value] = column.tokens.get(value, 0) + count
            continue
        column.non_empty += count
        reference._narrow(column, value, count, lambda: 0)
    assert tracker.to_state() == {**reference.to_state(), "rows": tracker.rows}


EMAILS = st.one_of(
    st.sampled_from(["a@b.cc", "a@b.c", "a@b", "@b.cc", "a@.cc", "a@b..cc", "a@b.cc.", "a.b@c.dd", "a b@c.dd",
                     "a@b c.dd", "a@@b.cc", "é@ü.de", "a@b.c\u2003c", "a@b.cc\t", "x", "NA", "none", "-999",
                     "a\x1c@b.cc", "a@b.c.dd", "a@b-c.d_e"]),
    st.text(alphabet="ab.@ \t\u00a0\x1c", min_size=1, max_size=9),
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(values=st.lists(EMAILS, min_size=1, max_size=200))
def test_the_column_email_count_equals_the_per_value_check(values):
    """`_count_emails` (runs at C speed, one step per miss, a scan after 64 misses) = EMAIL_RE per value."""
    from importer.formats import EMAIL_RE
    from importer.infer import _count_emails

    flanked = "\x00" + "\x00\x00".join(values) + "\x00"
    assert _count_emails(flanked) == sum(1 for v in values if EMAIL_RE.fullmatch(v))


@settings(max_examples=400, deadline=None, derandomize=True)
@example(values=["a\x1d@b.cc", "a@b.c\x1fc", "a\x0b@b.cc", "a@b.cc"])
@given(values=st.lists(st.text(alphabet=st.characters(max_codepoint=127, blacklist_characters="\x00"),
                               min_size=1, max_size=9).map(lambda t: t if "@" in t else f"{t}@b.cc"),
                       min_size=1, max_size=100))
def test_the_ascii_email_count_equals_the_per_value_check(values):
    """ASCII text takes a faster regex that spells out which ASCII characters `\\s` matches: it must agree."""
    from importer.formats import EMAIL_RE
    from importer.infer import _count_emails

    flanked = "\x00" + "\x00\x00".join(values) + "\x00"
    assert flanked.isascii()
    assert _count_emails(flanked) == sum(1 for v in values if EMAIL_RE.fullmatch(v))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(data=st.data())
def test_every_safe_date_spelling_is_a_valid_date(data):
    """`DateFormat.safe_pattern` (the column-wise date shortcut) only matches values `to_iso` accepts."""
    from importer.formats import DATE_FORMATS, DATETIME_FORMATS

    fmt = data.draw(st.sampled_from(DATE_FORMATS + DATETIME_FORMATS))
    value = data.draw(st.from_regex(fmt.safe_pattern, fullmatch=True))
    assert fmt.to_iso(value) is not None


DATEISH = st.one_of(
    st.sampled_from(["", "NA", "NULL", "-999", "2024-02-28", "2024-02-29", "2023-02-29", "2024-02-30", "0000-01-01",
                     "2024-13-01", "2024-1-01", "01/02/2024", "13/02/2024", "02/13/2024", "31/12/2024", "1/2/2024",
                     "29/02/2023", "2024-01-01 10:00", "2024-01-01T23:59:59.5Z", "2024-01-01 24:00",
                     "2024-01-01 10:60", "01/02/2024 7:05:09", "2024-01-01", "x", "1", "\x00"]),
    st.sampled_from(["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M"]).flatmap(
        lambda f: st.dates().map(lambda d: d.strftime(f) if d.year >= 1000 else "")),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@example(batches=[[["2024-01-01"]], [["2024-01-02"], ["2024-02-30"]]], markers=(), exact=True)
@example(batches=[[["01/02/2024"], ["03/04/2024"], ["13/02/2024"]]], markers=("-999",), exact=False)
@given(batches=st.lists(st.lists(st.lists(DATEISH, min_size=1, max_size=1), min_size=1, max_size=8),
                        min_size=1, max_size=6),
       markers=st.sampled_from([(), ("-999",), ("NA", "2024-01-01")]), exact=st.booleans())
def test_the_date_fast_paths_count_exactly_what_the_per_value_path_counts(batches, markers, exact):
    """A column of safe date spellings checked with one regex (a slice, or the rest of one) equals the
    value-by-value check: same formats, settled evidence, counts and tokens."""
    fast = TypeTracker(null_markers=markers, exact_hints=exact)
    slow = TypeTracker(null_markers=markers, exact_hints=exact)
    slow._all_dates = lambda column, values: False  # type: ignore[method-assign]
    slow._date_formats = lambda column: []  # type: ignore[method-assign]
    slow._distinct_rest = lambda column, rest, row_of: 0  # type: ignore[method-assign]
    dates_only = fast._distinct_rest
    fast._distinct_rest = (  # type: ignore[method-assign]
        lambda column, rest, row_of: dates_only(column, rest, row_of) if fast._date_formats(column) else 0)
    row = 2
    for batch in batches:
        fast.add_batch(batch, row)
        slow.add_batch(batch, row)
        row += len(batch)
    assert fast.to_state() == slow.to_state()
    assert fast.guesses(whole_file=True) == slow.guesses(whole_file=True)
