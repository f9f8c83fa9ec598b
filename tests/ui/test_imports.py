"""The import draft: detected settings with evidence, column edits, problems, import.start params."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.fakes import FakeWorker, guess
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


def test_what_to_do_with_an_existing_table_reaches_the_options_and_survives_reading_again() -> None:
    draft = ImportDraft(preview())
    assert draft.if_exists == "fail"
    draft.set_table("staff")
    draft.set_if_exists("append")
    draft.set_if_exists("drop everything")  # not a choice: ignored
    assert draft.params()["options"]["if_exists"] == "append"
    again = ImportDraft(preview())
    again.keep_edits(draft)
    assert again.params()["options"]["if_exists"] == "append" and again.table == "staff"


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


# -- the first look, then the whole file (file.scan) ----------------------------------------------

HEADERS = ("id", "dep_time", "arr_delay", "carrier")


def first_look() -> dict[str, Any]:
    """A file past 64 KB as `file.preview` answers it: NA seen in arr_delay only, dep_time all whole numbers."""
    guesses = [guess("integer", "integer: 716 of 716 sample values are whole numbers", non_empty=716),
               guess("integer", "integer: 716 of 716 sample values are whole numbers", non_empty=716),
               guess("integer", "integer: 700 of 700 sample values are whole numbers; 16 'NA' read as NULL",
                     non_empty=700, null_markers=["NA"], null_counts={"NA": 16}),
               guess("text", "text: 'UA' is not a number, boolean or date", non_empty=716)]
    columns = [dict(g, header=h, name=h) for h, g in zip(HEADERS, guesses, strict=True)]
    specs = [{"source": i, "name": h, "type": g["type"], "date_format": None, "skip": False, "required": False,
              "unique": False, "min": None, "max": None, "regex": None, "email": False,
              "null_markers": list(g["null_markers"]), "provisional": True}
             for i, (h, g) in enumerate(zip(HEADERS, guesses, strict=True))]
    options = {"encoding": "utf-8", "delimiter": ",", "quotechar": '"', "has_header": True, "null_markers": [],
               "decimal_comma": False, "table": "flights", "if_exists": "fail", "batch_rows": None, "columns": specs}
    sniff = {"encoding": {"value": "utf-8", "evidence": "plain ASCII", "overridden": False},
             "columns": columns, "preview": [["1", "517", "11", "UA"], ["2", "533", "NA", "NA"]],
             "sample_rows": 716, "complete": False, "options": options}
    return {"source_id": "big", "name": "flights.csv", "size": 33_000_000, "sniff": sniff}


def whole_file(source_id: str = "big") -> dict[str, Any]:
    """What `file.scan` replies for `first_look()`: NA later in dep_time, 2.5 later in arr_delay."""
    return {"source_id": source_id, "rows": 336_776, "bytes": 33_000_000, "columns": [
        guess("integer", "integer: all 336,776 values in the file are whole numbers", whole_file=True,
              non_empty=336_776),
        guess("integer", "integer: all 328,521 values in the file are whole numbers; 8,255 'NA' read as NULL",
              whole_file=True, non_empty=328_521, null_markers=["NA"], null_counts={"NA": 8255}),
        guess("real", "real: all 327,346 values in the file are numbers; 9,430 'NA' read as NULL",
              whole_file=True, non_empty=327_346, null_markers=["NA"], null_counts={"NA": 9430}),
        guess("text", "text: 'UA' is not a number, boolean or date", whole_file=True, non_empty=336_776)]}


def specs(draft: ImportDraft) -> list[tuple[str, list[str], bool]]:
    """(type, null_markers, provisional) of each column as `import.start` would get them."""
    return [(c["type"], c["null_markers"], c["provisional"]) for c in draft.params()["options"]["columns"]]


def test_the_preview_is_a_first_look_whose_columns_are_provisional_until_the_scan() -> None:
    draft = ImportDraft(first_look())
    assert draft.scan_state == "scanning" and draft.scanning
    assert draft.scan_label() == "First look: the first 64 KB (716 rows). Checking the whole file… 0%"
    assert specs(draft) == [("integer", [], True), ("integer", [], True), ("integer", ["NA"], True),
                            ("text", [], True)]


def test_scan_progress_events_of_this_file_move_the_label_and_others_are_ignored() -> None:
    worker = FakeWorker()
    draft = ImportDraft(first_look())
    changes: list[int] = []
    draft.follow_scan(worker.client, lambda d: changes.append(d.scan_percent()))
    assert worker.last("file.scan")["params"] == {"source_id": "big"}
    worker.event("file:scan", source_id="other", bytes_done=9, bytes_total=10, rows=5)
    worker.event("file:scan", source_id="big", bytes_done=14_850_000, bytes_total=33_000_000, rows=150_000)
    assert changes == [45]
    assert draft.scan_label() == "First look: the first 64 KB (716 rows). Checking the whole file… 45%"
    worker.event("file:scan", source_id="big", bytes_done=33_000_000, bytes_total=33_000_000, rows=336_776)
    assert draft.scan_percent() == 99, "100% only once the scan has replied"


def test_the_scan_reply_settles_every_column_the_user_did_not_set() -> None:
    worker = FakeWorker()
    draft = ImportDraft(first_look())
    draft.set_column(1, "type", "text")  # before the scan ends: the user's choice is kept
    assert specs(draft)[1] == ("text", [], False), "the user's choice is never provisional"
    changes: list[str] = []
    draft.follow_scan(worker.client, lambda d: changes.append(d.scan_state))
    worker.reply("file.scan", whole_file())
    assert changes == ["done"]
    assert specs(draft) == [("integer", [], False), ("text", [], False), ("real", ["NA"], False),
                            ("text", [], False)]
    assert draft.evidence(2) == "real: all 327,346 values in the file are numbers; 9,430 'NA' read as NULL"
    assert draft.guess(2)["whole_file"] is True and draft.guess(2)["header"] == "arr_delay"
    assert draft.scan_label() == "Checked all 336,776 rows: the types hold for the whole file."
    assert draft.columns[1]["name"] == "dep_time" and draft.is_null("NA", 2) and not draft.is_null("NA", 0)


def test_a_chosen_day_month_order_stays_when_the_scan_keeps_the_date_type() -> None:
    source = first_look()
    source["sniff"]["columns"][3].update(type="date", date_format="DD/MM/YYYY", ambiguous=True,
                                         alternatives=["MM/DD/YYYY"])
    source["sniff"]["options"]["columns"][3].update(type="date", date_format="DD/MM/YYYY")
    draft = ImportDraft(source)
    draft.set_column(3, "date_format", "MM/DD/YYYY")
    scanned = whole_file()
    scanned["columns"][3] = guess("date", "date: all fit both", whole_file=True, date_format="DD/MM/YYYY",
                                  ambiguous=True, alternatives=["MM/DD/YYYY"])
    assert draft.apply_scan(scanned)
    assert (draft.columns[3]["type"], draft.columns[3]["date_format"]) == ("date", "MM/DD/YYYY")
    assert draft.params()["options"]["columns"][3]["provisional"] is False


def test_starting_before_the_scan_ends_sends_the_first_look_as_provisional() -> None:
    worker = FakeWorker()
    draft = ImportDraft(first_look())
    draft.follow_scan(worker.client, lambda d: None)
    worker.event("file:scan", source_id="big", bytes_done=1, bytes_total=33_000_000, rows=10)
    assert all(provisional for _, _, provisional in specs(draft))
    assert draft.problems() == [], "Start is never held back by the scan"


def test_a_superseded_scan_is_ignored_and_a_failed_one_says_why() -> None:
    worker = FakeWorker()
    draft = ImportDraft(first_look())
    changes: list[str] = []
    draft.follow_scan(worker.client, lambda d: changes.append(d.scan_state))
    worker.fail("file.scan", "superseded", "The file was read again with other settings.")
    assert changes == [] and draft.scanning and worker.unhandled == []
    draft.follow_scan(worker.client, lambda d: changes.append(d.scan_state))
    worker.fail("file.scan", "invalid", "Checking the whole file: byte 70,001 is not valid utf-8.")
    assert changes == ["failed"] and worker.unhandled == []
    assert draft.scan_label() == ("First look: the first 64 KB (716 rows). Checking the whole file: byte 70,001 is "
                                  "not valid utf-8. The import checks the whole file again before it writes a row.")
    assert all(provisional for _, _, provisional in specs(draft))


def test_a_replaced_draft_stops_following_its_scan() -> None:
    worker = FakeWorker()
    draft = ImportDraft(first_look())
    changes: list[str] = []
    stop = draft.follow_scan(worker.client, lambda d: changes.append(d.scan_state))
    stop()
    worker.event("file:scan", source_id="big", bytes_done=5, bytes_total=10, rows=1)
    worker.reply("file.scan", whole_file())
    assert changes == [] and draft.scanning


def test_a_scan_of_another_file_changes_nothing() -> None:
    draft = ImportDraft(first_look())
    assert draft.apply_scan(whole_file("other")) is False
    assert draft.scanning and draft.columns[2]["type"] == "integer"


def test_null_tokens_list_where_they_were_found_on_by_default() -> None:
    draft = ImportDraft(first_look())
    assert draft.null_tokens() == [("NA", True, [(2, 16)])]
    draft.apply_scan(whole_file())
    assert draft.null_tokens() == [("NA", True, [(1, 8255), (2, 9430)])]
    places = draft.null_tokens()[0][2]
    assert draft.tokens_evidence("NA", places) == "NULL in dep_time (8,255), arr_delay (9,430)"


def test_switching_a_null_token_off_makes_it_a_value_in_every_column_and_on_restores_it() -> None:
    draft = ImportDraft(first_look())
    draft.apply_scan(whole_file())
    draft.set_null_token("NA", False)
    assert [c["null_markers"] for c in draft.params()["options"]["columns"]] == [[], [], [], []]
    assert not draft.is_null("NA", 2)
    assert draft.evidence(2) == ("real: all 327,346 values in the file are numbers. 'NA' is not NULL (your choice), "
                                 "so 9,430 rows are rejected ('NA' is not a real).")
    draft.set_column(2, "type", "text")
    assert draft.evidence(2) == ("real: all 327,346 values in the file are numbers. 'NA' is not NULL (your choice), "
                                 "so its 9,430 cells import as text.")
    places = draft.null_tokens()[0][2]
    assert draft.null_tokens()[0][1] is False
    assert draft.tokens_evidence("NA", places) == ("not NULL (your choice): a value in dep_time (8,255), "
                                                   "arr_delay (9,430)")
    draft.set_null_token("NA", True)
    assert [c["null_markers"] for c in draft.params()["options"]["columns"]] == [[], ["NA"], ["NA"], []]
    assert "your choice" not in draft.evidence(1)


def test_a_token_switched_off_before_the_scan_ends_pins_the_columns_that_had_it() -> None:
    draft = ImportDraft(first_look())
    draft.set_null_token("NA", False)
    assert specs(draft) == [("integer", [], True), ("integer", [], True), ("integer", [], False),
                            ("text", [], True)]
    draft.apply_scan(whole_file())  # NA found in dep_time too: still off there
    assert specs(draft) == [("integer", [], False), ("integer", [], False), ("real", [], False),
                            ("text", [], False)]


def test_reading_again_keeps_a_switched_off_token_and_starts_a_new_scan() -> None:
    before = ImportDraft(first_look())
    before.apply_scan(whole_file())
    before.set_column(3, "type", "text")
    before.set_null_token("NA", False)
    after = ImportDraft(first_look())
    after.keep_edits(before)
    assert after.scanning and not after.token_is_on("NA")
    assert [c["null_markers"] for c in after.columns] == [[], [], [], []]


def test_a_small_file_is_checked_whole_at_first_look() -> None:
    source = first_look()
    source["sniff"].update(complete=True, sample_rows=20)
    for column in source["sniff"]["options"]["columns"]:
        column["provisional"] = False
    draft = ImportDraft(source)
    assert draft.scan_state == "done"
    assert draft.scan_label() == "Checked all 20 rows: the types hold for the whole file."
    assert not any(provisional for _, _, provisional in specs(draft))


def test_the_evidence_of_a_column_with_two_tokens_keeps_the_one_still_on() -> None:
    source = first_look()
    source["sniff"]["columns"][2].update(
        evidence="integer: 700 of 700 sample values are whole numbers; 16 'NA', 2 'NULL' read as NULL",
        null_markers=["NA", "NULL"], null_counts={"NA": 16, "NULL": 2})
    source["sniff"]["options"]["columns"][2]["null_markers"] = ["NA", "NULL"]
    draft = ImportDraft(source)
    assert [t for t, _, _ in draft.null_tokens()] == ["NA", "NULL"]
    draft.set_null_token("NULL", False)
    assert draft.evidence(2) == ("integer: 700 of 700 sample values are whole numbers; 'NA' read as NULL. 'NULL' "
                                 "is not NULL (your choice), so 2 rows are rejected ('NULL' is not an integer).")
    assert draft.params()["options"]["columns"][2]["null_markers"] == ["NA"]
