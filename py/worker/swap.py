"""Putting a checked database file in the place of the app's database, keeping the previous one as a backup.

Storage cannot rename (OPFS handles, static/js/opfs-fs.mjs), so files are copied. The order makes a kill at
any moment harmless: the current database is copied to the backup first; a marker naming the candidate is
written; the candidate is copied over the database; only then the marker and the candidate are removed. A
worker that starts and finds the marker (`finish_interrupted_swap`) copies the candidate again. The engine
is stopped and the connection closed throughout (worker/app.py `replace_database`).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

OPENING_PREFIX = "opening-"
"""Picked database files, copied into storage and checked, waiting for the user's confirmation."""
BACKUP_NAME = "importer-previous.sqlite"
"""The database as it was before the last one opened: 'Restore the previous database' opens it."""
MARKER_NAME = "swap-pending"
"""Present while a candidate is being copied over the database: its text is the candidate's name."""
COPY_CHUNK = 4 << 20


def copy_file(source: str, target: str, chunk: int = COPY_CHUNK) -> None:
    """Make `target` a byte-for-byte copy of `source` (`target` must exist or be creatable)."""
    with open(source, "rb") as src, open(target, "r+b" if os.path.exists(target) else "w+b") as out:
        out.truncate(0)
        while data := src.read(chunk):
            out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _empty_journal(db_path: str) -> None:
    journal = db_path + "-journal"
    if os.path.exists(journal) and os.path.getsize(journal):
        with open(journal, "r+b") as f:
            f.truncate(0)


async def put_in_place(db_path: str, candidate: str, *, prepare: Callable[[str], Awaitable[None]],
                       remove: Callable[[str], Awaitable[None]], flush: Callable[[], None]) -> None:
    """Copy the database at `db_path` to the backup, then the checked `candidate` over it (the engine is
    stopped). `prepare(name)` readies a new storage file, `remove(name)` deletes one, `flush()` makes every
    write durable. On an error the backup is copied back before the error propagates."""
    folder = os.path.dirname(db_path) or "."
    backup, marker = os.path.join(folder, BACKUP_NAME), os.path.join(folder, MARKER_NAME)
    await prepare(BACKUP_NAME)
    copy_file(db_path, backup)
    flush()
    await prepare(MARKER_NAME)
    with open(marker, "w", encoding="utf-8") as f:
        f.write(os.path.basename(candidate))
    flush()
    try:
        copy_file(candidate, db_path)
        _empty_journal(db_path)
        flush()
    except BaseException:
        copy_file(backup, db_path)
        flush()
        await remove(MARKER_NAME)
        raise
    await remove(MARKER_NAME)
    await remove(os.path.basename(candidate))


class SwapFailed(Exception):
    """A database file could not take the database's place; the previous database is back. The message says
    why, as the end of a sentence ("it could not be copied …")."""


def put_back(db_path: str, flush: Callable[[], None]) -> None:
    """Copy the backup over the database again (the database put in place could not be used)."""
    copy_file(os.path.join(os.path.dirname(db_path) or ".", BACKUP_NAME), db_path)
    _empty_journal(db_path)
    flush()


def finish_interrupted_swap(db_path: str, flush: Callable[[], None]) -> bool:
    """At start: when a swap was cut short (the marker is there), copy its candidate over the database again
    and remove both; a marker whose candidate is gone puts the backup back. Returns True if it acted."""
    folder = os.path.dirname(db_path) or "."
    marker = os.path.join(folder, MARKER_NAME)
    if not os.path.exists(marker):
        return False
    with open(marker, encoding="utf-8") as f:
        name = f.read().strip()
    candidate = os.path.join(folder, name)
    backup = os.path.join(folder, BACKUP_NAME)
    if name.startswith(OPENING_PREFIX) and "/" not in name and os.path.exists(candidate):
        copy_file(candidate, db_path)
    elif os.path.exists(backup):
        copy_file(backup, db_path)
    _empty_journal(db_path)
    flush()
    os.remove(marker)
    if os.path.exists(candidate) and name.startswith(OPENING_PREFIX):
        os.remove(candidate)
    return True


def stale_openings(folder: str) -> list[str]:
    """Names of picked database files left waiting for a confirmation that never came."""
    try:
        return [n for n in os.listdir(folder) if n.startswith(OPENING_PREFIX) and n != MARKER_NAME]
    except OSError:
        return []
