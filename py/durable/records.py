"""What the store hands out: runs, steps and log entries as frozen dataclasses, and their vocabularies.

Rows become these records in one place (`store.py`); everything above the store reads only these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]
"""A value that round-trips through JSON: what steps return and what events carry."""

T = TypeVar("T")


class RunStatus(StrEnum):
    """The life of a run: pending → running → completed | failed | cancelled (retry: back to pending)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """True for completed, failed and cancelled."""
        return self in _FINISHED


_FINISHED = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})


class StepStatus(StrEnum):
    """A recorded step either completed (its output is replayed) or failed (it runs again on retry)."""

    COMPLETED = "completed"
    FAILED = "failed"


class StepKind(StrEnum):
    """`step.run` checkpoints and `step.transaction` writes."""

    RUN = "run"
    TRANSACTION = "transaction"


class LogLevel(StrEnum):
    """Log severities, in increasing order."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _LEVELS.index(self)


_LEVELS = (LogLevel.INFO, LogLevel.WARNING, LogLevel.ERROR)


@dataclass(frozen=True, slots=True)
class Progress:
    """The last progress a job reported (durable as of its last committed step)."""

    current: float
    total: float | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """Why a run or step failed: the exception's type name and message, and the step it came from."""

    type: str
    message: str
    step: str | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """One execution of a job with one input."""

    id: str
    job: str
    status: RunStatus
    input: JsonValue
    output: JsonValue
    error: ErrorInfo | None
    idempotency_key: str | None
    concurrency_key: str | None
    labels: dict[str, str]
    progress: Progress | None
    attempt: int
    cancel_requested: bool
    app_version: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Step:
    """A recorded step of a run, at position `ordinal` in the job's sequence of step calls."""

    run_id: str
    ordinal: int
    name: str
    kind: StepKind
    status: StepStatus
    output: JsonValue
    error: ErrorInfo | None
    attempts: int
    started_at: datetime
    finished_at: datetime


@dataclass(frozen=True, slots=True)
class LogEntry:
    """A log line written by a job through `step.log`."""

    id: int
    run_id: str
    step: str | None
    level: LogLevel
    message: str
    data: dict[str, JsonValue]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """A slice of a query's results and the total number of matches."""

    items: list[T] = field(default_factory=list)
    total: int = 0
