"""The command line's two ways into a database: read-only (listing, showing, exporting: never a write, and
never resuming a run as a side effect) and through the engine (`runner`).

Run ids can be given by a unique prefix, as git takes commits.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from urllib.parse import quote

from durable import Run
from durable.store import Store
from importer import JOB_NAME
from importer.cli.exits import CliError


@contextlib.contextmanager
def read_only(db: str) -> Iterator[Store]:
    """Open the database at `db` read-only for its runs; raises CliError when it is missing or not one."""
    if not os.path.isfile(db):
        raise CliError(f"There is no database at '{db}'.")
    try:
        conn = sqlite3.connect(f"file:{quote(os.path.abspath(db))}?mode=ro", uri=True, check_same_thread=False)
    except sqlite3.Error as exc:
        raise CliError(f"Cannot open the database '{db}': {exc}.") from None
    try:
        store = Store(conn)
        try:
            store.list_runs(limit=1)
        except sqlite3.DatabaseError as exc:
            raise CliError(f"'{db}' is not a database this importer made ({exc}).") from None
        yield store
    finally:
        conn.close()


def find_run(store: Store, given: str) -> Run:
    """The import run whose id is `given` or starts with it; raises CliError naming the problem."""
    run = store.get_run(given)
    if run is not None:
        return run
    matches: list[Run] = []
    offset = 0
    while True:
        page = store.list_runs(job=JOB_NAME, limit=500, offset=offset)
        matches += [r for r in page.items if given and r.id.startswith(given)]
        offset += len(page.items)
        if not page.items or offset >= page.total:
            break
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise CliError(f"'{given}' names {len(matches)} runs; give more of the run id.")
    raise CliError(f"There is no run '{given}' in this database ('csv-import runs --db ...' lists them).")
