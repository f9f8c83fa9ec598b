"""The RPC client: ids, replies settling calls, errors, events, engine state."""

from __future__ import annotations

import json

from tests.ui.fakes import FakeWorker
from ui.client.rpc import DEFAULT_TIMEOUT, LONG_TIMEOUT, RpcClient, RpcError, timeout_for


def test_each_request_gets_a_new_id_and_its_params(worker: FakeWorker) -> None:
    worker.client.call("runs.get", {"run_id": "a"})
    worker.client.call("engine.info")
    assert [(r["id"], r["method"], r["params"]) for r in worker.requests] == [
        (1, "runs.get", {"run_id": "a"}), (2, "engine.info", {})]


def test_a_reply_settles_its_call_with_the_result(worker: FakeWorker) -> None:
    seen = []
    call = worker.client.call("engine.info").then(seen.append)
    worker.reply("engine.info", {"state": "ready"})
    assert seen == [{"state": "ready"}] and call.done and call.result == {"state": "ready"}


def test_callbacks_added_after_the_reply_still_run(worker: FakeWorker) -> None:
    call = worker.client.call("engine.info")
    worker.reply("engine.info", 5)
    seen = []
    call.then(seen.append)
    assert seen == [5]


def test_an_error_reply_reaches_the_error_callback_with_code_and_message(worker: FakeWorker) -> None:
    errors = []
    worker.client.call("runs.get", {"run_id": "x"}).then(None, errors.append)
    worker.fail("runs.get", "not-found", "There is no run x.")
    assert isinstance(errors[0], RpcError)
    assert (errors[0].code, errors[0].message) == ("not-found", "There is no run x.")
    assert worker.unhandled == []


def test_an_error_nobody_handles_goes_to_on_unhandled_error(worker: FakeWorker) -> None:
    worker.client.call("storage.clear")
    worker.fail("storage.clear", "conflict", "1 import(s) still pending or running: cancel them first.")
    assert [(m, e.code) for m, e in worker.unhandled] == [("storage.clear", "conflict")]


def test_a_file_travels_beside_the_request_text(worker: FakeWorker) -> None:
    picked = object()
    worker.client.call("file.preview", {}, picked)
    assert worker.files == [picked]


def test_a_download_reply_carries_its_blob_in_the_result(worker: FakeWorker) -> None:
    seen = []
    worker.client.call("export.database").then(seen.append)
    blob = object()
    worker.reply("export.database", {"name": "importer.sqlite", "size": 3, "mime": "x"}, blob=blob)
    assert seen[0]["blob"] is blob and seen[0]["name"] == "importer.sqlite"


def test_a_broken_transport_settles_the_call_with_an_error() -> None:
    def post(text: str, file: object) -> None:
        raise RuntimeError("worker terminated")

    errors = []
    RpcClient(post).call("engine.info").then(None, errors.append)
    assert errors[0].code == "transport" and "worker terminated" in errors[0].message


def test_events_reach_listeners_of_their_type_and_of_star(worker: FakeWorker) -> None:
    typed, every = [], []
    worker.client.on("run:progress", typed.append)
    worker.client.on("*", every.append)
    worker.event("run:progress", run_id="r1", current=5)
    worker.event("run:start", run_id="r1")
    assert [e["current"] for e in typed] == [5]
    assert [e["type"] for e in every] == ["run:progress", "run:start"]


def test_an_unsubscribed_listener_hears_nothing_more(worker: FakeWorker) -> None:
    seen = []
    off = worker.client.on("run:start", seen.append)
    off()
    worker.event("run:start", run_id="r1")
    assert seen == []


def test_on_ready_runs_at_each_transition_to_ready_and_at_once_when_ready(worker: FakeWorker) -> None:
    calls = []
    worker.client.on_ready(lambda: calls.append("a"))
    assert calls == []
    worker.status("booting")
    worker.status("ready")
    worker.status("ready")
    assert calls == ["a"]
    worker.client.on_ready(lambda: calls.append("b"))
    assert calls == ["a", "b"]
    assert worker.client.engine.ready and worker.client.engine.message == "ready"


def test_a_follower_is_ready_and_taking_over_counts_as_becoming_ready_again(worker: FakeWorker) -> None:
    calls = []
    worker.client.on_ready(lambda: calls.append("x"))
    worker.status("follower")  # the other tab's engine serves this tab's requests
    assert worker.client.engine.ready and worker.client.engine.follower
    worker.status("booting")  # that tab closed; another one starts the engine
    assert not worker.client.engine.ready
    worker.status("follower")
    worker.status("ready")  # this tab took over
    assert calls == ["x", "x", "x"]


def test_replies_to_unknown_ids_and_garbage_are_ignored(worker: FakeWorker) -> None:
    worker.client.receive(json.dumps({"id": 999, "ok": True, "result": 1}))
    worker.client.receive("{not json")
    worker.client.receive("[1, 2]")
    assert worker.client.pending_count() == 0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_call_nobody_answers_fails_with_timeout_and_a_late_reply_is_ignored() -> None:
    clock, sent = Clock(), []
    client = RpcClient(lambda text, file: sent.append(json.loads(text)), clock=clock)
    errors, results = [], []
    client.call("runs.get", {"run_id": "a"}).then(results.append, errors.append)
    clock.now += DEFAULT_TIMEOUT - 1
    assert client.check_timeouts() == 0 and errors == []
    clock.now += 1
    assert client.check_timeouts() == 1
    assert errors[0].code == "timeout" and "runs.get" in errors[0].message and "reload" in errors[0].message
    assert client.pending_count() == 0
    client.receive(json.dumps({"id": sent[0]["id"], "ok": True, "result": {"late": True}}))
    assert results == [] and len(errors) == 1


def test_long_methods_get_a_long_timeout_and_a_call_may_set_its_own() -> None:
    clock = Clock()
    client = RpcClient(lambda text, file: None, clock=clock)
    failed = []
    client.call("file.scan", {"source_id": "s"}).then(None, lambda e: failed.append("scan"))
    client.call("engine.info", timeout=5).then(None, lambda e: failed.append("info"))
    client.call("runs.list").then(None, lambda e: failed.append("list"))
    clock.now += 5
    client.check_timeouts()
    assert failed == ["info"]
    clock.now += DEFAULT_TIMEOUT
    client.check_timeouts()
    assert failed == ["info", "list"]
    clock.now += LONG_TIMEOUT
    client.check_timeouts()
    assert failed == ["info", "list", "scan"] and timeout_for("export.database") == LONG_TIMEOUT


def test_an_answered_call_never_times_out(worker: FakeWorker) -> None:
    seen = []
    worker.client.call("engine.info").then(seen.append, seen.append)
    worker.reply("engine.info", 1)
    worker.client._clock = lambda: 10**9
    assert worker.client.check_timeouts() == 0 and seen == [1]
