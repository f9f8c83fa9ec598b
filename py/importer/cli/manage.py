"""The run-management commands: runs, show, retry, cancel, delete, errors, export.

Listing, showing and exporting read the database read-only, so they never write and never resume a run
as a side effect. retry runs the job to its end like the import command; cancel and delete start an
engine that runs nothing (they only change the run's record, as the page's buttons do).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys

from durable import DurableError, Engine, Job, Run, RunStatus
from importer import JOB_NAME, ImportInput, ImportOutput, make_import_job, rejects_csv, sql, table_csv
from importer.cli import database, report
from importer.cli.display import Display
from importer.cli.exits import OK, CliError
from importer.cli.hashing import file_sha256
from importer.cli.runner import import_env, run_to_end
from importer.export import report_header


async def manage_command(args: argparse.Namespace) -> int:
    """Run one management command; return the exit code."""
    if args.command == "runs":
        with database.read_only(args.db) as store:
            statuses = [RunStatus(args.status)] if args.status else []
            runs = store.list_runs(status=statuses, job=JOB_NAME, limit=max(args.limit, 1)).items
        if args.json:
            print(json.dumps([report.run_dict(r) for r in runs]))
        else:
            report.runs_table(runs)
        return OK
    if args.command == "export":
        return _export(args)
    with database.read_only(args.db) as store:
        run = database.find_run(store, args.run)
        steps = store.get_steps(run.id)
        logs = store.get_logs(run.id, min_level=None, limit=200, offset=0).items
        if args.command == "show":
            if args.json:
                print(json.dumps({**report.run_dict(run), "input": run.input, "output": run.output,
                                  "steps": [s.name for s in steps]}))
            else:
                report.run_details(run, steps, logs)
            return OK
        if args.command == "errors":
            plan = next((s.output for s in steps if s.name == "prepare"), None)
            for chunk in rejects_csv(store.conn, run.id, header=report_header(plan)):
                sys.stdout.write(chunk)
            return OK
    if args.command == "retry":
        return await _retry(args, run)
    return await _change(args, run)


def _export(args: argparse.Namespace) -> int:
    with database.read_only(args.db) as store:
        if args.table not in sql.table_names(store.conn):
            raise CliError(f"There is no table {args.table!r} in '{args.db}'.")
        for chunk in table_csv(store.conn, args.table):
            sys.stdout.write(chunk)
    return OK


async def _change(args: argparse.Namespace, run: Run) -> int:
    """cancel or delete, on an engine that runs nothing (max_concurrent_runs=0)."""
    engine = Engine(args.db, max_concurrent_runs=0)
    engine.register(_job(args.db))
    try:
        await engine.start()
        if args.command == "cancel":
            run = await engine.cancel(run.id)
        else:
            await engine.delete(run.id)
    except (DurableError, sqlite3.Error) as exc:  # e.g. deleting a run that is not finished
        raise CliError(str(exc)) from None
    finally:
        await engine.stop()
    if args.json:
        print(json.dumps({"run_id": run.id, "status": "deleted" if args.command == "delete" else run.status.value}))
    elif not args.quiet:
        print(f"Run {run.id} {'deleted' if args.command == 'delete' else run.status.value}.")
    return OK


async def _retry(args: argparse.Namespace, run: Run) -> int:
    """Continue `run` from its checkpoints, reading its file (checked by sha256) where it is."""
    if run.status is RunStatus.COMPLETED:
        raise CliError(f"Run {run.id} is already completed.")
    display = Display.for_flags(quiet=args.quiet, json=args.json)
    given = run.input if isinstance(run.input, dict) else {}
    supplied = {}
    source = os.path.abspath(args.file) if args.file else given.get("staged_path")
    if given.get("in_place") or args.file:
        if not isinstance(source, str) or not os.path.isfile(source):
            raise CliError(f"Run {run.id} reads '{source}', which is not there; give the file with --file PATH.")
        _, sha256, _ = file_sha256(source, display)
        if sha256 != (given.get("sha256") or run.labels.get("sha256")):
            raise CliError(f"'{os.path.basename(source)}' is not the content run {run.id} imports (its sha256 "
                           "differs); give the original file with --file PATH.")
        if args.file:
            supplied[run.id] = source
    elif not (isinstance(source, str) and os.path.isfile(source)):
        raise CliError(f"Run {run.id} was staged in the page; give the same file again with --file PATH.")

    async def start(engine: Engine) -> Run:
        current = await engine.get_run(run.id)
        assert current is not None
        if current.status in (RunStatus.FAILED, RunStatus.CANCELLED):
            return await engine.retry(run.id)
        return current

    ended = await run_to_end(args.db, import_env(args.db, supplied), start, display)
    return report.finished(ended, args)


def _job(db: str) -> Job[ImportInput, ImportOutput]:
    return make_import_job(import_env(db))
