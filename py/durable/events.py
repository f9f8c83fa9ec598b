"""Every event the engine emits, as frozen dataclasses with a stable `type`, and the bus that delivers them.

Events travel one way, out of the engine: the worker forwards them as messages with `event_to_dict`,
and the UI dispatches on `type`. Handlers are plain sync callables; a failing handler is logged and
never breaks a run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from enum import Enum
from typing import ClassVar, Literal

from durable.errors import UnknownEventError
from durable.records import JsonValue

_log = logging.getLogger("durable")


@dataclass(frozen=True, slots=True)
class RunTriggered:
    type: ClassVar[Literal["run:trigger"]] = "run:trigger"
    run_id: str
    job: str
    labels: dict[str, str]
    at: datetime


@dataclass(frozen=True, slots=True)
class RunStarted:
    """`resumed`: the run had recorded steps, or ran before (recovery, retry)."""

    type: ClassVar[Literal["run:start"]] = "run:start"
    run_id: str
    job: str
    attempt: int
    resumed: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class RunProgressed:
    """Throttled (`progress_interval`); the last value before a run ends is always sent."""

    type: ClassVar[Literal["run:progress"]] = "run:progress"
    run_id: str
    job: str
    current: float
    total: float | None
    message: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class RunCompleted:
    type: ClassVar[Literal["run:complete"]] = "run:complete"
    run_id: str
    job: str
    output: JsonValue
    at: datetime


@dataclass(frozen=True, slots=True)
class RunFailed:
    type: ClassVar[Literal["run:fail"]] = "run:fail"
    run_id: str
    job: str
    error_type: str
    error: str
    step: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class RunCancelled:
    type: ClassVar[Literal["run:cancel"]] = "run:cancel"
    run_id: str
    job: str
    at: datetime


@dataclass(frozen=True, slots=True)
class RunRetried:
    type: ClassVar[Literal["run:retry"]] = "run:retry"
    run_id: str
    job: str
    at: datetime


@dataclass(frozen=True, slots=True)
class RunDeleted:
    """Sent after the run, its steps and logs are deleted: clean up anything kept outside the database."""

    type: ClassVar[Literal["run:delete"]] = "run:delete"
    run_id: str
    job: str
    labels: dict[str, str]
    at: datetime


@dataclass(frozen=True, slots=True)
class StepStarted:
    type: ClassVar[Literal["step:start"]] = "step:start"
    run_id: str
    job: str
    step: str
    ordinal: int
    attempt: int
    at: datetime


@dataclass(frozen=True, slots=True)
class StepCompleted:
    type: ClassVar[Literal["step:complete"]] = "step:complete"
    run_id: str
    job: str
    step: str
    ordinal: int
    attempts: int
    at: datetime


@dataclass(frozen=True, slots=True)
class StepFailed:
    """Sent for every failed attempt; `will_retry` says whether the retry policy tries again."""

    type: ClassVar[Literal["step:fail"]] = "step:fail"
    run_id: str
    job: str
    step: str
    ordinal: int
    attempt: int
    error_type: str
    error: str
    will_retry: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class LogWritten:
    """Sent when the job logs; the entry is stored with the job's next committed step or its end."""

    type: ClassVar[Literal["log:write"]] = "log:write"
    run_id: str
    job: str
    step: str | None
    level: str
    message: str
    data: dict[str, JsonValue]
    at: datetime


Event = (
    RunTriggered
    | RunStarted
    | RunProgressed
    | RunCompleted
    | RunFailed
    | RunCancelled
    | RunRetried
    | RunDeleted
    | StepStarted
    | StepCompleted
    | StepFailed
    | LogWritten
)
EventType = Literal[
    "run:trigger",
    "run:start",
    "run:progress",
    "run:complete",
    "run:fail",
    "run:cancel",
    "run:retry",
    "run:delete",
    "step:start",
    "step:complete",
    "step:fail",
    "log:write",
    "*",
]
Handler = Callable[[Event], None]
EVENT_TYPES: tuple[str, ...] = tuple(
    cls.type
    for cls in (
        RunTriggered,
        RunStarted,
        RunProgressed,
        RunCompleted,
        RunFailed,
        RunCancelled,
        RunRetried,
        RunDeleted,
        StepStarted,
        StepCompleted,
        StepFailed,
        LogWritten,
    )
)


def event_to_dict(event: Event) -> dict[str, JsonValue]:
    """The event as a JSON-able dict: `{"type": "run:progress", "run_id": ..., "at": "<ISO-8601>", ...}`."""
    message: dict[str, JsonValue] = {"type": event.type}
    for f in fields(event):
        message[f.name] = _jsonable(getattr(event, f.name))
    return message


def _jsonable(value: object) -> JsonValue:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return _jsonable(value.value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class EventBus:
    """Handlers by event type; `"*"` receives every event."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    def on(self, event: EventType, handler: Handler) -> None:
        """Call `handler(event)` for each event of this type (or every event for `"*"`)."""
        self._check(event)
        self._handlers.setdefault(event, []).append(handler)

    def off(self, event: EventType, handler: Handler) -> None:
        """Stop calling `handler` for this type; a handler that was not registered is ignored."""
        self._check(event)
        handlers = self._handlers.get(event, [])
        if handler in handlers:
            handlers.remove(handler)

    def wants(self, event_type: str) -> bool:
        """Whether anyone listens, so hot paths can skip building events nobody reads."""
        return bool(self._handlers.get(event_type) or self._handlers.get("*"))

    def emit(self, event: Event) -> None:
        """Deliver `event`; a handler's exception is logged and does not reach the job."""
        for key in (event.type, "*"):
            for handler in tuple(self._handlers.get(key, ())):
                try:
                    handler(event)
                except Exception:
                    _log.exception("durable: event handler %r failed on %s", handler, event.type)

    @staticmethod
    def _check(event: str) -> None:
        if event != "*" and event not in EVENT_TYPES:
            raise UnknownEventError(event, EVENT_TYPES)
