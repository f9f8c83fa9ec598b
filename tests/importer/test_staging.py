"""Staging verifies its copy against the picked file's sha256: a damaged copy (partial or complete) is copied
again from the file when the file is there, and otherwise the user is asked to pick the file again."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from importer import FileByteSource, SourceMissingError, StagingError
from importer.errors import StagedCopyDamagedError
from importer.staging import stage, verify_in_place

CHUNK = 64
DATA = b"id,name\n" + b"".join(b"%d,name %d\n" % (i, i) for i in range(100))  # ~1.2 KB: many chunks
SHA = hashlib.sha256(DATA).hexdigest()


class CountingSource(FileByteSource):
    """A file on disk that counts the bytes read from it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.bytes_read = 0

    def read(self, offset: int, length: int) -> bytes:
        data = super().read(offset, length)
        self.bytes_read += len(data)
        return data


@pytest.fixture
def source(tmp_path: Path) -> CountingSource:
    path = tmp_path / "people.csv"
    path.write_bytes(DATA)
    return CountingSource(path)


def damaged(data: bytes, at: int) -> bytes:
    """`data` with the byte at `at` flipped, as a torn or lost write leaves a copy."""
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


async def stage_copy(source: CountingSource | None, copy: Path) -> str:
    staged = await stage(source, str(copy), size=len(DATA), name="people.csv", chunk_bytes=CHUNK,
                         expected_sha256=SHA)
    return staged.sha256


async def test_an_intact_partial_copy_is_continued_not_copied_again(source: CountingSource, tmp_path: Path) -> None:
    copy = tmp_path / "copy.csv"
    copy.write_bytes(DATA[:CHUNK * 5])
    assert await stage_copy(source, copy) == SHA
    assert copy.read_bytes() == DATA
    assert source.bytes_read == len(DATA) - CHUNK * 5


async def test_a_partial_copy_with_a_damaged_prefix_is_copied_again_from_the_file(
    source: CountingSource, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.csv"
    copy.write_bytes(damaged(DATA[:CHUNK * 5], 70))
    assert await stage_copy(source, copy) == SHA
    assert copy.read_bytes() == DATA
    assert source.bytes_read == 2 * len(DATA) - CHUNK * 5  # the rest, then the whole file once


async def test_a_damaged_partial_copy_without_the_file_asks_for_it_and_heals_when_it_is_picked_again(
    source: CountingSource, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.csv"
    copy.write_bytes(damaged(DATA[:CHUNK * 5], 3))
    with pytest.raises(SourceMissingError, match="Pick the same file again"):
        await stage_copy(None, copy)
    assert await stage_copy(source, copy) == SHA
    assert copy.read_bytes() == DATA


async def test_a_damaged_complete_copy_is_copied_again_from_the_file(source: CountingSource, tmp_path: Path) -> None:
    copy = tmp_path / "copy.csv"
    copy.write_bytes(damaged(DATA, len(DATA) - 2))
    assert await stage_copy(source, copy) == SHA
    assert copy.read_bytes() == DATA
    assert source.bytes_read == len(DATA)


async def test_a_damaged_complete_copy_without_the_file_asks_for_it_and_heals_when_it_is_picked_again(
    source: CountingSource, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.csv"
    copy.write_bytes(damaged(DATA, 500))
    with pytest.raises(StagedCopyDamagedError, match=r"damaged.*Pick the same file again") as caught:
        await stage_copy(None, copy)
    assert "people.csv" in str(caught.value)
    assert await stage_copy(source, copy) == SHA
    assert copy.read_bytes() == DATA


async def test_an_intact_complete_copy_is_used_without_the_file(tmp_path: Path) -> None:
    copy = tmp_path / "copy.csv"
    copy.write_bytes(DATA)
    assert await stage_copy(None, copy) == SHA


async def test_a_file_that_no_longer_matches_what_was_picked_is_refused_after_one_fresh_copy(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(damaged(DATA, 10))  # the file on disk changed since it was picked (and hashed)
    changed = CountingSource(path)
    copy = tmp_path / "copy.csv"
    with pytest.raises(StagingError, match="no longer has the content that was picked"):
        await stage_copy(changed, copy)
    assert changed.bytes_read == 2 * len(DATA)  # the copy, then one fresh copy from byte 0: no loop


async def test_a_file_read_in_place_is_checked_and_never_written(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n1,2\n")
    path.chmod(0o444)  # the user's own file: reading it must not need write access
    sha = hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    seen: list[tuple[int, int]] = []
    checked = await verify_in_place(str(path), size=8, name="data.csv", expected_sha256=sha,
                                    on_progress=lambda d, t: seen.append((d, t)))
    assert (checked.path, checked.size, checked.sha256, seen[-1]) == (str(path), 8, sha, (8, 8))
    assert path.read_bytes() == b"a,b\n1,2\n"


@pytest.mark.parametrize("content", [b"a,b\n1,3\n", b"a,b\n1,2\n3,4\n"], ids=["same size", "grown"])
async def test_a_file_read_in_place_that_changed_or_went_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    sha = hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    with pytest.raises(StagingError, match="has changed since this import started"):
        await verify_in_place(str(path), size=8, name="data.csv", expected_sha256=sha)
    path.unlink()
    with pytest.raises(StagingError, match="can no longer be read at"):
        await verify_in_place(str(path), size=8, name="data.csv", expected_sha256=sha)
