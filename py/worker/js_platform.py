"""The Pyodide implementation of worker.platform.Platform: the only module that touches `js`/`pyodide`.

`bridge` is the JS object built in static/js/engine-worker.mjs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from worker.platform import CopierFailed, CopyOutcome, Download

COPIER_SCRIPT = "copier.mjs"
"""The copier's script, relative to static/js/engine-worker.mjs (a test hook names a missing one)."""


class JsByteSource:
    """A `File` read slice by slice (`Blob.arrayBuffer`, async)."""

    def __init__(self, bridge: Any, file: Any) -> None:
        self._bridge = bridge
        self._file = file
        self.name = str(file.name)
        self.size = int(file.size)

    @property
    def file(self) -> Any:
        """The `File` itself (for the copier)."""
        return self._file

    async def read(self, offset: int, length: int) -> bytes:
        end = min(offset + length, self.size)
        if end <= offset:
            return b""
        chunk = await self._bridge.readSlice(self._file, offset, end)
        return bytes(chunk.to_bytes())


class JsCopyPass:
    """A pass of the copier (static/js/copier.mjs), as the bridge's `copy` started it."""

    def __init__(self, job: Any) -> None:
        self._job = job

    def stop_copying(self) -> None:
        self._job.stopCopying()

    async def outcome(self) -> CopyOutcome:
        reply = await self._job.result
        kind, message = str(reply.kind), str(getattr(reply, "message", ""))
        if kind == "done":
            return CopyOutcome(str(reply.sha256), bool(reply.copied), str(reply.error or ""),
                               str(getattr(reply, "hashedBy", "") or ""))
        if kind == "read-error":
            raise OSError(f"The picked file could not be read ({message}). Pick it again.")
        raise CopierFailed(message)


class TabSink:
    """The replies to requests another tab's worker forwarded: sent back to that tab over the bridge (the
    bootstrap's BroadcastChannel); nobody receives them once that tab has closed."""

    def __init__(self, bridge: Any, tab: str) -> None:
        self._bridge = bridge
        self._tab = tab

    def post(self, text: str) -> None:
        self._bridge.replyTo(self._tab, text, None)

    def post_with_blob(self, text: str, blob: Any) -> None:
        self._bridge.replyTo(self._tab, text, blob)


class BrowserPlatform:
    """Platform over the worker bridge."""

    storage_name = "OPFS"

    def __init__(self, bridge: Any, copier_script: str = COPIER_SCRIPT, *, hold_copier: bool = False,
                 copier_whole_bytes: int | None = None) -> None:
        """`copier_script`, `hold_copier` and `copier_whole_bytes`: test hooks (worker/hooks.py `copier_missing`,
        `hold_copier`, `copier_whole_bytes`)."""
        self._bridge = bridge
        self._copier_script = copier_script
        self._hold_copier = hold_copier
        self._copier_whole_bytes = copier_whole_bytes

    def post(self, text: str) -> None:
        self._bridge.post(text)

    def broadcast(self, text: str) -> None:
        self._bridge.broadcast(text)

    def forward(self, text: str, file: Any) -> None:
        self._bridge.forward(text, file)

    def reply_sink(self, tab: str) -> TabSink:
        return TabSink(self._bridge, tab)

    def announce(self, state: str, message: str) -> None:
        self._bridge.announce(state, message)

    def ask_leader(self) -> None:
        self._bridge.askLeader()

    async def prepare_file(self, name: str) -> None:
        await self._bridge.fs.prepare(name)

    async def adopt_file(self, name: str) -> None:
        await self._bridge.fs.adopt(name)

    def start_copy(self, source: Any, name: str | None) -> JsCopyPass | None:
        if not isinstance(source, JsByteSource):
            return None
        from pyodide.ffi import JsException

        try:
            return JsCopyPass(self._bridge.copy(source.file, name, self._copier_script, self._hold_copier,
                                                self._copier_whole_bytes))
        except JsException as exc:  # the browser refused the Worker (a policy, say)
            raise CopierFailed(f"the copier did not start ({exc})") from exc

    async def remove_file(self, name: str) -> None:
        await self._bridge.fs.remove(name)

    def flush(self) -> None:
        self._bridge.fs.flush()

    async def estimate(self) -> dict[str, int]:
        result = await self._bridge.estimate()
        return {"usage": int(result.usage), "quota": int(result.quota)}

    def download(self, name: str, mime: str, chunks: Iterable[str | bytes]) -> Download:
        from js import Array, Blob, Object, Uint8Array
        from pyodide.ffi import to_js

        parts, size = Array.new(), 0
        for chunk in chunks:
            data = chunk.encode() if isinstance(chunk, str) else chunk
            size += len(data)
            parts.push(Uint8Array.new(to_js(memoryview(data))))
        blob = Blob.new(parts, to_js({"type": mime}, dict_converter=Object.fromEntries))
        return Download(name, mime, size, blob)

    def post_with_blob(self, text: str, blob: Any) -> None:
        self._bridge.postWithBlob(text, blob)

    async def next_task(self) -> None:
        await self._bridge.nextTask()

    def heap_bytes(self) -> int:
        return int(self._bridge.heapBytes())

    def byte_source(self, file: Any) -> JsByteSource:
        return JsByteSource(self._bridge, file)

    def sample_file(self, name: str, data: bytes) -> Any:
        from js import Array, File, Uint8Array
        from pyodide.ffi import to_js

        parts = Array.new()
        parts.push(Uint8Array.new(to_js(memoryview(data))))
        return File.new(parts, name)
