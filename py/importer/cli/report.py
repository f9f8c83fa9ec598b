"""Output formats: a finished run as a sentence or JSON, the runs list, one run in full.

Human text goes to stdout (results) and stderr (errors); `--json` prints one JSON document on stdout.
Every value that came from a file (names, messages) is printed as data, with control characters escaped.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from durable import Run, RunStatus, Step
from importer.cli.exits import OK, REJECTS, CliError

_CONTROL = {c: f"\\x{c:02x}" for c in range(32)} | {0x7F: "\\x7f"}


def safe(text: object) -> str:
    """`text` with control characters (newlines, escapes that could drive the terminal) escaped."""
    return str(text).translate(_CONTROL)


def run_dict(run: Run) -> dict[str, Any]:
    """A run as JSON-able data: id, status, file, table, counts, seconds by phase (`timings`), error, times."""
    output = run.output if isinstance(run.output, dict) else {}
    given = run.input if isinstance(run.input, dict) else {}
    progress = _progress(run)
    return {
        "run_id": run.id,
        "status": run.status.value,
        "file": run.labels.get("file") or given.get("file_name"),
        "path": run.labels.get("path"),
        "sha256": run.labels.get("sha256"),
        "table": output.get("table"),
        "rows_accepted": output.get("rows_accepted", progress.get("rows_accepted")),
        "rows_rejected": output.get("rows_rejected", progress.get("rows_rejected")),
        "bytes": output.get("bytes", given.get("size")),
        "seconds": output.get("seconds"),
        "timings": output.get("timings"),
        "error": run.error.message if run.error else None,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def finished(run: Run, args: argparse.Namespace, out: Any = None) -> int:
    """Print how the command's run ended; return the exit code (0, or 1 with --strict and rejects); raises
    CliError (exit 3) for a failed or cancelled run."""
    out = out or sys.stdout
    data = run_dict(run)
    if args.json:
        print(json.dumps(data), file=out)
    if run.status is RunStatus.FAILED:  # with --json too: the summary on stdout, the sentence on stderr
        raise CliError(data["error"] or "The import failed.")
    if run.status is RunStatus.CANCELLED:
        raise CliError(f"Run {run.id} was cancelled; 'csv-import retry {run.id} --db ...' continues it.")
    rejected = int(data["rows_rejected"] or 0)
    if not args.json and not args.quiet:
        tail = (f"; {rejected:,} rejected (csv-import errors {run.id} --db {safe(args.db)} > errors.csv)"
                if rejected else "")
        print(f"Imported {int(data['rows_accepted'] or 0):,} rows into table '{safe(data['table'])}'{tail}. "
              f"Run {run.id}.", file=out)
    return REJECTS if rejected and getattr(args, "strict", False) else OK


def interrupted_message(run: Run, rows: int) -> str:
    where = f" after {rows:,} rows" if rows else ""
    return (f"Interrupted{where}: run {run.id} is saved at its last committed batch; run the same command again "
            "to resume it.")


def runs_table(runs: list[Run], out: Any = None) -> None:
    """One line per run: id, status, rows, table, file, when."""
    out = out or sys.stdout
    print(f"{'RUN':<32}  {'STATUS':<9}  {'ROWS':>11}  {'REJECTED':>9}  {'TABLE':<20}  FILE", file=out)
    for run in runs:
        d = run_dict(run)
        print(f"{run.id:<32}  {d['status']:<9}  {_count(d['rows_accepted']):>11}  {_count(d['rows_rejected']):>9}  "
              f"{safe(d['table'] or '-'):<20}  {safe(d['file'] or '-')}", file=out)


def run_details(run: Run, steps: list[Step], logs: list[Any], out: Any = None) -> None:
    """A run in full: its summary, input options, steps and log lines."""
    out = out or sys.stdout
    for key, value in run_dict(run).items():
        if value is not None:
            print(f"{key + ':':<15}{safe(value)}", file=out)
    print(f"steps:         {len(steps)} ({', '.join(safe(s.name) for s in steps[:3])}"
          f"{', ...' if len(steps) > 3 else ''})", file=out)
    for entry in logs:
        extra = " ".join(f"{k}={safe(v)}" for k, v in entry.data.items())
        print(f"log:           {entry.level.value} {safe(entry.message)} {extra}".rstrip(), file=out)


def _progress(run: Run) -> dict[str, Any]:
    message = run.progress.message if run.progress else None
    if not message or not message.startswith("{"):
        return {}
    try:
        data = json.loads(message)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _count(value: object) -> str:
    return f"{int(value):,}" if isinstance(value, int | float) else "-"
