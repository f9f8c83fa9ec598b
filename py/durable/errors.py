"""The engine's errors: one `DurableError` tree, each subclass carrying the fields it names.

Every message says what happened and what to do next. `CancellationRequested` is the one exception
outside the tree: it derives from `BaseException` so that a job's broad `except Exception` cannot
swallow a cancellation.
"""

from __future__ import annotations

import errno
import sqlite3
from typing import Any


class DurableError(Exception):
    """Base of every error the engine raises on purpose."""


class JobNotFoundError(DurableError):
    """A run names a job that is not registered with this engine."""

    def __init__(self, job: str) -> None:
        self.job = job
        super().__init__(f"No job named '{job}' is registered: call engine.register(job) before using it.")


class JobAlreadyRegisteredError(DurableError):
    """Two different jobs were registered under one name."""

    def __init__(self, job: str) -> None:
        self.job = job
        super().__init__(f"Another job is already registered as '{job}': give each job a unique name.")


class InvalidInputError(DurableError):
    """A trigger's payload does not match the job's input model; nothing was stored."""

    def __init__(self, job: str, errors: list[dict[str, Any]]) -> None:
        self.job = job
        self.errors = errors
        super().__init__(f"Invalid input for job '{job}': {_describe(errors)}. Fix the payload and trigger again.")


class InvalidOutputError(DurableError):
    """A job returned a value that does not match its output model; the run fails."""

    def __init__(self, job: str, run_id: str, errors: list[dict[str, Any]]) -> None:
        self.job = job
        self.run_id = run_id
        self.errors = errors
        super().__init__(
            f"Run {run_id} of job '{job}' returned an invalid output: {_describe(errors)}. "
            "Fix the job so it returns its declared output model, then retry the run."
        )


class NonDeterministicError(DurableError):
    """On resume, the job called a different step than the one recorded at that position."""

    def __init__(self, run_id: str, ordinal: int, recorded: str | None, called: str | None) -> None:
        self.run_id = run_id
        self.ordinal = ordinal
        self.recorded = recorded
        self.called = called
        was = f"'{recorded}'" if recorded is not None else "nothing"
        now = f"'{called}'" if called is not None else "no step (the job returned)"
        super().__init__(
            f"Run {run_id}: step #{ordinal} was recorded as {was} but the job now calls {now}. "
            "The job is not deterministic: it must call the same steps in the same order for the same "
            "input (move changing values such as time or randomness inside step.run)."
        )


class NotJsonError(DurableError):
    """A step returned a value that cannot be stored as JSON."""

    def __init__(self, run_id: str, step: str, detail: str) -> None:
        self.run_id = run_id
        self.step = step
        super().__init__(
            f"Run {run_id}: step '{step}' returned a value that is not JSON ({detail}). "
            "Return dicts, lists, strings, numbers, booleans or None (e.g. model.model_dump(mode='json'))."
        )


class TransactionMisuseError(DurableError):
    """A step.transaction function broke the one-transaction contract."""

    def __init__(self, run_id: str, step: str, reason: str) -> None:
        self.run_id = run_id
        self.step = step
        super().__init__(f"Run {run_id}: step.transaction '{step}' {reason}.")


class RunNotFoundError(DurableError):
    """No run has this id (it may have been deleted or purged)."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(f"No run with id '{run_id}': it may have been deleted or purged.")


class InvalidRunStateError(DurableError):
    """An action was asked of a run whose status does not allow it."""

    def __init__(self, run_id: str, status: str, action: str, allowed: tuple[str, ...]) -> None:
        self.run_id = run_id
        self.status = status
        self.action = action
        super().__init__(
            f"Cannot {action} run {run_id}: it is {status}, and only {' or '.join(allowed)} runs allow that."
        )


class RunFailedError(DurableError):
    """`trigger_and_wait`: the run failed; `__cause__` is the original exception when still in memory."""

    def __init__(self, run_id: str, error_type: str, message: str, step: str | None) -> None:
        self.run_id = run_id
        self.error_type = error_type
        self.error_message = message
        self.step = step
        where = f" in step '{step}'" if step else ""
        super().__init__(
            f"Run {run_id} failed{where}: {error_type}: {message}. Fix the cause, then "
            f"engine.retry('{run_id}') resumes it from its completed steps."
        )


class RunCancelledError(DurableError):
    """`trigger_and_wait`: the run was cancelled."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(f"Run {run_id} was cancelled; engine.retry('{run_id}') resumes it.")


class WaitTimeoutError(DurableError, TimeoutError):
    """`trigger_and_wait` gave up waiting; the run itself goes on."""

    def __init__(self, run_id: str, timeout: float) -> None:
        self.run_id = run_id
        self.timeout = timeout
        super().__init__(
            f"Run {run_id} did not finish within {timeout} s; it is still queued or running. "
            "Follow it with engine.get_run or the run:* events."
        )


class EngineHaltedError(DurableError):
    """This engine instance stopped for good without writing anything more (its lease or its storage is
    lost); the runs it was executing stay as committed and a new engine on the database resumes them."""


class LeaseLostError(EngineHaltedError):
    """Another engine took over this database; this engine's write was refused."""

    def __init__(self, engine_id: str, owner: str | None) -> None:
        self.engine_id = engine_id
        self.owner = owner
        super().__init__(
            f"Engine {engine_id} no longer owns this database (owner: {owner}); its write was refused and it "
            "stopped. Only one engine may run per database: close the other one or restart this one."
        )


class StorageLostError(EngineHaltedError):
    """`on_commit` (the flush to durable storage) failed after a COMMIT. The commit stands (a committed
    step is never marked failed), but what follows cannot be trusted to reach the disk, so the engine
    stops; a new engine on the database verifies it and resumes the runs from their checkpoints."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"The storage failed after a commit: {reason}. The engine stopped: open the database again (in the "
            "browser, reload the page) to continue; nothing committed is lost."
        )


class DatabaseCorruptError(DurableError):
    """The database failed SQLite's check when an engine opened it to resume interrupted runs."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(
            f"The database failed its integrity check ({problem}); its interrupted runs were not resumed, so "
            "that nothing is built on damaged data. Restore the database from a copy, or clear it and run the "
            "jobs again."
        )


class EngineNotStartedError(DurableError):
    """A method that needs the database was called before `await engine.start()`."""

    def __init__(self, action: str) -> None:
        super().__init__(f"Cannot {action}: the engine is not running. Call `await engine.start()` first.")


class SchemaTooNewError(DurableError):
    """The database was written by a newer engine than this one."""

    def __init__(self, found: int, supported: int) -> None:
        self.found = found
        self.supported = supported
        super().__init__(
            f"The database has engine schema version {found} but this engine knows only up to {supported}: "
            "it was written by a newer version of the app. Update the app."
        )


class UnknownEventError(DurableError):
    """`engine.on/off` was given an event type that does not exist."""

    def __init__(self, event: str, known: tuple[str, ...]) -> None:
        self.event = event
        super().__init__(f"Unknown event type '{event}': use one of {', '.join(known)} or '*'.")


class CancellationRequested(BaseException):
    """Raised inside a job at its next checkpoint, progress call or step after `engine.cancel(run_id)`.

    A `BaseException`, so `except Exception` in a job cannot swallow it; let it propagate.
    """

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(f"Run {run_id} was cancelled.")


def _describe(errors: list[dict[str, Any]]) -> str:
    parts = []
    for error in errors[:5]:
        where = ".".join(str(p) for p in error.get("loc", ())) or "(payload)"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more


_SQLITE_IOERR, _SQLITE_FULL = 10, 13


def error_message(error: BaseException) -> str:
    """The message stored for a failed step or run: `str(error)`, except for storage that is full or failing,
    whose raw text ("database or disk is full", "[Errno 28] No space left on device") becomes a sentence."""
    full = failing = False
    if isinstance(error, sqlite3.OperationalError):
        code = (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF  # the primary code of an extended one
        full, failing, detail = code == _SQLITE_FULL, code == _SQLITE_IOERR, str(error)
    elif isinstance(error, OSError):
        full = error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
        failing, detail = error.errno == errno.EIO, error.strerror or str(error)
    if full:
        return (f"The storage is full ({detail}): the step was not saved; what was saved before is kept. Free some "
                "space (delete old imports or tables), then retry.")
    if failing:
        return (f"The storage could not be written ({detail}): the step was not saved; what was saved before is "
                "kept. Retry.")
    return str(error)
