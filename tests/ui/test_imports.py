"""The import draft: detected settings with evidence, column edits, problems, import.start params."""

from __future__ import annotations

from typing import Any

import pytest

from ui.client.imports import ImportDraft


def preview() -> dict[str, Any]:
    columns = [{"header": "id", "name": "id", "type": "integer", "evidence": "20 of 20 are integers",
                "date_format": None, "ambiguous": False, "alternatives": [], "non_empty": 20},
               {"header": "born", "name": "born", "type": "date", "evidence": "dates",
                "date_format": "DD/MM/YYYY", "ambiguous": False, "alternatives": [], "non_empty": 20}]
    options = {"encoding": "utf-8", "delimiter": ";", "quotechar": '"', "has_header": True, "null_markers": [],
               "decimal_comma": False, "table": "people", "if_exists": "fail", "batch_rows": None,
               "columns": [{"source": 0, "name": "id", "type": "integer", "date_format": None, "skip": False,
                            "required": False, "unique": False},
                           {"source": 1, "name": "born", "type": "date", "date_format": "DD/MM/YYYY",
                            "skip": False, "required": False, "unique": False}]}
    sniff = {"encoding": {"value": "utf-8", "evidence": "plain ASCII", "overridden": False},
             "delimiter": {"value": ";", "evidence": "20 of 20 rows have 2 fields", "overridden": False},
             "has_header": {"value": True, "evidence": "yes", "overridden": True},
             "columns": columns, "preview": [["1", "21/02/1990"]], "options": options}
    return {"source_id": "src1", "name": "people.csv", "size": 120, "sniff": sniff, "columns": columns,
            "preview": [["1", "21/02/1990"]], "table_name": "people", "duplicate_of": None}


def test_settings_come_with_their_evidence_in_display_order() -> None:
    draft = ImportDraft(preview())
    assert draft.settings() == [("encoding", "Encoding", "utf-8", "plain ASCII", False),
                                ("delimiter", "Delimiter", ";", "20 of 20 rows have 2 fields", False),
                                ("has_header", "Header row", True, "yes", True)]


def test_unedited_params_are_the_detected_options() -> None:
    draft = ImportDraft(preview())
    params = draft.params()
    assert params["source_id"] == "src1" and params["force"] is False
    assert params["options"] == preview()["sniff"]["options"]


def test_column_edits_and_the_table_name_reach_the_options() -> None:
    draft = ImportDraft(preview())
    draft.set_column(0, "name", " person_id ")
    draft.set_column(0, "unique", True)
    draft.set_column(1, "type", "text")
    draft.set_table("staff")
    options = draft.params(force=True)["options"]
    assert options["table"] == "staff"
    assert options["columns"][0]["name"] == "person_id" and options["columns"][0]["unique"] is True
    assert options["columns"][1]["type"] == "text" and options["columns"][1]["date_format"] is None


def test_switching_back_to_the_guessed_date_type_restores_its_format() -> None:
    draft = ImportDraft(preview())
    draft.set_column(1, "type", "text")
    draft.set_column(1, "type", "date")
    assert draft.columns[1]["date_format"] == "DD/MM/YYYY"


def test_edits_do_not_change_the_preview_it_came_from() -> None:
    source = preview()
    draft = ImportDraft(source)
    draft.set_column(0, "skip", True)
    assert source["sniff"]["options"]["columns"][0]["skip"] is False


@pytest.mark.parametrize(("edits", "expected"), [
    ([], []),
    ([("table", "")], ["Give the table a name."]),
    ([(0, "skip", True), (1, "skip", True)], ["Keep at least one column (every column is skipped)."]),
    ([(1, "name", "ID")], ["Two columns are named 'ID': rename one of them."]),
    ([(1, "name", "  ")], ["Column 2 needs a name."]),
    ([(0, "skip", True), (1, "name", "id")], []),
])
def test_problems_say_what_to_fix_before_starting(edits: list[tuple[Any, ...]], expected: list[str]) -> None:
    draft = ImportDraft(preview())
    for edit in edits:
        if edit[0] == "table":
            draft.set_table(edit[1])
        else:
            draft.set_column(*edit)
    assert draft.problems() == expected


def test_a_preview_without_options_builds_specs_from_the_column_guesses() -> None:
    bare = preview()
    del bare["sniff"]["options"]
    draft = ImportDraft(bare)
    assert [(c["name"], c["type"]) for c in draft.columns] == [("id", "integer"), ("born", "date")]
    assert draft.table == "people"


def ambiguous() -> dict[str, Any]:
    source = preview()
    guess = source["columns"][1]
    guess.update({"ambiguous": True, "alternatives": ["MM/DD/YYYY"], "evidence": "fits both"})
    source["preview"] = [["1", "NA"], ["2", "01/02/2024"]]
    source["sniff"]["options"]["null_markers"] = ["NA"]
    return source


def test_rules_reach_the_options_and_blank_clears_them() -> None:
    draft = ImportDraft(preview())
    draft.set_column(0, "min", " 0 ")
    draft.set_column(0, "max", "120")
    draft.set_column(1, "regex", "[0-9/]+")
    draft.set_column(1, "email", True)
    spec = draft.params()["options"]["columns"]
    assert (spec[0]["min"], spec[0]["max"]) == ("0", "120")
    assert (spec[1]["regex"], spec[1]["email"]) == ("[0-9/]+", True)
    draft.set_column(0, "min", "  ")
    draft.set_column(1, "regex", "")
    spec = draft.params()["options"]["columns"]
    assert spec[0]["min"] is None and spec[1]["regex"] is None
    assert draft.rules_summary(0) == "max 120" and draft.rules_summary(1) == "email"


def test_a_rule_that_cannot_work_is_a_problem_naming_the_column() -> None:
    draft = ImportDraft(preview())
    draft.set_column(0, "min", "5")
    draft.set_column(0, "max", "1")
    assert draft.problems() == ["Column 1 (id): The maximum 1 is less than the minimum 5: swap them or change one."]
    draft.set_column(0, "skip", True)
    assert draft.problems() == []


def test_the_email_rule_defaults_to_what_inference_found() -> None:
    bare = preview()
    del bare["sniff"]["options"]
    bare["columns"][1]["email"] = True
    assert [c["email"] for c in ImportDraft(bare).columns] == [False, True]


def test_an_ambiguous_date_column_offers_both_readings_with_an_example() -> None:
    draft = ImportDraft(ambiguous())
    assert draft.date_choices(1) == [("DD/MM/YYYY", "day first", "01/02/2024 is 1 Feb 2024"),
                                     ("MM/DD/YYYY", "month first", "01/02/2024 is 2 Jan 2024")]
    draft.set_column(1, "date_format", "MM/DD/YYYY")
    assert draft.params()["options"]["columns"][1]["date_format"] == "MM/DD/YYYY"
    draft.set_column(1, "type", "text")
    assert draft.date_choices(1) == [] and draft.date_choices(0) == []


def test_null_markers_come_from_the_options_and_mark_preview_cells() -> None:
    draft = ImportDraft(ambiguous())
    assert draft.null_markers == ["NA"]
    assert draft.is_null("NA") and not draft.is_null("N/A")
    assert draft.marker_count("NA") == 1 and draft.marker_count("NULL") == 0


def test_reading_again_keeps_the_users_column_edits_and_table_name() -> None:
    before = ImportDraft(ambiguous())
    before.set_column(0, "min", "1")
    before.set_column(1, "date_format", "MM/DD/YYYY")
    before.set_table("staff")
    after = ImportDraft(preview())
    after.keep_edits(before)
    assert after.columns[0]["min"] == "1" and after.columns[1]["date_format"] == "MM/DD/YYYY"
    assert after.columns[0]["name"] == "id" and after.table == "staff"


def test_reading_again_with_another_column_count_keeps_only_the_table_name() -> None:
    before = ImportDraft(preview())
    before.set_column(0, "min", "1")
    narrower = preview()
    narrower["sniff"]["options"]["columns"] = narrower["sniff"]["options"]["columns"][:1]
    after = ImportDraft(narrower)
    after.keep_edits(before)
    assert after.columns[0].get("min") is None
