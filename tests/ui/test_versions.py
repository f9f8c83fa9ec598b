"""The version handshake (docs/ui.md): the page's build against the engine's `build`; a mismatch is said
plainly and the calls that start or change work are refused, not sent."""

from __future__ import annotations

from tests.ui.fakes import FakeWorker
from ui.client.versions import REFUSED, VersionCheck


def test_the_same_build_passes_and_calls_go_out(worker: FakeWorker) -> None:
    check = VersionCheck(worker.client, "abc123")
    worker.event("engine:status", state="ready", message="ready", build="abc123")
    assert check.problem is None
    worker.client.call("import.start", {"source_id": "s"})
    assert worker.last("import.start")["params"] == {"source_id": "s"}


def test_another_build_is_named_and_every_write_is_refused_without_being_sent(worker: FakeWorker) -> None:
    check = VersionCheck(worker.client, "page111")
    seen: list[str | None] = []
    check.subscribe(lambda c: seen.append(c.problem))
    worker.event("engine:status", state="ready", message="ready", build="engine222")
    assert check.problem is not None and "page page111, engine engine222" in check.problem
    assert "Reload" in check.problem and seen == [check.problem]
    codes: list[str] = []
    for method in REFUSED:
        worker.client.call(method).then(None, lambda error: codes.append(error.code))
    assert codes == ["version-mismatch"] * len(REFUSED)
    assert worker.requests == []  # nothing reached the mismatched engine
    worker.client.call("runs.list")  # reading stays possible
    assert worker.last("runs.list")


def test_an_engine_that_sends_no_build_is_an_older_version(worker: FakeWorker) -> None:
    worker.status("ready")  # seen before the check was made: it reads the last status
    check = VersionCheck(worker.client, "page111")
    assert check.problem is not None and "engine an older version" in check.problem


def test_booting_and_error_statuses_are_not_judged(worker: FakeWorker) -> None:
    check = VersionCheck(worker.client, "page111")
    worker.status("booting")
    worker.status("error", "The engine could not start")
    assert check.problem is None
