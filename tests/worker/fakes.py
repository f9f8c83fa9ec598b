"""In-memory stand-ins for the browser platform (worker.platform.Platform)."""

from __future__ import annotations

import json
from typing import Any

from worker.platform import Download


class MemoryByteSource:
    """A picked file held in memory."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self.size = len(data)
        self._data = data

    def read(self, offset: int, length: int) -> bytes:
        return self._data[offset:offset + length]


class FakePlatform:
    """Records what the worker posts and broadcasts; storage files live in a real directory."""

    storage_name = "memory"

    def __init__(self, directory: Any = None) -> None:
        self.posted: list[dict[str, Any]] = []
        self.broadcasts: list[dict[str, Any]] = []
        self.flushes = 0
        self.prepared: list[str] = []
        self.removed: list[str] = []
        self.directory = directory
        self.quota = 10_000_000_000

    def post(self, text: str) -> None:
        self.posted.append(json.loads(text))

    def broadcast(self, text: str) -> None:
        self.broadcasts.append(json.loads(text))

    async def prepare_file(self, name: str) -> None:
        self.prepared.append(name)

    async def remove_file(self, name: str) -> None:
        self.removed.append(name)
        if self.directory is not None:
            (self.directory / name).unlink(missing_ok=True)

    def flush(self) -> None:
        self.flushes += 1

    async def estimate(self) -> dict[str, int]:
        return {"usage": 1234, "quota": self.quota}

    def download(self, name: str, mime: str, chunks: Any) -> Download:
        data = b"".join(c.encode() if isinstance(c, str) else c for c in chunks)
        return Download(name, mime, len(data), data)

    def post_with_blob(self, text: str, blob: Any) -> None:
        self.posted.append({**json.loads(text), "blob": blob})

    def heap_bytes(self) -> int:
        return 0

    def byte_source(self, file: Any) -> MemoryByteSource:
        return file

    def replies(self) -> list[dict[str, Any]]:
        return [m for m in self.posted if "id" in m]

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        return [m for m in self.posted if "event" in m and event_type in (None, m["event"])]
