"""Events: one dataclass per type, the JSON form the worker forwards, subscription."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.durable.enginekit import Recorder, sum_job

from durable import EVENT_TYPES, UnknownEventError, event_to_dict
from durable import events as ev

AT = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)

SAMPLES: list[tuple[ev.Event, dict[str, Any]]] = [
    (ev.RunTriggered("r", "j", {"a": "b"}, AT), {"labels": {"a": "b"}}),
    (ev.RunStarted("r", "j", 2, True, AT), {"attempt": 2, "resumed": True}),
    (ev.RunProgressed("r", "j", 5, 10, "rows", AT), {"current": 5, "total": 10, "message": "rows"}),
    (ev.RunCompleted("r", "j", {"rows": 3}, AT), {"output": {"rows": 3}}),
    (ev.RunFailed("r", "j", "ValueError", "bad", "load", AT), {"error_type": "ValueError", "step": "load"}),
    (ev.RunCancelled("r", "j", AT), {}),
    (ev.RunRetried("r", "j", AT), {}),
    (ev.RunDeleted("r", "j", {}, AT), {"labels": {}}),
    (ev.StepStarted("r", "j", "load", 0, 1, AT), {"step": "load", "ordinal": 0, "attempt": 1}),
    (ev.StepCompleted("r", "j", "load", 0, 1, AT), {"attempts": 1}),
    (ev.StepFailed("r", "j", "load", 0, 1, "OSError", "x", True, AT), {"will_retry": True}),
    (ev.LogWritten("r", "j", None, "info", "hi", {"n": 1}, AT), {"level": "info", "data": {"n": 1}}),
]


@pytest.mark.parametrize(("event", "expected"), SAMPLES, ids=[e.type for e, _ in SAMPLES])
def test_event_to_dict_gives_type_ids_iso_time_and_fields(event: ev.Event, expected: dict[str, Any]) -> None:
    message = event_to_dict(event)
    assert message["type"] == event.type
    assert (message["run_id"], message["job"], message["at"]) == ("r", "j", "2025-01-02T03:04:05+00:00")
    assert expected.items() <= message.items()
    assert json.loads(json.dumps(message)) == message


def test_every_event_type_has_a_sample() -> None:
    assert sorted(e.type for e, _ in SAMPLES) == sorted(EVENT_TYPES)


def test_events_are_frozen() -> None:
    event = ev.RunCancelled("r", "j", AT)
    with pytest.raises(AttributeError):
        event.run_id = "other"  # type: ignore[misc]


def test_on_and_off_deliver_by_type_and_star() -> None:
    bus = ev.EventBus()
    typed, every = Recorder(), Recorder()
    bus.on("run:cancel", typed)
    bus.on("*", every)
    bus.emit(ev.RunCancelled("r", "j", AT))
    bus.emit(ev.RunRetried("r", "j", AT))
    assert typed.types() == ["run:cancel"] and every.types() == ["run:cancel", "run:retry"]
    bus.off("run:cancel", typed)
    bus.emit(ev.RunCancelled("r", "j", AT))
    assert typed.types() == ["run:cancel"]


def test_unknown_event_type_is_a_named_error() -> None:
    with pytest.raises(UnknownEventError, match="run:progress"):
        ev.EventBus().on("run:progres", print)  # type: ignore[arg-type]


async def test_a_failing_handler_does_not_break_the_run(make_engine: Any, caplog: Any) -> None:
    def broken(event: ev.Event) -> None:
        raise RuntimeError("ui gone")

    async with make_engine(sum_job) as engine:
        engine.on("step:complete", broken)
        output = await engine.trigger_and_wait(sum_job, {"n": 2})
    assert output.total == 1
    assert "event handler" in caplog.text


async def test_a_run_emits_its_lifecycle_in_order(make_engine: Any) -> None:
    async with make_engine(sum_job) as engine:
        recorder = Recorder()
        engine.on("*", recorder)
        await engine.trigger_and_wait(sum_job, {"n": 1})
    assert recorder.types() == ["run:trigger", "run:start", "step:start", "step:complete", "run:complete"]
