"""Files the user picked in this page session, by source id, with their sha256 computed in the background.

The import job reads a source while staging it; after a reload the registry is empty and the job uses
its staged copy. Hashing runs as an asyncio task that yields between chunks, so the worker keeps serving.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import uuid
from collections.abc import Iterator, Mapping

from worker.platform import ByteSource

HASH_CHUNK = 4 << 20


class SourceRegistry(Mapping[str, ByteSource]):
    """source id -> ByteSource, plus each source's sha256 (a task started on `add`)."""

    def __init__(self) -> None:
        self._sources: dict[str, ByteSource] = {}
        self._hashes: dict[str, asyncio.Task[str]] = {}

    def add(self, source: ByteSource) -> str:
        """Register a picked file; returns its new source id and starts hashing it."""
        source_id = uuid.uuid4().hex
        self._sources[source_id] = source
        self._hashes[source_id] = asyncio.ensure_future(_sha256(source))
        return source_id

    def alias(self, alias_id: str, source_id: str) -> None:
        """Make `alias_id` (a source id an earlier run recorded) name the picked file `source_id`."""
        self._sources[alias_id] = self._sources[source_id]
        self._hashes[alias_id] = self._hashes[source_id]

    async def sha256(self, source_id: str) -> str:
        """The source's sha256 (hex), waiting for the background hash if it is still running."""
        return await self._hashes[source_id]

    def __getitem__(self, source_id: str) -> ByteSource:
        return self._sources[source_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sources)

    def __len__(self) -> int:
        return len(self._sources)


async def read(source: ByteSource, offset: int, length: int) -> bytes:
    """`source.read`, awaited when the source reads asynchronously (a browser `File`)."""
    data = source.read(offset, length)
    return await data if inspect.isawaitable(data) else data


async def _sha256(source: ByteSource) -> str:
    digest = hashlib.sha256()
    for offset in range(0, source.size, HASH_CHUNK):
        digest.update(await read(source, offset, HASH_CHUNK))
        await asyncio.sleep(0)
    return digest.hexdigest()
