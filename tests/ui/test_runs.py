"""Runs: the live run handle, the paged and filtered runs list, and the run actions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.fakes import FakeWorker, run
from ui.client.runs import RunActions, RunHandle, RunsList


def page_of(*ids: str, total: int | None = None) -> dict[str, object]:
    return {"runs": [run(i) for i in ids], "total": len(ids) if total is None else total}


def test_a_runs_list_loads_its_first_page_when_the_engine_is_ready(worker: FakeWorker) -> None:
    runs = RunsList(worker.client, page_size=2)
    assert worker.requests == []
    worker.status("ready")
    assert worker.reply("runs.list", page_of("b", "a", total=3))["params"] == {"limit": 2, "offset": 0}
    assert [r["id"] for r in runs.runs] == ["b", "a"] and runs.total == 3 and runs.has_more


def test_pages_move_forward_back_and_to_a_clamped_page(ready: FakeWorker) -> None:
    runs = RunsList(ready.client, page_size=2)
    ready.reply("runs.list", page_of("e", "d", total=5))
    runs.next_page()
    assert ready.reply("runs.list", page_of("c", "b", total=5))["params"]["offset"] == 2
    runs.go_to_page(99)
    assert ready.reply("runs.list", page_of("a", total=5))["params"]["offset"] == 4
    assert runs.page == 2 and not runs.has_more and runs.page_count == 3
    runs.next_page()
    assert ready.pending("runs.list") == []
    runs.prev_page()
    assert ready.reply("runs.list", page_of("c", "b", total=5))["params"]["offset"] == 2


def test_filters_are_sent_and_reset_the_page(ready: FakeWorker) -> None:
    runs = RunsList(ready.client, page_size=2)
    ready.reply("runs.list", page_of("e", "d", total=5))
    runs.next_page()
    ready.reply("runs.list", page_of("c", "b", total=5))
    runs.set_filters(status="failed", job="import")
    request = ready.reply("runs.list", page_of("x", total=1))
    assert request["params"] == {"limit": 2, "offset": 0, "status": "failed", "job": "import"}
    assert runs.page == 0


def test_the_first_page_reloads_when_a_run_is_triggered(ready: FakeWorker) -> None:
    runs = RunsList(ready.client)
    ready.reply("runs.list", page_of("a"))
    ready.event("run:trigger", run_id="b", job="import")
    ready.reply("runs.list", page_of("b", "a"))
    assert [r["id"] for r in runs.runs] == ["b", "a"]


def test_reloads_asked_for_while_one_is_in_flight_are_coalesced(ready: FakeWorker) -> None:
    RunsList(ready.client)
    for name in ("b", "c", "d"):
        ready.event("run:trigger", run_id=name, job="import")
    assert len(ready.pending("runs.list")) == 1
    ready.reply("runs.list", page_of("d", "c", "b"))
    assert len(ready.pending("runs.list")) == 1


def test_progress_updates_a_shown_run_in_place_without_a_reload(ready: FakeWorker) -> None:
    runs = RunsList(ready.client)
    ready.reply("runs.list", page_of("a"))
    ready.event("run:progress", run_id="a", job="import", current=1, total=2, data={"rows": 10})
    assert ready.pending("runs.list") == []
    assert runs.runs[0]["progress"]["data"]["rows"] == 10


def test_later_pages_update_shown_runs_in_place_but_do_not_reload(ready: FakeWorker) -> None:
    runs = RunsList(ready.client, page_size=1)
    ready.reply("runs.list", page_of("b", total=2))
    runs.next_page()
    ready.reply("runs.list", page_of("a", total=2))
    ready.event("run:complete", run_id="a", job="import", output={})
    ready.event("run:trigger", run_id="c", job="import")
    assert runs.runs[0]["status"] == "completed" and ready.pending("runs.list") == []


def test_a_run_handle_loads_the_run_and_its_steps_and_applies_events(ready: FakeWorker) -> None:
    handle = RunHandle(ready.client, "r1")
    ready.reply("runs.get", run("r1", "running"))
    ready.reply("runs.steps", [{"name": "stage", "status": "completed"}])
    assert handle.run["status"] == "running" and handle.steps[0]["name"] == "stage"
    ready.event("run:progress", run_id="r1", job="import", current=5, total=10)
    assert handle.run["progress"]["current"] == 5 and ready.pending("runs.steps") == []
    ready.event("step:complete", run_id="r1", job="import", step="import")
    assert len(ready.pending("runs.steps")) == 1
    ready.event("run:delete", run_id="r1", job="import")
    assert handle.deleted


def test_a_missing_run_shows_its_error(ready: FakeWorker) -> None:
    handle = RunHandle(ready.client, "nope")
    ready.fail("runs.get", "not-found", "There is no run nope.")
    assert handle.error.code == "not-found"


def test_run_actions_send_their_methods_and_track_busy_and_errors(ready: FakeWorker) -> None:
    actions = RunActions(ready.client)
    actions.retry("r1")
    actions.cancel("r2")
    actions.delete("r3")
    assert actions.busy == 3
    assert [(r["method"], r["params"]) for r in ready.pending()] == [
        ("runs.retry", {"run_id": "r1"}), ("runs.cancel", {"run_id": "r2"}), ("runs.delete", {"run_id": "r3"})]
    ready.reply("runs.retry", run("r1", "pending"))
    ready.reply("runs.cancel", run("r2", "cancelled"))
    ready.fail("runs.delete", "conflict", "Cancel the run before deleting it.")
    assert actions.busy == 0 and actions.error.code == "conflict"
    actions.get_rejects("r1", limit=10, offset=20)
    assert ready.last("runs.rejects")["params"] == {"run_id": "r1", "limit": 10, "offset": 20}


def test_progress_reads_the_importers_payload_from_a_json_message() -> None:
    from ui.client.records import progress_of

    message = ('{"phase":"importing","bytes_done":50,"bytes_total":100,"rows_done":400,"rows_accepted":390,'
               '"rows_rejected":10,"rows_per_second":2000.0,"eta_seconds":1.5,"text":"Importing: 50%"}')
    flat = progress_of({"current": 50, "total": 100, "message": message})
    assert flat == {"current": 50, "total": 100, "message": "Importing: 50%", "rows": 400, "bytes": 50,
                    "total_bytes": 100, "rows_per_s": 2000.0, "eta_s": 1.5, "accepted": 390, "rejected": 10,
                    "step": "importing"}


@pytest.mark.parametrize(("run_fields", "expected"), [
    ({"output": {"table": "t", "rows_accepted": 90, "rows_rejected": 10}}, (100, 90, 10)),
    ({"progress": {"current": 1, "total": 2, "message": None, "data": {"rows": 50, "accepted": 49, "rejected": 1}}},
     (50, 49, 1)),
    ({}, (None, None, None)),
])
def test_counts_come_from_the_output_once_finished_else_from_progress(
        run_fields: dict[str, Any], expected: tuple[Any, ...]) -> None:
    from ui.client.records import counts_of

    assert counts_of(run("r1", **run_fields)) == expected


@pytest.mark.parametrize(("progress", "fraction"), [
    ({"step": "staging", "bytes": 50, "total_bytes": 100}, 0.05),
    ({"step": "staging", "bytes": 100, "total_bytes": 100}, 0.1),
    ({"step": "scanning", "bytes": 0, "total_bytes": 100}, 0.1),
    ({"step": "scanning", "bytes": 100, "total_bytes": 100}, 0.25),
    ({"step": "prepare"}, 0.25),
    ({"step": "importing", "bytes": 0, "total_bytes": 100}, 0.25),
    ({"step": "importing", "bytes": 50, "total_bytes": 100}, 0.625),
    ({"step": "importing", "bytes": 100, "total_bytes": 100}, 1.0),
    ({"step": None, "current": 3, "total": 4}, 0.75),
    ({"step": None}, None),
])
def test_the_bar_moves_forward_only_across_the_phases(progress: dict[str, Any], fraction: float | None) -> None:
    from ui.client.records import fraction_of

    result = fraction_of(progress)
    assert result == fraction if fraction is None else abs(result - fraction) < 1e-9


def test_following_a_run_from_its_trigger_event_keeps_its_file_name_after_the_start_reply(
        ready: FakeWorker) -> None:
    from ui.client.jobs import JobHandle

    handle = JobHandle(ready.client, "import", "import.start", auto_resume=False)
    handle.trigger({"source_id": "s"})
    ready.event("run:trigger", run_id="r1", job="import", labels={"file": "people.csv", "sha256": "x"})
    ready.reply("import.start", {"run_id": "r1", "created": True})
    assert handle.file_name == "people.csv"


def test_progress_reads_the_importers_names_in_data_beside_a_text_message() -> None:
    from ui.client.records import progress_of

    flat = progress_of({"current": 5, "total": 10, "message": "Importing: 50%",
                        "data": {"phase": "importing", "bytes_done": 5, "bytes_total": 10, "rows_done": 40,
                                 "rows_accepted": 39, "rows_rejected": 1, "rows_per_second": 9.5,
                                 "eta_seconds": 2.0, "text": "Importing: 50%"}})
    assert flat == {"current": 5, "total": 10, "message": "Importing: 50%", "rows": 40, "bytes": 5,
                    "total_bytes": 10, "rows_per_s": 9.5, "eta_s": 2.0, "accepted": 39, "rejected": 1,
                    "step": "importing"}
