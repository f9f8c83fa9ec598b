"""The engine: the public face of `durable`. Register jobs, start, trigger, control and query runs.

Every method that touches the database is `async` (queries included) and needs `await engine.start()`
first, except the queries, which `await engine.open()` is enough for (it opens the database without running
anything: the browser answers its run list while the jobs are still loading); `register`, `on` and `off`
are sync. One engine per database: `start` takes the lease, and
takes it over at once by default (the browser's Web Lock already guarantees a single engine there);
the previous owner's later writes are refused. When `on_commit` (the flush to durable storage) fails after
a COMMIT, the engine instance stops for good (`StorageLostError`); a new engine on the database verifies it
(`PRAGMA quick_check`) before resuming the interrupted runs from their checkpoints.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple, TypeVar, overload

from durable.clock import Clock, SystemClock
from durable.errors import (
    EngineHaltedError,
    EngineNotStartedError,
    InvalidRunStateError,
    JobAlreadyRegisteredError,
    JobNotFoundError,
    RunCancelledError,
    RunFailedError,
    RunNotFoundError,
    StorageLostError,
    WaitTimeoutError,
)
from durable.events import (
    EventBus,
    EventType,
    Handler,
    RunCancelled,
    RunDeleted,
    RunFailed,
    RunRetried,
    RunTriggered,
)
from durable.job import Job
from durable.records import LogEntry, LogLevel, Page, Run, RunStatus, Step
from durable.store import NewRun, Recovery, Store
from durable.worker import Worker, WorkerOptions

OutT = TypeVar("OutT")
Database = str | os.PathLike[str] | sqlite3.Connection
_log = logging.getLogger("durable")


class Triggered(NamedTuple):
    """What `trigger` returns: the run, and False when an existing run had the same idempotency key."""

    run: Run
    created: bool


class Engine:
    """A durable job engine over one SQLite database (a path, or a connection the caller owns)."""

    def __init__(
        self,
        database: Database,
        max_concurrent_runs: int = 1,
        *,
        clock: Clock | None = None,
        id_factory: Callable[[], str] | None = None,
        app_version: str | None = None,
        on_commit: Callable[[], None] | None = None,
        on_storage_lost: Callable[[StorageLostError], None] | None = None,
        takeover: Literal["immediate", "wait"] = "immediate",
        lease_seconds: float = 30.0,
        progress_interval: float = 0.1,
        max_stalls: int | None = 3,
        stall_seconds: float = 5.0,
    ) -> None:
        """`on_commit` runs after every COMMIT (the browser flushes OPFS there). `on_storage_lost` is called once
        when this engine stops for good because its storage failed (`StorageLostError`: `on_commit` failed, or
        a run's end could not be written, nor a failure in its place), so the application can say so even
        when no call of its own met the error. `takeover="wait"` makes
        `start` wait until another engine's lease is `lease_seconds` stale instead of taking over.
        `start` fails a run found running `max_stalls` times in a row without a new completed step, each
        time after `stall_seconds` or more without a commit (None: resume it forever)."""
        self._database = database
        self._on_commit = on_commit
        self._on_storage_lost = on_storage_lost
        self._clock = clock or SystemClock()
        self._new_id = id_factory or (lambda: uuid.uuid4().hex)
        self._app_version = app_version
        self._takeover = takeover
        self._lease_seconds = lease_seconds
        self._max_stalls = max_stalls
        self._stall_seconds = stall_seconds
        self._options = WorkerOptions(max_concurrent_runs, app_version, progress_interval, lease_seconds / 3)
        self._jobs: dict[str, Job[Any, Any]] = {}
        self._bus = EventBus()
        self._store: Store | None = None
        self._worker: Worker | None = None
        self._storage_lost: StorageLostError | None = None
        self._recovered = False
        self.engine_id = self._new_id()

    # -- set-up ---------------------------------------------------------------------------------------

    def register(self, *jobs: Job[Any, Any]) -> None:
        """Make jobs runnable by name; raises JobAlreadyRegisteredError for a second job with one name."""
        for job in jobs:
            known = self._jobs.get(job.name)
            if known is not None and known is not job:
                raise JobAlreadyRegisteredError(job.name)
            self._jobs[job.name] = job

    def on(self, event: EventType, handler: Handler) -> None:
        """Call `handler(event)` for each event of type `event` ("*" for all); raises UnknownEventError."""
        self._bus.on(event, handler)

    def off(self, event: EventType, handler: Handler) -> None:
        self._bus.off(event, handler)

    @property
    def running(self) -> bool:
        return self._worker is not None

    @property
    def opened(self) -> bool:
        """Whether the database is open for queries (`open` or `start` ran, and `stop` did not since)."""
        return self._store is not None and self._recovered

    async def open(self) -> None:
        """Migrate the schema, take the lease, verify the database when a dead engine left runs running and
        requeue those runs (they resume first, from their last checkpoint, once started; one found running
        `max_stalls` times in a row without progress is failed instead). Runs nothing: queries work from now
        on, and `start` runs the runs, with the jobs registered by then. The lease is renewed once started.
        Raises SchemaTooNewError, DatabaseCorruptError, and StorageLostError once the storage failed."""
        self._refuse_if_storage_lost()
        if self.opened:
            return
        store = self._store or Store.open(self._database, self._on_commit)
        self._store = store
        store.on_storage_lost = self._lose_storage
        take = store.migrate_and_lease  # the migrations a new database needs commit with the first try
        while True:
            now = self._clock.now()
            fresh_after = None if self._takeover == "immediate" else now - timedelta(seconds=self._lease_seconds)
            if take(self.engine_id, now, self._app_version, fresh_after=fresh_after) is None:
                break
            take = store.acquire_lease
            await self._clock.sleep(self._lease_seconds / 3)
        interrupted = store.has_interrupted_runs()
        if interrupted:
            store.verify()
        # with none left running there is nothing to recover: no transaction (a commit, and the browser's flush)
        recovery = (store.recover(self._clock.now(), self._max_stalls, self._stall_seconds) if interrupted
                    else Recovery([], []))
        for run in recovery.failed:
            error = run.error
            assert error is not None
            self._bus.emit(RunFailed(run.id, run.job, error.type, error.message, error.step, self._clock.now()))
        self._recovered = True

    async def start(self) -> None:
        """`open` the database if it is not, and start the worker loop, which runs the pending runs (the
        interrupted ones first). Raises what `open` raises."""
        self._refuse_if_storage_lost()
        if self._worker is not None:
            return
        await self.open()
        store = self._store
        assert store is not None
        self._worker = Worker(
            store=store, jobs=self._jobs, bus=self._bus, clock=self._clock, options=self._options,
            on_halt=self._halted,
        )  # fmt: skip
        store.on_lease_lost = self._worker.halt
        self._worker.start()

    async def stop(self, timeout: float | None = None) -> None:
        """Graceful stop: running runs stop at their next checkpoint and go back to pending; after
        `timeout` seconds the rest are abandoned (recovered at the next start). Releases the lease."""
        worker, self._worker = self._worker, None
        self._recovered = False  # no query either while it stops
        if worker is not None:
            await worker.stop(timeout)
        if self._store is not None and self._store.owner is not None and self._store.lost is None:
            self._store.release_lease()
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- runs -----------------------------------------------------------------------------------------

    async def trigger(
        self,
        job: Job[Any, Any] | str,
        payload: object,
        *,
        idempotency_key: str | None = None,
        concurrency_key: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> Triggered:
        """Queue a run of `job` with `payload` (validated now: InvalidInputError, nothing stored).
        With an `idempotency_key` already used for this job, returns that run with created=False."""
        store, worker = self._require("trigger a run")
        definition = self._job(job)
        input_json = definition.encode_input(payload)
        new = NewRun(self._new_id(), definition.name, input_json, idempotency_key, concurrency_key,
                     dict(labels or {}), self._clock.now())  # fmt: skip
        run, created, claimed = store.insert_run(new, worker.claim())
        if created:
            self._bus.emit(RunTriggered(run.id, run.job, run.labels, run.created_at))
        if claimed is not None:
            worker.adopt(claimed)  # claimed in the trigger's transaction: it starts without a second commit
            run = claimed if claimed.id == run.id else run
        if created and worker.claim() is not None:
            worker.wake()
        return Triggered(run, created)

    @overload
    async def trigger_and_wait(
        self, job: Job[Any, OutT], payload: object, *, timeout: float | None = None, **options: Any
    ) -> OutT: ...

    @overload
    async def trigger_and_wait(
        self, job: str, payload: object, *, timeout: float | None = None, **options: Any
    ) -> Any: ...

    async def trigger_and_wait(
        self, job: Job[Any, Any] | str, payload: object, *, timeout: float | None = None, **options: Any
    ) -> Any:
        """Trigger (same options as `trigger`) and wait for the run to end; return its validated output.
        Raises RunFailedError (cause: the original exception when it failed in this process),
        RunCancelledError, WaitTimeoutError (the run goes on)."""
        definition = self._job(job)
        run, _ = await self.trigger(definition, payload, **options)
        cause: BaseException | None = None
        if not run.status.finished:
            _, worker = self._require("wait for a run")
            future = worker.wait(run.id)
            try:
                run, cause = await asyncio.wait_for(future, timeout)
            except TimeoutError:
                worker.forget_waiter(run.id, future)
                raise WaitTimeoutError(run.id, timeout or 0.0) from None
        if run.status is RunStatus.COMPLETED:
            return definition.decode_output(run.output)
        if run.status is RunStatus.CANCELLED:
            raise RunCancelledError(run.id)
        error = run.error
        assert error is not None
        raise RunFailedError(run.id, error.type, error.message, error.step) from cause

    async def cancel(self, run_id: str) -> Run:
        """Cancel a run: a pending one at once; a running one at its next checkpoint, progress call or
        `step.checkpoint()`. Cancelling a cancelled run does nothing. Returns the run as it is now."""
        store, worker = self._require("cancel a run")
        run = self._existing(store, run_id)
        if run.status is RunStatus.CANCELLED:
            return run
        if run.status.finished:
            raise InvalidRunStateError(run_id, run.status, "cancel", ("pending", "running"))
        now = self._clock.now()
        with store.transaction() as tx:
            if run.status is RunStatus.PENDING:
                tx.finish_run(run_id, RunStatus.CANCELLED, now, output_json=None, error=None)
            else:
                tx.request_cancel(run_id, now)
        signals = worker.signals(run_id)
        if signals is not None:
            signals.cancel = True
        run = self._existing(store, run_id)
        if run.status is RunStatus.CANCELLED:
            self._bus.emit(RunCancelled(run.id, run.job, now))
            worker.finished(run)
        return run

    async def retry(self, run_id: str) -> Run:
        """Queue a failed or cancelled run again; it resumes from its completed steps (recorded step
        results are replayed, the failed step runs again). Raises InvalidRunStateError otherwise."""
        store, worker = self._require("retry a run")
        run = self._existing(store, run_id)
        if run.status not in (RunStatus.FAILED, RunStatus.CANCELLED):
            raise InvalidRunStateError(run_id, run.status, "retry", ("failed", "cancelled"))
        now = self._clock.now()
        with store.transaction() as tx:
            tx.requeue_run(run_id, now)
        self._bus.emit(RunRetried(run.id, run.job, now))
        worker.wake()
        return self._existing(store, run_id)

    async def retrigger(self, run_id: str) -> Run:
        """A fresh run of the same job with the same input, concurrency key and labels."""
        store, _ = self._require("retrigger a run")
        run = self._existing(store, run_id)
        triggered = await self.trigger(run.job, run.input, concurrency_key=run.concurrency_key, labels=run.labels)
        return triggered.run

    async def delete(self, run_id: str) -> None:
        """Delete a finished run with its steps and logs (the job's `on_delete` hook runs in the same
        transaction), then emit run:delete. Raises InvalidRunStateError for pending or running runs."""
        store, _ = self._require("delete a run")
        run = self._existing(store, run_id)
        if not run.status.finished:
            raise InvalidRunStateError(run_id, run.status, "delete", ("completed", "failed", "cancelled"))
        self._delete(store, run)

    async def purge(self, older_than: datetime | timedelta) -> int:
        """Delete every finished run that ended before `older_than` (a time, or an age); returns how many."""
        store, _ = self._require("purge runs")
        cutoff = self._clock.now() - older_than if isinstance(older_than, timedelta) else older_than
        runs = store.finished_before(cutoff)
        for run in runs:
            self._delete(store, run)
        return len(runs)

    # -- queries --------------------------------------------------------------------------------------

    async def get_run(self, run_id: str) -> Run | None:
        store = self._require_open("read runs")
        return store.get_run(run_id)

    async def list_runs(
        self,
        *,
        status: RunStatus | str | Sequence[RunStatus | str] | None = None,
        job: str | None = None,
        label: Mapping[str, str] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Run]:
        """Runs newest first, filtered by status (one or several), job and labels (all pairs must
        match), with the total count of matches."""
        store = self._require_open("list runs")
        statuses = [] if status is None else [status] if isinstance(status, str) else list(status)
        return store.list_runs(
            status=[RunStatus(s) for s in statuses], job=job, labels=label, limit=limit, offset=offset
        )

    async def get_steps(self, run_id: str) -> list[Step]:
        """The run's recorded steps in call order (completed and failed; kept after the run ends)."""
        store = self._require_open("read steps")
        return store.get_steps(run_id)

    async def get_logs(
        self, run_id: str, *, level: LogLevel | str | None = None, limit: int = 100, offset: int = 0
    ) -> Page[LogEntry]:
        """The run's log entries, oldest first, at `level` or above, with the total count."""
        store = self._require_open("read logs")
        return store.get_logs(run_id, min_level=None if level is None else LogLevel(level), limit=limit,
                              offset=offset)  # fmt: skip

    # -- internals ------------------------------------------------------------------------------------

    def _require(self, action: str) -> tuple[Store, Worker]:
        self._refuse_if_storage_lost()
        if self._store is None or self._worker is None:
            raise EngineNotStartedError(action)
        return self._store, self._worker

    def _require_open(self, action: str) -> Store:
        self._refuse_if_storage_lost()
        if not self.opened:
            raise EngineNotStartedError(action)
        assert self._store is not None
        return self._store

    def _job(self, job: Job[Any, Any] | str) -> Job[Any, Any]:
        name = job if isinstance(job, str) else job.name
        definition = self._jobs.get(name)
        if definition is None:
            raise JobNotFoundError(name)
        return definition

    @staticmethod
    def _existing(store: Store, run_id: str) -> Run:
        run = store.get_run(run_id)
        if run is None:
            raise RunNotFoundError(run_id)
        return run

    def _delete(self, store: Store, run: Run) -> None:
        job = self._jobs.get(run.job)
        with store.transaction() as tx:
            if job is not None and job.on_delete is not None:
                job.on_delete(tx.conn, run)
            tx.delete_run(run.id)
        self._bus.emit(RunDeleted(run.id, run.job, run.labels, self._clock.now()))

    def _halted(self, error: EngineHaltedError) -> None:
        self._worker = None

    def _lose_storage(self, error: StorageLostError) -> None:
        """The storage failed (the store's flush after a commit, or a run's end that could not be written): this
        instance does no more work (see StorageLostError), and `on_storage_lost` hears it the first time."""
        first = self._storage_lost is None
        self._storage_lost = error
        if self._worker is not None:
            self._worker.halt(error)
        if first and self._on_storage_lost is not None:
            try:
                self._on_storage_lost(error)
            except Exception:  # the engine has stopped either way: a failing listener must not hide that
                _log.exception("durable: on_storage_lost failed")

    def _refuse_if_storage_lost(self) -> None:
        if self._storage_lost is not None:
            raise StorageLostError(self._storage_lost.reason)
