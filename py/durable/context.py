"""The step context: what a job receives as `step` (checkpoints, transactions, progress, logs).

Steps are identified by their position in the job's sequence of step calls (`ordinal`). On resume,
each call is compared with the recorded step at its position: a different name is a
NonDeterministicError; a completed step returns its stored output without calling `fn`.

Logs and progress, and the results of steps run `with_next`, are buffered and committed with the run's
next step (or its end), in the same transaction. So after a crash the durable logs and progress match the
committed steps exactly, and calls made while replaying recorded steps are not written twice.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from durable.clock import Clock
from durable.errors import (
    CancellationRequested,
    EngineHaltedError,
    NonDeterministicError,
    NotJsonError,
    TransactionMisuseError,
    error_message,
)
from durable.events import EventBus, LogWritten, RunProgressed, StepCompleted, StepFailed, StepStarted
from durable.records import ErrorInfo, LogLevel, Progress, Run, Step, StepKind, StepStatus
from durable.retry import NO_RETRY, RetryPolicy
from durable.store import NewLog, Store, Tx, encode_json, timestamp

if TYPE_CHECKING:
    import sqlite3

T = TypeVar("T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class StopRequested(BaseException):
    """Raised at a checkpoint when the engine stops gracefully; the run goes back to pending."""


@dataclass(slots=True)
class RunSignals:
    """Flags the engine sets for a running run; the context acts on them at the next checkpoint."""

    cancel: bool = False
    stop: bool = False
    fatal: BaseException | None = None


@dataclass(slots=True)
class Pending:
    """Steps run `with_next`, logs and progress not yet committed; written by the next transaction of the run."""

    steps: list[tuple[Step, str]] = field(default_factory=list)
    logs: list[NewLog] = field(default_factory=list)
    progress: Progress | None = None
    notes: list[tuple[str, NewLog]] = field(default_factory=list)

    def flush(self, tx: Tx, run_id: str) -> None:
        for step, output_json in self.steps:
            tx.save_step(step, output_json)
        self.steps = []
        if self.progress is not None:
            tx.save_progress(run_id, self.progress)
            self.progress = None
        if self.logs:
            tx.add_logs(run_id, self.logs)
            self.logs = []
        for other, log in self.notes:
            tx.add_logs(other, [log])
        self.notes = []


class StepLog:
    """`step.log.info/warning/error(message, **data)`: data must be JSON-able (else stored as str)."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx: StepContext) -> None:
        self._ctx = ctx

    def info(self, message: str, **data: Any) -> None:
        self._ctx._write_log(LogLevel.INFO, message, data)

    def warning(self, message: str, **data: Any) -> None:
        self._ctx._write_log(LogLevel.WARNING, message, data)

    def error(self, message: str, **data: Any) -> None:
        self._ctx._write_log(LogLevel.ERROR, message, data)

    def note(self, run_id: str, job: str, message: str, **data: Any) -> None:
        """An info line in another run's log (`run_id` of job `job`: the run this one works on), stored with
        this run's next committed step, like its own lines; `log:write` is sent for that run."""
        self._ctx._write_log(LogLevel.INFO, message, data, about=(run_id, job))


class StepContext:
    """The `step` argument of a job function. Built by the engine, one per run execution."""

    def __init__(
        self,
        *,
        run: Run,
        store: Store,
        bus: EventBus,
        clock: Clock,
        recorded: list[Step],
        signals: RunSignals,
        retry: RetryPolicy | None = None,
        progress_interval: float = 0.1,
    ) -> None:
        self._run = run
        self._store = store
        self._bus = bus
        self._clock = clock
        self._recorded = recorded
        self._signals = signals
        self._retry = retry or NO_RETRY
        self._progress_interval = progress_interval
        self._ordinal = 0
        self._live = not recorded
        self._current_step: str | None = None
        self._last_progress_event = _EPOCH
        self._unsent_progress: Progress | None = None
        self.pending = Pending()
        self.failed_step: tuple[BaseException, str] | None = None
        self.log = StepLog(self)

    @property
    def run_id(self) -> str:
        return self._run.id

    @property
    def job(self) -> str:
        return self._run.job

    @property
    def attempt(self) -> int:
        """How many times this run has been started (1 on the first execution)."""
        return self._run.attempt

    @property
    def replaying(self) -> bool:
        """True while the job is re-walking steps recorded by an earlier execution."""
        return not self._live and self._ordinal < len(self._recorded)

    async def run(
        self, name: str, fn: Callable[[], T | Awaitable[T]], *, retry: RetryPolicy | None = None,
        with_next: bool = False,
    ) -> T:
        """Checkpoint: call `fn()` (sync or async) once and store its JSON result; on resume return the
        stored result without calling `fn`. The result is returned as decoded JSON (tuples become lists).
        Raises what `fn` raised after the retry policy gave up, NotJsonError, NonDeterministicError.

        `with_next=True` stores the result with the run's next write (its next step, its failure or its end)
        instead of in a commit of its own, like Temporal's local activities: one commit less, but a run that
        stops before that write calls `fn` again when it resumes. For a step that is cheap and safe to repeat
        and is followed at once by another."""
        result: T = await self._step(name, StepKind.RUN, fn, retry, with_next=with_next)
        return result

    async def transaction(
        self, name: str, fn: Callable[[sqlite3.Connection], T], *, retry: RetryPolicy | None = None
    ) -> T:
        """Exactly-once write: call `fn(conn)` inside the engine's transaction and commit its writes with
        the step's checkpoint. `fn` must be sync and must not commit, roll back or begin. On resume a
        committed step returns its stored result and `fn` is not called again."""
        result: T = await self._step(name, StepKind.TRANSACTION, fn, retry)
        return result

    def progress(self, current: float, total: float | None = None, message: str | None = None) -> None:
        """Report progress. Stored with the run's next committed step (report a batch's progress before
        or inside its `step.transaction` to commit them together); `run:progress` events are throttled.
        Raises CancellationRequested when the run was cancelled."""
        self.checkpoint()
        if self.replaying:
            return
        progress = Progress(current, total, message)
        self.pending.progress = progress
        now = self._clock.now()
        if (now - self._last_progress_event).total_seconds() >= self._progress_interval:
            self._emit_progress(progress, now)
        else:
            self._unsent_progress = progress

    def checkpoint(self) -> None:
        """Raise CancellationRequested if the run was cancelled (call it at batch boundaries)."""
        signals = self._signals
        if signals.fatal is not None:
            raise signals.fatal
        if signals.cancel:
            raise CancellationRequested(self._run.id)
        if signals.stop:
            raise StopRequested()

    # -- engine side ----------------------------------------------------------------------------------

    def send_unsent_progress(self) -> None:
        """Emit the last throttled progress event (the engine calls this when the run ends)."""
        if self._unsent_progress is not None:
            self._emit_progress(self._unsent_progress, self._clock.now())

    def check_all_replayed(self) -> None:
        """When the job returns: recorded steps it did not call mean it is not deterministic."""
        if self._ordinal < len(self._recorded):
            self._fail_fatally(
                NonDeterministicError(self._run.id, self._ordinal, self._recorded[self._ordinal].name, None)
            )

    # -- internals ------------------------------------------------------------------------------------

    async def _step(
        self, name: str, kind: StepKind, fn: Callable[..., Any], retry: RetryPolicy | None, *, with_next: bool = False
    ) -> Any:
        self.checkpoint()
        ordinal = self._ordinal
        self._ordinal += 1
        if ordinal < len(self._recorded):
            recorded = self._recorded[ordinal]
            if recorded.name != name or recorded.kind is not kind:
                self._fail_fatally(NonDeterministicError(self._run.id, ordinal, recorded.name, name))
            if recorded.status is StepStatus.COMPLETED:
                return recorded.output
        self._live = True
        policy = retry or self._retry
        started = self._clock.now()
        attempt = 0
        while True:
            attempt += 1
            self._emit_step_start(name, ordinal, attempt)
            self._current_step = name
            try:
                output_json = await self._attempt(name, kind, fn, ordinal, attempt, started, with_next)
            except (EngineHaltedError, NotJsonError, TransactionMisuseError) as error:
                if isinstance(error, EngineHaltedError):
                    # The lease or the storage is lost: write nothing more. A StorageLostError comes after
                    # the step's COMMIT, so the step stays completed and a new engine resumes after it.
                    self._fail_fatally(error)
                self._record_failure(name, kind, ordinal, attempt, started, error, will_retry=False)
                raise
            except Exception as error:
                will_retry = policy.should_retry(error, attempt)
                self._record_failure(name, kind, ordinal, attempt, started, error, will_retry=will_retry)
                if not will_retry:
                    raise
                await self._clock.sleep(policy.delay(attempt))
                self.checkpoint()
                continue
            finally:
                self._current_step = None
            if self._bus.wants("step:complete"):
                self._bus.emit(StepCompleted(self._run.id, self._run.job, name, ordinal, attempt, self._clock.now()))
            return json.loads(output_json)

    async def _attempt(
        self, name: str, kind: StepKind, fn: Callable[..., Any], ordinal: int, attempt: int, started: datetime,
        with_next: bool = False,
    ) -> str:
        if kind is StepKind.RUN:
            result = fn()
            if inspect.isawaitable(result):
                result = await result
            output_json = self._encode(name, result)
            if with_next:
                self.pending.steps.append((self._completed(name, kind, ordinal, attempt, started), output_json))
                return output_json
            with self._store.transaction() as tx:
                self._save(tx, name, kind, ordinal, attempt, started, output_json)
            return output_json
        with self._store.transaction() as tx:
            result = fn(tx.conn)
            if inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()
                raise TransactionMisuseError(self._run.id, name, "got an async function: pass a sync fn(conn)")
            if not tx.conn.in_transaction:
                raise TransactionMisuseError(
                    self._run.id, name, "committed or rolled back the transaction: leave that to the engine"
                )
            output_json = self._encode(name, result)
            self._save(tx, name, kind, ordinal, attempt, started, output_json)
        return output_json

    def _save(
        self,
        tx: Tx,
        name: str,
        kind: StepKind,
        ordinal: int,
        attempt: int,
        started: datetime,
        output_json: str,
    ) -> None:
        self.pending.flush(tx, self._run.id)
        tx.save_step(self._completed(name, kind, ordinal, attempt, started), output_json)

    def _completed(self, name: str, kind: StepKind, ordinal: int, attempt: int, started: datetime) -> Step:
        return Step(self._run.id, ordinal, name, kind, StepStatus.COMPLETED, None, None, attempt, started,
                    self._clock.now())  # fmt: skip

    def _record_failure(
        self,
        name: str,
        kind: StepKind,
        ordinal: int,
        attempt: int,
        started: datetime,
        error: BaseException,
        *,
        will_retry: bool,
    ) -> None:
        now = self._clock.now()
        info = ErrorInfo(type(error).__name__, error_message(error), name)
        self.failed_step = (error, name)
        if self._bus.wants("step:fail"):
            event = StepFailed(self._run.id, self._run.job, name, ordinal, attempt, info.type, info.message,
                               will_retry, now)  # fmt: skip
            self._bus.emit(event)
        if will_retry or isinstance(error, EngineHaltedError):
            return
        step = Step(self._run.id, ordinal, name, kind, StepStatus.FAILED, None, info, attempt, started, now)
        with self._store.transaction() as tx:
            self.pending.flush(tx, self._run.id)
            tx.save_step(step, None)

    def _encode(self, name: str, result: object) -> str:
        try:
            return encode_json(result)
        except (TypeError, ValueError) as error:
            raise NotJsonError(self._run.id, name, str(error)) from None

    def _fail_fatally(self, error: BaseException) -> None:
        self._signals.fatal = error
        raise error

    def _emit_step_start(self, name: str, ordinal: int, attempt: int) -> None:
        if self._bus.wants("step:start"):
            self._bus.emit(StepStarted(self._run.id, self._run.job, name, ordinal, attempt, self._clock.now()))

    def _emit_progress(self, progress: Progress, now: datetime) -> None:
        self._last_progress_event = now
        self._unsent_progress = None
        if self._bus.wants("run:progress"):
            event = RunProgressed(self._run.id, self._run.job, progress.current, progress.total,
                                  progress.message, now)  # fmt: skip
            self._bus.emit(event)

    def _write_log(self, level: LogLevel, message: str, data: dict[str, Any],
                   about: tuple[str, str] | None = None) -> None:
        if self.replaying:
            return
        now = self._clock.now()
        data_json = json.dumps(data, default=str, separators=(",", ":"), ensure_ascii=False)
        log = NewLog(self._current_step, level, message, data_json, timestamp(now))
        run_id, job = about or (self._run.id, self._run.job)
        if about is None:
            self.pending.logs.append(log)
        else:
            self.pending.notes.append((run_id, log))
        if self._bus.wants("log:write"):
            event = LogWritten(run_id, job, self._current_step, level.value, message, json.loads(data_json), now)
            self._bus.emit(event)
