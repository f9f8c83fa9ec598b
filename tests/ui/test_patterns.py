"""The page's regex check agrees with Python's `re`: the same message for the common mistakes, and never
an error for a pattern Python compiles."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.patterns import pattern_risk, risk_sentence
from tests.importer.test_patterns import CATASTROPHIC, ORDINARY
from tests.ui.test_micropython import MICROPYTHON, ROOT, RUNNER
from ui.client.patterns import pattern_error

VALID = ["[A-Z]{2}[0-9]+", r"\d{3}-\d{4}", "a{,}", "a{}", "a{,3}", "a*+", "a{1,2}?", "[]a]", "[^]a]", "[a-]",
         "[-a]", r"[\d\-.]", "(?P<x>a)(?P=x)", "(?i)a", "(?i)(?m)a", "(?i:a)b", "(?<=a)*", "(?#note)a",
         r"^\w+@\w+\.\w+$", "a|b|", "()", r"\.", r"[\b]", "x{2}y{3,}", r"\\"]
INVALID = [("(a(b", "missing ), unterminated subpattern at position 2"),
           ("((a)", "missing ), unterminated subpattern at position 0"),
           ("a)", "unbalanced parenthesis at position 1"),
           ("*a", "nothing to repeat at position 0"),
           ("^*", "nothing to repeat at position 1"),
           ("a|*", "nothing to repeat at position 2"),
           ("(*)", "nothing to repeat at position 1"),
           ("{1}", "nothing to repeat at position 0"),
           (r"\b*", "nothing to repeat at position 2"),
           ("a**", "multiple repeat at position 2"),
           ("a*?+", "multiple repeat at position 3"),
           ("x{2}{3}", "multiple repeat at position 4"),
           ("a{3,2}", "min repeat greater than max repeat at position 2"),
           ("[a", "unterminated character set at position 0"),
           ("[]", "unterminated character set at position 0"),
           ("[z-a]", "bad character range z-a at position 1"),
           (r"a\q", r"bad escape \q at position 1"),
           (r"[\A]", r"bad escape \A at position 1"),
           ("\\", "bad escape (end of pattern) at position 0"),
           ("a(?i)", "global flags not at the start of the expression at position 1")]


@pytest.mark.parametrize("pattern", VALID)
def test_patterns_python_compiles_pass(pattern: str) -> None:
    re.compile(pattern)
    assert pattern_error(pattern) is None


@pytest.mark.parametrize(("pattern", "message"), INVALID)
def test_common_mistakes_get_pythons_own_message(pattern: str, message: str) -> None:
    with pytest.raises(re.error) as python:
        re.compile(pattern)
    assert str(python.value) == message
    assert pattern_error(pattern) == message


@pytest.mark.filterwarnings("ignore::FutureWarning")  # "possible nested set": a warning, not an error
@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="ab(){}[]*+?|^$\\-,:=!#<>P0123dqAiz", max_size=12))
def test_a_pattern_flagged_on_the_page_never_compiles_in_python(pattern: str) -> None:
    if pattern_error(pattern) is not None:
        with pytest.raises(re.error):
            re.compile(pattern)


def test_the_page_refuses_what_the_importer_refuses_on_the_pages_micropython(tmp_path: Path) -> None:
    """Both corpora of tests/importer/test_patterns.py, checked by patterns.py inside the vendored MicroPython
    (the page's interpreter, run by node): the same verdicts and sentences as the importer on CPython."""
    if shutil.which("node") is None or not MICROPYTHON.exists():
        pytest.skip("needs node and the vendored MicroPython (./run vendor)")
    corpus = [*CATASTROPHIC, *ORDINARY]
    files = {"ui/__init__.py": "", "ui/client/__init__.py": "",
             "ui/client/patterns.py": (ROOT / "py/ui/client/patterns.py").read_text()}
    script = "\n".join([
        "import sys, json", "sys.path.insert(0, '/lib')", "from ui.client.patterns import pattern_risk, risk_sentence",
        f"for p in json.loads({json.dumps(json.dumps(corpus))}):",
        "    why = pattern_risk(p)", "    print(json.dumps(why and risk_sentence(p, why)))", ""])
    runner = tmp_path / "run.mjs"
    runner.write_text(RUNNER % {"mjs": json.dumps(MICROPYTHON.as_uri()), "files": json.dumps(files),
                                "script": json.dumps(script)})
    out = subprocess.run(["node", str(runner)], capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["ok"], result.get("error")
    on_the_page = [json.loads(line) for line in result["lines"]]
    expected = [None if pattern_risk(p) is None else risk_sentence(p, pattern_risk(p) or "") for p in corpus]
    assert on_the_page == expected
    assert all(on_the_page[: len(CATASTROPHIC)]) and not any(on_the_page[len(CATASTROPHIC) :])
