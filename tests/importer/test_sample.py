"""`importer.sample`: the warm-up's sample import runs the batches' path, piece by piece, and leaves nothing."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

import pytest

from importer.sample import COLUMNS, HEADER, sample_import, sample_line


def test_it_imports_piece_by_piece_accepting_and_rejecting_as_an_import_does() -> None:
    counts = list(sample_import(rows=5_000, piece_rows=1_000))
    assert [sum(c) for c in counts[:5]] == [1_000, 2_000, 3_000, 4_000, 5_000]
    assert counts[-1] == (4_900, 100)  # one row in fifty has no valid email: a reject, with its reasons stored


def test_the_sample_is_a_csv_whose_rows_fill_every_column_and_some_are_rejects() -> None:
    """It takes every conversion (the rows are well formed) and the reject path (one row in fifty)."""
    records = list(csv.reader(io.StringIO(HEADER + "".join(map(sample_line, range(100))))))
    assert records[0] == [name for name, _, _ in COLUMNS] and all(len(r) == len(COLUMNS) for r in records)
    assert sum(r[2] == "not an email" for r in records[1:]) == 2


def test_closing_it_early_removes_its_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    pieces = sample_import(rows=5_000, piece_rows=1_000)
    assert sum(next(pieces)) == 1_000
    assert len(os.listdir(tmp_path)) == 1  # the sample's folder, while it runs
    pieces.close()
    assert os.listdir(tmp_path) == []
