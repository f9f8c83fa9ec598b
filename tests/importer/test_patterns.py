"""Patterns that can take exponential time are refused up front, by the importer and by the page alike;
ordinary patterns pass; a value too long to check against a pattern is a reject, not a match."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from importer.options import ColumnSpec, ImportOptions
from importer.patterns import BACKREF, NESTED, OVERLAP, parse, pattern_risk, risk_sentence
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
    parse(pattern)  # raises nothing (pattern_risk would hide it), and ends
    assert page.pattern_risk(pattern) == pattern_risk(pattern)


def test_a_value_too_long_for_the_pattern_is_a_reject_not_a_match() -> None:
    options = ImportOptions(columns=[ColumnSpec(source=0, name="c0", regex=r"\d+\d+x")])
    checker = RowChecker(options, 1)
    fits, too_long = "1" * (MATCH_LIMIT - 1) + "x", "1" * MATCH_LIMIT + "x"
    result = checker.check([[fits], [too_long], ["12x"]], 2)
    assert result.rows == [(fits,), ("12x",)]
    [reject] = result.rejects
    assert reject.row == 3
    assert reject.reasons == [
        "Row 3: '" + "1" * 60 + "…' is too long to check against the pattern '\\\\d+\\\\d+x' in column 'c0' "
        "(10,001 characters; at most 10,000)"
    ]
