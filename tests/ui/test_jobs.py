"""The job handle: trigger, follow, auto-resume, follow the latest run, trigger-and-wait."""

from __future__ import annotations

from tests.ui.fakes import FakeWorker, run
from ui.client.jobs import JobHandle


def job(worker: FakeWorker, **kwargs: object) -> JobHandle:
    return JobHandle(worker.client, "import", "import.start", **kwargs)  # type: ignore[arg-type]


def test_trigger_follows_the_new_run_and_loads_it_and_its_logs(ready: FakeWorker) -> None:
    handle = job(ready, auto_resume=False)
    handle.trigger({"source_id": "s1", "options": {}, "force": False})
    assert ready.last("import.start")["params"]["source_id"] == "s1"
    ready.reply("import.start", {"run_id": "r1", "created": True})
    assert handle.run_id == "r1" and handle.is_pending
    ready.reply("runs.get", run("r1", "running"))
    ready.reply("runs.logs", {"logs": [{"level": "info", "message": "staged"}], "total": 1})
    assert handle.is_running and handle.file_name == "people.csv"
    assert [line["message"] for line in handle.logs] == ["staged"]


def test_a_duplicate_does_not_switch_runs_and_the_caller_sees_created_false(ready: FakeWorker) -> None:
    handle = job(ready, auto_resume=False)
    results = []
    handle.trigger({"source_id": "s1"}).then(results.append)
    ready.reply("import.start", {"run_id": "old", "created": False})
    assert results == [{"run_id": "old", "created": False}] and handle.run_id is None


def test_events_of_the_current_run_update_status_progress_output_and_error(ready: FakeWorker) -> None:
    handle = job(ready, auto_resume=False)
    handle.attach("r1", run("r1", "pending"))
    changes = []
    handle.subscribe(lambda h: changes.append(h.status))
    ready.event("run:start", run_id="r1", job="import", attempt=1, at="2026-01-01T00:00:01+00:00")
    ready.event("run:progress", run_id="r1", job="import", current=50, total=100, message="Importing",
                data={"rows": 5000, "bytes": 50, "total_bytes": 100, "rows_per_s": 1000.0, "eta_s": 5,
                      "accepted": 4990, "rejected": 10, "step": "import"})
    progress = handle.progress
    assert progress is not None
    seen = (progress["rows"], progress["accepted"], progress["rejected"], progress["step"])
    assert seen == (5000, 4990, 10, "import")
    ready.event("run:complete", run_id="r1", job="import", output={"rows": 10000})
    assert handle.is_completed and handle.output == {"rows": 10000}
    assert changes[0] == "running" and changes[-1] == "completed"


def test_a_failed_run_exposes_its_error(ready: FakeWorker) -> None:
    handle = job(ready, auto_resume=False)
    handle.attach("r1", run("r1"))
    ready.event("run:fail", run_id="r1", job="import", error_type="EmptyFileError", error="The file is empty.",
                step="stage")
    assert handle.is_failed and handle.error == {"type": "EmptyFileError", "message": "The file is empty.",
                                                 "step": "stage"}


def test_events_of_other_jobs_are_ignored(ready: FakeWorker) -> None:
    handle = job(ready, auto_resume=False)
    ready.event("run:trigger", run_id="x", job="cleanup")
    assert handle.run_id is None


def test_follow_latest_switches_to_a_run_triggered_elsewhere(ready: FakeWorker) -> None:
    handle = job(ready, auto_resume=False)
    handle.attach("r1", run("r1", "completed"))
    ready.event("run:trigger", run_id="r2", job="import", labels={})
    assert handle.run_id == "r2" and handle.is_pending


def test_without_follow_latest_the_handle_stays_on_its_run(ready: FakeWorker) -> None:
    handle = job(ready, auto_resume=False, follow_latest=False)
    handle.attach("r1", run("r1", "completed"))
    ready.event("run:trigger", run_id="r2", job="import")
    assert handle.run_id == "r1"


def test_while_the_engine_starts_a_run_is_followed_from_its_progress_events_alone(worker: FakeWorker) -> None:
    handle = job(worker)
    worker.event("run:progress", run_id="r9", job="import", current=1, total=4, message="Importing",
                 data={"rows": 100})
    assert handle.run_id == "r9" and handle.is_running and handle.progress["rows"] == 100
    assert worker.requests == []


def test_a_follower_tab_asks_the_engine_like_the_tab_that_runs_it(worker: FakeWorker) -> None:
    handle = job(worker)
    worker.status("follower")  # its worker forwards to the tab that runs the engine
    worker.reply("runs.list", {"runs": [run("r1", "running")], "total": 1})
    assert handle.run_id == "r1" and handle.is_running
    assert worker.last("runs.get")["params"] == {"run_id": "r1"}


def test_auto_resume_reattaches_to_the_running_run_and_notes_where_it_resumed(worker: FakeWorker) -> None:
    handle = job(worker)
    worker.status("ready")
    listed = worker.reply("runs.list", {"runs": [run("r1", "running", progress={
        "current": 3, "total": 10, "message": None, "data": {"rows": 1200}})], "total": 1})
    assert listed["params"] == {"status": "running", "limit": 1, "offset": 0, "job": "import"}
    assert handle.run_id == "r1" and handle.is_running
    assert handle.resumed == {"run_id": "r1", "file_name": "people.csv", "row": 1200}


def test_auto_resume_falls_back_to_a_pending_run(worker: FakeWorker) -> None:
    handle = job(worker)
    worker.status("ready")
    worker.reply("runs.list", {"runs": [], "total": 0})
    assert worker.last("runs.list")["params"]["status"] == "pending"
    worker.reply("runs.list", {"runs": [run("r2", "pending")], "total": 1})
    assert handle.run_id == "r2" and handle.resumed is None


def test_the_import_resumed_event_sets_the_resume_notice(ready: FakeWorker) -> None:
    handle = job(ready, auto_resume=False)
    ready.event("import:resumed", run_id="r1", file_name="big.csv", row=40001)
    assert handle.resumed == {"run_id": "r1", "file_name": "big.csv", "row": 40001}
    assert handle.run_id == "r1"


def test_trigger_and_wait_calls_back_once_the_run_finishes(ready: FakeWorker) -> None:
    handle = job(ready, auto_resume=False)
    done = []
    handle.trigger_and_wait({"source_id": "s1"}, done.append)
    ready.reply("import.start", {"run_id": "r1", "created": True})
    ready.event("run:start", run_id="r1", job="import")
    assert done == []
    ready.event("run:complete", run_id="r1", job="import", output={"rows": 3})
    assert [r["status"] for r in done] == ["completed"]


def test_trigger_and_wait_on_a_duplicate_waits_for_the_earlier_run(ready: FakeWorker) -> None:
    handle = job(ready, auto_resume=False)
    done = []
    handle.trigger_and_wait({"source_id": "s1"}, done.append)
    ready.reply("import.start", {"run_id": "old", "created": False})
    ready.reply("runs.get", run("old", "completed"))
    assert [r["id"] for r in done] == ["old"]


def test_logs_of_the_current_run_are_capped_at_max_logs(ready: FakeWorker) -> None:
    handle = job(ready, auto_resume=False, max_logs=2)
    handle.attach("r1", run("r1"))
    for n in range(3):
        ready.event("log:write", run_id="r1", job="import", level="info", message=f"line {n}")
    assert [line["message"] for line in handle.logs] == ["line 1", "line 2"]


def test_cancel_asks_the_engine_for_the_current_run(ready: FakeWorker) -> None:
    handle = job(ready, auto_resume=False)
    assert handle.cancel() is None
    handle.attach("r1", run("r1"))
    handle.cancel()
    assert ready.last("runs.cancel")["params"] == {"run_id": "r1"}


def test_deleting_the_current_run_resets_the_handle(ready: FakeWorker) -> None:
    handle = job(ready, auto_resume=False)
    handle.attach("r1", run("r1", "completed"))
    ready.event("run:delete", run_id="r1", job="import")
    assert handle.run is None and handle.status is None


def test_a_run_its_trigger_event_attached_is_not_loaded_again_when_the_start_reply_comes(ready: FakeWorker) -> None:
    handle = job(ready, auto_resume=False)
    handle.trigger({"source_id": "s1", "options": {}, "force": False})
    ready.event("run:trigger", run_id="r1", job="import", labels={})
    assert handle.run_id == "r1" and len(ready.pending("runs.get")) == 1 and len(ready.pending("runs.logs")) == 1
    ready.reply("import.start", {"run_id": "r1", "created": True})
    assert len(ready.pending("runs.get")) == 1 and len(ready.pending("runs.logs")) == 1
    ready.reply("runs.get", run("r1", "running"))
    ready.reply("runs.logs", {"logs": [{"level": "info", "message": "staged"}], "total": 1})
    assert handle.is_running and [line["message"] for line in handle.logs] == ["staged"]
