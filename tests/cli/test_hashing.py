"""The command's file hash (importer.cli.hashing), computed in a thread while the first look runs."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from importer.cli.display import Display
from importer.cli.exits import CliError
from importer.cli.hashing import HASH_CHUNK, FileHash


@pytest.mark.parametrize("size", [0, 1, HASH_CHUNK, HASH_CHUNK * 2 + 12_345])
def test_the_threaded_hash_is_the_files_sha256_size_and_mtime(tmp_path: Path, size: int) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(os.urandom(size))
    got = FileHash(str(path)).result(Display("none"))
    assert got == (size, hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)


def test_a_file_of_one_chunk_shows_one_line_at_100_percent(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n" * 1_000)
    shown = io.StringIO()
    FileHash(str(path)).result(Display("lines", shown))
    assert shown.getvalue().splitlines() == ["Hashing: 100% of 4,000 bytes"]


def test_a_file_that_cannot_be_read_is_one_sentence(tmp_path: Path) -> None:
    missing = tmp_path / "gone.csv"
    with pytest.raises(CliError) as failed:
        FileHash(str(missing)).result(Display("none"))
    assert failed.value.message == f"Cannot read '{missing}': No such file or directory."
