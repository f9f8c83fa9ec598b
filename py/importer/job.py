"""The import job ("import-csv"): stage, prepare, then batches that each commit rows, rejects and cursor.

Role: the product's main job, built on the engine (`durable`). `make_import_job(env)` returns the job
for the worker to register; `env` carries everything the job needs from outside (the registry of picked
files, the staging directory, chunk sizes, a clock): nothing is ambient. Steps:

1. `stage` (step.run, stored `with_next`): copy the source into the staging directory with sha256 and
   progress.
2. `prepare` (step.transaction): resolve options (sniffing the staged copy if no column specs were
   given), read the header, create the target table and the rejects table.
3. `batch-N` (step.transaction): parse, convert and validate the next rows from the cursor's byte
   offset, insert rows and rejects, and return the new cursor; all in one transaction, so a resumed run
   continues from the last committed cursor and every row lands exactly once.
"""

from __future__ import annotations

import asyncio
import codecs
import functools
import gc
import hashlib
import json
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from durable import Job, Run, StepContext, define_job
from importer import sql
from importer.errors import (
    EmptyFileError,
    HeaderOnlyError,
    OptionsError,
    TableExistsError,
    TooManyColumnsError,
)
from importer.formats import ColumnType
from importer.job_names import JOB_NAME
from importer.names import shadow_table_name, table_name_from_file
from importer.options import MAX_COLUMNS, ColumnSpec, ImportOptions, codec_and_bom
from importer.progress import ProgressMeter, encode
from importer.reader import DEFAULT_CHUNK_BYTES, read_header
from importer.scan import SCAN_STEP_BYTES, apply_scan, needs_scan, scan_file, scan_guesses
from importer.settle import settle_text_columns
from importer.slices import ForkedSlices, LocalSlices, SliceSettings, can_fork
from importer.sniff import SNIFF_BYTES, sniff
from importer.staging import DEFAULT_STAGE_CHUNK, ByteSource, remove_staged, stage, verify_in_place
from importer.validate import RowChecker

_SNIFFABLE = ("encoding", "delimiter", "quotechar", "has_header", "decimal_comma", "null_markers")


@dataclass(frozen=True)
class ImportEnv:
    """What the import job gets from its host.

    `sources` maps source ids to picked files (the worker adds a `ByteSource` per picked `File`; after a
    reload it is empty and staged copies are used). `batch_bytes`/`max_batch_rows` bound one committed
    batch; `slice_rows` is how often (in rows) a batch checks for cancel and reports progress, and
    `batch_seconds` (by `clock`) ends a batch early at a slice boundary, so the worker gets to its messages
    (Cancel, stop) between batches at least that often: a browser worker only hears them when it yields.
    `slice_steps` bounds what the column patterns may cost in one slice (a value of n characters about
    n**degree steps, patterns.py): a slice of long values for a slow pattern is cut short, down to one row,
    so the budget is looked at between them (10,000,000 steps, four values' worst, take 10 to 80 ms of CPython).
    `after_batch(step, before, after)`, if set, is awaited after each batch this execution commits (not after
    batches replayed on resume) with the cursors before and after it, before the next batch starts; the
    browser tests use it to hold a run mid-import (py/worker/hooks.py). `after_stage_chunk(step, before,
    after)` is the same for each chunk staging copies (bytes copied before and after it). Nothing sets
    either in production.
    `read_ahead` True: where the platform can fork and has two cores, a second process reads and checks each
    batch's next slice while this one inserts (slices.py; the command line sets it), for a file of at least
    `read_ahead_min_bytes` (a smaller one reads here: the second process costs its start and the wait for its
    first slice, which the overlap repays only above about 2 MB; the command line sets 2 MiB).
    `hashed` maps paths of files this host hashed moments ago to (size, mtime_ns, sha256): an in-place run's
    `stage` step takes such a file as checked while its size and modification time are still those,
    instead of hashing it a second time (the command line hashes the file to find the run to resume).
    `pause()`, if set, is awaited between batches and between scan steps instead of `asyncio.sleep(0)`: the
    browser worker passes a yield that lets the page's messages in (worker/platform.py `next_task`).
    `copied` maps paths of complete copies this host wrote and hashed in one pass moments ago to (size,
    sha256): the browser worker copies a picked file into storage while its preview is shown
    (worker/sources.py). A run whose `staged_path` is such a copy, with the same size and sha256 as its input,
    takes it as staged without reading or hashing it again.
    `supplied` maps run ids to a file on this host with the content of that run's source (the command line
    continuing a run made in the page, whose staged copy lives in the browser): such a run reads it where
    it is, as an `in_place` run does.
    """

    staging_dir: str
    sources: Mapping[str, ByteSource] = field(default_factory=dict)
    stage_chunk_bytes: int = DEFAULT_STAGE_CHUNK
    read_chunk_bytes: int = DEFAULT_CHUNK_BYTES
    scan_step_bytes: int = SCAN_STEP_BYTES
    batch_bytes: int = 4 << 20
    max_batch_rows: int = 50_000
    slice_rows: int = 5_000
    slice_steps: int = 10_000_000
    batch_seconds: float = 0.5
    progress_per_second: float = 10.0
    clock: Callable[[], float] = time.monotonic
    after_batch: Callable[[StepContext, dict[str, Any], dict[str, Any]], Awaitable[None]] | None = None
    after_stage_chunk: Callable[[StepContext, int, int], Awaitable[None]] | None = None
    pause: Callable[[], Awaitable[None]] | None = None
    supplied: Mapping[str, str] = field(default_factory=dict)
    read_ahead: bool = False
    read_ahead_min_bytes: int = 0
    hashed: Mapping[str, tuple[int, int, str]] = field(default_factory=dict)
    copied: Mapping[str, tuple[int, str]] = field(default_factory=dict)

    def staged_path(self, run_id: str, chosen: str | None = None) -> str:
        """Return where run `run_id` stages its copy (its `supplied` file, else `chosen` if the input named a
        path, else one in the staging directory)."""
        return self.supplied.get(run_id) or chosen or os.path.join(self.staging_dir, f"{run_id}.csv")


class ImportInput(BaseModel):
    """The job's input: which file, and how to import it.

    `source_id` names a `ByteSource` in `env.sources` (None: the file is already at `staged_path`).
    `options.columns` empty means "sniff the staged copy and use the defaults".
    `in_place` True: `staged_path` is the user's own file (the command line reads it where it is): the
    `stage` step only checks its size and sha256, and deleting the run leaves the file alone.
    """

    model_config = ConfigDict(defer_build=True)  # built on first use: see WARM_UP

    source_id: str | None = None
    file_name: str = Field(min_length=1)
    size: int = Field(ge=0)
    sha256: str | None = None
    staged_path: str | None = None
    in_place: bool = False
    options: ImportOptions = Field(default_factory=ImportOptions)


class ImportOutput(BaseModel):
    """The job's result."""

    model_config = ConfigDict(defer_build=True)  # built on first use: see WARM_UP

    table: str
    rows_accepted: int
    rows_rejected: int
    bytes: int
    sha256: str
    seconds: float
    timings: dict[str, float] = Field(default_factory=dict)
    """Seconds by phase: stage, scan, prepare, then the batches' parse, convert, insert, commit (and wait, when
    a second process read ahead: parse and convert were then that process's, overlapping the inserts)."""


WARM_UP: tuple[type[BaseModel], ...] = (ColumnSpec, ImportOptions, ImportInput, ImportOutput)
"""The job's models, whose validators are built on first use (`defer_build`: building them took about a
tenth of a second of the engine's boot in Pyodide), in an order that builds each once. The browser's worker
builds them (`model_rebuild()`) once it is ready, while the user picks a file."""


def exercise(job: Job[ImportInput, ImportOutput]) -> None:
    """Do once, on a sample, what Start and a run's end do with `job`'s models: validate and store an input,
    key it, store an output. The first call of each took 10-50 ms in Pyodide with the models built (the
    WebAssembly they run on is compiled on its first use); the worker's warm-up pays it instead."""
    options = ImportOptions(columns=[ColumnSpec(source=0, name="warm_up", type=ColumnType.INTEGER)])
    payload = ImportInput(file_name="warm-up.csv", size=0, sha256="0" * 64, options=options)
    job.decode_input(json.loads(job.encode_input(payload.model_dump(mode="json"))))
    idempotency_key("0" * 64, options)
    job.encode_output("warm-up", ImportOutput(table="warm_up", rows_accepted=0, rows_rejected=0, bytes=0,
                                              sha256="0" * 64, seconds=0.0))


def idempotency_key(sha256: str, options: ImportOptions) -> str:
    """Return a key that is equal for the same content imported with the same options."""
    return hashlib.sha256(f"{sha256}\n{options.model_dump_json()}".encode()).hexdigest()


def make_import_job(env: ImportEnv) -> Job[ImportInput, ImportOutput]:
    """Return the "import-csv" job bound to `env`; deleting one of its runs drops its rejects and copy."""

    def on_delete(conn: Any, run: Run) -> None:
        sql.delete_rejects(conn, run.id)
        sql.delete_inserted_records(conn, run.id)
        sql.drop_table(conn, shadow_table_name(run.id))  # a replace that never finished
        sql.drop_kept(conn, run.id)  # the table a replace kept for an undo
        sql.forget_undone(conn, run.id)
        given = run.input if isinstance(run.input, dict) else {}
        if given.get("in_place") is True:
            return  # the user's own file: never the job's to delete
        chosen = given.get("staged_path")
        remove_staged(env.staged_path(run.id, chosen if isinstance(chosen, str) else None))

    @define_job(JOB_NAME, input=ImportInput, output=ImportOutput, on_delete=on_delete)
    async def import_csv(step: StepContext, payload: ImportInput) -> ImportOutput:
        path = env.staged_path(step.run_id, payload.staged_path)

        async def staging() -> dict[str, Any]:
            return await _stage(env, step, payload, path)

        # stored with the next step's commit: a run stopped before it stages again (a complete copy is only
        # hashed again), and a small import makes one commit less
        staged: dict[str, Any] = await step.run("stage", staging, with_next=True)
        options = _resolved_options(payload, path, staged["size"])
        scanned = 0.0
        if needs_scan(options):
            options, scanned = await _scan(env, step, path, staged["size"], options)
        plan = await step.transaction("prepare", functools.partial(_prepare, options, payload, path, staged["size"],
                                                                   step.run_id))
        batches = _Batches(env, step, path, staged["size"], plan)
        cursor: dict[str, Any] = {
            "offset": plan["offset"],
            "row": plan["row"],
            "accepted": 0,
            "rejected": 0,
            "seconds": 0.0,
            "done": False,
        }
        number = 0
        try:
            while not cursor["done"]:
                before, replayed = cursor, step.replaying
                cursor = await step.transaction(f"batch-{number}", functools.partial(batches.run, cursor))
                number += 1
                if env.after_batch is not None and not replayed:
                    await env.after_batch(step, before, cursor)
                if not cursor["done"]:  # let the worker's messages (cancel, stop) in between batches; after
                    await _pause(env)  # the last one no step is left for them to stop, and the run ends first
        finally:
            batches.close()
        step.log.info("import finished", table=plan["table"], accepted=cursor["accepted"], rejected=cursor["rejected"])
        return ImportOutput(
            table=plan["table"],
            rows_accepted=cursor["accepted"],
            rows_rejected=cursor["rejected"],
            bytes=staged["size"],
            sha256=staged["sha256"],
            seconds=round(staged["seconds"] + plan["seconds"] + cursor["seconds"], 3),
            timings={"stage": round(staged["seconds"], 4), "scan": round(scanned, 4),
                     "prepare": round(plan["seconds"], 4), **cursor.get("timings", {})},
        )

    return import_csv


async def _stage(env: ImportEnv, step: StepContext, payload: ImportInput, path: str) -> dict[str, Any]:
    started = env.clock()
    source = env.sources.get(payload.source_id) if payload.source_id else None
    size = source.size if source is not None else payload.size
    meter = ProgressMeter("staging", size, env.clock, env.progress_per_second)

    def report(done: int, total: int) -> None:
        if meter.due() or done == total:
            step.progress(done, total, encode(meter.payload(bytes_done=done)))

    if _copied_already(env, path, payload):
        return {"size": payload.size, "sha256": str(payload.sha256).lower(), "seconds": env.clock() - started}
    if payload.in_place or step.run_id in env.supplied:
        if payload.sha256 and _hashed_already(env, path, payload.sha256):
            return {"size": payload.size, "sha256": payload.sha256, "seconds": env.clock() - started}
        checked = await verify_in_place(path, size=payload.size, name=payload.file_name,
                                        expected_sha256=payload.sha256, chunk_bytes=env.stage_chunk_bytes,
                                        on_progress=report)
        return {"size": checked.size, "sha256": checked.sha256, "seconds": env.clock() - started}
    staged = await stage(
        source,
        path,
        size=size,
        name=payload.file_name,
        chunk_bytes=env.stage_chunk_bytes,
        on_progress=report,
        expected_sha256=payload.sha256,
        after_chunk=functools.partial(env.after_stage_chunk, step) if env.after_stage_chunk else None,
    )
    return {"size": staged.size, "sha256": staged.sha256, "seconds": env.clock() - started}


def _copied_already(env: ImportEnv, path: str, payload: ImportInput) -> bool:
    """Whether `path` is a complete copy this host wrote and hashed, with the input's size and sha256."""
    known = env.copied.get(path)
    if known is None or payload.sha256 is None or payload.in_place:
        return False
    try:
        size = os.path.getsize(path)
    except OSError:
        return False
    return (size, known[0], known[1].lower()) == (payload.size, payload.size, payload.sha256.lower())


def _hashed_already(env: ImportEnv, path: str, sha256: str) -> bool:
    """Whether `path` is a file this host hashed moments ago to `sha256` and still has that size and mtime."""
    known = env.hashed.get(path)
    if known is None:
        return False
    try:
        stat = os.stat(path)
    except OSError:
        return False
    return (stat.st_size, stat.st_mtime_ns, sha256.lower()) == (known[0], known[1], known[2].lower())


async def _scan(
    env: ImportEnv, step: StepContext, path: str, size: int, options: ImportOptions
) -> tuple[ImportOptions, float]:
    """Settle the provisional column types over the whole staged file, in resumable `scan-N` steps; return the
    settled options and the seconds the steps took (kept in each step's result, so a resumed run knows them)."""
    width, _ = _width_and_offset(path, options)
    settled = settle_text_columns(path, options, width)
    if settled != options:
        names = [new.name for old, new in zip(options.columns, settled.columns, strict=True)
                 if old.provisional and not new.provisional]
        step.log.info("text in the first bytes settles these columns as text", columns=", ".join(names))
    options = settled
    if not needs_scan(options):
        return options, 0.0
    meter = ProgressMeter("scanning", size, env.clock, env.progress_per_second)

    def report(done: int, total: int) -> None:
        if meter.due() or done == total:
            step.progress(done, total, encode(meter.payload(bytes_done=done)))

    cursor: dict[str, Any] = {"offset": 0, "row": 1, "state": None, "done": False}
    number = 0
    while not cursor["done"]:
        scan = functools.partial(_timed_scan, path, options, width, cursor, size=size, step_bytes=env.scan_step_bytes,
                                 chunk_bytes=env.read_chunk_bytes, on_progress=report)
        cursor = await step.run(f"scan-{number}", scan)
        number += 1
        await _pause(env)
    scanned = apply_scan(options, scan_guesses(cursor, options, width))
    changes = [f"{new.name}: {old.type.value} -> {new.type.value}"
               + (f" (null: {', '.join(new.null_markers)})" if new.null_markers else "")
               for old, new in zip(options.columns, scanned.columns, strict=True)
               if old.provisional and (old.type, old.null_markers) != (new.type, new.null_markers)]
    step.log.info("types checked over the whole file", rows=int(cursor["state"]["rows"]) if cursor["state"] else 0,
                  changed="; ".join(changes) or "none")
    return scanned, float(cursor.get("seconds", 0.0))


async def _timed_scan(
    path: str, options: ImportOptions, width: int, cursor: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    """`scan_file`, with the seconds of this and the earlier scan steps added to the cursor it returns."""
    began = time.perf_counter()
    after: dict[str, Any] = await scan_file(path, options, width, {k: v for k, v in cursor.items() if k != "seconds"},
                                      **kwargs)
    return {**after, "seconds": float(cursor.get("seconds", 0.0)) + time.perf_counter() - began}


async def _pause(env: ImportEnv) -> None:
    await (env.pause() if env.pause is not None else asyncio.sleep(0))


def _width_and_offset(path: str, options: ImportOptions) -> tuple[int, int]:
    """Return the number of fields a row must have and the byte offset where the data starts."""
    header, offset = read_header(path, options) if options.has_header else ([], 0)
    width = max(len(header), max((s.source + 1 for s in options.columns), default=0))
    if width > MAX_COLUMNS:
        raise TooManyColumnsError(width, MAX_COLUMNS)
    return width, offset


def _prepare(
    options: ImportOptions, payload: ImportInput, path: str, size: int, run_id: str, conn: Any
) -> dict[str, Any]:
    """Read the header, create the tables (noting in the ledger a table this run creates, for its undo);
    return the plan the batches follow (`options` are resolved)."""
    started = time.perf_counter()
    if size == 0:
        raise EmptyFileError()
    width, offset = _width_and_offset(path, options)
    kept = options.kept_columns()
    if not kept:
        raise OptionsError("Every column is skipped.", hint="Keep at least one column.")
    if not _has_data(path, offset, options):
        raise HeaderOnlyError() if options.has_header else EmptyFileError()
    table, created = _target_table(conn, payload.file_name, options, kept)
    if created:
        sql.record_created(conn, run_id, table)
    sql.create_rejects_table(conn)
    return {
        "table": table,
        "replace": options.table is not None and options.if_exists == "replace",
        "options": options.model_dump(mode="json"),
        "width": width,
        "offset": offset,
        "row": 2 if options.has_header else 1,
        "seconds": time.perf_counter() - started,
    }


def _resolved_options(payload: ImportInput, path: str, size: int) -> ImportOptions:
    """Fill the options' unset reading settings (and columns, if none) from a sniff of the staged copy.

    Deterministic for the same staged copy, so a resumed run resolves the same options again.
    """
    options = payload.options
    if size == 0:
        raise EmptyFileError()
    if not options.unresolved():
        return options
    with open(path, "rb") as f:
        prefix = f.read(SNIFF_BYTES)
    chosen = {k: getattr(options, k) for k in _SNIFFABLE if getattr(options, k) not in (None, [])}
    sniffed = sniff(prefix, file_name=payload.file_name, complete=len(prefix) >= size, overrides=chosen)
    found = sniffed.options
    update = {k: getattr(found, k) for k in _SNIFFABLE if getattr(options, k) is None}
    if not options.columns:
        update["columns"] = found.columns
    return options.model_copy(update=update)


def _target_table(conn: Any, file_name: str, options: ImportOptions, kept: list[ColumnSpec]) -> tuple[str, bool]:
    """Return the table the rows go to, created unless it is to be replaced, and whether it was created here.

    A replace leaves the old table alone here: the batches load a shadow table that takes its place in the
    last batch's transaction (`_Batches.run`), so a failed or cancelled replace keeps the old rows.
    """
    if options.table is None:
        table = table_name_from_file(file_name, sql.schema_names(conn))
        sql.create_target(conn, table, kept)
        return table, True
    table = options.table
    if sql.index_named(conn, table):
        raise OptionsError(f"The name '{table}' is taken by an index.", hint="Choose another table name.")
    exists = sql.table_exists(conn, table)
    if exists and options.if_exists == "fail":
        raise TableExistsError(table)
    if exists and options.if_exists == "append":
        have = {c.lower() for c in sql.table_columns(conn, table)}
        missing = [s.name for s in kept if s.name.lower() not in have]
        if missing:
            raise OptionsError(
                f"Table '{table}' has no column {missing[0]!r} to append to.",
                hint="Rename the column to one of the table's, skip it, or import into a new table.",
            )
    if options.if_exists != "replace":
        sql.create_target(conn, table, kept)
    return table, not exists and options.if_exists != "replace"


def _has_data(path: str, offset: int, options: ImportOptions) -> bool:
    """Return True when something other than blank lines (line ends, spaces, tabs) follows `offset`, read in
    the file's encoding (in cp1252 the byte FF is the letter 'ÿ', not part of a byte-order mark; a NUL is
    data). Blank in the same sense as the first look's "the file is empty" (sniff.py)."""
    codec, bom = codec_and_bom(options.encoding or "utf-8")
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    with open(path, "rb") as f:
        f.seek(offset)
        if offset == 0 and bom and f.read(len(bom)) != bom:
            f.seek(0)
        while chunk := f.read(1 << 12):  # data most often follows at once: decode no more than a line or so
            if decoder.decode(chunk).strip(" \t\r\n"):
                return True
    return bool(decoder.decode(b"", final=True).strip(" \t\r\n"))


class _Batches:
    """Runs one batch per call, inside the engine's transaction; keeps its slice source open between batches.

    Each batch adds to `cursor["timings"]` the seconds spent reading (`parse`), checking (`convert`),
    inserting (`insert`) and, from the end of one batch to the start of the next, committing it (`commit`);
    with reading ahead in a second process, parse and convert are that process's and `wait` is the time the
    batch waited for its slices.
    """

    def __init__(self, env: ImportEnv, step: StepContext, path: str, size: int, plan: dict[str, Any]) -> None:
        self._env = env
        self._step = step
        self._size = size
        self._table = plan["table"]
        self._shadow = shadow_table_name(step.run_id) if plan.get("replace") else None
        options = ImportOptions.model_validate(plan["options"])
        self._checker = RowChecker(options, plan["width"])
        self._settings = SliceSettings(path, options, plan["width"], env.read_chunk_bytes, env.slice_steps)
        self._ahead = (env.read_ahead and size >= env.read_ahead_min_bytes and can_fork()
                       and not any(s.unique for s in self._checker.specs))
        self._insert = sql.insert_statement(self._shadow or self._table, [s.name for s in self._checker.specs])
        self._rowid = sql.rowid_name([s.name for s in self._checker.specs])
        self._source: LocalSlices | ForkedSlices | None = None
        self._meter: ProgressMeter | None = None
        self._ended: float | None = None

    def close(self) -> None:
        if self._source is not None:
            self._source.close()
            self._source = None

    def run(self, cursor: dict[str, Any], conn: Any) -> dict[str, Any]:
        """Import the batch that starts at `cursor`; return the cursor after it (committed with it)."""
        started = self._env.clock()
        timings = dict(cursor.get("timings") or {})
        if self._ended is not None:
            _add(timings, "commit", time.perf_counter() - self._ended)
        source = self._source_at(cursor)
        meter = self._meter or ProgressMeter(
            "importing",
            self._size,
            self._env.clock,
            self._env.progress_per_second,
            start_bytes=cursor["offset"],
            start_rows=cursor["accepted"] + cursor["rejected"],
        )
        self._meter = meter
        accepted, rejected, rows, eof = cursor["accepted"], cursor["rejected"], 0, False
        offset, row = cursor["offset"], cursor["row"]
        if self._shadow is not None:  # a replace loads a shadow table (made by the first batch, kept on retry)
            sql.create_target(conn, self._shadow, self._checker.specs)
        existing = functools.partial(_existing, conn, self._shadow or self._table)
        loading = self._shadow or self._table
        first_rowid = sql.max_rowid(conn, loading, self._rowid) + 1 if self._rowid else 0
        collecting = gc.isenabled()
        gc.disable()
        try:
            while not eof and rows < self._env.max_batch_rows:
                if offset - cursor["offset"] >= self._env.batch_bytes:
                    break
                limit = min(self._env.slice_rows, self._env.max_batch_rows - rows)
                asked = time.perf_counter()
                piece = source.next(limit, existing)
                got = time.perf_counter()
                sql.insert_rows(conn, self._insert, list(piece.checked.rows()))
                sql.insert_rejects(conn, self._step.run_id, piece.checked.rejects)
                _add(timings, "insert", time.perf_counter() - got)
                _add(timings, "parse", piece.parse)
                _add(timings, "convert", piece.convert)
                if self._ahead:  # a slice read here (the head, or after the child stopped) was no wait
                    _add(timings, "wait", got - asked - (piece.parse + piece.convert if piece.local else 0.0))
                rows += piece.records
                accepted += piece.checked.accepted
                rejected += len(piece.checked.rejects)
                # a batch that ends on the file's last byte is the last: no empty batch (a step and a commit) after
                offset, row, eof = piece.offset, piece.row, piece.eof or piece.offset >= self._size
                del piece  # before the next slice is read: it then reuses this one's memory, still in cache
                self._report(meter, offset, accepted, rejected, final=eof)
                if self._env.clock() - started >= self._env.batch_seconds:
                    break  # the budget is spent: commit here, yield, and go on in the next batch
            if self._rowid:  # which rows this run put in the table: what an undo removes (same transaction)
                last_rowid = sql.max_rowid(conn, loading, self._rowid)
                sql.record_inserted(conn, self._step.run_id, self._table, first_rowid, last_rowid, "import")
            if eof and self._shadow is not None:  # commits with the final cursor: all new rows or none
                sql.take_place(conn, self._shadow, self._table, self._checker.specs, self._step.run_id)
        except BaseException:
            self.close()
            raise
        finally:
            if collecting:
                gc.enable()
        self._ended = time.perf_counter()
        seconds = cursor["seconds"] + self._env.clock() - started
        return {
            "offset": offset,
            "row": row,
            "accepted": accepted,
            "rejected": rejected,
            "seconds": seconds,
            "timings": {k: round(v, 4) for k, v in timings.items()},
            "done": eof,
        }

    def _source_at(self, cursor: dict[str, Any]) -> LocalSlices | ForkedSlices:
        """The slice source positioned at `cursor`: the open one if it is there, else a new one."""
        source = self._source
        at = (cursor["offset"], cursor["row"])
        if source is None or source.position != at:
            self.close()
            if self._ahead:
                rows = min(self._env.slice_rows, self._env.max_batch_rows)
                source = ForkedSlices(self._settings, self._checker, *at, slice_rows=rows)
            else:
                source = LocalSlices(self._settings, self._checker, *at)
            self._source = source
        return source

    def _report(self, meter: ProgressMeter, offset: int, accepted: int, rejected: int, *, final: bool) -> None:
        step = self._step
        if not (final or meter.due()):
            step.checkpoint()
            return
        payload = meter.payload(bytes_done=offset, rows=accepted + rejected, accepted=accepted, rejected=rejected)
        step.progress(offset, self._size, encode(payload))


def _add(timings: dict[str, float], phase: str, seconds: float) -> None:
    timings[phase] = timings.get(phase, 0.0) + seconds


def _existing(conn: Any, table: str, spec: ColumnSpec, values: list[Any]) -> set[Any]:
    return sql.existing_values(conn, table, spec.name, values)
