"""Garbage in: hypothesis writes hostile CSV bytes and the import job must either finish every data row or
fail with a specific file-level `ImporterError`, never an unhandled exception and never a partial batch.

The files mix invalid UTF-8, stray and unclosed quotes, NULs, fields past csv's 131,072-character limit,
rows of many columns (up to and past the 2,000-column limit), every encoding the sniffer knows (UTF-8 with
and without a mark, UTF-16 and UTF-32 LE/BE with a mark, cp1252, latin-1) and CR/LF/CRLF mixes. Each goes
through the real job on a real SQLite file, with default options (sniffed) or options with user types
(some provisional, so the whole-file scan runs in tiny steps), with batches from one row to the whole file,
and is interrupted between batches (the run fails and is retried, or the engine is abandoned and a new one
resumes the run). After every stop the table's rows and the run's rejects equal the last committed
cursor's counts; a completed run's rows plus rejects equal the data rows, counted here independently with a
plain `csv.reader` over the decoded text (a blank record is no row; a record csv refuses is one row).
Derandomized: the same examples every run; `GARBAGE_EXAMPLES` changes how many.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import json
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import importer.errors
from durable import Engine, RunFailedError, StepContext
from importer import FileByteSource, ImportEnv, ImportOptions, make_import_job
from importer.scan import scan_file

FIELD_LIMIT = 131_072
IMPORTER_ERRORS = {
    name for name, cls in vars(importer.errors).items() if isinstance(cls, type) and issubclass(cls, Exception)
} - {"ImporterError"}  # the file-level errors: every subclass of ImporterError, not the base
ENCODINGS = {  # name given to the job -> (codec that writes the body, byte-order mark written first)
    "utf-8": ("utf-8", b""),
    "utf-8-sig": ("utf-8", codecs.BOM_UTF8),
    "utf-16-le": ("utf-16-le", codecs.BOM_UTF16_LE),
    "utf-16-be": ("utf-16-be", codecs.BOM_UTF16_BE),
    "utf-32-le": ("utf-32-le", codecs.BOM_UTF32_LE),
    "utf-32-be": ("utf-32-be", codecs.BOM_UTF32_BE),
    "cp1252": ("cp1252", b""),
    "latin-1": ("latin-1", b""),
}
BAD_BYTES = [b"\xff", b"\xc3", b"\x81", b"\xed\xa0\x80", b"\xe2\x82", b"\x00", b"\xfe\xff", b"\x9d"]
WORDS = ["1", "-7", "2.5", "1,5", "2024-02-21", "21/02/2024", "yes", "NA", "", "a", "Zoë", "€", "😀", "x y",
         "=1+1", "007", " 42 "]
TYPES = ["integer", "real", "boolean", "date", "text", "text"]


class Interrupt(Exception):
    """Raised by the test's `after_batch` to fail the run between two committed batches."""


@dataclass
class Case:
    data: bytes
    encoding: str
    options: dict[str, Any]
    env: dict[str, Any]
    stops: dict[int, str]  # after the N-th batch this test sees committed: "fail" (then retry) or "abandon"


# -- the files ------------------------------------------------------------------------------------------
@st.composite
def cells(draw: st.DrawFn, delimiter: str) -> str:
    """One field as written in the file (quoted or not), often hostile."""
    pick = draw(st.integers(0, 30))
    if pick < 14:
        return draw(st.sampled_from(WORDS))
    if pick < 17:  # a properly quoted field holding what needs quoting
        inner = draw(st.text(alphabet=st.sampled_from([delimiter, '"', "\n", "\r", "a", "é", " "]), max_size=6))
        return '"' + inner.replace('"', '""') + '"'
    if pick < 21:  # stray quotes: inside, at the start, unclosed, doubled wrong
        return draw(st.sampled_from(['a"b', '"a"b', '"abc', 'ab"', '""x', '"a""', '"', '"""', "'q'", '"x"y"']))
    if pick < 23:
        return draw(st.sampled_from(["\x00", "a\x00b", '"\x00"', "\x00\x00\x00"]))
    if pick < 25:
        return draw(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=5))
    if pick == 25:  # a field past csv's limit (kept just past it, so the case stays fast)
        size = FIELD_LIMIT + draw(st.integers(1, 64))
        return draw(st.sampled_from(["x" * size, '"' + "y" * size + '"', '"' + ("z" * 2047 + "\n") * 65 + '"']))
    return draw(st.text(alphabet=st.sampled_from(list('ab1.,;"\t \r\n')), max_size=8))


@st.composite
def texts(draw: st.DrawFn) -> tuple[str, str, int]:
    """The file's text, its delimiter and its header width."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    wide = draw(st.integers(0, 7)) == 0
    width = draw(st.sampled_from([1999, 2000, 2001, 2300])) if wide else draw(st.integers(1, 5))
    endings = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=1, max_size=3))
    names = ["c"] * width if wide else [draw(st.sampled_from(["id", "name", "c", 'q"', "é"])) for _ in range(width)]
    header = [f"{name}{i}" for i, name in enumerate(names)]
    lines = [delimiter.join(header)]
    for _ in range(draw(st.integers(0, 3 if wide else 14))):
        if draw(st.integers(0, 10)) == 0:
            lines.append("")  # a blank line
            continue
        if wide:
            cols = width + draw(st.sampled_from([0, 0, -1, 1, 5]))
            row = [draw(st.sampled_from(WORDS[:4])) for _ in range(max(cols, 0))]
        else:
            cols = width + draw(st.sampled_from([0, 0, 0, 0, -1, 1, 3]))
            row = [draw(cells(delimiter)) for _ in range(max(cols, 1))]
        lines.append(delimiter.join(row))
    text = "".join(line + draw(st.sampled_from(endings)) for line in lines)
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # no line end after the last row
    return text, delimiter, width


def encode(text: str, encoding: str) -> bytes:
    codec, bom = ENCODINGS[encoding]
    return bom + text.encode(codec, errors="replace")


@st.composite
def user_columns(draw: st.DrawFn, width: int) -> list[dict[str, Any]]:
    count = min(width, 2000) if width > 5 else draw(st.integers(1, width))
    columns = []
    for i in range(count):
        kind = draw(st.sampled_from(TYPES)) if width <= 5 else "text"
        columns.append({"source": i, "name": f"col{i}", "type": kind, "provisional": draw(st.integers(0, 3)) == 0,
                        "required": draw(st.integers(0, 5)) == 0, "unique": draw(st.integers(0, 5)) == 0,
                        "null_markers": ["NA"] if draw(st.booleans()) else []})
    return columns


@st.composite
def cases(draw: st.DrawFn) -> Case:
    text, delimiter, width = draw(texts())
    encoding = draw(st.sampled_from(sorted(ENCODINGS)))
    data = encode(text, encoding)
    if draw(st.integers(0, 3)) == 0:  # bytes no encoding promised: invalid UTF-8, stray NULs, a cut character
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.sampled_from(BAD_BYTES)) + data[at:]
    if draw(st.integers(0, 10)) == 0:
        data = data[: draw(st.integers(0, len(data)))]  # cut anywhere, mid-character included
    options: dict[str, Any] = {}
    if draw(st.integers(0, 2)):  # the user's settings and types (sometimes the wrong encoding or delimiter)
        chosen = encoding if draw(st.integers(0, 4)) else draw(st.sampled_from(sorted(ENCODINGS)))
        options = {"encoding": chosen, "delimiter": delimiter if draw(st.integers(0, 6)) else ",",
                   "quotechar": draw(st.sampled_from(['"', '"', '"', "", "'"])), "has_header": draw(st.booleans()),
                   "decimal_comma": delimiter == ";", "null_markers": draw(st.sampled_from([[], ["NA"]])),
                   "table": "t", "columns": draw(user_columns(width))}
        if options["quotechar"] == options["delimiter"]:
            options["quotechar"] = '"'
    huge = len(data) > FIELD_LIMIT
    rows, slice_rows = draw(st.sampled_from([(1, 1), (2, 1), (3, 2), (7, 3), (50_000, 5_000)]))
    env = {"max_batch_rows": rows, "slice_rows": slice_rows,
           "read_chunk_bytes": draw(st.sampled_from([4096, 1 << 20] if huge else [3, 7, 64, 4096, 1 << 20])),
           "scan_step_bytes": draw(st.sampled_from([1 << 16, 64 << 20] if huge else [16, 256, 64 << 20])),
           "batch_bytes": draw(st.sampled_from([48, 4 << 20]))}
    stops = draw(st.dictionaries(st.integers(1, 12), st.sampled_from(["fail", "abandon"]), max_size=3))
    return Case(data, encoding, options, env, stops)


# -- the independent count ------------------------------------------------------------------------------
def codec_of(name: str) -> tuple[str, bytes]:
    """The codec and byte-order mark the documented rule gives `name` (utf-16/utf-32 mean LE)."""
    codec = codecs.lookup(name).name
    marks = {"utf-8": codecs.BOM_UTF8, "utf-8-sig": codecs.BOM_UTF8, "utf-16": codecs.BOM_UTF16_LE,
             "utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE, "utf-32": codecs.BOM_UTF32_LE,
             "utf-32-le": codecs.BOM_UTF32_LE, "utf-32-be": codecs.BOM_UTF32_BE}
    plain = {"utf-8-sig": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}
    return plain.get(codec, codec), marks.get(codec, b"")


def expected_rows(data: bytes, options: dict[str, Any]) -> tuple[int | None, str | None]:
    """(data rows, None) as a plain csv.reader counts them, or (None, the file-level error expected)."""
    if not data:
        return None, "EmptyFileError"  # no bytes at all: empty, whether or not a header was expected
    codec, bom = codec_of(options["encoding"])
    body = data[len(bom):] if bom and data.startswith(bom) else data
    try:
        text = body.decode(codec)
    except UnicodeDecodeError:
        return None, "EncodingError"
    dialect: dict[str, Any] = {"delimiter": options["delimiter"], "strict": True}
    if options["quotechar"]:
        dialect["quotechar"] = options["quotechar"]
    else:
        dialect["quoting"] = csv.QUOTE_NONE
    stream = io.StringIO(text, newline="")
    reader = csv.reader(stream, **dialect)
    records: list[list[str] | None] = []  # None: a record csv refuses (one reject)
    too_long = False
    after_header = 0  # where the data starts in `text`: nothing but spaces, tabs and line ends after it is empty
    while True:
        line = reader.line_num
        try:
            records.append(next(reader))
            if len(records) == 1:
                after_header = stream.tell()
        except StopIteration:
            break
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                # the batches stop at a quoted field over lines first; a scan of the whole file, run before
                # them when a column type is provisional, sees only the quote left open at the end
                return None, "FieldTooLongError|UnterminatedQuoteError" if too_long else "UnterminatedQuoteError"
            if "field larger than field limit" in str(exc) and reader.line_num - line > 1:
                too_long = True  # a quoted field over lines: the rows after it cannot be found
            records.append(None)
    if too_long:
        return None, "FieldTooLongError"
    if options["has_header"] and records:
        header = records.pop(0)
        if header is not None and len(header) > 2000:
            return None, "TooManyColumnsError"
    data_rows = sum(1 for r in records if r != [])
    if data_rows == 0 or not text[after_header if options["has_header"] else 0 :].strip(" \t\r\n"):
        return None, "HeaderOnlyError" if options["has_header"] else "EmptyFileError"
    return data_rows, None


# -- running the job ------------------------------------------------------------------------------------
def committed(db: Path, run_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The run's prepare plan and last committed batch cursor (None when not committed)."""
    with sqlite3.connect(db) as conn:
        steps = conn.execute("SELECT name, output FROM durable_steps WHERE run_id = ? AND status = 'completed' "
                             "ORDER BY ordinal", (run_id,)).fetchall()
    plan = next((json.loads(out) for name, out in steps if name == "prepare"), None)
    batches = [json.loads(out) for name, out in steps if name.startswith("batch-")]
    return plan, batches[-1] if batches else None


def stored_counts(db: Path, run_id: str, table: str) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        names = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        rows = conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] if table in names else 0
        rejects = (conn.execute("SELECT COUNT(*) FROM importer_rejects WHERE run_id = ?", (run_id,)).fetchone()[0]
                   if "importer_rejects" in names else 0)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    return rows, rejects


def check_no_partial_batch(db: Path, run_id: str) -> dict[str, Any] | None:
    """The table and the rejects hold exactly what the committed cursor says; return the plan."""
    plan, cursor = committed(db, run_id)
    if plan is None:
        return None
    rows, rejects = stored_counts(db, run_id, plan["table"])
    want = (cursor["accepted"], cursor["rejected"]) if cursor else (0, 0)
    assert (rows, rejects) == want, f"table/rejects {rows}/{rejects} but the committed cursor says {want}"
    return plan


def run_case(case: Case, workdir: Path) -> tuple[Any, RunFailedError | None, str, dict[str, Any] | None]:
    """Import the case's bytes, stopping where it says; return (output, error, run id, plan)."""
    source = workdir / "data.csv"
    source.write_bytes(case.data)
    db = workdir / "app.sqlite"
    seen = 0
    held: asyncio.Future[None] | None = None

    async def after_batch(step: StepContext, before: dict[str, Any], after: dict[str, Any]) -> None:
        nonlocal seen
        seen += 1
        stop = case.stops.get(seen)
        if stop == "fail":
            raise Interrupt(f"stopped after batch {seen}")
        if stop == "abandon" and held is not None and not held.done():
            held.set_result(None)
            await asyncio.get_running_loop().create_future()  # never resolves: the engine is abandoned here

    async def go() -> tuple[Any, RunFailedError | None, str, dict[str, Any] | None]:
        nonlocal held
        src = FileByteSource(source)
        job = make_import_job(ImportEnv(staging_dir=str(workdir / "staging"), sources={"s": src},
                                        after_batch=after_batch, **case.env))
        payload = {"source_id": "s", "file_name": "data.csv", "size": src.size, "options": case.options}
        run_id = ""
        for _ in range(20):  # each pass ends in a result, an error, or a stop the case asked for
            engine = Engine(str(db))
            engine.register(job)
            await engine.start()
            held = asyncio.get_running_loop().create_future()
            waiting = asyncio.ensure_future(engine.trigger_and_wait(job, payload, idempotency_key="k", timeout=120))
            try:
                await asyncio.wait([waiting, held], return_when=asyncio.FIRST_COMPLETED)
                if not waiting.done():  # abandoned between batches: a new engine resumes the run
                    waiting.cancel()
                    await engine.stop(timeout=0)
                    check_no_partial_batch(db, run_id or only_run(db))
                    continue
                try:
                    output = waiting.result()
                except RunFailedError as error:
                    run_id = error.run_id
                    plan = check_no_partial_batch(db, run_id)
                    if error.error_type == "Interrupt":
                        await engine.retry(run_id)
                        continue
                    return None, error, run_id, plan
                run_id = only_run(db)
                return output, None, run_id, check_no_partial_batch(db, run_id)
            finally:
                if engine.running:
                    await engine.stop(timeout=0)
        raise AssertionError("the run neither ended nor failed after 20 passes")

    return asyncio.run(go())


def only_run(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        (run_id,) = conn.execute("SELECT id FROM durable_runs").fetchone()
    return str(run_id)


EXAMPLES = int(os.environ.get("GARBAGE_EXAMPLES", "250"))


@settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(cases())
def test_garbage_ends_in_every_row_or_a_file_level_error_and_never_a_partial_batch(case: Case) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="garbage-"))
    try:
        output, error, run_id, plan = run_case(case, workdir)
        db = workdir / "app.sqlite"
        event(f"{'user options' if case.options else 'sniffed'}: {error.error_type if error else 'completed'}")
        event(f"stops: {len(case.stops)}")
        if error is not None:
            assert error.error_type in IMPORTER_ERRORS, f"not a file-level error: {error}"
            assert isinstance(error.__cause__, importer.errors.ImporterError), repr(error.__cause__)
        resolved = plan["options"] if plan is not None else case.options or None
        want, failure = expected_rows(case.data, resolved) if resolved and resolved.get("encoding") else (None, None)
        if output is not None:
            assert plan is not None
            assert failure is None, f"completed, but a plain reader finds {failure}"
            assert output.rows_accepted + output.rows_rejected == want
            assert stored_counts(db, run_id, output.table) == (output.rows_accepted, output.rows_rejected)
        elif case.options and failure is not None:  # the user's settings: the failure is the one expected
            assert error is not None and error.error_type in failure.split("|"), (error, failure)
        elif case.options and want is not None:
            raise AssertionError(f"{error} but a plain reader finds {want} data rows")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# -- defects the property found, each pinned by a focused test -------------------------------------------
def test_a_scan_step_shorter_than_a_record_still_moves_on(tmp_path: Path) -> None:
    """A whole-file scan step ended inside a record longer than the step and the next one started there
    again, forever (in production: a UTF-16 or UTF-32 record over 64 MB of bytes, such as an unclosed quote)."""
    text = "a,b\n1," + "x" * 300 + "\n2,y\n"
    source = tmp_path / "long.csv"
    source.write_text(text, encoding="utf-8")
    options = {"encoding": "utf-8", "delimiter": ",", "quotechar": '"', "has_header": True, "decimal_comma": False,
               "table": "t", "columns": [{"source": 0, "name": "a", "type": "text", "provisional": True},
                                         {"source": 1, "name": "b", "type": "text", "provisional": True}]}
    parsed = ImportOptions.model_validate(options)
    cursor: dict[str, Any] = {"offset": 0, "row": 1, "state": None, "done": False}
    for _ in range(100):
        cursor = asyncio.run(scan_file(str(source), parsed, 2, cursor, size=len(text), step_bytes=16, chunk_bytes=16))
        if cursor["done"]:
            break
    assert cursor["done"] and cursor["row"] == 4, f"the scan is stuck at {cursor['offset']}"
    case = Case(text.encode(), "utf-8", options, {"scan_step_bytes": 16, "read_chunk_bytes": 16}, {})
    (tmp_path / "run").mkdir()
    output, error, _, _ = run_case(case, tmp_path / "run")
    assert error is None and output is not None
    assert (output.rows_accepted, output.rows_rejected) == (2, 0)
