"""This browser's copies of files that runs of an opened database read elsewhere (issue 11: a database made by
`csv-import`, or downloaded from another browser, opened in the page).

The command line imports a file where it is (`ImportInput.in_place`), and a page's run whose staging
completed reads its staged copy, which stays in the storage of the browser that made it: such a run left
unfinished has no file here (`needs_copy`). Picking the same file again (`import.resume`) copies it into
storage as `staged-cli-<run id>.csv`, checked against the run's sha256; `SuppliedCopies` is the job's
`ImportEnv.supplied`, so the run reads that copy. A run with no copy cannot go on: before the engine starts,
`park_runs_without_copy` fails each such unfinished run with a sentence asking for the file, instead of
letting it resume into a missing path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from durable import ErrorInfo, Run, RunStatus, Step, StepStatus
from durable.store import Store
from importer import JOB_NAME

PREFIX = "staged-cli-"
_RUN_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


class SuppliedCopies(Mapping[str, str]):
    """run id -> path of this browser's copy of the file that command-line run reads, for those that have one."""

    def __init__(self, staging_dir: str) -> None:
        self.staging_dir = staging_dir

    @staticmethod
    def name(run_id: str) -> str:
        """The storage file name of run `run_id`'s copy; ValueError for an id unfit for a file name (ids come
        from a database file the user picked)."""
        if not _RUN_ID.fullmatch(run_id):
            raise ValueError(f"run id {run_id!r} cannot name a file")
        return f"{PREFIX}{run_id}.csv"

    def path(self, run_id: str) -> str:
        """Where run `run_id`'s copy is (or goes)."""
        return os.path.join(self.staging_dir, self.name(run_id))

    def __getitem__(self, run_id: str) -> str:
        if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
            raise KeyError(run_id)
        path = self.path(run_id)
        if not os.path.exists(path):
            raise KeyError(run_id)
        return path

    def __iter__(self) -> Iterator[str]:
        try:
            names = os.listdir(self.staging_dir)
        except OSError:
            return iter(())
        return iter(n[len(PREFIX):-4] for n in names if n.startswith(PREFIX) and n.endswith(".csv"))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def needs_copy(run: Run, steps: Sequence[Step]) -> bool:
    """True for an import run that can go on only once a copy of its file is supplied here: one the command
    line made (it read its file where it was), or one whose staging completed but whose staged copy is not in
    this storage (its database was opened from a file). `steps` are the run's recorded steps."""
    if run.job != JOB_NAME or not isinstance(run.input, dict):
        return False
    if run.input.get("in_place") is True:
        return True
    staged = run.input.get("staged_path")
    copied = any(s.name == "stage" and s.status is StepStatus.COMPLETED for s in steps)
    return copied and isinstance(staged, str) and not os.path.exists(staged)


def needs_file_message(run: Run) -> str:
    """Why such a run cannot go on in this browser, and what to do."""
    given = run.input if isinstance(run.input, dict) else {}
    name = run.labels.get("file") or given.get("file_name") or "the file"
    how = f"pick '{name}' again under Import and choose 'Resume it with this file' to continue it here."
    if given.get("in_place") is True:
        return (f"This import was started by csv-import, which read '{name}' where it was on that computer, so "
                f"this browser has no copy of it: {how}")
    return f"This import's copy of '{name}' is not in this browser (its database was opened from a file): {how}"


def park_runs_without_copy(conn: Any, copies: SuppliedCopies, now: datetime,
                           on_commit: Callable[[], None] | None = None) -> list[str]:
    """Fail each unfinished run that `needs_copy` and has none here, with `needs_file_message`, so the engine
    does not resume it into a path this browser does not have. Returns their ids. Migrates the schema first
    (the engine's start would, a moment later). `on_commit` makes a commit durable (the OPFS flush)."""
    store = Store.open(conn, on_commit)
    store.migrate(now)
    unfinished = store.list_runs(status=[RunStatus.PENDING, RunStatus.RUNNING], job=JOB_NAME, limit=10_000).items
    parked = [run for run in unfinished if run.id not in copies and needs_copy(run, store.get_steps(run.id))]
    if parked:
        with store.transaction() as tx:
            for run in parked:
                tx.finish_run(run.id, RunStatus.FAILED, now, output_json=None,
                              error=ErrorInfo("SourceMissingError", needs_file_message(run)))
    return [run.id for run in parked]
