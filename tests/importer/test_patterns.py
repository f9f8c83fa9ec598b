"""Patterns that can take exponential time are refused up front, by the importer and by the page alike;
ordinary patterns pass; polynomial ones get the degree of their backtracking and a shorter length cap; a value
too long to check against a pattern is a reject, not a match."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from importer.options import ColumnSpec, ImportOptions
from importer.patterns import (
    BACKREF,
    NESTED,
    OVERLAP,
    STEP_BUDGET,
    degree,
    length_cap,
    match_cap,
    parse,
    pattern_risk,
    risk_sentence,
)
from importer.validate import MATCH_LIMIT, RowChecker
from ui.client import patterns as page
from ui.client.rules import rule_errors

ROOT = Path(__file__).resolve().parents[2]

# Known catastrophic patterns: the OWASP ReDoS page's examples, and the usual suspects.
CATASTROPHIC = {
    r"(a+)+": NESTED,
    r"([a-zA-Z]+)*": NESTED,
    r"(a|aa)+": OVERLAP,
    r"(a|a?)+": OVERLAP,
    r"(.*a){12}": NESTED,
    r"^(([a-z])+.)+[A-Z]([a-z])+$": NESTED,
    r"^([a-zA-Z0-9])(([\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$": NESTED,  # noqa: E501
    r"(\w+\s?)*": NESTED,
    r"^(\d+)*$": NESTED,
    r"(a|a)*": OVERLAP,
    r"(\w|\d)+": OVERLAP,
    r"(?i)(a|A)+": OVERLAP,
    r"(a*)*b": NESTED,
    r"(x+x+)+y": NESTED,
    r"(.*,)*x": NESTED,
    r"(a+){10}": NESTED,
    r"(?=(a+)+b)x": NESTED,
    r"(a)(b\1)*": BACKREF,
    r"(\d{1,3})+": "it repeats a part that can match the same text in more than one way, like (a?a)+",
}
ORDINARY = [
    r"[A-Z]{2}[0-9]+",
    r"\d{3}-\d{4}",
    r"[^@\s]+@[^@\s]+\.[a-z]{2,}",
    r"(?i)[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}",
    r"^\w+([-+.']\w+)*@\w+([-.]\w+)*\.\w+([-.]\w+)*$",
    r"(ab)+",
    r"[a-z]+(-[a-z]+)*",
    r"[A-Z][a-z]*( [A-Z][a-z]*)*",
    r"(\d+\.){3}\d+",
    r"(\d{1,3}\.){3}\d{1,3}",
    r"\d{1,3}(,\d{3})*(\.\d+)?",
    r"(\d{3})+",
    r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?",
    r"\d{4}-\d{2}-\d{2}",
    r"(0[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01])",
    r"(19|20)\d\d",
    r"https?://[^\s/]+(/[^\s]*)?",
    r"([A-Z]{2}-)?\d{5}",
    r"(a|ab)*c",
    r"(a?)+",
    r".*foo.*",
    r"\d+\d+x",
    r"(\w)\1",
    r"(?P<x>a)(?P=x)",
    r"(?x) \d+ # digits",
]


@pytest.mark.parametrize(("pattern", "why"), CATASTROPHIC.items())
def test_catastrophic_patterns_are_refused_by_the_options_with_a_sentence(pattern: str, why: str) -> None:
    assert pattern_risk(pattern) == why
    with pytest.raises(ValidationError) as error:
        ImportOptions(columns=[ColumnSpec(source=0, name="code", regex=pattern)])
    sentence = risk_sentence(pattern, why)
    assert sentence.startswith(f"The pattern '{pattern}' is refused: {why}, so checking some values")
    assert sentence in str(error.value)


@pytest.mark.parametrize("pattern", ORDINARY)
def test_ordinary_patterns_are_accepted(pattern: str) -> None:
    re.compile(pattern)
    assert pattern_risk(pattern) is None
    assert ColumnSpec(source=0, name="code", regex=pattern).regex == pattern


@pytest.mark.parametrize("pattern", [*CATASTROPHIC, *ORDINARY])
def test_the_page_says_what_the_importer_says(pattern: str) -> None:
    why = pattern_risk(pattern)
    assert page.pattern_error(pattern) is None
    assert page.pattern_risk(pattern) == why
    expected = [] if why is None else [("regex", risk_sentence(pattern, why))]
    assert rule_errors({"type": "text", "regex": pattern}) == expected


def test_the_page_runs_the_very_same_analysis() -> None:
    def core(path: Path) -> str:
        text = path.read_text()
        return text[text.index("# --- shared core") : text.index("# --- end of shared core ---")]

    assert core(ROOT / "py/importer/patterns.py") == core(ROOT / "py/ui/client/patterns.py")


@pytest.mark.filterwarnings("ignore::FutureWarning")
@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="ab(){}[]*+?|^$\\-,:=!#<>P0123dwsiz.x ", max_size=14))
def test_any_pattern_python_compiles_is_read_without_error(pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error:
        return
    tree = parse(pattern)  # raises nothing (pattern_risk would hide it), and ends
    assert page.pattern_risk(pattern) == pattern_risk(pattern)
    assert page.degree(page.parse(pattern)) == degree(tree) >= 1  # match_cap's fallback is never needed


def test_a_value_too_long_for_the_pattern_is_a_reject_not_a_match() -> None:
    options = ImportOptions(columns=[ColumnSpec(source=0, name="c0", regex=r"[0-9]+x")])
    checker = RowChecker(options, 1)
    fits, too_long = "1" * (MATCH_LIMIT - 1) + "x", "1" * MATCH_LIMIT + "x"
    result = checker.check([[fits], [too_long], ["12x"]], 2)
    assert result.rows == [(fits,), ("12x",)]
    [reject] = result.rejects
    assert reject.row == 3
    assert reject.reasons == [
        "Row 3: '" + "1" * 60 + "…' is too long to check against the pattern '[0-9]+x' in column 'c0' "
        "(10,001 characters; at most 10,000 for this pattern)"
    ]


# Patterns the analysis lets through whose backtracking is polynomial: (degree, longest value checked).
POLYNOMIAL = {
    r"\d+\d+x": 2,
    r"\d*\d*x": 2,
    r".*foo.*": 2,
    r"(.*)\1": 2,  # a backreference compares text: one more
    r"(?=.*\d)\w+": 2,  # a lookaround may run at every step: its degree adds
    r"^\w+([-+.']\w+)*@\w+([-.]\w+)*\.\w+([-.]\w+)*$": 2,
    r"\d*\d*\d*x": 3,
    r".*.*.*=": 3,
    r"\w*\d*\w*": 3,
    r".*a.*b.*c.*d": 4,
}
LINEAR = [r"[^@\s]+@(?:[^@\s.]+\.)+[^@\s.]{2,}", r"(a|ab)*c", r"a*b*c*d*", r"[^@\s]+@[^@\s]+\.[a-z]{2,}", r"\d{3}"]


@pytest.mark.parametrize(("pattern", "expected"), [*POLYNOMIAL.items(), *((p, 1) for p in LINEAR)])
def test_the_degree_of_backtracking_bounds_the_length_checked(pattern: str, expected: int) -> None:
    assert pattern_risk(pattern) is None
    assert degree(parse(pattern)) == expected
    assert page.degree(page.parse(pattern)) == expected
    found, cap = match_cap(pattern)
    assert found == expected and cap == length_cap(expected)
    assert cap**expected <= STEP_BUDGET < (cap + 1) ** expected or cap == MATCH_LIMIT


def test_length_caps_shrink_with_the_degree() -> None:
    assert [length_cap(d) for d in (1, 2, 3, 4, 5)] == [MATCH_LIMIT, 1581, 135, 39, 19]


def test_ordinary_patterns_are_linear() -> None:
    slow = {p: degree(parse(p)) for p in ORDINARY if degree(parse(p)) > 1}
    assert slow == {r"\d+\d+x": 2, r".*foo.*": 2, r"^\w+([-+.']\w+)*@\w+([-.]\w+)*\.\w+([-.]\w+)*$": 2}


def test_a_value_past_a_slow_patterns_cap_is_a_reject_naming_rule_cap_and_row() -> None:
    code = ColumnSpec(source=1, name="code", regex=r".*.*.*=")
    options = ImportOptions(columns=[ColumnSpec(source=0, name="id"), code])
    checker = RowChecker(options, 2)
    fits, too_long = "a" * 134 + "=", "a" * 136
    result = checker.check([["1", fits], ["2", too_long], ["3", "a="]], 2)
    assert result.rows == [("1", fits), ("3", "a=")]
    [reject] = result.rejects
    assert reject.row == 3
    assert reject.reasons == [
        "Row 3: '" + "a" * 60 + "…' is too long to check against the pattern '.*.*.*=' in column 'code' "
        "(136 characters; at most 135 for this pattern)"
    ]


def test_a_slice_is_cut_where_its_values_would_cost_the_patterns_more_than_the_budget() -> None:
    options = ImportOptions(columns=[ColumnSpec(source=0, name="code", regex=r".*.*.*=")])
    checker = RowChecker(options, 1)
    assert checker.row_steps == 135**3
    short, worst, past_cap = ["a" * 10], ["a" * 135], ["a" * 10_000]
    assert checker.affordable([short] * 1000, 1_000_000) == 1000  # 1,000 rows of 10**3 steps
    assert checker.affordable([worst] * 10, 135**3 * 4) == 4
    assert checker.affordable([worst] * 10, 1) == 1  # always one row, however small the budget
    assert checker.affordable([past_cap] * 10, 1) == 10  # rejected unchecked: costs nothing
