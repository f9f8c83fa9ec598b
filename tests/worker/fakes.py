"""In-memory stand-ins for the browser platform (worker.platform.Platform)."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from worker.platform import Download

if TYPE_CHECKING:
    from worker.app import WorkerApp


class MemoryByteSource:
    """A picked file held in memory."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self.size = len(data)
        self._data = data

    def read(self, offset: int, length: int) -> bytes:
        return self._data[offset:offset + length]


class Sink:
    """A reply sink that keeps what it was sent (decoded), blobs beside."""

    def __init__(self) -> None:
        self.posted: list[dict[str, Any]] = []

    def post(self, text: str) -> None:
        self.posted.append(json.loads(text))

    def post_with_blob(self, text: str, blob: Any) -> None:
        self.posted.append({**json.loads(text), "blob": blob})


class FakePlatform:
    """Records what the worker posts and broadcasts; storage files live in a real directory."""

    storage_name = "memory"

    def __init__(self, directory: Any = None) -> None:
        self.posted: list[dict[str, Any]] = []
        self.broadcasts: list[dict[str, Any]] = []
        self.forwarded: list[tuple[str, Any]] = []
        self.announced: list[tuple[str, str]] = []
        self.asked = 0
        self.flushes = 0
        self.prepared: list[str] = []
        self.removed: list[str] = []
        self.directory = directory
        self.quota = 10_000_000_000

    def post(self, text: str) -> None:
        self.posted.append(json.loads(text))

    def broadcast(self, text: str) -> None:
        self.broadcasts.append(json.loads(text))

    def forward(self, text: str, file: Any) -> None:
        self.forwarded.append((text, file))

    def reply_sink(self, tab: str) -> Sink:
        return Sink()

    def announce(self, state: str, message: str) -> None:
        self.announced.append((state, message))

    def ask_leader(self) -> None:
        self.asked += 1

    async def prepare_file(self, name: str) -> None:
        self.prepared.append(name)

    async def adopt_file(self, name: str) -> None:
        self.prepared.append(name)

    def start_copy(self, source: Any, name: str | None) -> None:
        return None  # no copier on CPython: the worker makes each pass itself

    async def remove_file(self, name: str) -> None:
        self.removed.append(name)
        if self.directory is not None:
            (self.directory / name).unlink(missing_ok=True)

    def flush(self) -> None:
        self.flushes += 1

    async def estimate(self) -> dict[str, int]:
        """1234 bytes, plus the files the worker made through `prepare_file` (staged copies), as a browser counts."""
        made = [self.directory / name for name in set(self.prepared)] if self.directory is not None else []
        return {"usage": 1234 + sum(path.stat().st_size for path in made if path.exists()), "quota": self.quota}

    def download(self, name: str, mime: str, chunks: Any) -> Download:
        data = b"".join(c.encode() if isinstance(c, str) else c for c in chunks)
        return Download(name, mime, len(data), data)

    def post_with_blob(self, text: str, blob: Any) -> None:
        self.posted.append({**json.loads(text), "blob": blob})

    def heap_bytes(self) -> int:
        return 0

    async def next_task(self) -> None:
        await asyncio.sleep(0)

    def byte_source(self, file: Any) -> MemoryByteSource:
        return file

    def sample_file(self, name: str, data: bytes) -> MemoryByteSource:
        return MemoryByteSource(name, data)

    def replies(self) -> list[dict[str, Any]]:
        return [m for m in self.posted if "id" in m]

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        return [m for m in self.posted if "event" in m and event_type in (None, m["event"])]


class Client:
    """Calls worker methods the way the page does, through receive() and the posted replies."""

    def __init__(self, app: WorkerApp, platform: FakePlatform) -> None:
        self.app, self.platform, self.next_id = app, platform, 0

    async def call(self, method: str, file: Any = None, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        text = json.dumps({"id": self.next_id, "method": method, "params": params})
        self.app.receive({"json": text, "file": file} if file is not None else text)
        for _ in range(2000):
            await asyncio.sleep(0.001)
            for reply in self.platform.replies():
                if reply["id"] == self.next_id:
                    return reply
        raise AssertionError(f"no reply to {method}")

    async def ok(self, method: str, file: Any = None, **params: Any) -> Any:
        reply = await self.call(method, file, **params)
        assert reply["ok"], reply
        return reply["result"]

    async def wait_for_status(self, run_id: str, *statuses: str) -> dict[str, Any]:
        for _ in range(500):
            run = await self.ok("runs.get", run_id=run_id)
            if run["status"] in statuses:
                return run
            await asyncio.sleep(0.01)
        raise AssertionError(f"run {run_id} stayed {run['status']}")


class Tabs:
    """The tabs of one origin: worker apps whose platforms share one channel, delivered as the JS bootstrap
    does (static/js/engine-worker.mjs `fromChannel`): events to `on_broadcast`, forwarded requests to
    `on_forwarded`, replies to the addressed tab's `on_forwarded_reply`, announcements to `on_leader`.
    Messages are delivered at once, in order; a closed tab receives nothing."""

    def __init__(self) -> None:
        self.apps: dict[str, WorkerApp] = {}

    def open(self, tab: str, app_factory: Any, directory: Any = None) -> tuple[WorkerApp, TabPlatform]:
        platform = TabPlatform(self, tab, directory)
        app = app_factory(platform)
        self.apps[tab] = app
        return app, platform

    def close(self, tab: str) -> None:
        self.apps.pop(tab)

    def deliver(self, sender: str, kind: str, *args: Any) -> None:
        for tab, app in list(self.apps.items()):
            if tab == sender:
                continue  # a BroadcastChannel does not deliver to the sender
            if kind == "event":
                app.on_broadcast(*args)
            elif kind == "request":
                app.on_forwarded(sender, *args)
            elif kind == "reply" and args[0] == tab:
                app.on_forwarded_reply(*args[1:])
            elif kind == "leader":
                app.on_leader(sender, *args)
            elif kind == "hello":
                app.on_hello()


class TabPlatform(FakePlatform):
    """A FakePlatform whose channel messages reach the other tabs of `tabs`."""

    def __init__(self, tabs: Tabs, tab: str, directory: Any = None) -> None:
        super().__init__(directory)
        self.tabs, self.tab = tabs, tab

    def broadcast(self, text: str) -> None:
        super().broadcast(text)
        self.tabs.deliver(self.tab, "event", text)

    def forward(self, text: str, file: Any) -> None:
        super().forward(text, file)
        self.tabs.deliver(self.tab, "request", text, file)

    def reply_sink(self, tab: str) -> TabSink:
        return TabSink(self, tab)

    def announce(self, state: str, message: str) -> None:
        super().announce(state, message)
        self.tabs.deliver(self.tab, "leader", state, message)

    def ask_leader(self) -> None:
        super().ask_leader()
        self.tabs.deliver(self.tab, "hello")


class TabSink:
    """Replies to tab `tab`, over the channel of `platform`."""

    def __init__(self, platform: TabPlatform, tab: str) -> None:
        self.platform, self.tab = platform, tab

    def post(self, text: str) -> None:
        self.platform.tabs.deliver(self.platform.tab, "reply", self.tab, text, None)

    def post_with_blob(self, text: str, blob: Any) -> None:
        self.platform.tabs.deliver(self.platform.tab, "reply", self.tab, text, blob)
