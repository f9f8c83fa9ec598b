"""The worker app: receives requests, dispatches them to handlers, pushes events, leads or follows.

One engine per origin: the JS bootstrap holds the Web Lock and calls `lead()`; a worker that could not get
the lock calls `follow()`, answers requests with a 'follower' error and relays the leader's events (which
arrive over BroadcastChannel) to its page, until the lock frees and `lead()` is called after all.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from typing import Any

from durable import Engine, StorageLostError, event_to_dict
from importer import JOB_NAME
from worker import protocol
from worker.hooks import TestHooks
from worker.platform import Download, Platform
from worker.scans import ScanRegistry
from worker.serialize import event_json, progress_fields
from worker.sources import SourceRegistry

APP_VERSION = "0.1.0"


def build_id() -> str:
    """The id of the build this worker's code comes from: `worker/build.py`, which tools/vendor.py writes
    into app.zip only (the page has the same id in static/vendor/build.json); "dev" outside the bundle."""
    try:
        from worker.build import BUILD_ID  # type: ignore[import-not-found]
    except ImportError:
        return "dev"
    return str(BUILD_ID)


class WorkerApp:
    """State of one worker: its platform, role, database connection and request handlers."""

    def __init__(self, platform: Platform, hooks: TestHooks | None = None) -> None:
        """`hooks`: test-only settings a browser test injected (worker/hooks.py); None in production."""
        from worker.methods import METHODS, Fn  # late: methods import the app type

        self.platform = platform
        self.hooks = hooks
        self.state = "booting"
        self.db: sqlite3.Connection | None = None
        self.engine: Engine | None = None
        self.sources = SourceRegistry()
        self.scans = ScanRegistry()
        self.staging_dir = "."
        self.db_path = ""
        self.error_message = ""

        diagnostics = hooks is not None and hooks.diagnostics  # test-only methods: never in production
        self._handlers: dict[str, Fn] = {name: fn for name, fn in METHODS.items()
                                         if diagnostics or not getattr(fn, "test_only", False)}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- messages in -------------------------------------------------------------------------------
    def receive(self, data: Any) -> None:
        """Take one posted message (a JSON text, or an object with `json` and `file`) and serve it."""
        text, file = _split_message(data)
        self._spawn(self._serve(text, file))

    async def _serve(self, text: object, file: Any) -> None:
        request_id = None
        try:  # every message gets a reply, whatever it holds (docs/protocol.md)
            request_id = protocol.request_id_of(text)
            request = protocol.parse_request(text)
            handler = self._handlers.get(request.method)
            if handler is None:
                raise protocol.ProtocolError("unknown-method", f"There is no method '{request.method}'.")
            if self.state != "ready" and not getattr(handler, "any_state", False):
                raise self._not_ready_error()
            result = await handler(self, request.params, file)
            if isinstance(result, Download):
                meta = {"name": result.name, "mime": result.mime, "size": result.size}
                self.platform.post_with_blob(protocol.reply(request_id, meta), result.blob)
            else:
                self.platform.post(protocol.reply(request_id, result))
        except protocol.ProtocolError as exc:
            self.platform.post(protocol.error_reply(request_id, exc))
        except Exception as exc:
            error = protocol.translate(exc)
            if error is None:  # a bug or an unexpected platform failure: report it, keep the worker alive
                print(f"worker: {request_id=} failed: {exc!r}", file=sys.stderr)
                error = protocol.ProtocolError("internal", f"{type(exc).__name__}: {exc}")
            self.platform.post(protocol.error_reply(request_id, error))

    def _not_ready_error(self) -> protocol.ProtocolError:
        if self.state == "error" and self.error_message:
            return protocol.ProtocolError("not-ready", self.error_message)
        if self.state == "follower":
            return protocol.ProtocolError(
                "follower", "Another tab holds the engine; close it, or use that tab, to make changes here.")
        return protocol.ProtocolError("not-ready", f"The engine is not ready yet ({self.state}); try again.")

    def on_broadcast(self, text: object) -> None:
        """Relay an event the leading tab's worker broadcast, when this worker follows."""
        if self.state == "follower" and isinstance(text, str):
            self.platform.post(text)

    # -- role --------------------------------------------------------------------------------------
    def follow(self) -> None:
        """This tab does not hold the engine: say so, and relay the leader's events."""
        self.state = "follower"
        self.emit_status("Another tab is running the engine; this tab shows its progress.")

    async def lead(self, db_path: str, timings: Any = None) -> None:
        """Open the database at `db_path` and serve requests. Reports `ready` or `error`.

        `timings` (milliseconds per boot phase, from the JS bootstrap) are passed on in the status event.
        """
        boot_timings = timings.to_py() if hasattr(timings, "to_py") else dict(timings or {})
        try:
            from worker.database import open_database

            created = not (os.path.exists(db_path) and os.path.getsize(db_path) > 0)
            self.db = open_database(db_path)
            self.db_path = db_path
            self.staging_dir = os.path.dirname(db_path) or "."
            self.engine = Engine(self.db, on_commit=self._flush, app_version=APP_VERSION)
            for job in self.jobs():
                self.engine.register(job)
            self.engine.on("*", self._forward)
            await self.engine.start()
            runs = (await self.engine.list_runs(limit=1)).total
            self.state = "ready"
            estimate = await self.platform.estimate()
            self.emit_status(ready_message(self.runtime_info(), estimate, self.platform.storage_name),
                             **self.runtime_info(), **estimate, timings=boot_timings,
                             database_created=created, runs=runs)
        except StorageLostError:
            pass  # `_flush` already turned the status to `error` with the reason
        except Exception as exc:
            self.state = "error"
            self.emit_status(f"The database could not be opened: {exc}")

    def _flush(self) -> None:
        """The engine's `on_commit`. A failed flush stops the engine for good (StorageLostError), so the
        status turns to `error`, saying to reload the page; requests are refused with that sentence."""
        try:
            self.platform.flush()
        except Exception as exc:
            self.state = "error"
            self.error_message = storage_lost_message(str(exc) or type(exc).__name__)
            self.emit_status(self.error_message)
            raise

    def jobs(self) -> list[Any]:
        """The jobs this worker runs: the CSV import, reading picked files from `self.sources`, and the fixing
        of its rejected rows (both shaped by the test hooks, if a browser test set any)."""
        from importer import ImportEnv, make_import_job
        from importer.fixes import make_fix_job
        from importer.undo import make_undo_job

        overrides = self.hooks.env_overrides() if self.hooks is not None else {}
        fix_hold = self.hooks.fix_hold() if self.hooks is not None else None
        return [make_import_job(ImportEnv(staging_dir=self.staging_dir, sources=self.sources, **overrides)),
                make_fix_job(after_chunk=fix_hold, chunk_rows=overrides.get("max_batch_rows")), make_undo_job()]

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
        """The started engine; raises ProtocolError('not-ready') before `lead()` started it."""
        if self.engine is None or not self.engine.running:
            raise self._not_ready_error()
        return self.engine

    def require_db(self) -> sqlite3.Connection:
        """The open database; raises ProtocolError('not-ready') before `lead()` opened it."""
        if self.db is None:
            raise self._not_ready_error()
        return self.db

    # -- events out --------------------------------------------------------------------------------
    def _forward(self, event: Any) -> None:
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
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def emit(self, event_type: str, data: dict[str, Any]) -> None:
        """Push an event to this page and to the other tabs."""
        text = protocol.event(event_type, data)
        self.platform.post(text)
        self.platform.broadcast(text)

    def emit_status(self, message: str, **extra: Any) -> None:
        """Push the engine status (`state`, message and this worker's `build` id) to this page."""
        text = protocol.event("engine:status", {"state": self.state, "message": message, "build": build_id(),
                                                **extra})
        self.platform.post(text)

    def runtime_info(self) -> dict[str, str]:
        """Versions of the runtime pieces, as shown in the status line."""
        import pydantic

        return {
            "python": sys.version.split()[0],
            "sqlite": sqlite3.sqlite_version,
            "pydantic": str(pydantic.VERSION),
        }


def ready_message(info: dict[str, str], estimate: dict[str, int], storage: str) -> str:
    """`Engine ready: Python 3.14.2, SQLite 3.39.0, pydantic 2.14.3, storage OPFS (1.2 MB / 10 GB)`."""
    used, quota = format_bytes(estimate["usage"]), format_bytes(estimate["quota"])
    return (f"Engine ready: Python {info['python']}, SQLite {info['sqlite']}, pydantic {info['pydantic']}, "
            f"storage {storage} ({used} / {quota})")


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


def _split_message(data: Any) -> tuple[object, Any]:
    if isinstance(data, str):
        return data, None
    if isinstance(data, dict):
        return data.get("json"), data.get("file")
    return getattr(data, "json", None), getattr(data, "file", None)
