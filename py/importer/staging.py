"""Staging: copy the user's file into the app's own storage in chunks, hashing it on the way.

Role: the import job's first step. The source is any `ByteSource` (in the browser, the picked `File`;
on CPython, a `FileByteSource`); the copy lands in the staging directory (OPFS in the browser), so a
reloaded page resumes from the copy without the user picking the file again. A partial copy from an
interrupted run is continued, not restarted; a complete one is only re-hashed. The copy is verified against
the picked file's sha256 before it is used, and a damaged one is copied again from the file.
"""

from __future__ import annotations

import hashlib
import inspect
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol, runtime_checkable

from importer.errors import SourceMissingError, StagedCopyDamagedError, StagingError

DEFAULT_STAGE_CHUNK = 4 << 20


@runtime_checkable
class ByteSource(Protocol):
    """A readable file of known size: `read(offset, length)` returns up to `length` bytes (sync or async).

    `read` raises OSError when the file is gone (the worker's File object after a reload, say).
    """

    name: str
    size: int

    def read(self, offset: int, length: int) -> bytes | Awaitable[bytes]: ...


class FileByteSource:
    """A `ByteSource` over a path on CPython's (or Emscripten's) file system."""

    def __init__(self, path: str | os.PathLike[str], name: str | None = None) -> None:
        self.path = os.fspath(path)
        self.name = name or os.path.basename(self.path)
        self.size = os.path.getsize(self.path)

    def read(self, offset: int, length: int) -> bytes:
        """Return the bytes at [offset, offset + length)."""
        with open(self.path, "rb") as f:
            f.seek(offset)
            return f.read(length)


@dataclass(frozen=True)
class StagedFile:
    """A complete staged copy: where it is, how big, and its sha256 (hex)."""

    path: str
    size: int
    sha256: str


Progress = Callable[[int, int], None]
AfterChunk = Callable[[int, int], Awaitable[None]]


async def stage(
    source: ByteSource | None,
    path: str,
    *,
    size: int,
    name: str,
    chunk_bytes: int = DEFAULT_STAGE_CHUNK,
    on_progress: Progress | None = None,
    expected_sha256: str | None = None,
    after_chunk: AfterChunk | None = None,
) -> StagedFile:
    """Copy `source` (`size` bytes) to `path`, continuing a partial copy; return the staged file.

    `source` None means the original is gone: a complete copy is still usable. `on_progress(done, total)`
    is called after each chunk, then `after_chunk(before, after)` (bytes copied before and after it) is
    awaited (a test holds staging there; nothing sets it in production). With `expected_sha256` (the
    picked file's hash) the copy is verified before it is returned: a copy that does not match is copied
    again from byte 0 when `source` is there (once), else `StagedCopyDamagedError` asks for the file again.
    Raises `SourceMissingError` (source gone before the copy completed) and `StagingError` (the file itself
    no longer has the expected size or sha256).
    """
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    have = os.path.getsize(path) if os.path.exists(path) else 0
    if have > size:
        have = 0
    if have < size and source is None:
        raise SourceMissingError(name)
    have -= have % chunk_bytes if have < size else 0
    staged = await _copy(source, path, have, size, name, chunk_bytes, on_progress, after_chunk)
    expected = expected_sha256.lower() if expected_sha256 else None
    if expected is None or staged.sha256 == expected:
        return staged
    if source is None:
        raise StagedCopyDamagedError(name)
    staged = await _copy(source, path, 0, size, name, chunk_bytes, on_progress, after_chunk)  # the copy was damaged
    if staged.sha256 != expected:
        raise StagingError(f"The file '{name}' no longer has the content that was picked (its sha256 differs).",
                           hint="Pick the file again; it may have changed since it was picked.")
    return staged


async def _copy(
    source: ByteSource | None, path: str, have: int, size: int, name: str, chunk_bytes: int,
    on_progress: Progress | None,
    after_chunk: AfterChunk | None = None,
) -> StagedFile:
    """Keep the first `have` bytes of the copy at `path`, copy the rest from `source`, and hash it all."""
    digest = hashlib.sha256()
    with open(path, "r+b" if os.path.exists(path) else "w+b") as out:
        out.truncate(have)
        _hash_existing(out, digest, have, chunk_bytes)
        done = have
        while done < size:
            assert source is not None
            data = await _read(source, done, min(chunk_bytes, size - done), name)
            if not data:
                raise StagingError(
                    f"The file '{name}' ended after {done:,} of {size:,} bytes.",
                    hint="Pick the file again; it may have changed while it was read.",
                )
            out.write(data)
            digest.update(data)
            done += len(data)
            if on_progress is not None:
                on_progress(done, size)
            if after_chunk is not None:
                await after_chunk(done - len(data), done)
        out.flush()
        os.fsync(out.fileno())
    return StagedFile(path, size, digest.hexdigest())


def _hash_existing(f: BinaryIO, digest: Any, length: int, chunk_bytes: int) -> None:
    """Feed the first `length` bytes of the open staged copy to `digest` and leave `f` at `length`."""
    f.seek(0)
    left = length
    while left > 0:
        data = f.read(min(chunk_bytes, left))
        if not data:
            break
        digest.update(data)
        left -= len(data)
    f.seek(length)


async def _read(source: ByteSource, offset: int, length: int, name: str) -> bytes:
    try:
        data = source.read(offset, length)
        if inspect.isawaitable(data):
            data = await data
    except OSError as exc:
        raise SourceMissingError(name) from exc
    return bytes(data)


async def verify_in_place(
    path: str,
    *,
    size: int,
    name: str,
    expected_sha256: str | None,
    chunk_bytes: int = DEFAULT_STAGE_CHUNK,
    on_progress: Progress | None = None,
) -> StagedFile:
    """Check the user's own file at `path` (read where it is, never written): it must still have `size`
    bytes and, when given, `expected_sha256`. Returns it as a `StagedFile`. Raises `StagingError` saying
    the file is gone or has changed since the import started.
    """
    hint = "Put the original file back at that path to resume, or delete the run and import the new content."
    try:
        found = os.path.getsize(path)
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            done = 0
            while data := f.read(chunk_bytes):
                digest.update(data)
                done += len(data)
                if on_progress is not None:
                    on_progress(min(done, size), size)
    except OSError as exc:
        raise StagingError(f"The file '{name}' can no longer be read at {path!r} ({exc.strerror or exc}).",
                           hint=hint) from None
    sha256 = digest.hexdigest()
    if found != size or (expected_sha256 and sha256 != expected_sha256.lower()):
        raise StagingError(f"The file '{name}' has changed since this import started (its size or sha256 differs).",
                           hint=hint)
    return StagedFile(path, size, sha256)


def remove_staged(path: str) -> bool:
    """Delete a staged copy; return True if a file was removed (a missing file is not an error)."""
    try:
        os.remove(path)
    except FileNotFoundError:
        return False
    return True
