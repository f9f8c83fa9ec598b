"""The import command: `csv-import FILE --db PATH [...]`, and its `--dry-run`.

The run is recognised by the file's content (sha256) and the options (`idempotency_key`, as the page
does): the same command on the same content continues the same run from its committed cursor, or reports
it done. The file is read where it is (`ImportInput.in_place`): its sha256 is checked when the run starts
and again before every resume, and a changed file is refused with a sentence.
"""

from __future__ import annotations

import argparse
import os

from durable import Engine, Run, RunStatus
from importer import JOB_NAME, ImportInput, idempotency_key
from importer.cli import database, plan, report, settings
from importer.cli.display import Display
from importer.cli.exits import CliError
from importer.cli.hashing import FileHash
from importer.cli.runner import import_env, run_to_end


async def import_command(args: argparse.Namespace) -> int:
    """Import `args.file` into `args.db`; return the exit code."""
    path = os.path.abspath(args.file)
    hashing = None if args.dry_run else FileHash(path)  # while the first look reads the file's start
    sniffed = settings.sniff_file(args.file, args)
    options = settings.import_options(sniffed, args)
    if hashing is None:
        return await plan.dry_run(path, args.db, sniffed, options, as_json=args.json)
    display = Display.for_flags(quiet=args.quiet, json=args.json)
    size, sha256, mtime_ns = hashing.result(display)
    key = None if args.force else idempotency_key(sha256, options)
    moved: dict[str, str] = {}
    if os.path.exists(args.db):
        _refuse_changed_file(args.db, path, sha256)
        moved = _moved_file(args.db, key, sha256, path)
    payload = ImportInput(file_name=os.path.basename(path), size=size, sha256=sha256, staged_path=path,
                          in_place=True, options=options)

    async def start(engine: Engine) -> Run:
        triggered = await engine.trigger(JOB_NAME, payload.model_dump(mode="json"), idempotency_key=key,
                                         labels={"sha256": sha256, "file": payload.file_name, "path": path})
        run = triggered.run
        if not triggered.created:
            display.note(_earlier(run))
        if run.status in (RunStatus.FAILED, RunStatus.CANCELLED):
            run = await engine.retry(run.id)
        return run

    env = import_env(args.db, moved, hashed={path: (size, mtime_ns, sha256)})
    run = await run_to_end(args.db, env, start, display)
    return report.finished(run, args)


def _refuse_changed_file(db: str, path: str, sha256: str) -> None:
    """Refuse to start over a run of the same path that is not finished and read other content."""
    with database.read_only(db) as store:
        unfinished = ("pending", "running", "failed", "cancelled")
        page = store.list_runs(status=[RunStatus(s) for s in unfinished], job=JOB_NAME, labels={"path": path})
    for run in page.items:
        if run.labels.get("sha256") != sha256:
            raise CliError(
                f"'{os.path.basename(path)}' has changed since run {run.id} started importing it (its sha256 "
                f"differs), so that run cannot resume. Put the original content back to resume it, or delete "
                f"the run ('csv-import delete {run.id} --db {db}') to import the new content.")


def _moved_file(db: str, key: str | None, sha256: str, path: str) -> dict[str, str]:
    """{run id: path} when the run this command resumes (same content and options) read the file at another
    path: it reads the same content (checked: same sha256) from here now."""
    if key is None:
        return {}
    with database.read_only(db) as store:
        runs = store.list_runs(job=JOB_NAME, labels={"sha256": sha256}, limit=500).items
    for run in runs:
        given = run.input if isinstance(run.input, dict) else {}
        if run.idempotency_key == key and run.status is not RunStatus.COMPLETED and given.get("staged_path") != path:
            return {run.id: path}
    return {}


def _earlier(run: Run) -> str:
    if run.status is RunStatus.COMPLETED:
        return f"This content was already imported with these options by run {run.id} (use --force to import again)."
    return f"Resuming run {run.id} ({run.status.value}) from its last committed batch."
