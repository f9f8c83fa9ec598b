"""Column rules checked on the page before Start, dates read both ways, the worker's refusal explained."""

from __future__ import annotations

from typing import Any

import pytest

from ui.client.rules import date_order, explain_options_error, read_date, rule_errors

NOT_A_NUMBER = "The %s must be a number, like 0 or 2.5 (this column is integer)."
SWAPPED = "The maximum %s is less than the minimum %s: swap them or change one."


@pytest.mark.parametrize(("spec", "expected"), [
    ({"type": "integer", "min": "0", "max": "120"}, []),
    ({"type": "real", "min": "-2.5"}, []),
    ({"type": "integer", "min": "ten"}, [("min", NOT_A_NUMBER % "minimum")]),
    ({"type": "integer", "max": "nan"}, [("max", NOT_A_NUMBER % "maximum")]),
    ({"type": "integer", "min": "10", "max": "9"}, [("max", SWAPPED % ("9", "10"))]),
    ({"type": "integer", "min": 10.0, "max": 9.0}, [("max", SWAPPED % ("9", "10"))]),
    ({"type": "real", "min": "9", "max": "10"}, []),
    ({"type": "text", "min": "b", "max": "a"}, [("max", SWAPPED % ("a", "b"))]),
    ({"type": "date", "min": "2024-01-01", "max": "2024-12-31"}, []),
    ({"type": "date", "min": "01/01/2024"},
     [("min", "The minimum of a date column is written YYYY-MM-DD (how dates are stored), like 2024-01-31.")]),
    ({"type": "text", "regex": "[A-Z]{2}[0-9]+"}, []),
    ({"type": "text", "regex": "[a-z"},
     [("regex", "'[a-z' is not a valid regular expression: unterminated character set at position 0. "
                "Fix the pattern or clear it.")]),
    ({"type": "text", "email": True}, []),
    ({"type": "integer", "email": False, "regex": "[0-9]{3}"}, []),
    ({"type": "integer", "email": True},
     [("email", "The email rule is for text columns (this column is integer): clear it or make the column text.")]),
    ({"type": "date", "email": True},
     [("email", "The email rule is for text columns (this column is date): clear it or make the column text.")]),
])
def test_rule_errors_name_what_to_fix(spec: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert rule_errors(spec) == expected


@pytest.mark.parametrize(("fmt", "order"), [
    ("DD/MM/YYYY", "day first"), ("MM/DD/YYYY", "month first"), ("YYYY-MM-DD", "year first"),
    ("DD/MM/YYYY HH:MM:SS", "day first"), ("MM-DD-YYYY HH:MM:SS", "month first"),
])
def test_date_order_names_the_first_field(fmt: str, order: str) -> None:
    assert date_order(fmt) == order


@pytest.mark.parametrize(("value", "fmt", "reading"), [
    ("01/02/2024", "DD/MM/YYYY", "1 Feb 2024"),
    ("01/02/2024", "MM/DD/YYYY", "2 Jan 2024"),
    ("3.4.2023", "DD.MM.YYYY", "3 Apr 2023"),
    ("01/02/2024 10:30", "MM/DD/YYYY HH:MM:SS", "2 Jan 2024"),
    ("13/02/2024", "MM/DD/YYYY", None),
    ("soon", "DD/MM/YYYY", None),
])
def test_read_date_shows_how_a_value_reads_under_a_format(value: str, fmt: str, reading: str | None) -> None:
    assert read_date(value, fmt) == reading


PYDANTIC = ("The import options are not valid: 1 validation error for ImportOptions\ncolumns.1.regex\n"
            "  Value error, the pattern 'a\\\\q' is not a valid regular expression (bad escape \\q at position 1) "
            "[type=value_error, input_value='a\\\\q', input_type=str]\n"
            "    For further information visit https://errors.pydantic.dev/2.14/v/value_error")


def test_the_workers_refusal_names_the_column_and_the_rule() -> None:
    text = explain_options_error(PYDANTIC, [{"name": "id"}, {"name": "code"}])
    assert text == ("The worker refused these settings. Column 2 (code), pattern: the pattern 'a\\\\q' is not a "
                    "valid regular expression (bad escape \\q at position 1).")


def test_a_refusal_that_is_not_a_pydantic_report_is_kept_as_it_is() -> None:
    assert explain_options_error("Pick the file again.", []) == "Pick the file again."
