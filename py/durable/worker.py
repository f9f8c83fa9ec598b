"""The worker: a loop that claims pending runs up to the concurrency limit and executes each as a task.

Executing a run = build its StepContext from the recorded steps, call the job, and commit the outcome
(completed, failed, cancelled) with the run's buffered logs and progress in one transaction. Only
asyncio primitives that Pyodide's WebLoop supports are used: create_task, Event, futures, wait_for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from durable.clock import Clock
from durable.context import RunSignals, StepContext, StopRequested
from durable.errors import CancellationRequested, EngineHaltedError, EngineNotStartedError, error_message
from durable.events import EventBus, RunCancelled, RunCompleted, RunFailed, RunStarted
from durable.job import Job
from durable.records import ErrorInfo, Run, RunStatus
from durable.store import Claim, Store

_log = logging.getLogger("durable")
Outcome = tuple[Run, BaseException | None]
"""A finished run and, when it failed in this process, the exception that failed it."""


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    max_concurrent_runs: int
    app_version: str | None
    progress_interval: float
    heartbeat_interval: float


class Worker:
    """Runs the engine's queue. Created by `Engine.start`, ended by `stop`."""

    def __init__(
        self,
        *,
        store: Store,
        jobs: Mapping[str, Job[Any, Any]],
        bus: EventBus,
        clock: Clock,
        options: WorkerOptions,
        on_halt: Callable[[EngineHaltedError], None],
    ) -> None:
        self._store = store
        self._jobs = jobs
        self._bus = bus
        self._clock = clock
        self._options = options
        self._on_halt = on_halt
        self._active: dict[str, tuple[asyncio.Task[None], RunSignals]] = {}
        self._waiters: dict[str, list[asyncio.Future[Outcome]]] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop())

    def wake(self) -> None:
        """Look for work now (after a trigger, retry, or a run ending)."""
        self._wake.set()

    def signals(self, run_id: str) -> RunSignals | None:
        """The live signals of a run executing in this worker, or None."""
        active = self._active.get(run_id)
        return None if active is None else active[1]

    def wait(self, run_id: str) -> asyncio.Future[Outcome]:
        """A future resolved with the run's outcome when it finishes."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(run_id, []).append(future)
        return future

    def forget_waiter(self, run_id: str, future: asyncio.Future[Outcome]) -> None:
        waiters = self._waiters.get(run_id, [])
        if future in waiters:
            waiters.remove(future)

    def finished(self, run: Run, cause: BaseException | None = None) -> None:
        """Resolve the waiters of a run that just finished."""
        for future in self._waiters.pop(run.id, []):
            if not future.done():
                future.set_result((run, cause))

    async def stop(self, timeout: float | None) -> None:
        """Stop claiming; let running runs reach their next checkpoint (then they go back to pending).
        After `timeout` seconds the remaining tasks are cancelled and recovered at the next start."""
        self._stopping = True
        for _, signals in self._active.values():
            signals.stop = True
        self._wake.set()
        if self._loop_task is not None:
            await self._loop_task
        tasks = [task for task, _ in self._active.values()]
        if tasks:
            _, still_running = await asyncio.wait(tasks, timeout=timeout)
            for task in still_running:
                task.cancel()
            if still_running:
                await asyncio.wait(still_running)
        self._fail_waiters(EngineNotStartedError("wait for a run"))

    # -- the loop -------------------------------------------------------------------------------------

    async def _loop(self) -> None:
        interval = self._options.heartbeat_interval
        last_beat = self._clock.now()
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    self._fill_slots()
                    now = self._clock.now()
                    if (now - last_beat).total_seconds() >= interval:
                        self._store.heartbeat(now)
                        last_beat = now
                except sqlite3.OperationalError:
                    # e.g. "database is locked" past busy_timeout: keep the loop alive and try again later.
                    _log.exception("durable: the worker loop could not reach the database")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=interval)
        except EngineHaltedError as error:
            self.halt(error)

    def claim(self) -> Claim | None:
        """What a trigger may claim in its own transaction (`Store.insert_run`), or None when no slot is free."""
        if self._stopping or len(self._active) >= self._options.max_concurrent_runs:
            return None
        return Claim(tuple(self._jobs), self._options.app_version)

    def adopt(self, run: Run) -> None:
        """Execute `run`, claimed for this worker (by a trigger, or by the loop)."""
        signals = RunSignals(cancel=run.cancel_requested)
        task = asyncio.create_task(self._execute(run, signals))
        self._active[run.id] = (task, signals)

    def _fill_slots(self) -> None:
        jobs = tuple(self._jobs)
        while len(self._active) < self._options.max_concurrent_runs and not self._stopping:
            run = self._store.claim_next(jobs, self._clock.now(), self._options.app_version)
            if run is None:
                return
            self.adopt(run)

    async def _execute(self, run: Run, signals: RunSignals) -> None:
        try:
            await self._run_job(run, signals)
        except EngineHaltedError as error:
            self.halt(error)
        finally:
            self._active.pop(run.id, None)
            self._wake.set()

    async def _run_job(self, run: Run, signals: RunSignals) -> None:
        job = self._jobs[run.job]
        recorded = self._store.get_steps(run.id)
        ctx = StepContext(
            run=run, store=self._store, bus=self._bus, clock=self._clock, recorded=recorded, signals=signals,
            retry=job.retry, progress_interval=self._options.progress_interval,
        )  # fmt: skip
        resumed = bool(recorded) or run.attempt > 1
        self._bus.emit(RunStarted(run.id, run.job, run.attempt, resumed, self._clock.now()))
        try:
            result = await job.fn(ctx, job.decode_input(run.input))
            ctx.check_all_replayed()
            if signals.fatal is not None:
                raise signals.fatal
            output_json = job.encode_output(run.id, result)
        except CancellationRequested:
            self._finish(ctx, RunStatus.CANCELLED)
        except StopRequested:
            try:
                with self._store.transaction() as tx:
                    tx.requeue_run(run.id, self._clock.now())
            except EngineHaltedError:
                raise
            except Exception as fault:  # the run stays running: the next start resumes it, as after a kill
                _log.error("durable: run %s could not go back to pending: %s", run.id, fault)
        except EngineHaltedError:
            raise
        except Exception as error:
            fatal = signals.fatal
            if isinstance(fatal, EngineHaltedError):
                raise fatal from error
            cause = fatal if isinstance(fatal, Exception) else error
            self._finish(ctx, RunStatus.FAILED, error=cause)
        else:
            self._finish(ctx, RunStatus.COMPLETED, output_json=output_json)

    def _finish(
        self,
        ctx: StepContext,
        status: RunStatus,
        *,
        output_json: str | None = None,
        error: Exception | None = None,
    ) -> None:
        """Record the run's end, then tell its listeners and waiters. If the transaction that records it fails
        (the storage is full or failing), the run fails with that error instead: its committed steps stand,
        and a retry replays them. If that fails too, this engine's storage is lost (`Store.lose_storage`): it
        halts, and the next engine on the database resumes the run."""
        try:
            run, now, info = self._record_end(ctx, status, output_json, error)
        except EngineHaltedError:
            raise
        except Exception as fault:
            _log.error("durable: run %s: its end (%s) could not be recorded: %s", ctx.run_id, status.value, fault)
            status, output_json, error = RunStatus.FAILED, None, fault
            try:
                run, now, info = self._record_end(ctx, status, None, fault)
            except EngineHaltedError:
                raise
            except Exception as again:
                raise self._store.lose_storage(str(again) or type(again).__name__) from again
        if status is RunStatus.COMPLETED:
            output = json.loads(output_json) if output_json is not None else None
            self._bus.emit(RunCompleted(run.id, run.job, output, now))
        elif status is RunStatus.FAILED and info is not None:
            self._bus.emit(RunFailed(run.id, run.job, info.type, info.message, info.step, now))
        else:
            self._bus.emit(RunCancelled(run.id, run.job, now))
        self.finished(run, error)

    def _record_end(
        self, ctx: StepContext, status: RunStatus, output_json: str | None, error: Exception | None
    ) -> tuple[Run, datetime, ErrorInfo | None]:
        """Write the run's end (`status`, its output or its error) with its unsent progress and logs, in one
        transaction; return the run as stored, the time of its end and its error."""
        ctx.send_unsent_progress()
        now = self._clock.now()
        info = None
        if error is not None:
            step = ctx.failed_step[1] if ctx.failed_step and ctx.failed_step[0] is error else None
            info = ErrorInfo(type(error).__name__, error_message(error), step)
        with self._store.transaction() as tx:
            ctx.pending.flush(tx, ctx.run_id)
            tx.finish_run(ctx.run_id, status, now, output_json=output_json, error=info)
            run = tx.get_run(ctx.run_id)
        assert run is not None
        return run, now, info

    def halt(self, error: EngineHaltedError) -> None:
        """Another engine owns the database now, or the storage failed: stop everything without writing."""
        if self._stopping:
            return
        _log.error("durable: %s", error)
        self._stopping = True
        self._wake.set()
        for _, signals in self._active.values():
            signals.fatal = error
        self._fail_waiters(error)
        self._on_halt(error)

    def _fail_waiters(self, error: BaseException) -> None:
        waiters, self._waiters = self._waiters, {}
        for futures in waiters.values():
            for future in futures:
                if not future.done():
                    future.set_exception(error)
