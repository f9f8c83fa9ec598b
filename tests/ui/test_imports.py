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
