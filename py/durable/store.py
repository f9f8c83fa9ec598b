"""The store: the one SQLite connection, every engine write and query, rows turned into records.

The store owns its connection (isolation_level=None, explicit `BEGIN IMMEDIATE`). Each write runs in a
`Tx`; when the store has an owner token, every transaction first checks inside the write lock that the
lease still names this owner, so a stale engine's late write is refused (`LeaseLostError`). After each
COMMIT the `on_commit` callback runs (the browser flushes its OPFS handles there); if it raises, the commit
stands but the storage is lost (`StorageLostError`): the store refuses every later transaction. A step row
that says completed is never overwritten. Recovery fails, rather than requeues, a run found running
too many times in a row without a new completed step (`recover`).
All methods are synchronous: they never await, so runs sharing the connection cannot interleave inside
a transaction.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from durable import migrations
from durable.errors import DatabaseCorruptError, LeaseLostError, SchemaTooNewError, StorageLostError
from durable.records import (
    ErrorInfo,
    JsonValue,
    LogEntry,
    LogLevel,
    Page,
    Progress,
    Run,
    RunStatus,
    Step,
    StepKind,
    StepStatus,
)

_RUN_COLUMNS = (
    "id, job, status, input, output, error, idempotency_key, concurrency_key, labels, progress_current, "
    "progress_total, progress_message, attempt, cancel_requested, app_version, created_at, started_at, "
    "finished_at, updated_at"
)
_STEP_COLUMNS = "run_id, ordinal, name, kind, status, output, error, attempts, started_at, finished_at"
_LOG_COLUMNS = "id, run_id, step, level, message, data, created_at"


def timestamp(moment: datetime) -> str:
    """The stored form of a time: ISO-8601 UTC with milliseconds (sorts as text)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def encode_json(value: object) -> str:
    """Compact JSON; raises TypeError/ValueError for values JSON cannot hold (including NaN)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def decode_json(text: str | None) -> JsonValue:
    if text is None:
        return None
    value: JsonValue = json.loads(text)
    return value


def encode_error(error: ErrorInfo) -> str:
    return encode_json({"type": error.type, "message": error.message, "step": error.step})


@dataclass(frozen=True, slots=True)
class NewRun:
    """What `insert_run` needs to create a run."""

    id: str
    job: str
    input_json: str
    idempotency_key: str | None
    concurrency_key: str | None
    labels: Mapping[str, str]
    now: datetime


@dataclass(frozen=True, slots=True)
class Claim:
    """Which runs a claim may take (the registered jobs') and the app version to stamp them with."""

    jobs: tuple[str, ...]
    app_version: str | None


@dataclass(frozen=True, slots=True)
class Recovery:
    """What `Store.recover` did: the runs put back to pending, and those failed for stalling."""

    requeued: list[str]
    failed: list[Run]


def stalled_message(stalls: int, last_step: str | None) -> str:
    """The reason a run that stopped the engine `stalls` times in a row without progress is failed."""
    where = f"last completed step: {last_step}" if last_step is not None else "no step completed"
    return (
        f"This run stopped the engine {stalls} times in a row without progress ({where}); it was stopped "
        "so the app can start. Retry it after fixing its settings."
    )


@dataclass(frozen=True, slots=True)
class NewLog:
    """A log line waiting to be committed with the run's next step."""

    step: str | None
    level: LogLevel
    message: str
    data_json: str
    created_at: str


class Tx:
    """The writes allowed inside one engine transaction; `conn` is for a job's own tables."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def save_step(self, step: Step, output_json: str | None) -> None:
        """Record a finished step; a failed attempt replaces a failed one, never a completed one."""
        error = encode_error(step.error) if step.error else None
        self.conn.execute(
            f"INSERT INTO durable_steps ({_STEP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (run_id, ordinal) DO UPDATE SET name = excluded.name, kind = excluded.kind, "
            "status = excluded.status, output = excluded.output, error = excluded.error, "
            "attempts = excluded.attempts, started_at = excluded.started_at, finished_at = excluded.finished_at "
            "WHERE durable_steps.status <> 'completed'",
            (step.run_id, step.ordinal, step.name, step.kind.value, step.status.value, output_json, error,
             step.attempts, timestamp(step.started_at), timestamp(step.finished_at)),
        )  # fmt: skip

    def save_progress(self, run_id: str, progress: Progress) -> None:
        self.conn.execute(
            "UPDATE durable_runs SET progress_current = ?, progress_total = ?, progress_message = ? WHERE id = ?",
            (progress.current, progress.total, progress.message, run_id),
        )

    def add_logs(self, run_id: str, logs: Sequence[NewLog]) -> None:
        self.conn.executemany(
            "INSERT INTO durable_logs (run_id, step, level, message, data, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(run_id, log.step, log.level.value, log.message, log.data_json, log.created_at) for log in logs],
        )

    def get_run(self, run_id: str) -> Run | None:
        row = self.conn.execute(f"SELECT {_RUN_COLUMNS} FROM durable_runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else _run(row)

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        now: datetime,
        *,
        output_json: str | None,
        error: ErrorInfo | None,
    ) -> None:
        at = timestamp(now)
        self.conn.execute(
            "UPDATE durable_runs SET status = ?, output = ?, error = ?, finished_at = ?, updated_at = ? WHERE id = ?",
            (status.value, output_json, encode_error(error) if error else None, at, at, run_id),
        )

    def requeue_run(self, run_id: str, now: datetime) -> None:
        """Back to pending (graceful stop, retry): the next claim resumes it from its recorded steps."""
        self.conn.execute(
            "UPDATE durable_runs SET status = 'pending', output = NULL, error = NULL, finished_at = NULL, "
            "cancel_requested = 0, stalls = 0, stall_steps = NULL, stall_attempt = NULL, updated_at = ? WHERE id = ?",
            (timestamp(now), run_id),
        )

    def request_cancel(self, run_id: str, now: datetime) -> None:
        self.conn.execute(
            "UPDATE durable_runs SET cancel_requested = 1, updated_at = ? WHERE id = ?",
            (timestamp(now), run_id),
        )

    def delete_run(self, run_id: str) -> None:
        """Delete the run; its labels, steps and logs follow by ON DELETE CASCADE."""
        self.conn.execute("DELETE FROM durable_runs WHERE id = ?", (run_id,))


class Store:
    """The engine's only connection to its database; see the module docstring."""

    def __init__(
        self, conn: sqlite3.Connection, *, on_commit: Callable[[], None] | None = None, owns: bool = False
    ) -> None:
        conn.isolation_level = None
        conn.execute("PRAGMA foreign_keys = ON")
        self._conn = conn
        self._on_commit = on_commit
        self._owns = owns
        self.owner: str | None = None
        self.on_lease_lost: Callable[[LeaseLostError], None] | None = None
        self.on_storage_lost: Callable[[StorageLostError], None] | None = None
        self.lost: StorageLostError | None = None

    @classmethod
    def open(
        cls,
        database: str | os.PathLike[str] | sqlite3.Connection,
        on_commit: Callable[[], None] | None = None,
    ) -> Store:
        """Use `database` as is when it is a connection; else open the file with the engine's pragmas."""
        if isinstance(database, sqlite3.Connection):
            return cls(database, on_commit=on_commit)
        conn = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        # TRUNCATE: the browser's OPFS file system supports only rollback journals (no WAL, and MEMORY/OFF
        # corrupt on a killed tab). FULL sync: a commit is on disk when COMMIT returns.
        conn.execute("PRAGMA journal_mode = TRUNCATE")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA busy_timeout = 5000")
        return cls(conn, on_commit=on_commit, owns=True)

    @property
    def conn(self) -> sqlite3.Connection:
        return self._conn

    def close(self) -> None:
        if self._owns:
            self._conn.close()

    def migrate(self, now: datetime) -> int:
        """Apply pending migrations (see migrations.py); returns the schema version."""
        before = migrations.current_version(self._conn)
        version = migrations.migrate(self._conn, now)
        if version != before:
            self._flush()
        return version

    def has_interrupted_runs(self) -> bool:
        """True when runs were left running (the previous engine crashed, was killed or lost its storage)."""
        return self._conn.execute("SELECT 1 FROM durable_runs WHERE status = 'running' LIMIT 1").fetchone() is not None

    def verify(self) -> None:
        """Run SQLite's `PRAGMA quick_check`; raise DatabaseCorruptError naming the first problems found."""
        try:
            problems = [str(row[0]) for row in self._conn.execute("PRAGMA quick_check(3)")]
        except sqlite3.DatabaseError as exc:
            problems = [str(exc)]
        if problems != ["ok"]:
            raise DatabaseCorruptError("; ".join(problems))

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """BEGIN IMMEDIATE, check the lease, yield a Tx; COMMIT on success, ROLLBACK on any exception."""
        if self.lost is not None:
            raise StorageLostError(self.lost.reason)
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            if self.owner is not None:
                row = conn.execute("SELECT owner FROM durable_lease WHERE id = 1").fetchone()
                if row is None or row[0] != self.owner:
                    lost = LeaseLostError(self.owner, None if row is None else row[0])
                    if self.on_lease_lost is not None:
                        self.on_lease_lost(lost)
                    raise lost
            yield Tx(conn)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            # a COMMIT that failed (busy, disk full, I/O) may leave the transaction open: end it, as SQLite
            # advises, so the writes are not half-kept and the next BEGIN works; a ROLLBACK SQLite already
            # did itself fails harmlessly
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise
        self._flush()

    def _flush(self) -> None:
        """Run `on_commit` after a COMMIT. If it fails, the commit stands but later writes may not reach the
        disk: mark the storage lost, tell the engine, and raise StorageLostError."""
        if self._on_commit is None:
            return
        try:
            self._on_commit()
        except Exception as exc:
            raise self.lose_storage(str(exc) or type(exc).__name__) from exc

    def lose_storage(self, reason: str) -> StorageLostError:
        """Mark the storage lost for `reason` (no transaction starts from now on) and tell the engine, which
        halts; return the error to raise."""
        self.lost = StorageLostError(reason)
        if self.on_storage_lost is not None:
            self.on_storage_lost(self.lost)
        return self.lost

    # -- the lease ------------------------------------------------------------------------------------

    def acquire_lease(
        self, owner: str, now: datetime, app_version: str | None, *, fresh_after: datetime | None
    ) -> str | None:
        """Make `owner` the lease holder and return None; with `fresh_after`, refuse (returning the
        holder) when another owner's heartbeat is later than `fresh_after`."""
        self.owner = None
        with self.transaction() as tx:
            holder = _take_lease(tx.conn, owner, now, app_version, fresh_after)
        self.owner = owner if holder is None else None
        return holder

    def migrate_and_lease(
        self, owner: str, now: datetime, app_version: str | None, *, fresh_after: datetime | None
    ) -> str | None:
        """`migrate`, then `acquire_lease`: in one transaction when migrations are pending (a new database's
        first open made two commits, each a few fsyncs, before any run could start). The migrations commit
        even when the lease is refused (the holder is returned), as they did apart."""
        version = migrations.current_version(self._conn)
        if version > migrations.LATEST:
            raise SchemaTooNewError(version, migrations.LATEST)
        if version == migrations.LATEST:
            return self.acquire_lease(owner, now, app_version, fresh_after=fresh_after)
        self.owner = None
        with self.transaction() as tx:
            migrations.apply_pending(tx.conn, now)
            holder = _take_lease(tx.conn, owner, now, app_version, fresh_after)
        self.owner = owner if holder is None else None
        return holder

    def heartbeat(self, now: datetime) -> None:
        with self.transaction() as tx:
            tx.conn.execute("UPDATE durable_lease SET heartbeat_at = ? WHERE id = 1", (timestamp(now),))

    def release_lease(self) -> None:
        """Give the lease up (graceful stop) so that a waiting engine can take over at once; a lease
        another engine holds by now is left alone."""
        owner, self.owner = self.owner, None
        with self.transaction() as tx:
            tx.conn.execute("DELETE FROM durable_lease WHERE id = 1 AND owner = ?", (owner,))

    # -- runs -----------------------------------------------------------------------------------------

    def insert_run(self, new: NewRun, claim: Claim | None = None) -> tuple[Run, bool, Run | None]:
        """Create the run, or return the existing one with the same job and idempotency key. With `claim`
        (the caller has a free slot), claim the next runnable run in the same transaction, as `claim_next`
        would (the new one, or one that waited longer): one commit less between a trigger and its run.
        Returns (run, created, the claimed run or None)."""
        at = timestamp(new.now)
        with self.transaction() as tx:
            if new.idempotency_key is not None:
                row = tx.conn.execute(
                    f"SELECT {_RUN_COLUMNS} FROM durable_runs WHERE job = ? AND idempotency_key = ?",
                    (new.job, new.idempotency_key),
                ).fetchone()
                if row is not None:
                    return _run(row), False, None
            labels = dict(new.labels)
            tx.conn.execute(
                "INSERT INTO durable_runs (id, job, status, input, idempotency_key, concurrency_key, labels, "
                "created_at, updated_at) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?)",
                (new.id, new.job, new.input_json, new.idempotency_key, new.concurrency_key,
                 encode_json(labels), at, at),
            )  # fmt: skip
            tx.conn.executemany(
                "INSERT INTO durable_run_labels (run_id, key, value) VALUES (?, ?, ?)",
                [(new.id, key, value) for key, value in labels.items()],
            )
            run = tx.get_run(new.id)
            claimed = None if claim is None else _claim(tx, claim, new.now)
        assert run is not None
        return run, True, claimed

    def claim_next(self, jobs: Sequence[str], now: datetime, app_version: str | None) -> Run | None:
        """Mark the next runnable pending run as running and return it (None when nothing can start).

        Order: runs that ran before (recovered, retried) first, then FIFO; a run whose concurrency key is
        held by a running run waits.
        """
        # Read first, outside a transaction: an idle poll costs no commit (and no OPFS flush).
        if _next_runnable(self._conn, jobs) is None:
            return None
        with self.transaction() as tx:
            return _claim(tx, Claim(tuple(jobs), app_version), now)

    def requeue_interrupted(self, now: datetime) -> list[str]:
        """Recovery: runs left running by a dead engine go back to pending; returns their ids."""
        return self.recover(now, None).requeued

    def recover(self, now: datetime, max_stalls: int | None, stall_seconds: float = 0.0) -> Recovery:
        """Recovery, in one transaction: each run left running by a dead engine goes back to pending,
        unless it has now been found running `max_stalls` times in a row without completing a new step
        (it hangs or kills the engine on every resume): that run is failed with a sentence saying so.

        A recovery is a stall when the run had gone `stall_seconds` without a commit (since it was claimed
        or its last step completed, until now): a quick kill or reload is not. A stall counts one more when
        the run was resumed (claimed) since its previous recovery and completed no step since; the first
        stall, or one after a completed step, counts 1; otherwise the count is kept. `requeue_run` (retry,
        graceful stop) clears it."""
        at = timestamp(now)
        requeued: list[str] = []
        failed: list[Run] = []
        with self.transaction() as tx:
            rows = tx.conn.execute(
                "SELECT r.id, r.stalls, r.stall_steps, r.attempt, r.stall_attempt, r.updated_at, "
                "(SELECT COUNT(*) FROM durable_steps AS s WHERE s.run_id = r.id AND s.status = 'completed'), "
                "(SELECT MAX(s.finished_at) FROM durable_steps AS s WHERE s.run_id = r.id AND s.status = 'completed') "
                "FROM durable_runs AS r WHERE r.status = 'running' ORDER BY r.seq"
            ).fetchall()
            for run_id, stalls, stall_steps, attempt, stall_attempt, updated, steps, last_commit in rows:
                quiet = (now - datetime.fromisoformat(max(updated, last_commit or updated))).total_seconds()
                if quiet >= stall_seconds:
                    progressed = stall_steps is None or steps > stall_steps
                    if progressed:
                        stalls = 1
                    elif stall_attempt is None or attempt > stall_attempt:
                        stalls += 1
                tx.conn.execute(
                    "UPDATE durable_runs SET status = 'pending', stalls = ?, stall_steps = ?, stall_attempt = ?, "
                    "updated_at = ? WHERE id = ?",
                    (stalls, steps, attempt, at, run_id),
                )
                if max_stalls is None or stalls < max_stalls:
                    requeued.append(run_id)
                    continue
                last = tx.conn.execute(
                    "SELECT name FROM durable_steps WHERE run_id = ? AND status = 'completed' "
                    "ORDER BY ordinal DESC LIMIT 1",
                    (run_id,),
                ).fetchone()
                error = ErrorInfo("RunStalledError", stalled_message(stalls, None if last is None else last[0]))
                tx.finish_run(run_id, RunStatus.FAILED, now, output_json=None, error=error)
                run = tx.get_run(run_id)
                assert run is not None
                failed.append(run)
        return Recovery(requeued, failed)

    def finished_before(self, cutoff: datetime) -> list[Run]:
        rows = self._conn.execute(
            f"SELECT {_RUN_COLUMNS} FROM durable_runs WHERE finished_at < ? ORDER BY seq",
            (timestamp(cutoff),),
        ).fetchall()
        return [_run(row) for row in rows]

    # -- queries --------------------------------------------------------------------------------------

    def get_run(self, run_id: str) -> Run | None:
        row = self._conn.execute(f"SELECT {_RUN_COLUMNS} FROM durable_runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else _run(row)

    def list_runs(
        self,
        *,
        status: Sequence[RunStatus] = (),
        job: str | None = None,
        labels: Mapping[str, str] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Run]:
        where: list[str] = []
        params: list[Any] = []
        if status:
            where.append(f"status IN ({', '.join('?' * len(status))})")
            params.extend(s.value for s in status)
        if job is not None:
            where.append("job = ?")
            params.append(job)
        for key, value in (labels or {}).items():
            where.append(
                "EXISTS (SELECT 1 FROM durable_run_labels AS l WHERE l.run_id = r.id AND l.key = ? AND l.value = ?)"
            )
            params.extend((key, value))
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        total = self._conn.execute(f"SELECT COUNT(*) FROM durable_runs AS r {clause}", params).fetchone()[0]
        rows = self._conn.execute(
            f"SELECT {_RUN_COLUMNS} FROM durable_runs AS r {clause} ORDER BY seq DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        return Page([_run(row) for row in rows], int(total))

    def get_steps(self, run_id: str) -> list[Step]:
        rows = self._conn.execute(
            f"SELECT {_STEP_COLUMNS} FROM durable_steps WHERE run_id = ? ORDER BY ordinal", (run_id,)
        ).fetchall()
        return [_step(row) for row in rows]

    def get_logs(
        self, run_id: str, *, min_level: LogLevel | None = None, limit: int = 100, offset: int = 0
    ) -> Page[LogEntry]:
        levels = [lv.value for lv in LogLevel if min_level is None or lv.rank >= min_level.rank]
        clause = f"WHERE run_id = ? AND level IN ({', '.join('?' * len(levels))})"
        total = self._conn.execute(f"SELECT COUNT(*) FROM durable_logs {clause}", (run_id, *levels)).fetchone()[0]
        rows = self._conn.execute(
            f"SELECT {_LOG_COLUMNS} FROM durable_logs {clause} ORDER BY id LIMIT ? OFFSET ?",
            (run_id, *levels, limit, offset),
        ).fetchall()
        return Page([_log(row) for row in rows], int(total))


# -- claims -------------------------------------------------------------------------------------------


def _next_runnable(conn: sqlite3.Connection, jobs: Sequence[str]) -> str | None:
    """The id of the next pending run of `jobs` that may start: runs that ran before (recovered, retried)
    first, then FIFO; a run whose concurrency key is held by a running run waits."""
    if not jobs:
        return None
    marks = ", ".join("?" * len(jobs))
    row = conn.execute(
        f"""SELECT id FROM durable_runs AS r
        WHERE r.status = 'pending' AND r.job IN ({marks})
          AND (r.concurrency_key IS NULL OR NOT EXISTS (
              SELECT 1 FROM durable_runs AS o
              WHERE o.concurrency_key = r.concurrency_key AND o.status = 'running'))
        ORDER BY r.started_at IS NULL, r.seq LIMIT 1""",
        tuple(jobs),
    ).fetchone()
    return None if row is None else str(row[0])


def _claim(tx: Tx, claim: Claim, now: datetime) -> Run | None:
    """Mark the next runnable run as running (a new attempt) in `tx` and return it."""
    run_id = _next_runnable(tx.conn, claim.jobs)
    if run_id is None:
        return None
    at = timestamp(now)
    claimed = tx.conn.execute(
        "UPDATE durable_runs SET status = 'running', attempt = attempt + 1, app_version = ?, "
        "started_at = COALESCE(started_at, ?), updated_at = ? WHERE id = ? AND status = 'pending'",
        (claim.app_version, at, at, run_id),
    ).rowcount
    return tx.get_run(run_id) if claimed else None


# -- rows to records ----------------------------------------------------------------------------------


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _error(text: str | None) -> ErrorInfo | None:
    if text is None:
        return None
    data = json.loads(text)
    return ErrorInfo(type=data["type"], message=data["message"], step=data.get("step"))


def _run(row: Sequence[Any]) -> Run:
    progress = None if row[9] is None else Progress(row[9], row[10], row[11])
    return Run(
        id=row[0], job=row[1], status=RunStatus(row[2]), input=decode_json(row[3]),
        output=decode_json(row[4]), error=_error(row[5]), idempotency_key=row[6], concurrency_key=row[7],
        labels=json.loads(row[8]), progress=progress, attempt=row[12], cancel_requested=bool(row[13]),
        app_version=row[14], created_at=datetime.fromisoformat(row[15]), started_at=_time(row[16]),
        finished_at=_time(row[17]), updated_at=datetime.fromisoformat(row[18]),
    )  # fmt: skip


def _step(row: Sequence[Any]) -> Step:
    return Step(
        run_id=row[0], ordinal=row[1], name=row[2], kind=StepKind(row[3]), status=StepStatus(row[4]),
        output=decode_json(row[5]), error=_error(row[6]), attempts=row[7],
        started_at=datetime.fromisoformat(row[8]), finished_at=datetime.fromisoformat(row[9]),
    )  # fmt: skip


def _log(row: Sequence[Any]) -> LogEntry:
    return LogEntry(
        id=row[0], run_id=row[1], step=row[2], level=LogLevel(row[3]), message=row[4],
        data=json.loads(row[5]), created_at=datetime.fromisoformat(row[6]),
    )  # fmt: skip


def _take_lease(conn: sqlite3.Connection, owner: str, now: datetime, app_version: str | None,
                fresh_after: datetime | None) -> str | None:
    """In the caller's write transaction: make `owner` the lease holder and return None, or return the other
    holder whose heartbeat is later than `fresh_after` (refused)."""
    row = conn.execute("SELECT owner, heartbeat_at FROM durable_lease WHERE id = 1").fetchone()
    held_by_other = row is not None and row[0] != owner
    if held_by_other and fresh_after is not None and row[1] > timestamp(fresh_after):
        return str(row[0])
    conn.execute(
        "INSERT OR REPLACE INTO durable_lease (id, owner, heartbeat_at, app_version) VALUES (1, ?, ?, ?)",
        (owner, timestamp(now), app_version),
    )
    return None
