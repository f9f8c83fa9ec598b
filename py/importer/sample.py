"""A sample import into memory, run piece by piece while the engine is idle, so that a real import's first batch
does not run on cold code.

Why: V8 runs WebAssembly first as baseline code (Liftoff) and compiles a function with its optimising compiler
(TurboFan), in the background, only once it has run for a while. The import's hottest functions (the CSV
parser, the conversions and rules, SQLite's inserts) are cold until the first batch, which therefore ran 2-3
times slower per row than the batches after it: 300,000 rows in headless chromium on the 2-core machine,
18-29 µs a row in the first batch and 6-9 µs in the others, about 0.35 s lost per import. With every function
compiled by TurboFan up front (`--js-flags=--no-liftoff`, a diagnosis, not something a page can ask for) the
first batch ran like the others, 6-8 µs; after this sample (30,000 rows) in the worker's warm-up it did too,
7-9 µs. The worker (worker/app.py `_warm_up`) runs it one piece per task, so a request waits for one piece at
most, and stops it once a run starts: a real import warms the same code itself.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Generator
from typing import Any

from importer import sql
from importer.formats import ColumnType
from importer.options import ColumnSpec, ImportOptions
from importer.reader import DEFAULT_CHUNK_BYTES
from importer.slices import LocalSlices, SliceSettings
from importer.validate import RowChecker

SAMPLE_ROWS = 30_000
"""Rows the sample imports: 5,000 were not enough for the first batch to run warm, 30,000 were."""
PIECE_ROWS = 2_000
"""Rows of one piece (one task of the warm-up): tens of milliseconds in the browser."""
COLUMNS: tuple[tuple[str, ColumnType, dict[str, Any]], ...] = (
    ("id", ColumnType.INTEGER, {}),
    ("name", ColumnType.TEXT, {}),
    ("email", ColumnType.TEXT, {"email": True}),
    ("amount", ColumnType.REAL, {}),
    ("active", ColumnType.BOOLEAN, {}),
    ("day", ColumnType.DATE, {"date_format": "YYYY-MM-DD"}),
)
"""The sample's columns (made into `ColumnSpec`s only when it runs: that builds the model's validator)."""
HEADER = ",".join(name for name, _, _ in COLUMNS) + "\n"


def sample_specs() -> list[ColumnSpec]:
    """The sample's column specs."""
    return [ColumnSpec(source=i, name=name, type=kind, **rules) for i, (name, kind, rules) in enumerate(COLUMNS)]


def sample_line(i: int) -> str:
    """Row `i` of the sample: every column converts, except in about one row in fifty (a reject)."""
    email = f"user{i}@example.com" if i % 50 else "not an email"
    return f'{i},"Name {i}",{email},{i % 9999}.{i % 100:02d},{"true" if i % 2 else "false"},2026-{i % 12 + 1:02d}-01\n'


def sample_import(rows: int = SAMPLE_ROWS, piece_rows: int = PIECE_ROWS) -> Generator[tuple[int, int]]:
    """Import `rows` sample rows from a temporary CSV file into an in-memory SQLite database through the
    batches' own path (`LocalSlices`, `RowChecker`, the `sql` inserts), `piece_rows` at a time: each `next()`
    imports one piece and yields the rows accepted and rejected so far. The file and the database are gone
    once the generator ends or is closed."""
    options = ImportOptions(encoding="utf-8", delimiter=",", quotechar='"', has_header=True, columns=sample_specs())
    checker = RowChecker(options, len(COLUMNS))
    with tempfile.TemporaryDirectory(prefix="warm-up-") as folder:
        path = os.path.join(folder, "sample.csv")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(HEADER + "".join(map(sample_line, range(rows))))
        source = LocalSlices(SliceSettings(path, options, len(COLUMNS), DEFAULT_CHUNK_BYTES, 10_000_000), checker,
                             len(HEADER), 2)
        conn = sqlite3.connect(":memory:")  # each piece's inserts one transaction (`with conn`), as a batch's
        try:
            sql.create_target(conn, "sample", checker.specs)
            sql.create_rejects_table(conn)
            insert = sql.insert_statement("sample", [s.name for s in checker.specs])
            accepted, rejected, eof = 0, 0, False
            while not eof:
                piece = source.next(piece_rows, None)
                with conn:
                    sql.insert_rows(conn, insert, piece.checked.rows())
                    sql.insert_rejects(conn, "sample", piece.checked.rejects)
                accepted, rejected = accepted + piece.checked.accepted, rejected + len(piece.checked.rejects)
                eof = piece.eof
                yield accepted, rejected
        finally:
            source.close()
            conn.close()
