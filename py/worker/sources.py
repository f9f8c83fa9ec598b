"""Files the user picked in this page session, by source id: one background pass over each reads it once,
hashes it and, where storage allows, copies it into storage ahead of Start.

The import job reads a source while staging it; after a reload the registry is empty and the job uses
its staged copy. Where the platform has a copier (the browser: static/js/copier.mjs, a worker of its own),
the pass runs there, on another core, and this thread only awaits its outcome; otherwise (CPython, or a
copier that cannot start: said on stderr) it runs here as an asyncio task that yields between chunks, so the
worker keeps serving. Both keep the same contract (`sha256`, `take_copy`, `give_back`, `copied`).

Staging ahead: while the user looks at the preview, the pass writes what it reads to `ahead-<source id>.csv`
in the staging directory (once `copy_into` named it: the leader, its storage open), so `import.start` finds
the sha256 and a complete, hashed copy ready and the job's `stage` step has nothing left to do. Only the
newest picked file is copied: picking another drops the older copy that no import took (its Start then
stages in the job, as without a copy), and a copy is dropped, the pass hashing on, when the storage has no
room for it (`room(size)` false, or a write fails). A copy no run took when the page closed is deleted at
the next engine start (`sweep`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import os
import re
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO

from worker.platform import ByteSource, CopierFailed, CopyPass

StartCopy = Callable[[ByteSource, str | None], CopyPass | None]
"""`Platform.start_copy`: a pass over a source off this thread, or None where there is no copier."""

HASH_CHUNK = 4 << 20
AHEAD_PREFIX = "ahead-"
_AHEAD_NAME = re.compile(r"ahead-[0-9a-f]{32}\.csv")


@dataclass(frozen=True)
class CopyTarget:
    """Where copies staged ahead go: the directory, how to make a file creatable there (`prepare`, OPFS),
    whether `size` bytes fit (`room`, the same rule as Start's space check), and how to open a file the
    copier wrote (`adopt`, OPFS)."""

    directory: str
    prepare: Callable[[str], Awaitable[None]]
    room: Callable[[int], Awaitable[bool]]
    adopt: Callable[[str], Awaitable[None]]


class SourceRegistry(Mapping[str, ByteSource]):
    """source id -> ByteSource, plus each source's sha256 and copy staged ahead (a task started on `add`)."""

    def __init__(self, start_copy: StartCopy | None = None) -> None:
        """`start_copy`: the platform's copier (`Platform.start_copy`); None: every pass runs here."""
        self._start_copy = start_copy
        self._sources: dict[str, ByteSource] = {}
        self._passes: dict[str, asyncio.Task[str]] = {}
        self._copying: dict[str, CopyPass] = {}  # source id -> its copier's pass, while it runs
        self._copies: dict[str, str] = {}  # source id -> its complete copy that no import took yet
        self._target: CopyTarget | None = None
        self._newest: str | None = None
        self.copied: dict[str, tuple[int, str]] = {}
        """Path -> (size, sha256) of every copy a pass wrote and hashed in this session (the import job's
        `ImportEnv.copied`: its `stage` step takes such a copy as staged)."""
        self.made_by: dict[str, str] = {}
        """Source id -> where its pass ran: "copier", or "python" (with the reason when the copier failed)."""
        self.hashed_by: dict[str, str] = {}
        """Source id -> what hashed it in the copier ("webcrypto", "hash-wasm"), as the copier said."""

    def copy_into(self, target: CopyTarget | None) -> None:
        """Stage the files picked from now on ahead into `target` (None: only hash them)."""
        self._target = target

    def add(self, source: ByteSource) -> str:
        """Register a picked file; returns its new source id and starts its pass (dropping the copy of the
        previously newest file if no import took it)."""
        source_id = uuid.uuid4().hex
        self._sources[source_id] = source
        for older in list(self._copies):
            self._drop(older)
        for running in self._copying.values():
            running.stop_copying()
        self._newest = source_id
        self._passes[source_id] = asyncio.ensure_future(self._pass(source_id, source))
        return source_id

    def alias(self, alias_id: str, source_id: str) -> None:
        """Make `alias_id` (a source id an earlier run recorded) name the picked file `source_id`."""
        self._sources[alias_id] = self._sources[source_id]
        self._passes[alias_id] = self._passes[source_id]

    async def sha256(self, source_id: str) -> str:
        """The source's sha256 (hex), waiting for its pass if it is still running."""
        return await self._passes[source_id]

    async def take_copy(self, source_id: str) -> str | None:
        """Wait for the source's pass; return the path of its complete copy staged ahead, now the caller's
        (no other call gets it, and it is no longer dropped), or None when there is none."""
        await self._passes[source_id]
        return self._copies.pop(source_id, None)

    def give_back(self, source_id: str, path: str) -> None:
        """Return a copy `take_copy` gave (the import was not started after all): kept for the next Start
        of the same file if it is still the newest, deleted otherwise."""
        self._copies[source_id] = path
        if source_id != self._newest:
            self._drop(source_id)

    def __getitem__(self, source_id: str) -> ByteSource:
        return self._sources[source_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sources)

    def __len__(self) -> int:
        return len(self._sources)

    async def _pass(self, source_id: str, source: ByteSource) -> str:
        """Read `source` once: hash it and, while it stays the newest with room, copy it ahead; in the copier
        when the platform has one, else here."""
        path = await self._copy_path(source_id, source.size)
        target, reason = self._target, ""
        try:
            running = self._start_copy(source, os.path.basename(path) if path else None) if self._start_copy else None
            if running is not None:
                return await self._copier_pass(source_id, source, running, path=path, target=target)
        except CopierFailed as exc:
            reason = f"the copier failed: {exc}"
            print(f"worker: the picked file is hashed and copied in Python: {reason}", file=sys.stderr)
        self.made_by[source_id] = f"python ({reason})" if reason else "python"
        return await self._python_pass(source_id, source, path)

    async def _copier_pass(self, source_id: str, source: ByteSource, running: CopyPass, *, path: str | None,
                           target: CopyTarget | None) -> str:
        """The pass `running` in the copier (off this thread); its copy, once complete, is opened here (`adopt`).
        Raises CopierFailed when it could not run (nothing was copied), OSError when the file could not be read."""
        self.made_by[source_id] = "copier"
        self._copying[source_id] = running
        try:
            if source_id != self._newest:  # another file was picked before this pass began
                running.stop_copying()
            outcome = await running.outcome()
        finally:
            del self._copying[source_id]
        self.hashed_by[source_id] = outcome.hashed_by
        if outcome.error:
            print(f"worker: no copy of a picked file ahead of Start: {outcome.error}", file=sys.stderr)
        if outcome.copied and path is not None and target is not None:
            await target.adopt(os.path.basename(path))
            if source_id == self._newest:
                self._copies[source_id] = path
                self.copied[path] = (source.size, outcome.sha256)
            else:  # it finished before it heard that another file was picked
                _remove(path)
        return outcome.sha256

    async def _python_pass(self, source_id: str, source: ByteSource, path: str | None) -> str:
        """The pass made here, between the worker's other tasks."""
        digest = hashlib.sha256()
        # each chunk is read (by the browser, off this thread) while the one before is hashed and written
        ahead = asyncio.ensure_future(read(source, 0, HASH_CHUNK)) if source.size else None
        out = await self._open_copy(path)
        try:
            for offset in range(0, source.size, HASH_CHUNK):
                assert ahead is not None
                data = await ahead
                following = offset + HASH_CHUNK
                ahead = asyncio.ensure_future(read(source, following, HASH_CHUNK)) if following < source.size else None
                digest.update(data)
                if out is not None and (source_id != self._newest or not _write(out, data)):
                    _discard(out, path)  # another file was picked, or the storage is full: hash on
                    out = None
                await asyncio.sleep(0)
            if out is not None and _finish(out):
                assert path is not None
                self._copies[source_id] = path
                self.copied[path] = (source.size, digest.hexdigest())
            elif out is not None:
                _discard(out, path)
            out = None
        finally:
            if ahead is not None and not ahead.done():
                ahead.cancel()
            if out is not None:  # the file failed to read, or the pass was cancelled: no copy
                _discard(out, path)
        return digest.hexdigest()

    async def _copy_path(self, source_id: str, size: int) -> str | None:
        """The path of the copy ahead of the source picked as `source_id`, or None when it gets none (no
        target, an empty file, no room, or the storage refused to tell)."""
        target = self._target
        if target is None or size == 0:
            return None
        try:
            if not await target.room(size):
                return None
        except Exception as exc:  # storage refused (a JS error in the browser): the job stages the file instead
            print(f"worker: no copy of a picked file ahead of Start: {exc!r}", file=sys.stderr)
            return None
        return os.path.join(target.directory, f"{AHEAD_PREFIX}{source_id}.csv")

    async def _open_copy(self, path: str | None) -> BinaryIO | None:
        if path is None or self._target is None:
            return None
        try:
            await self._target.prepare(os.path.basename(path))
            return open(path, "wb")  # closed by _finish or _discard
        except Exception as exc:  # storage refused (a JS error in the browser): the job stages the file instead
            print(f"worker: no copy of a picked file ahead of Start: {exc!r}", file=sys.stderr)
            return None

    def _drop(self, source_id: str) -> None:
        path = self._copies.pop(source_id, None)
        if path is not None:
            self.copied.pop(path, None)
            _remove(path)


async def read(source: ByteSource, offset: int, length: int) -> bytes:
    """`source.read`, awaited when the source reads asynchronously (a browser `File`)."""
    data = source.read(offset, length)
    return await data if inspect.isawaitable(data) else data


def is_ahead_copy(name: str) -> bool:
    """Whether storage file `name` is a copy staged ahead (`ahead-<32 hex digits>.csv`)."""
    return _AHEAD_NAME.fullmatch(name) is not None


def _write(out: BinaryIO, data: bytes) -> bool:
    try:
        out.write(data)
    except OSError:  # the storage is full (or failing): the import stages in the job instead
        return False
    return True


def _finish(out: BinaryIO) -> bool:
    try:
        out.flush()
        os.fsync(out.fileno())
        out.close()
    except OSError:
        return False
    return True


def _discard(out: BinaryIO, path: str | None) -> None:
    with contextlib.suppress(OSError):  # a failed flush of a copy that is deleted anyway
        out.close()
    if path is not None:
        _remove(path)


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):  # already gone: nothing to clean up
        os.remove(path)
