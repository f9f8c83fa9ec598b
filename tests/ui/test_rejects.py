"""The rejects workbench handle: edits stay until checked or inserted, Check shows new reasons, fixes start a
fix-rejects run whose end (here or in another tab) reloads the rows."""

from __future__ import annotations

from tests.ui.fakes import FakeWorker
from ui.client.rejects import RejectsWorkbench

ROWS = {"rows": [{"row_number": 3, "values": ["1", "x"], "reasons": ["Row 3: 'x' is not a number"]},
                 {"row_number": 7, "values": ["2", "y"], "reasons": ["Row 7: 'y' is not a number"]}], "total": 2}


def loaded(ready: FakeWorker) -> RejectsWorkbench:
    bench = RejectsWorkbench(ready.client, "r1")
    ready.reply("rejects.fields", {"fields": ["id", "amount"], "table": "t"})
    assert ready.reply("runs.rejects", ROWS)["params"] == {"run_id": "r1", "limit": 25, "offset": 0}
    return bench


def test_an_edit_is_checked_and_its_new_reasons_replace_the_stored_ones(ready: FakeWorker) -> None:
    bench = loaded(ready)
    assert bench.fields == ["id", "amount"] and bench.values_of(3) == ["1", "x"]
    bench.edit(3, 1, "4.5")
    assert bench.values_of(3) == ["1", "4.5"] and bench.reasons_of(3) == ["Row 3: 'x' is not a number"]
    bench.check()
    assert ready.reply("rejects.check", {"rows": [{"row_number": 3, "reasons": []}]})["params"] == {
        "run_id": "r1", "rows": [{"row_number": 3, "values": ["1", "4.5"]}]}
    assert bench.reasons_of(3) == [] and bench.message == "1 of 1 edited rows would be inserted now."
    bench.edit(3, 1, "oops")  # a new edit drops the old check
    assert bench.reasons_of(3) == ["Row 3: 'x' is not a number"]


def test_insert_starts_a_fix_run_and_its_end_reloads_and_clears_the_edits(ready: FakeWorker) -> None:
    bench = loaded(ready)
    bench.edit(7, 1, "2")
    bench.insert_fixed()
    sent = ready.reply("rejects.fix", {"run_id": "f1"})["params"]
    assert sent == {"action": "insert", "rows": [{"row_number": 7, "values": ["2", "2"]}], "run_id": "r1"}
    assert bench.fix["status"] == "running"
    ready.event("run:complete", run_id="f1", job="fix-rejects", output={"inserted": 1, "still_rejected": 1})
    assert bench.fix["status"] == "completed" and bench.edits == {}
    assert bench.message == "Done: 1 inserted into the table, 1 still rejected (edits kept)."
    ready.reply("runs.rejects", {"rows": ROWS["rows"][:1], "total": 1})
    assert [r["row_number"] for r in bench.rows] == [3]


def test_bulk_fixes_go_to_the_selection_or_to_every_reject(ready: FakeWorker) -> None:
    bench = loaded(ready)
    bench.set_field(1, None)
    assert ready.reply("rejects.fix", {"run_id": "f1"})["params"]["only"] is None
    bench.select(7, True)
    bench.replace_in_field(1, "y", "9")
    assert ready.reply("rejects.fix", {"run_id": "f2"})["params"] == {
        "action": "save", "only": [7], "bulk": {"field": 1, "op": "replace", "find": "y", "replace": "9"},
        "run_id": "r1"}
    bench.discard()
    assert ready.reply("rejects.fix", {"run_id": "f3"})["params"]["only"] == [7]


def test_discard_needs_a_selection_and_another_tabs_fix_reloads(ready: FakeWorker) -> None:
    bench = loaded(ready)
    assert bench.discard() is None and bench.message == "Select the rejected rows to discard first."
    ready.event("run:complete", run_id="other", job="fix-rejects", output={})
    ready.reply("runs.rejects", {"rows": [], "total": 0})
    assert bench.rows == [] and bench.fix is None
