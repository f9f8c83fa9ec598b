"""Columns the first look proves to be text skip the whole-file scan (importer.settle): what the scan would
have said anyway, and no scan at all when every provisional column is settled that way (issue 10)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from durable import Engine
from importer import FileByteSource, ImportEnv, ImportOptions, make_import_job
from importer.formats import ColumnType
from importer.infer import NULL_TOKENS
from importer.scan import Scanner
from importer.settle import settle_text_columns

from .test_scan import wait_for

VALUES = st.one_of(
    st.sampled_from(["", "1", "-2", " 42", "007", "2.5", ".5", "1e3", "yes", "no", "2024-01-31", "31/01/2024",
                     "2024-01-31 10:00:00", "abc", "a@b.co", "+5", "1_000", "12345678901234567890", *NULL_TOKENS]),
    st.text(alphabet="0123456789.-eE aN/", max_size=6),
)


def guesses_of(data: bytes, options: ImportOptions) -> list:  # type: ignore[type-arg]
    scanner = Scanner(options, 2, skip_header=True)
    scanner.feed(data, final=True)
    return scanner.guesses(whole_file=True)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(VALUES, min_size=1, max_size=30), st.lists(VALUES, max_size=30),
       st.lists(st.sampled_from(["NA", "-999", "n/a"]), max_size=2, unique=True), st.integers(1, 64))
def test_a_column_the_first_bytes_settle_as_text_is_text_in_the_whole_file(head, tail, markers, piece_bytes):
    """The property settle.py stands on: a column that is text in a prefix is text with no null markers in
    the whole file, whatever follows. Fed a few bytes at a time, the look may stop early and settles the
    same columns as a look at the whole prefix at once."""
    options = ImportOptions.model_validate({
        "encoding": "utf-8", "delimiter": ",", "quotechar": '"', "has_header": True, "null_markers": markers,
        "columns": [{"source": 0, "name": "id", "type": "integer"},
                    {"source": 1, "name": "v", "type": "text", "provisional": True}]})
    lines = ["id,v", *(f'{i},"{v}"' for i, v in enumerate(head))]
    prefix = ("\n".join(lines) + "\n").encode()
    whole = prefix + "".join(f'{i},"{v}"\n' for i, v in enumerate(tail)).encode()
    settled = settle_text_columns_from(prefix, options, piece_bytes=piece_bytes)
    assert settled == settle_text_columns_from(prefix, options, piece_bytes=len(prefix) + 1)
    full = guesses_of(whole, options)[1]
    if not settled.columns[1].provisional:
        assert (full.type, full.null_markers, full.date_format) == (ColumnType.TEXT, (), None)
        assert settled.columns[1].type is ColumnType.TEXT and settled.columns[1].null_markers == []
    else:  # not settled: the prefix alone does not prove text
        first = guesses_of(prefix, options)[1]
        assert first.type is not ColumnType.TEXT or first.non_empty == 0


def settle_text_columns_from(prefix: bytes, options: ImportOptions, **kwargs: int) -> ImportOptions:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".csv") as f:
        f.write(prefix)
        f.flush()
        return settle_text_columns(f.name, options, 2, **kwargs)


TEXT_THEN_BAD_BYTES = (b"name,city\n" + b"".join(b"Name %d,City %d\n" % (i, i % 50) for i in range(2000))
                       + b"Bad \xff,x\n" + b"".join(b"Name %d,City\n" % i for i in range(100)))
"""Two text columns, proven so by the first record, and a byte that is not utf-8 at 34,504, within 64 KB."""
PROVISIONAL_TEXT = ImportOptions.model_validate({
    "encoding": "utf-8", "delimiter": ",", "quotechar": '"', "has_header": True,
    "columns": [{"source": 0, "name": "name", "type": "text", "provisional": True},
                {"source": 1, "name": "city", "type": "text", "provisional": True}]})


def test_the_first_look_stops_once_every_provisional_column_is_proven_text() -> None:
    """Fed in pieces, the look stops before the bad byte; read whole, the bad byte leaves both unsettled."""
    stopped = settle_text_columns_from(TEXT_THEN_BAD_BYTES, PROVISIONAL_TEXT, piece_bytes=4096)
    assert [(c.type, c.provisional) for c in stopped.columns] == [(ColumnType.TEXT, False)] * 2
    whole = settle_text_columns_from(TEXT_THEN_BAD_BYTES, PROVISIONAL_TEXT, piece_bytes=1 << 16)
    assert whole == PROVISIONAL_TEXT


def run_steps(tmp_path: Path, source: Path, options: ImportOptions | None = None) -> tuple[list[str], str | None]:
    """The names of an import's steps, and its error ('Type: message') if it failed, None if it completed."""

    async def go() -> tuple[list[str], str | None]:
        job = make_import_job(ImportEnv(staging_dir=str(tmp_path / "staging"), sources={"s": FileByteSource(source)},
                                        scan_step_bytes=20_000))
        engine = Engine(str(tmp_path / "app.sqlite"))
        engine.register(job)
        await engine.start()
        try:
            payload = {"source_id": "s", "file_name": source.name, "size": source.stat().st_size,
                       **({"options": options.model_dump(mode="json")} if options is not None else {})}
            run = (await engine.trigger(job, payload)).run
            done = await wait_for(engine, run.id)
            steps = [s.name for s in await engine.get_steps(run.id)]
            if done.error is None:
                assert done.status == "completed"
                return steps, None
            assert done.status == "failed"
            return steps, f"{done.error.type}: {done.error.message}"
        finally:
            await engine.stop()

    return asyncio.run(go())


def test_a_file_of_text_columns_is_imported_without_a_scan(tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text("name,city\n" + "".join(f"Name {i},City {i % 50}\n" for i in range(20_000)))
    steps, error = run_steps(tmp_path, source)
    assert error is None
    assert not [s for s in steps if s.startswith("scan-")]


def test_a_column_that_only_looks_empty_at_first_is_still_scanned(tmp_path: Path) -> None:
    """'NA' alone proves nothing: the column turns out to be numbers with NA as NULL."""
    source = tmp_path / "late.csv"
    source.write_text("name,count\n" + "".join(f"Name {i},{'NA' if i < 10_000 else i}\n" for i in range(12_000)))
    steps, error = run_steps(tmp_path, source)
    assert error is None
    assert [s for s in steps if s.startswith("scan-")]


def test_a_file_error_past_where_the_look_stopped_still_fails_the_run_with_that_error(tmp_path: Path) -> None:
    """The look stopped before the bad byte and settled both columns, so no scan meets it: the batches do,
    with the same sentence the scan would give."""
    source = tmp_path / "bad.csv"
    source.write_bytes(TEXT_THEN_BAD_BYTES)
    steps, error = run_steps(tmp_path, source, PROVISIONAL_TEXT)
    assert not [s for s in steps if s.startswith("scan-")]
    assert error is not None
    assert error.startswith("EncodingError: The file is not valid utf-8: the bytes at offset 34,504 cannot be decoded.")
