"""scan.py and the job's whole-file scan: types hold for the whole file, null tokens are detected, the
scan gives the same answer however the bytes are cut, and it resumes from its checkpoints (issue 8)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from durable import Engine, RunStatus
from importer import FileByteSource, ImportEnv, ImportOptions, make_import_job
from importer.scan import Scanner, apply_scan, scan_file, scan_guesses
from importer.sniff import sniff

from .conftest import run_import


async def wait_for(engine: Engine, run_id: str, timeout: float = 60):  # type: ignore[no-untyped-def]
    """Poll until the run ends; return it."""
    for _ in range(int(timeout / 0.01)):
        run = await engine.get_run(run_id)
        if run is not None and run.status in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED):
            return run
        await asyncio.sleep(0.01)
    raise AssertionError(f"run {run_id} did not end")


def write_late_surprises(path: Path, rows: int = 5000) -> None:
    """ids, a count that is whole for 64 KB and then has NA and 2.5, a flag, a date with NA late."""
    lines = ["id,count,flag,day,label"]
    for i in range(rows):
        count = "NA" if i == rows - 40 else "2.5" if i == rows - 20 else str(i % 97)
        day = "NA" if i == rows - 10 else f"2024-01-{1 + i % 28:02d}"
        label = "NA" if i % 1000 == 999 else f"item {i}"
        lines.append(f"{i},{count},{'yes' if i % 2 else 'no'},{day},{label}")
    path.write_text("\n".join(lines) + "\n")


def test_the_first_look_is_provisional_and_the_job_widens_it_over_the_whole_file(tmp_path):
    source = tmp_path / "late.csv"
    write_late_surprises(source)
    first_look = sniff(source.read_bytes()[: 64 * 1024], complete=False)
    by_name = {c.name: c for c in first_look.options.columns}
    assert by_name["count"].type == "integer" and by_name["count"].provisional

    outcome = run_import(tmp_path / "db", source, first_look.options.model_dump(mode="json"))

    assert outcome.error is None, outcome.error
    assert outcome.rejects() == []
    assert outcome.output is not None and outcome.output.rows_accepted == 5000
    with sqlite3.connect(outcome.db) as conn:
        types = {r[1]: r[2] for r in conn.execute(f'PRAGMA table_info("{outcome.output.table}")')}
    assert types["count"] == "REAL" and types["day"] == "TEXT"
    rows = dict((r[0], r[1:]) for r in outcome.rows())
    assert rows[4960][0] is None  # NA in a column of numbers is NULL
    assert rows[4980][0] == 2.5
    assert rows[4990][2] is None  # NA in a date column is NULL
    assert rows[999][3] == "NA"  # NA in a text column stays text
    assert rows[1][0] == 1.0 and isinstance(rows[1][0], float)


def test_a_type_the_user_chose_is_kept_and_misfits_are_rejects(tmp_path):
    source = tmp_path / "late.csv"
    write_late_surprises(source)
    options = sniff(source.read_bytes()[: 64 * 1024], complete=False).options
    columns = [c.model_copy(update={"provisional": False}) if c.name == "count" else c for c in options.columns]
    chosen = options.model_copy(update={"columns": columns}).model_dump(mode="json")
    outcome = run_import(tmp_path / "db", source, chosen)
    assert outcome.error is None
    assert [r[0] for r in outcome.rejects()] == [4962, 4982]  # 'NA' and '2.5' are not integers (header is row 1)


def test_default_options_scan_the_whole_file_and_log_what_changed(tmp_path):
    source = tmp_path / "late.csv"
    write_late_surprises(source)

    async def go() -> tuple[list[str], list[str]]:
        job = make_import_job(ImportEnv(staging_dir=str(tmp_path / "staging"),
                                        sources={"s": FileByteSource(source)}, scan_step_bytes=20_000))
        engine = Engine(str(tmp_path / "app.sqlite"))
        engine.register(job)
        await engine.start()
        try:
            payload = {"source_id": "s", "file_name": "late.csv", "size": source.stat().st_size}
            run = (await engine.trigger(job, payload)).run
            await wait_for(engine, run.id)
            steps = [s.name for s in await engine.get_steps(run.id)]
            logs = [f"{log.message} {log.data}" for log in (await engine.get_logs(run.id)).items]
            return steps, logs
        finally:
            await engine.stop()

    steps, logs = asyncio.run(go())
    scans = [s for s in steps if s.startswith("scan-")]
    assert len(scans) >= 5  # 20 KB scan steps over a ~150 KB file: each a checkpoint
    assert steps.index("stage") < steps.index("scan-0") < steps.index("prepare")
    checked = next(line for line in logs if line.startswith("types checked over the whole file"))
    assert "count: integer -> real (null: NA)" in checked


def test_a_scan_resumed_from_any_checkpoint_ends_like_one_uninterrupted_pass(tmp_path):
    source = tmp_path / "late.csv"
    write_late_surprises(source, rows=3000)
    options = sniff(source.read_bytes()[:4096], complete=False).options
    size = source.stat().st_size

    def scan_all(step_bytes: int) -> tuple[dict, int]:
        cursor: dict = {"offset": 0, "row": 1, "state": None, "done": False}
        steps = 0
        while not cursor["done"]:
            cursor = asyncio.run(scan_file(str(source), options, 5, cursor, size=size, step_bytes=step_bytes,
                                           chunk_bytes=1000))
            steps += 1
        return cursor, steps

    whole, one = scan_all(1 << 30)
    pieces, many = scan_all(7_000)
    assert one == 1 and many > 5
    assert pieces["state"] == whole["state"] and pieces["row"] == whole["row"] == 3002
    guesses = scan_guesses(whole, options, 5)
    assert [g.type.value for g in guesses] == ["integer", "real", "boolean", "date", "text"]
    assert guesses[1].null_markers == ("NA",) and dict(guesses[1].null_counts) == {"NA": 1}
    assert guesses[1].evidence == "real: all 2,999 values in the file are numbers; 1 'NA' read as NULL"
    assert guesses[4].null_markers == () and "3 'NA' kept as text" in guesses[4].evidence


def settled(scanner: Scanner) -> list[dict]:
    """The tracker state that decides types and null markers (hint counts stop at batch ends by design)."""
    hint_only = ("fits", "emails", "hints")
    return [{k: v for k, v in c.items() if k not in hint_only} for c in scanner.tracker.to_state()["columns"]]


CELLS = st.one_of(
    st.sampled_from(["1", "-2", "3.5", "NA", "", "2024-02-03", "yes", "é", "a,b", 'say "hi"', "line\nbreak",
                     "x\r\ny", "NULL", "007", "   "]),
    st.text(alphabet="ab1,\"\n\r é€", max_size=6),
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(rows=st.lists(st.lists(CELLS, min_size=3, max_size=3), min_size=1, max_size=30),
       cuts=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=20),
       encoding=st.sampled_from(["utf-8", "utf-16-le", "cp1252"]))
def test_the_scanner_gives_the_same_guesses_however_the_bytes_are_cut(rows, cuts, encoding):
    import csv
    import io

    text = io.StringIO(newline="")
    csv.writer(text, lineterminator="\r\n").writerows([["a", "b", "c"], *rows])
    try:
        data = text.getvalue().encode(encoding)
    except UnicodeEncodeError:
        data = text.getvalue().encode("utf-8")
        encoding = "utf-8"
    options = ImportOptions(encoding=encoding, delimiter=",", quotechar='"', has_header=True)

    whole = Scanner(options, 3, skip_header=True)
    whole.feed(data, final=True)
    cut = Scanner(options, 3, skip_header=True)
    at = 0
    for size in cuts:
        cut.feed(data[at : at + size])
        at += size
        assert cut.offset <= at
    cut.feed(data[at:], final=True)

    assert settled(cut) == settled(whole)
    assert cut.row == whole.row == len(rows) + 2
    assert whole.offset == len(data)


def test_apply_scan_changes_only_provisional_columns():
    options = sniff(b"a,b\n1,2\n3,4\n", complete=False).options
    fixed = [options.columns[0], options.columns[1].model_copy(update={"provisional": False})]
    options = options.model_copy(update={"columns": fixed})
    scanner = Scanner(options, 2, skip_header=True)
    scanner.feed(b"a,b\n1,2\nNA,x\n2.5,NA\n", final=True)
    result = apply_scan(options, scanner.guesses(whole_file=True))
    assert [(c.type.value, c.null_markers, c.provisional) for c in result.columns] == [
        ("real", ["NA"], False),
        ("integer", [], False),
    ]


def test_a_complete_first_look_is_already_whole_file(tmp_path):
    result = sniff(b"a,b\n1,NA\n2,3\n")
    assert all(not c.provisional for c in result.options.columns)
    assert result.options.columns[1].null_markers == ["NA"]
    assert result.guesses[1].evidence == "integer: all 1 values in the file are whole numbers; 1 'NA' read as NULL"


def test_resumed_run_continues_the_scan_from_its_last_checkpoint(tmp_path, monkeypatch):
    """A run stopped during its third scan step keeps the two finished ones and imports every row once."""
    import importer.job as job_module

    source = tmp_path / "late.csv"
    write_late_surprises(source, rows=4000)
    db = tmp_path / "app.sqlite"
    original = job_module.scan_file
    starts: list[int] = []
    held = asyncio.Event

    def env() -> ImportEnv:
        return ImportEnv(staging_dir=str(tmp_path / "staging"), sources={"s": FileByteSource(source)},
                         scan_step_bytes=16_000)

    async def first() -> str:
        reached = held()

        async def holding(path, options, width, cursor, **kw):  # type: ignore[no-untyped-def]
            starts.append(int(cursor["offset"]))
            if len(starts) == 3:
                reached.set()
                await held().wait()  # interrupted here, in the middle of the third scan step
            return await original(path, options, width, cursor, **kw)

        monkeypatch.setattr(job_module, "scan_file", holding)
        engine = Engine(str(db))
        engine.register(make_import_job(env()))
        await engine.start()
        payload = {"source_id": "s", "file_name": "late.csv", "size": source.stat().st_size}
        run = (await engine.trigger(engine._job("import-csv"), payload)).run
        await asyncio.wait_for(reached.wait(), 30)
        await engine.stop(timeout=0.1)  # the held run never reaches a checkpoint: abandoned, as in a crash
        return run.id

    run_id = asyncio.run(first())
    resumed_from: list[int] = []

    async def second() -> tuple[RunStatus, list[str], list[int]]:
        async def counting(path, options, width, cursor, **kw):  # type: ignore[no-untyped-def]
            resumed_from.append(int(cursor["offset"]))
            return await original(path, options, width, cursor, **kw)

        monkeypatch.setattr(job_module, "scan_file", counting)
        engine = Engine(str(db))
        engine.register(make_import_job(env()))
        await engine.start()
        run = await wait_for(engine, run_id)
        steps = [s.name for s in await engine.get_steps(run_id)]
        await engine.stop()
        with sqlite3.connect(db) as conn:
            ids = [r[0] for r in conn.execute(f'SELECT id FROM "{run.output["table"]}"')]
        return run.status, steps, ids

    status, steps, ids = asyncio.run(second())
    assert status == RunStatus.COMPLETED
    assert sorted(ids) == list(range(4000))
    assert resumed_from[0] == starts[2] > 0  # the resumed run scanned on from its last checkpoint, not byte 0
    scans = [s for s in steps if s.startswith("scan-")]
    assert scans == [f"scan-{i}" for i in range(len(scans))] and len(scans) >= 5


NUMBERISH = st.one_of(
    st.integers(min_value=-10**17, max_value=10**17).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda f: f"{f:.3f}"),
    st.sampled_from(["", "NA", "NaN", "NULL", "-999", " 42", ".5", "-.25", "5.", "007", "1e5", "1E-400", "\x00",
                     "1\x002", "1\n2", "12345678901234567", "0.1234567890123456", "abc", "2024-01-02", "yes"]),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@example(batches=[[["1", "1"]], [["1\x002", "2"]]], markers=(), none_for_empty=False)
@example(batches=[[["1", "1"]], [["1e-999", "2"]]], markers=(), none_for_empty=False)
@example(batches=[[["1", "1"]], [["-999", "NA"], ["", "2"]]], markers=("-999",), none_for_empty=True)
@example(batches=[[["1", "1"], ["2", "2"]], [["3", "3"], ["-999", "x"]]], markers=("-999",), none_for_empty=False)
@given(batches=st.lists(st.lists(st.lists(NUMBERISH, min_size=2, max_size=2), min_size=1, max_size=8),
                        min_size=1, max_size=6),
       markers=st.sampled_from([(), ("-999",), ("NA",)]), none_for_empty=st.booleans())
def test_the_numeric_fast_path_counts_exactly_what_the_per_value_path_counts(batches, markers, none_for_empty):
    """The whole-column regex shortcut agrees with looking at every distinct value (the reference)."""
    from importer.infer import TypeTracker

    fast, slow = TypeTracker(null_markers=markers), TypeTracker(null_markers=markers)
    slow._all_numbers = lambda column, values: False  # type: ignore[method-assign]
    row = 2
    for batch in batches:
        rows = [[None if (v == "" and none_for_empty) else v for v in r] for r in batch]
        fast.add_batch(rows, row)
        slow.add_batch(rows, row)
        row += len(rows)
    for f, s in zip(fast.to_state()["columns"], slow.to_state()["columns"], strict=True):
        if f["hints"] and s["hints"]:
            assert f == s
        else:
            assert {k: v for k, v in f.items() if k not in ("fits", "hints", "emails")} == {
                k: v for k, v in s.items() if k not in ("fits", "hints", "emails")}
    if all(c["hints"] for c in fast.to_state()["columns"]):
        expected = [g.to_dict() for g in slow.guesses(whole_file=True)]
        assert [g.to_dict() for g in fast.guesses(whole_file=True)] == expected


@settings(max_examples=300, deadline=None, derandomize=True)
@given(number=st.from_regex(r" *-?(?:0|[1-9][0-9]{0,14}) *", fullmatch=True), comma=st.booleans())
def test_every_short_integer_is_also_a_real_as_the_fast_path_assumes(number, comma):
    from importer.formats import COMMA_REAL_RE, INTEGER_RE, REAL_RE

    assert INTEGER_RE.fullmatch(number)
    assert (COMMA_REAL_RE if comma else REAL_RE).fullmatch(number)


EMAILISH = st.one_of(
    st.sampled_from(["a@b.cc", "x.y@mail.example.org", "a@b", "@b.cc", "a b@c.de", "a@b.c", "NA", "", "a@b.cc\x00",
                     "\x00a@b.cc", "a@b.cc\n", "é@ü.de", "1", "a@@b.cc"]),
    st.text(alphabet="ab@.\x00 \n", max_size=8),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@example(batches=[[["x"]], [["a@b.cc\x00"], ["a@b.cc"]]])
@example(batches=[[["x"]], [["a@b.cc"], ["d@e.ff"]]])
@given(batches=st.lists(st.lists(st.lists(EMAILISH, min_size=1, max_size=1), min_size=1, max_size=8),
                        min_size=1, max_size=6))
def test_a_whole_file_scan_counts_email_addresses_exactly_like_the_per_value_check(batches):
    """After a column settles as text the whole-file scan counts addresses with one regex; it must agree."""
    from importer.infer import TypeTracker

    scan, exact = TypeTracker(exact_hints=False), TypeTracker()
    row = 2
    for batch in batches:
        scan.add_batch(batch, row)
        exact.add_batch(batch, row)
        row += len(batch)
    s, e = scan.to_state()["columns"][0], exact.to_state()["columns"][0]
    assert (s["emails"], s["non_empty"], s["tokens"]) == (e["emails"], e["non_empty"], e["tokens"])
    assert scan.guesses(whole_file=True)[0].email == exact.guesses(whole_file=True)[0].email
