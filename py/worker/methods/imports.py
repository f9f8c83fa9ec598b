"""Import methods: preview a picked file, start an import (recognising a duplicate), list earlier imports."""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from durable import Run
from importer import JOB_NAME, SNIFF_BYTES, ImporterError, ImportInput, ImportOptions, idempotency_key
from importer.options import options_problem
from importer.sniff import sniff
from importer.sql import table_names
from importer.staging import stage
from worker import protocol
from worker.app import format_bytes
from worker.methods import method, str_param
from worker.platform import ReplySink
from worker.protocol import ProtocolError
from worker.scans import ScanSuperseded
from worker.serialize import run_json
from worker.sources import read
from worker.supplied import SuppliedCopies, needs_copy

if TYPE_CHECKING:
    from worker.app import WorkerApp

STAGED_LABEL = "staged"
"""The label naming a run's copy staged ahead (worker/sources.py): a copy no run names is an orphan."""
_OVERRIDABLE = {"encoding", "delimiter", "quotechar", "has_header", "decimal_comma", "null_markers"}


@method("file.preview", with_sink=True)
async def preview(app: WorkerApp, params: dict[str, Any], file: Any, *, sink: ReplySink) -> dict[str, Any]:
    """Sniff a picked file (posted beside the message, or an earlier `source_id`) and suggest options. The
    whole-file scan it starts reports its progress to the calling page (`sink`) only."""
    if file is not None:
        source_id = app.sources.add(app.platform.byte_source(file))
    else:
        source_id = str_param(params, "source_id") or ""
        if source_id not in app.sources:
            raise ProtocolError("bad-params", "Pick the file again: it is no longer open in this page.")
    source = app.sources[source_id]
    overrides = params.get("overrides") or {}
    if not isinstance(overrides, dict) or not set(overrides) <= _OVERRIDABLE:
        raise ProtocolError("bad-params", f"'overrides' may only set {sorted(_OVERRIDABLE)}.")
    chosen = _options({k: v for k, v in overrides.items() if v is not None})
    overrides = {k: getattr(chosen, k) for k, v in overrides.items() if v is not None}
    prefix = await read(source, 0, SNIFF_BYTES)
    try:
        result = sniff(prefix, file_name=source.name, complete=len(prefix) >= source.size,
                       existing_tables=tuple(table_names(app.require_db())), overrides=overrides)
    except ImporterError as exc:
        app.scans.cancel(source_id)
        raise ProtocolError("invalid", str(exc), source_id=source_id, name=source.name) from None
    except ValidationError as exc:  # options sniffing made from what it read: say which, never `internal`
        app.scans.cancel(source_id)
        raise ProtocolError("invalid", options_problem(exc), source_id=source_id, name=source.name) from None
    app.scans.start(source_id, source, result, lambda data: sink.post(protocol.event("file:scan", data)))
    app.hurry_warm_up()  # Start may come next: it needs what the warm-up does
    return {"source_id": source_id, "name": source.name, "size": source.size, "sniff": result.to_dict()}


@method("file.scan")
async def scan(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """The whole-file scan of a previewed file: every column's type, null markers and evidence over all
    rows. Waits for the scan `file.preview` started; a newer preview of the same file supersedes it."""
    source_id = str_param(params, "source_id") or ""
    try:
        return await app.scans.result(source_id)
    except KeyError:
        raise ProtocolError("bad-params", "Pick the file again: it is no longer open in this page.") from None
    except ScanSuperseded:
        raise ProtocolError("superseded", "The file was read again with other settings; that scan replaces this one.",
                            source_id=source_id) from None
    except ImporterError as exc:
        raise ProtocolError("invalid", f"Checking the whole file: {exc}", source_id=source_id) from None


@method("file.earlier_imports")
async def earlier_imports(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Runs that imported the same content before (waits for the file's hash)."""
    source_id = str_param(params, "source_id") or ""
    if source_id not in app.sources:
        raise ProtocolError("bad-params", "Pick the file again: it is no longer open in this page.")
    sha256 = await app.sources.sha256(source_id)
    page = await app.require_engine().list_runs(job=JOB_NAME, label={"sha256": sha256}, limit=20)
    return {"sha256": sha256, "runs": [run_json(r) for r in page.items]}


@method("import.start")
async def start(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Trigger an import of a previewed file. The same content with the same options returns the earlier
    run with `created: false`, unless `force` is true."""
    source_id = str_param(params, "source_id") or ""
    if source_id not in app.sources:
        raise ProtocolError("bad-params", "Pick the file again: it is no longer open in this page.")
    options = _options(params.get("options") or {})
    source = app.sources[source_id]
    app.end_warm_up()  # Start does what the warm-up prepares for; a step at its awaits would only delay it
    if any(spec.provisional for spec in options.kept_columns()):
        app.scans.cancel(source_id)  # the job settles those types itself: no second scan on this thread
    sha256 = await app.sources.sha256(source_id)
    ahead = await app.sources.take_copy(source_id)  # staged during the preview: the run's copy, hashed
    try:
        await _check_space(app, source.name, source.size, copied=ahead is not None)
        if ahead is None:
            staged_path = os.path.join(app.staging_dir, f"staged-{uuid.uuid4().hex}.csv")
            await app.platform.prepare_file(os.path.basename(staged_path))
        else:
            staged_path = ahead
        payload = ImportInput(source_id=source_id, file_name=source.name, size=source.size, sha256=sha256,
                              staged_path=staged_path, options=options)
        key = None if params.get("force") else idempotency_key(sha256, options)
        labels = {"sha256": sha256, "file": source.name, **({STAGED_LABEL: os.path.basename(ahead)} if ahead else {})}
        triggered = await app.require_engine().trigger(
            JOB_NAME, payload.model_dump(mode="json"), idempotency_key=key, labels=labels)
    except BaseException:
        if ahead is not None:
            app.sources.give_back(source_id, ahead)
        raise
    if not triggered.created and ahead is not None:
        app.sources.give_back(source_id, ahead)  # kept for a Start with `force`
    elif not triggered.created:
        await app.platform.remove_file(os.path.basename(staged_path))
    return {"run_id": triggered.run.id, "created": triggered.created}


def _options(data: Any) -> ImportOptions:
    """Validate import options from a request; raises ProtocolError('bad-params') with a readable sentence."""
    try:
        return ImportOptions.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError("bad-params", options_problem(exc)) from None


async def _check_space(app: WorkerApp, name: str, size: int, *, copied: bool = False) -> None:
    """Refuse an import that cannot fit: the staged copy (unless `copied`: it is already in storage) plus a
    table about as large again."""
    free = await free_bytes(app)
    needed = size if copied else 2 * size
    if needed > free:
        raise ProtocolError(
            "no-space",
            f"'{name}' needs about {format_bytes(needed)} of storage ("
            + ("a table about as large as the file" if copied else "a copy of the file and a table about as large")
            + f"), but only {format_bytes(free)} is available. Delete old imports under Storage, or allow "
            "persistent storage so the browser grants more.",
            needed=needed, available=free)


async def free_bytes(app: WorkerApp) -> int:
    """Bytes the storage has left (quota less usage, by the browser's estimate)."""
    estimate = await app.platform.estimate()
    return max(estimate["quota"] - estimate["usage"], 0)


@method("import.resume")
async def resume(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """Resume a failed or cancelled import with the file picked again (after a reload interrupted its
    staging, say): the picked file must have the same content; the run continues from its checkpoints."""
    source_id = str_param(params, "source_id") or ""
    if source_id not in app.sources:
        raise ProtocolError("bad-params", "Pick the file again: it is no longer open in this page.")
    engine = app.require_engine()
    run = await engine.get_run(str_param(params, "run_id") or "")
    if run is None or run.job != JOB_NAME or not isinstance(run.input, dict):
        raise ProtocolError("not-found", "There is no such import to resume; it may have been deleted.")
    picked = app.sources[source_id].name
    if await app.sources.sha256(source_id) != run.labels.get("sha256"):
        raise ProtocolError("conflict", f"'{picked}' is not the file that import read (its content differs): "
                            f"pick '{run.labels.get('file', 'the same file')}' to resume it.")
    if needs_copy(run, await engine.get_steps(run.id)):  # its file is elsewhere: copy it here, checked
        await _supply(app, run, source_id)
    else:
        app.sources.alias(str(run.input.get("source_id")), source_id)
    return run_json(await engine.retry(run.id))


async def _supply(app: WorkerApp, run: Run, source_id: str) -> None:
    """Copy the picked file into storage as the copy run `run` reads from now on (worker/supplied.py),
    verified against the run's sha256 while it is copied."""
    try:
        name = SuppliedCopies.name(run.id)
    except ValueError:
        raise ProtocolError("invalid", "This import's id cannot name a file here, so it cannot be resumed in "
                            "this browser; continue it where it was made.") from None
    source = app.sources[source_id]
    await _check_space(app, source.name, source.size)
    await app.platform.prepare_file(name)
    try:
        await stage(source, os.path.join(app.staging_dir, name), size=source.size, name=source.name,
                    expected_sha256=str(run.input.get("sha256") if isinstance(run.input, dict) else "") or None)
    except BaseException:
        await app.platform.remove_file(name)
        raise
