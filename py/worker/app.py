"""The worker app: receives requests, dispatches them to handlers, pushes events, leads or follows.

One engine per origin, every tab usable: the JS bootstrap holds the Web Lock and calls `begin_lead()` then
`lead()`; a worker that could not get the lock calls `follow()`: it forwards its page's requests to the
leading worker, relays the replies and the leader's events to its page (worker/tabs.py), until the lock
frees and it leads after all. The leader serves a forwarded request exactly as one of its own page's,
replying through the sink of the tab that sent it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from durable import Engine, Job, StorageLostError, event_to_dict
from importer.job_names import JOB_NAME
from worker import protocol
from worker.platform import Download, Platform, ReplySink
from worker.scans import ScanRegistry
from worker.serialize import event_json, progress_fields
from worker.sources import CopyTarget, SourceRegistry
from worker.tabs import LEADER_GONE, LEADER_STATES, STARTING, FollowerLink, valid_tab

if TYPE_CHECKING:
    from importer import ImportOutput
    from worker.hooks import TestHooks

APP_VERSION = "0.1.0"
SCAN_STEP_BYTES = 4 << 20
"""Bytes of the staged file one type-scan step reads here: the import yields to the page's messages between
scan steps (`ImportEnv.pause`), and 4 MB take well under a second in the browser (64 MB took about 10 s)."""

IMPORTER_MODULES = (
    "pydantic_core._pydantic_core", "pydantic_core", "pydantic", "pydantic._internal._decorators",
    "pydantic._internal._fields", "pydantic.json_schema", "pydantic._internal._generate_schema",
    "pydantic._internal._model_construction", "pydantic.main", "pydantic.types", "pydantic.fields",
    "importer.options", "charset_normalizer.md", "charset_normalizer", "importer.sniff", "importer.validate",
    "importer.job", "importer.fixes", "importer.undo", "worker.methods.imports", "worker.methods.rejects",
    "worker.methods.undo")
"""What `_load_importer` imports after `ready`, one module a task, in the order Python finishes them (each
brings in little that the previous did not: pydantic.main alone took 0.2-0.3 s in Pyodide), so that the page's
requests meanwhile wait for one of them at most (the longest is reported as the `importer_step` timing). A
name missing from a later pydantic only makes its step larger: the modules the app imports follow."""

BATCH_ROWS = 250_000
BATCH_BYTES = 16 << 20
"""A batch here ends by its time budget (`ImportEnv.batch_seconds`, what Cancel waits for) before these bounds:
each batch's COMMIT and OPFS flush cost a few milliseconds whatever its size, so fewer, larger batches."""


def build_id() -> str:
    """The id of the build this worker's code comes from: `worker/build.py`, which tools/vendor.py writes
    into app.zip only (the page has the same id in static/vendor/build.json); "dev" outside the bundle."""
    try:
        build = importlib.import_module("worker.build")
    except ImportError:
        return "dev"
    return str(build.BUILD_ID)


class WorkerApp:
    """State of one worker: its platform, role, database connection and request handlers."""

    def __init__(self, platform: Platform, hooks: TestHooks | None = None, *, warm_up_quiet: float = 0.0,
                 rehearsal_rows: int = 0) -> None:
        """`hooks`: test-only settings a browser test injected (worker/hooks.py); None in production.
        `warm_up_quiet`: the seconds without a request the worker waits for before each step of its warm-up
        after `ready` (`_warm_up`; the browser: WARM_UP_QUIET), so that the page's first requests do not wait.
        `rehearsal_rows`: the rows of the rehearsal import that ends the warm-up (worker/rehearsal.py; the
        browser: its SAMPLE_ROWS); 0: none."""
        self.platform = platform
        self.hooks = hooks
        self.state = "booting"
        self.db: sqlite3.Connection | None = None
        self.engine: Engine | None = None
        self.sources = SourceRegistry(platform.start_copy)
        self.scans = ScanRegistry()
        self.staging_dir = "."
        self.supplied: Mapping[str, str] = {}
        self.db_path = ""
        self.error_message = ""
        self.leading = False
        self.link = FollowerLink()
        self._status_message = ""
        self._boot_hold: asyncio.Future[None] | None = None
        self._importer_hold = asyncio.Event()
        self._warm_up_quiet = warm_up_quiet
        self._last_request = time.monotonic()

        self._handlers = self._collect_handlers()
        self._importer_loaded = asyncio.Event()
        self._importer_failure = ""
        self._database_created = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._import_job: Job[Any, Any] | None = None
        self._hurry = asyncio.Event()
        self._warm_up_over = False
        self._rehearsal_rows = rehearsal_rows
        self._rehearsal: asyncio.Task[Any] | None = None
        self.rehearsal_outcome: dict[str, Any] = {"state": "none"}
        """The rehearsal import's state (none, running, completed, cancelled, failed), with its row counts and
        seconds once it ended (the test-only `diagnostics.rehearsal`)."""

    # -- messages in -------------------------------------------------------------------------------
    def receive(self, data: Any) -> None:
        """Take one message this tab's page posted (a JSON text, or an object with `json` and `file`): serve
        it, or forward it to the leading tab's worker when this one follows."""
        text, file = _split_message(data)
        if self.state == "follower":
            self._forward_request(text, file)
        else:
            self._spawn(self._serve(text, file, self.platform))

    def on_forwarded(self, tab: object, text: object, file: Any = None) -> None:
        """Serve a request another tab's worker forwarded, replying to that tab; ignored unless this worker
        leads (every worker hears every forwarded request)."""
        if self.leading and valid_tab(tab):
            self._spawn(self._serve(text, file, self.platform.reply_sink(str(tab))))

    def _collect_handlers(self) -> dict[str, Any]:
        """The registered methods this worker serves (worker/methods): the test-only ones only with the
        `diagnostics` hook, never in production."""
        from worker.methods import METHODS  # late: methods import the app type

        diagnostics = self.hooks is not None and self.hooks.diagnostics
        return {name: fn for name, fn in METHODS.items() if diagnostics or not getattr(fn, "test_only", False)}

    async def _serve(self, text: object, file: Any, sink: ReplySink) -> None:
        self._last_request = time.monotonic()
        request_id = None
        try:  # every message gets a reply, whatever it holds (docs/protocol.md)
            request_id = protocol.request_id_of(text)
            request = protocol.parse_request(text)
            handler = self._handlers.get(request.method)
            if handler is None and self.state == "ready" and not self._importer_loaded.is_set():
                await self.importer_ready()  # the importer's methods are registered with it
                handler = self._handlers.get(request.method)
            if handler is None:
                raise protocol.ProtocolError("unknown-method", f"There is no method '{request.method}'.")
            any_state = getattr(handler, "any_state", False)
            if self.state != "ready" and not any_state:
                raise self._not_ready_error()
            if not any_state and not getattr(handler, "early", False):
                await self.importer_ready()
            if getattr(handler, "with_sink", False):
                result = await handler(self, request.params, file, sink=sink)
            else:
                result = await handler(self, request.params, file)
            if isinstance(result, Download):
                meta = {"name": result.name, "mime": result.mime, "size": result.size}
                sink.post_with_blob(protocol.reply(request_id, meta), result.blob)
            else:
                sink.post(protocol.reply(request_id, result))
        except protocol.ProtocolError as exc:
            sink.post(protocol.error_reply(request_id, exc))
        except Exception as exc:
            error = protocol.translate(exc)
            if error is None:  # a bug or an unexpected platform failure: report it, keep the worker alive
                print(f"worker: {request_id=} failed: {exc!r}", file=sys.stderr)
                error = protocol.ProtocolError("internal", f"{type(exc).__name__}: {exc}")
            sink.post(protocol.error_reply(request_id, error))

    def _not_ready_error(self) -> protocol.ProtocolError:
        if self.state == "error" and self.error_message:
            return protocol.ProtocolError("not-ready", self.error_message)
        return protocol.ProtocolError("not-ready", f"The engine is not ready yet ({self.state}); try again.")

    def on_broadcast(self, text: object) -> None:
        """Relay an event the leading tab's worker broadcast, when this worker follows."""
        if self.state == "follower" and isinstance(text, str):
            self.platform.post(text)

    # -- following ---------------------------------------------------------------------------------
    def _forward_request(self, text: object, file: Any) -> None:
        """Send a request of this page to the leader, once it is checked here (a malformed one is answered
        at once) and the leader is ready (else this page is told at once that it starts)."""
        request_id = protocol.request_id_of(text)
        try:
            request = protocol.parse_request(text)
            if not self.link.leader_ready:
                leader = self.link.leader
                message = leader.message if leader is not None and leader.state == "error" else STARTING
                raise protocol.ProtocolError("not-ready", message)
            assert request.id is not None and isinstance(text, str)
            self.link.sent(request.id)
            self.platform.forward(text, file)
        except protocol.ProtocolError as exc:
            self.platform.post(protocol.error_reply(request_id, exc))

    def on_forwarded_reply(self, text: object, blob: Any = None) -> None:
        """Relay the leader's reply to a request of this page, or an event meant for this page only (a
        forwarded preview's scan progress); a reply this page does not wait for (one already given up) is
        dropped."""
        if self.state != "follower" or not isinstance(text, str):
            return
        if protocol.is_event(text) or self.link.answered(protocol.request_id_of(text)):
            if blob is None:
                self.platform.post(text)
            else:
                self.platform.post_with_blob(text, blob)

    def on_leader(self, tab: object, state: object, message: object) -> None:
        """The leading worker announced itself (`state` booting, ready or error). A new leader means the
        previous one is gone: this page's requests it never answered get an answer now."""
        if self.leading or not valid_tab(tab) or state not in LEADER_STATES or not isinstance(message, str):
            return
        lost = self.link.announced(str(tab), str(state), message)
        self._give_up(lost, "another tab is taking over the engine")
        if self.state == "follower":
            self._emit_follower_status()

    def on_hello(self) -> None:
        """Another tab's worker asks who leads: say it, when this worker does."""
        if self.leading:
            self.platform.announce(self.state, self._status_message)

    def _give_up(self, request_ids: list[int], who: str) -> None:
        error = protocol.ProtocolError("not-ready", LEADER_GONE.format(who=who))
        for request_id in request_ids:
            self.platform.post(protocol.error_reply(request_id, error))

    def _emit_follower_status(self) -> None:
        state, message = self.link.status()
        self.platform.post(protocol.event("engine:status", {"state": state, "message": message,
                                                            "build": build_id()}))

    # -- role --------------------------------------------------------------------------------------
    def follow(self) -> None:
        """This tab does not hold the engine: forward to the one that does, and relay its events."""
        self.state = "follower"
        self._emit_follower_status()
        self.platform.ask_leader()

    def begin_lead(self) -> None:
        """This worker got the engine lock: from now on it serves the requests other tabs forward. Requests
        this page forwarded to the previous leader are answered (that leader is gone)."""
        self.leading = True
        self.state = "booting"
        self._give_up(self.link.drop_all(), "this tab runs the engine now")
        self.emit_status("Opening storage…")

    def lead_failed(self, reason: str) -> None:
        """The bootstrap could not start the engine (e.g. opening OPFS failed): say so here and to the tabs."""
        self.state = "error"
        self.emit_status(str(reason))

    async def lead(self, db_path: str, timings: Any = None, install_wheels: Any = None) -> None:
        """Open the database at `db_path` and serve requests. Reports `ready` (or `error`) once the database
        can be read, then loads the importer (`_load_importer`, after the wheels: `install_wheels()`, the
        bootstrap's, installs them, or None when they are) and reports `ready` again with it.

        `timings` (milliseconds per boot phase, from the JS bootstrap) are passed on in the status events.
        """
        boot_timings = timings.to_py() if hasattr(timings, "to_py") else dict(timings or {})
        if not self.leading:
            self.begin_lead()
        if self.hooks is not None and self.hooks.hold_boot:  # test-only (worker/hooks.py): stay `booting`
            if self._boot_hold is None:
                self._boot_hold = asyncio.get_running_loop().create_future()
            await self._boot_hold  # until diagnostics.release_boot, or this tab closes
        try:
            from worker.swap import finish_interrupted_swap, stale_openings

            finish_interrupted_swap(db_path, self.platform.flush)  # a kill cut short opening a database file
            for name in stale_openings(os.path.dirname(db_path) or "."):
                await self.platform.remove_file(name)  # picked database files never confirmed
            await self._open(db_path, boot_timings, start_jobs=False)
        except StorageLostError:
            return  # `_flush` already turned the status to `error` with the reason
        except Exception as exc:
            self.state = "error"
            self.emit_status(f"The database could not be opened: {exc}")
            return
        await self._load_importer(install_wheels, boot_timings)

    async def _load_importer(self, install_wheels: Any, timings: dict[str, Any]) -> None:
        """After `ready`: install the wheels (`install_wheels()`, the bootstrap's: after `ready`, so that their
        unpacking and linking do not slow the steps before it; None when they are installed), import the
        importer a module at a time, register its methods and jobs and start the engine, which resumes the
        interrupted runs; then report `ready` again, with the importer. A
        request that needs the importer waits for this (`importer_ready`); one that only reads the database
        does not (`early` methods). Failing, the status turns to `error`, saying why."""
        from worker.methods import register_importer_methods

        try:
            if install_wheels is not None:
                timings["wheels"] = await install_wheels()  # ms to install them
            if self.hooks is not None and self.hooks.hold_importer:  # test-only (worker/hooks.py)
                await self._importer_hold.wait()  # until diagnostics.release_importer
            started, longest = time.perf_counter(), 0
            for module in IMPORTER_MODULES:  # the page's requests are served between them
                await self.platform.next_task()
                step = time.perf_counter()
                _import_step(module)
                longest = max(longest, _ms_since(step))
            register_importer_methods()
            self._handlers = self._collect_handlers()
            timings["importer"], timings["importer_step"] = _ms_since(started), longest
            await self._start_jobs()
            await self._report_ready(timings)
        except StorageLostError:
            self._importer_failure = self.error_message  # `_flush` turned the status to `error`
        except Exception as exc:
            print(f"worker: the importer could not be loaded: {exc!r}", file=sys.stderr)
            self._importer_failure = f"The importer could not be loaded: {_reason(exc)}. Reload the page."
            self.state = "error"
            self.error_message = self._importer_failure
            self.emit_status(self._importer_failure)
        finally:
            self._importer_loaded.set()
        if not self._importer_failure:
            self._spawn(self._warm_up())  # after `ready`: boot waits for neither
            self._spawn(self._sweep_copies(_listing(self.staging_dir)))

    async def importer_ready(self) -> None:
        """Wait until the importer is loaded and the engine runs; raises ProtocolError('not-ready') when it
        could not be loaded."""
        await self._importer_loaded.wait()
        if self._importer_failure:
            raise protocol.ProtocolError("not-ready", self._importer_failure)

    async def _open(self, db_path: str, timings: dict[str, Any], *, start_jobs: bool = True) -> None:
        """Open the database at `db_path` and the engine on it for queries, and report `ready` with its run
        count; with `start_jobs` (the importer is loaded) register the jobs and start the engine first."""
        from worker.database import open_database
        from worker.supplied import SuppliedCopies

        self._database_created = not (os.path.exists(db_path) and os.path.getsize(db_path) > 0)
        self.db = open_database(db_path)
        self.db_path = db_path
        self.staging_dir = os.path.dirname(db_path) or "."
        self.supplied = SuppliedCopies(self.staging_dir)
        self.engine = Engine(self.db, on_commit=self._flush, on_storage_lost=self._storage_lost,
                             app_version=APP_VERSION)
        self.engine.on("*", self._forward_event)
        refuse_writes = self.hooks.read_only_after(self.db) if self.hooks is not None else None
        if refuse_writes is not None:  # test-only (worker/hooks.py)
            self.engine.on("step:complete", refuse_writes)
        await self.engine.open()
        if start_jobs:
            await self._start_jobs()
        self.state = "ready"
        await self._report_ready(timings)

    async def _start_jobs(self) -> None:
        """Register the jobs on the opened engine and start it: the interrupted runs resume (a command-line
        run whose file has no copy here is parked first, worker/supplied.py). Copies staged ahead start."""
        from durable import SystemClock
        from worker.supplied import SuppliedCopies, park_runs_without_copy

        engine, db, supplied = self.require_engine(), self.require_db(), self.supplied
        assert isinstance(supplied, SuppliedCopies), "`_open` sets it"
        jobs = self.jobs()
        engine.register(*jobs)
        self._import_job = next(job for job in jobs if job.name == JOB_NAME)
        park_runs_without_copy(db, supplied, SystemClock().now(), self._flush)
        await engine.start()
        if self.hooks is None or self.hooks.stages_ahead():
            self.sources.copy_into(CopyTarget(self.staging_dir, self.platform.prepare_file, self._room_for,
                                              self.platform.adopt_file))

    async def _report_ready(self, timings: dict[str, Any]) -> None:
        """Push the `ready` status: the runtime's versions, the storage estimate, the boot `timings`,
        `importer` ("loading" or "ready": the engine is ready to read before the importer is loaded), and
        `database_created` and `runs`, in both `ready`s: a page whose UI starts after both reads only the last
        (the page tells a database the browser cleared from an empty one by them)."""
        info = self.runtime_info()
        estimate = await self.platform.estimate()
        engine = self.require_engine()
        importer = "ready" if engine.running else "loading"
        runs = (await engine.list_runs(limit=1)).total
        self.emit_status(ready_message(info, estimate, self.platform.storage_name, importer=importer),
                         **info, **estimate, timings=timings, importer=importer,
                         database_created=self._database_created, runs=runs)

    async def _room_for(self, size: int) -> bool:
        """Whether a file of `size` bytes can be copied ahead: room for it and a table as large (as Start asks)."""
        estimate = await self.platform.estimate()
        return 2 * size <= estimate["quota"] - estimate["usage"]

    async def _warm_up(self) -> None:
        """Build the import job's models (importer.job `WARM_UP`), then run a sample through the job's start and
        end (importer.job `exercise`), one task each, each once no request came for `warm_up_quiet` seconds:
        after the page's first requests, and before the first preview or Start needs them (a request that comes
        meanwhile waits for one task at most; one that needs a model first builds it, and the warm-up's build is
        then nothing). Last, while no file was previewed, the rehearsal import (worker/rehearsal.py), a batch per
        task. A preview (`hurry_warm_up`) ends the waiting for quiet and stops the rehearsal; a Start
        (`end_warm_up`) ends the warm-up."""
        from importer.job import WARM_UP, exercise

        job = self._import_job
        assert job is not None, "the warm-up starts once the jobs are registered"
        steps: list[Callable[[], object]] = [model.model_rebuild for model in WARM_UP]
        steps.append(functools.partial(exercise, job))
        for step in steps:
            if not await self._quiet_turn():
                return
            step()
        if self._rehearsal_rows and await self._quiet_turn() and not self._hurry.is_set():  # no file picked yet
            await self._rehearse()

    async def _quiet_turn(self) -> bool:
        """Wait until no request came for `warm_up_quiet` seconds (or the warm-up is hurried), then for a turn of
        the event loop; False when a Start ended the warm-up meanwhile."""
        while not self._hurry.is_set() and (wait := self._quiet_left()) > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._hurry.wait(), wait)
        await self.platform.next_task()
        return not self._warm_up_over

    async def _rehearse(self) -> None:
        """Run the rehearsal (worker/rehearsal.py: its import, then its sample read as a picked file) as a task a
        preview or a Start cancels; a failure is only said on stderr: the rehearsal changes nothing a user sees.
        Only while the page is idle: with a preview and Start at once it made the import no faster (100k rows,
        four pairs in alternation, return visits: 0.40 s median with it, 0.29 s without), the cores being the
        preview's then."""
        began = time.perf_counter()
        task = asyncio.ensure_future(self._rehearsal_run())
        self._rehearsal = task
        self.rehearsal_outcome = {"state": "running"}
        await asyncio.wait([task])
        self._rehearsal = None
        outcome: dict[str, Any] = {"seconds": round(time.perf_counter() - began, 4)}
        if task.cancelled():
            outcome["state"] = "cancelled"
        elif (exc := task.exception()) is not None:
            outcome.update(state="failed", error=repr(exc))
            print(f"worker: the rehearsal import failed: {exc!r}", file=sys.stderr)
        else:
            output, previewed = task.result()
            outcome.update(state="completed", rows_accepted=output.rows_accepted, rows_rejected=output.rows_rejected,
                           run_seconds=output.seconds, timings=output.timings, previewed_rows=previewed)
        self.rehearsal_outcome = outcome

    async def _rehearsal_run(self) -> tuple[ImportOutput, int]:
        """The rehearsal import, then its sample read as a picked file (worker/rehearsal.py `rehearse_preview`):
        the import's output and the rows the sample's scan counted."""
        from worker.rehearsal import rehearse, rehearse_preview, sample_csv

        pause = self.platform.next_task
        data = sample_csv(self._rehearsal_rows)  # one sample for both
        output = await rehearse(data, pause=pause)
        sample = self.platform.sample_file("rehearsal.csv", data)
        return output, await rehearse_preview(self.platform.byte_source(sample), pause=pause)

    def _quiet_left(self) -> float:
        """Seconds until no request will have come for `warm_up_quiet` seconds."""
        return self._last_request + self._warm_up_quiet - time.monotonic()

    def hurry_warm_up(self) -> None:
        """Run what is left of the warm-up without waiting for quiet moments: a preview was answered, so Start,
        which needs every step of it, may come next. The rehearsal is not part of that: it is for an idle
        page, so a preview stops it, or it never starts (beside the preview's scan it only competed for the
        cores: see `_rehearse`)."""
        self._hurry.set()
        self._stop_rehearsal()

    def end_warm_up(self) -> None:
        """Run no more of the warm-up: a Start came, which builds what it needs itself and runs the paths the
        warm-up's sample would have (at its awaits, a step would only have delayed it: a sample run inside a
        Start's storage estimate took 47-106 ms in the browser)."""
        self._warm_up_over = True
        self._hurry.set()  # a warm-up waiting for quiet wakes up, to end
        self._stop_rehearsal()

    def _stop_rehearsal(self) -> None:
        """Cancel the rehearsal if it runs, once: its engine stops at its run's next slice (the batch rolls back
        with its scratch database). A second cancel would cut that stop short and leave its run going."""
        task, self._rehearsal = self._rehearsal, None
        if task is not None:
            task.cancel()

    async def _sweep_copies(self, names: list[str]) -> None:
        """Delete the copies staged ahead (`names` in the staging directory) that no run took: their page
        closed before Start. A copy of a file picked since this engine started is left alone."""
        from worker.methods.imports import STAGED_LABEL
        from worker.sources import is_ahead_copy

        engine = self.require_engine()
        for name in names:
            if not is_ahead_copy(name) or name[len("ahead-"):-len(".csv")] in self.sources:
                continue
            if (await engine.list_runs(job=JOB_NAME, label={STAGED_LABEL: name}, limit=1)).total == 0:
                await self.platform.remove_file(name)

    async def replace_database(self, candidate: str) -> None:
        """Stop the engine, put the checked database file `candidate` in the database's place (the current one
        kept as the backup, worker/swap.py) and start again on it; the pages see `booting`, then `ready`.
        When the copy fails, or the engine cannot start on the new database, the previous database is put back
        and opened again, and `SwapFailed` says why."""
        from worker.swap import SwapFailed, put_back, put_in_place

        engine, db = self.require_engine(), self.require_db()
        self.state = "booting"
        self.emit_status("Opening the database file…")
        await engine.stop()
        db.close()
        self.engine = self.db = None
        try:
            await put_in_place(self.db_path, candidate, prepare=self.platform.prepare_file,
                               remove=self.platform.remove_file, flush=self.platform.flush)
        except Exception as exc:
            await self._reopen()
            raise SwapFailed(f"it could not be copied into this browser's storage ({_reason(exc)})") from exc
        try:
            await self._open(self.db_path, {})
        except Exception as exc:
            await self._close_quietly()
            put_back(self.db_path, self.platform.flush)
            await self._reopen()
            raise SwapFailed(f"the engine could not start on it ({_reason(exc)})") from exc

    async def _reopen(self) -> None:
        """Open the database again after a swap failed; an error status (reload the page) if even that fails."""
        try:
            await self._open(self.db_path, {})
        except Exception as exc:
            self.state = "error"
            self.error_message = f"The database could not be opened: {_reason(exc)}. Reload the page."
            self.emit_status(self.error_message)

    async def _close_quietly(self) -> None:
        """Stop the engine and close the database that `_open` left half-started."""
        engine, db = self.engine, self.db
        self.engine = self.db = None
        if engine is not None:
            with contextlib.suppress(Exception):
                await engine.stop()
        if db is not None:
            db.close()

    def release_boot(self) -> bool:
        """Let a boot the `hold_boot` test hook holds (or will hold) go on; False without that hook or when
        it was released already."""
        if self.hooks is None or not self.hooks.hold_boot:
            return False
        if self._boot_hold is None:
            self._boot_hold = asyncio.get_running_loop().create_future()
        if self._boot_hold.done():
            return False
        self._boot_hold.set_result(None)
        return True

    def release_importer(self) -> bool:
        """Let the loading of the importer the `hold_importer` test hook holds go on; False without that hook
        or when it was released already."""
        if self.hooks is None or not self.hooks.hold_importer or self._importer_hold.is_set():
            return False
        self._importer_hold.set()
        return True

    def _flush(self) -> None:
        """The engine's `on_commit`. A failed flush stops the engine for good (StorageLostError), so the
        status turns to `error`, saying to reload the page; requests are refused with that sentence."""
        try:
            self.platform.flush()
        except Exception as exc:
            self._storage_failed(str(exc) or type(exc).__name__)
            raise

    def _storage_lost(self, error: StorageLostError) -> None:
        """The engine's `on_storage_lost`: it stopped for good, also when no flush failed (a run's end that
        could not be written, nor a failure in its place): the status turns to `error` as for a failed flush."""
        self._storage_failed(error.reason)

    def _storage_failed(self, reason: str) -> None:
        """Turn the status to `error` with the storage sentence (once: a failed flush is also the engine's loss)."""
        if self.state == "error":
            return
        self.state = "error"
        self.error_message = storage_lost_message(reason)
        self.emit_status(self.error_message)

    def jobs(self) -> list[Any]:
        """The jobs this worker runs: the CSV import, reading picked files from `self.sources`, and the fixing
        of its rejected rows (both shaped by the test hooks, if a browser test set any)."""
        from importer import ImportEnv, make_import_job
        from importer.fixes import make_fix_job
        from importer.undo import make_undo_job

        overrides = self.hooks.env_overrides() if self.hooks is not None else {}
        fix_hold = self.hooks.fix_hold() if self.hooks is not None else None
        sizes = {"max_batch_rows": BATCH_ROWS, "batch_bytes": BATCH_BYTES, **overrides}
        env = ImportEnv(staging_dir=self.staging_dir, sources=self.sources, supplied=self.supplied,
                        pause=self.platform.next_task, scan_step_bytes=SCAN_STEP_BYTES, copied=self.sources.copied,
                        **sizes)
        return [make_import_job(env),
                make_fix_job(after_chunk=fix_hold, chunk_rows=overrides.get("max_batch_rows"),
                             pause=self.platform.next_task), make_undo_job()]

    def undone(self, run_id: str) -> dict[str, Any] | None:
        """How import run `run_id` was undone ({undo_run_id, rows, at}), or None."""
        from importer.sql import undone_runs

        return undone_runs(self.require_db(), [run_id]).get(run_id)

    def with_undone(self, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`runs` (JSON) with `undone` set on the import runs that were undone."""
        from importer.sql import undone_runs

        found = undone_runs(self.require_db(), [r["id"] for r in runs if r.get("job") == JOB_NAME])
        for run in runs:
            if run["id"] in found:
                run["undone"] = found[run["id"]]
        return runs

    def require_engine(self) -> Engine:
        """The engine, opened for queries (and running, once the importer is loaded: the methods that need
        it wait for that); raises ProtocolError('not-ready') before `lead()` opened it."""
        if self.engine is None or not self.engine.opened:
            raise self._not_ready_error()
        return self.engine

    def require_db(self) -> sqlite3.Connection:
        """The open database; raises ProtocolError('not-ready') before `lead()` opened it."""
        if self.db is None:
            raise self._not_ready_error()
        return self.db

    # -- events out --------------------------------------------------------------------------------
    def _forward_event(self, event: Any) -> None:
        """Send an engine event to the pages; a resumed import is also announced as `import:resumed`."""
        self.emit(event.type, event_json(event_to_dict(event)))
        if event.type == "run:start" and event.resumed and event.job == JOB_NAME:
            self._spawn(self._announce_resume(event.run_id))

    async def _announce_resume(self, run_id: str) -> None:
        engine = self.require_engine()
        run = await engine.get_run(run_id)
        if run is None or not isinstance(run.input, dict):
            return
        staged = any(s.name == "stage" and s.status == "completed" for s in await engine.get_steps(run_id))
        if not staged and run.input.get("source_id") not in self.sources:
            return  # its copy is incomplete and its File is gone: it will fail, asking for the file again
        data = progress_fields(run.progress.message if run.progress else None)["data"] or {}
        self.emit("import:resumed", {"run_id": run_id, "file_name": run.labels.get("file", ""),
                                     "row": int(data.get("rows_done", 0)) + 1})

    def _spawn(self, coroutine: Any) -> None:
        """Run `coroutine` in the background; if it fails, say so on stderr (the worker's console), which an
        unawaited task would not."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            print(f"worker: a background task failed: {exc!r}", file=sys.stderr)

    def emit(self, event_type: str, data: dict[str, Any]) -> None:
        """Push an event to this page and to the other tabs."""
        text = protocol.event(event_type, data)
        self.platform.post(text)
        self.platform.broadcast(text)

    def emit_status(self, message: str, **extra: Any) -> None:
        """Push the engine status (`state`, message and this worker's `build` id) to this page and, when this
        worker leads, announce it to the other tabs' workers."""
        text = protocol.event("engine:status", {"state": self.state, "message": message, "build": build_id(),
                                                **extra})
        self.platform.post(text)
        if self.leading:
            self._status_message = message
            self.platform.announce(self.state, message)

    def runtime_info(self) -> dict[str, str]:
        """Versions of the runtime pieces, as shown in the status line (pydantic's once it is loaded)."""
        info = {"python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version}
        pydantic = sys.modules.get("pydantic")
        if pydantic is not None:
            info["pydantic"] = str(pydantic.VERSION)
        return info


def ready_message(info: dict[str, str], estimate: dict[str, int], storage: str, *, importer: str = "ready") -> str:
    """`Engine ready: Python 3.14.2, SQLite 3.39.0, pydantic 2.14.3, storage OPFS (1.2 MB / 10 GB)`; while
    the importer loads (`importer` "loading"), `Engine ready: Python 3.14.2, SQLite 3.39.0, storage OPFS (...);
    loading the importer…`."""
    used, quota = format_bytes(estimate["usage"]), format_bytes(estimate["quota"])
    versions = f"Python {info['python']}, SQLite {info['sqlite']}"
    if importer != "loading" and "pydantic" in info:
        versions += f", pydantic {info['pydantic']}"
    text = f"Engine ready: {versions}, storage {storage} ({used} / {quota})"
    return text + ("; loading the importer…" if importer == "loading" else "")


def storage_lost_message(reason: str) -> str:
    """What the page shows when the storage failed after a commit (the engine stopped)."""
    return (f"The browser's storage failed after a commit: {reason}. Reload the page to continue; nothing "
            "committed is lost.")


def format_bytes(count: int) -> str:
    """Human-readable size with decimal units: 0 B, 12.3 kB, 4.5 MB, 10 GB."""
    size = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" or size >= 100 else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def _import_step(module: str) -> None:
    """Import `module` (an IMPORTER_MODULES step). One that a later version of its package no longer has is
    skipped: the list only sets an order, and the modules the app imports come after it anyway."""
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise


def _ms_since(started: float) -> int:
    return round(1000 * (time.perf_counter() - started))


def _reason(exc: BaseException) -> str:
    """An exception as a short reason: its OS or SQLite text, else its type and text."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _listing(folder: str) -> list[str]:
    """The names in `folder`; none when it cannot be listed (nothing is swept then)."""
    try:
        return os.listdir(folder)
    except OSError as exc:
        print(f"worker: cannot list {folder!r}: {exc}", file=sys.stderr)
        return []


def _split_message(data: Any) -> tuple[object, Any]:
    if isinstance(data, str):
        return data, None
    if isinstance(data, dict):
        return data.get("json"), data.get("file")
    return getattr(data, "json", None), getattr(data, "file", None)
