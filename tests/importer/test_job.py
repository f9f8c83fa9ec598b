"""job.py: the import job end to end on the engine: corpus files, table naming, resume from the cursor."""

import asyncio
import json
import sqlite3

import pytest

from durable import Engine, RunStatus
from importer import FileByteSource, ImportEnv, make_import_job

from .conftest import DATA, run_import


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("empty.csv", "EmptyFileError"),
        ("header_only.csv", "HeaderOnlyError"),
        ("binary.png.csv", "BinaryFileError"),
        ("unterminated_quote.csv", "UnterminatedQuoteError"),
    ],
)
def test_file_level_bad_input_fails_the_run_with_its_error_and_stores_nothing(tmp_path, name, error):
    outcome = run_import(tmp_path, DATA / name)
    assert outcome.error is not None and outcome.error.error_type == error
    with sqlite3.connect(outcome.db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert not any(t.startswith(name.split(".")[0]) for t in tables)


def test_a_wrong_encoding_chosen_by_the_user_fails_with_an_encoding_error(tmp_path):
    columns = [{"source": 0, "name": "id"}, {"source": 1, "name": "name"}]
    outcome = run_import(tmp_path, DATA / "wrong_encoding_utf8_chosen.csv", {"encoding": "utf-8", "columns": columns})
    assert outcome.error is not None and outcome.error.error_type == "EncodingError"


@pytest.mark.parametrize(
    ("name", "expected_rows"),
    [
        ("utf16le_bom.csv", [(1, "Zoë"), (2, "Łukasz")]),
        ("utf16be_bom.csv", [(1, "Zoë"), (2, "Łukasz")]),
        ("utf8_bom.csv", [(1, "Zoë"), (2, "Ærø")]),
        ("latin1.csv", [(1, "José Núñez"), (2, "Ångström"), (3, "Søren")]),
        ("decimal_comma.csv", [(1, "Chair", 1234.56, 3), (2, "Table", 99.9, 1), (3, "Lamp", 12.0, 10)]),
        ("leading_zeros.csv", [("01234", "0612345678", 1), ("10115", "0301234567", 2), ("02134", "0891234567", 3)]),
        ("long_integers.csv", [("4111111111111111", 1), ("5500000000000004", 2), ("1234567890123456789", 3)]),
        ("settled_dates.csv", [(1, "2024-02-01"), (2, "2024-02-21"), (3, "2024-06-05")]),
        ("mixed_line_endings.csv", [(1, "a"), (2, "b"), (3, "c"), (4, "multi\r\nline")]),
        ("semicolon_quoted.csv", [(1, "a;b"), (2, 'say "hi"'), (3, "plain")]),
    ],
)
def test_corpus_files_import_with_sniffed_defaults_and_lose_nothing(tmp_path, name, expected_rows):
    outcome = run_import(tmp_path, DATA / name)
    assert outcome.error is None, outcome.error
    assert outcome.rows() == expected_rows


def test_ragged_rows_and_nul_bytes_are_rejected_with_their_reasons(tmp_path):
    ragged = run_import(tmp_path / "a", DATA / "ragged_rows.csv")
    assert ragged.rows() == [(1, "a", 1.5), (4, "d", 4.5)]
    assert [(r[0], json.loads(r[2])) for r in ragged.rejects()] == [
        (3, ["Row 3: has 2 fields, expected 3 (too few)"]),
        (4, ["Row 4: has 4 fields, expected 3 (too many)"]),
    ]
    nul = run_import(tmp_path / "b", DATA / "nul_bytes.csv")
    assert nul.rows() == [(1, "ok"), (3, "fine")]
    assert "NUL byte" in nul.rejects()[0][2]


def test_a_10_mb_field_is_a_rejected_row_and_the_rest_imports(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w") as f:
        f.write("id,text\n1,small\n2," + "x" * 10_000_000 + "\n3,after\n")
    outcome = run_import(tmp_path, path)
    assert outcome.rows() == [(1, "small"), (3, "after")]
    assert "longer than" in outcome.rejects()[0][2]


def test_more_than_2000_columns_fails_the_run(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(2001)) + "\n" + ",".join("1" * 2001) + "\n")
    columns = [{"source": i, "name": f"c{i}"} for i in range(2000)]
    outcome = run_import(tmp_path, path, {"columns": columns})
    assert outcome.error is not None and outcome.error.error_type == "TooManyColumnsError"


def test_an_existing_table_is_never_clobbered_unless_asked(tmp_path):
    db = tmp_path / "app.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE people (id, name)")
        conn.execute("INSERT INTO people VALUES (99, 'kept')")
    named = run_import(tmp_path, DATA / "utf8_bom.csv", {"table": "people"})
    assert named.error is not None and named.error.error_type == "TableExistsError"
    assert named.rows("people") == [(99, "kept")]
    appended = run_import(tmp_path, DATA / "utf8_bom.csv", {"table": "people", "if_exists": "append"})
    assert appended.rows("people") == [(99, "kept"), (1, "Zoë"), (2, "Ærø")]
    derived = run_import(tmp_path, DATA / "utf8_bom.csv")
    assert derived.output is not None and derived.output.table == "utf8_bom"


def write_rows(path, count, bad_every=10):
    with open(path, "w") as f:
        f.write("id,amount\n")
        for i in range(count):
            f.write(f"{i},{'oops' if i % bad_every == 3 else i / 2}\n")


COLUMNS = [{"source": 0, "name": "id", "type": "integer"}, {"source": 1, "name": "amount", "type": "real"}]


def test_a_cancelled_import_keeps_its_batches_and_resumes_from_the_cursor_on_retry(tmp_path):
    source_path = tmp_path / "rows.csv"
    write_rows(source_path, 20_000)
    db = tmp_path / "app.sqlite"
    batches_seen = []

    async def go():
        src = FileByteSource(source_path)
        env = ImportEnv(staging_dir=str(tmp_path / "st"), sources={"s": src}, max_batch_rows=1_000, slice_rows=500)
        job = make_import_job(env)
        engine = Engine(str(db))
        engine.register(job)
        cancelled = asyncio.Event()

        def on_step(event):
            batches_seen.append(event.step)
            if event.step == "batch-2":
                cancelled.set()

        engine.on("step:complete", on_step)
        await engine.start()
        payload = {"source_id": "s", "file_name": "rows.csv", "size": src.size, "options": {"columns": COLUMNS}}
        run, _ = await engine.trigger(job, payload)
        await asyncio.wait_for(cancelled.wait(), 30)
        await engine.cancel(run.id)
        for _ in range(200):
            if (await engine.get_run(run.id)).status is RunStatus.CANCELLED:
                break
            await asyncio.sleep(0.02)
        with sqlite3.connect(db) as conn:
            mid = conn.execute("SELECT count(*) FROM rows").fetchone()[0]
        steps_before = len(batches_seen)
        await engine.retry(run.id)
        for _ in range(500):
            current = await engine.get_run(run.id)
            if current.status is RunStatus.COMPLETED:
                break
            await asyncio.sleep(0.02)
        await engine.stop()
        return mid, steps_before, current

    mid, steps_before, run = asyncio.run(go())
    assert 0 < mid < 18_000
    resumed = batches_seen[steps_before:]
    assert "stage" not in resumed and "prepare" not in resumed and "batch-0" not in resumed
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT id) FROM rows").fetchone() == (18_000, 18_000)
        assert conn.execute("SELECT count(*) FROM importer_rejects").fetchone()[0] == 2_000
    assert run.output["rows_accepted"] == 18_000


def test_deleting_a_run_removes_its_staged_copy_and_rejects(tmp_path):
    outcome = run_import(tmp_path, DATA / "ragged_rows.csv")
    staged = list((tmp_path / "staging").iterdir())
    assert len(staged) == 1

    async def go():
        job = make_import_job(ImportEnv(staging_dir=str(tmp_path / "staging")))
        engine = Engine(str(outcome.db))
        engine.register(job)
        await engine.start()
        runs = await engine.list_runs()
        await engine.delete(runs.items[0].id)
        await engine.stop()

    asyncio.run(go())
    assert list((tmp_path / "staging").iterdir()) == []
    assert outcome.rejects() == []


def test_a_file_whose_only_byte_is_a_letter_in_its_encoding_is_not_empty(tmp_path):
    """cp1252 FF is 'ÿ', not half a byte-order mark (found by the garbage test); a file of blank lines and
    spaces is empty, as the first look says."""
    options = {"encoding": "cp1252", "delimiter": ",", "quotechar": '"', "has_header": False, "table": "t",
               "decimal_comma": False, "null_markers": [], "columns": [{"source": 0, "name": "c", "type": "text"}]}
    source = tmp_path / "y.csv"
    source.write_bytes(b"\xff")
    outcome = run_import(tmp_path / "y", source, options)
    assert outcome.error is None, outcome.error
    assert outcome.rows() == [("ÿ",)]
    source.write_bytes(b"   \r\n\t\r\n")
    outcome = run_import(tmp_path / "blank", source, options)
    assert outcome.error is not None and outcome.error.error_type == "EmptyFileError"


def test_the_job_yields_between_batches_and_not_after_the_last(tmp_path):
    """Requests are served between batches (`ImportEnv.pause`); after the last one the run finishes first. A
    batch that ends on the file's last byte is the last (5,000 rows in batches of 1,000: five, not an empty sixth)."""
    source_path = tmp_path / "rows.csv"
    write_rows(source_path, 5_000)
    events = []

    async def go():
        async def pause():
            events.append("pause")
            await asyncio.sleep(0)

        src = FileByteSource(source_path)
        env = ImportEnv(staging_dir=str(tmp_path / "st"), sources={"s": src}, max_batch_rows=1_000, slice_rows=500,
                        pause=pause)
        job = make_import_job(env)
        engine = Engine(str(tmp_path / "app.sqlite"))
        engine.register(job)
        engine.on("step:complete", lambda event: events.append(event.step))
        await engine.start()
        payload = {"source_id": "s", "file_name": "rows.csv", "size": src.size, "options": {"columns": COLUMNS}}
        output = await engine.trigger_and_wait(job, payload, timeout=60)
        await engine.stop()
        return output

    assert asyncio.run(go()).rows_accepted == 4_500
    batches = [e for e in events if e.startswith("batch-")]
    assert batches == [f"batch-{n}" for n in range(5)]
    after_batches = events[events.index("batch-0"):]
    assert after_batches == [x for b in batches[:-1] for x in (b, "pause")] + [batches[-1]]
