"""The browser services the worker uses, as Protocols: the one seam between Python and the platform.

`js_platform.BrowserPlatform` implements it in Pyodide; tests use the in-memory fakes in tests/worker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Download:
    """A file for the user to save: its name, type, size and the platform's blob (bytes in tests)."""

    name: str
    mime: str
    size: int
    blob: Any


class ByteSource(Protocol):
    """A file the user picked: name, size, and random-access reads (sync, or async in the browser)."""

    name: str
    size: int

    def read(self, offset: int, length: int) -> bytes | Awaitable[bytes]: ...


@dataclass(frozen=True)
class CopyOutcome:
    """What a pass of the copier gave: the file's sha256, and whether the copy it was asked for is complete
    in storage (`copied`); if not, `error` says why ("" when it was stopped, or no copy was asked for).
    `hashed_by`: what computed the sha256 ("webcrypto", "hash-wasm"; "" when not said)."""

    sha256: str
    copied: bool
    error: str = ""
    hashed_by: str = ""


class CopierFailed(Exception):
    """The copier could not make its pass (it did not start, or cannot hash here): the worker makes it."""


class CopyPass(Protocol):
    """A pass over a picked file that the platform runs off the worker's thread (the copier)."""

    def stop_copying(self) -> None:
        """Give up the copy (its partial file removed) and only hash the rest."""

    async def outcome(self) -> CopyOutcome:
        """Wait for the pass. Raises CopierFailed, or OSError when the file could not be read (no copy left)."""


class ReplySink(Protocol):
    """Where the replies to one caller's requests go: this tab's page (the platform itself), or the page of
    another tab whose worker forwarded them (`Platform.reply_sink`)."""

    def post(self, text: str) -> None:
        """Send a reply or an event to the caller."""

    def post_with_blob(self, text: str, blob: Any) -> None:
        """Send a reply with a blob beside it (a download)."""


class Platform(Protocol):
    """What the worker needs from its host."""

    def post(self, text: str) -> None:
        """Send a message to this tab's page."""

    def broadcast(self, text: str) -> None:
        """Send an event to the other tabs' workers, which relay it to their pages when they follow."""

    def forward(self, text: str, file: Any) -> None:
        """Send a request of this tab's page (and the file beside it, or None) to the worker that leads."""

    def reply_sink(self, tab: str) -> ReplySink:
        """The sink for the replies to requests that tab `tab`'s worker forwarded here."""

    def announce(self, state: str, message: str) -> None:
        """Tell the other tabs' workers that this worker leads, in engine state `state`."""

    def ask_leader(self) -> None:
        """Ask the worker that leads, if any, to announce itself."""

    async def prepare_file(self, name: str) -> None:
        """Make storage file `name` creatable synchronously (OPFS needs an async open first)."""

    async def adopt_file(self, name: str) -> None:
        """Make storage file `name`, which the copier wrote and closed, openable here (OPFS: an async open)."""

    def start_copy(self, source: ByteSource, name: str | None) -> CopyPass | None:
        """Start a pass over `source` off this thread: hash it and, when `name` is given, copy it into storage
        file `name`. None when there is no copier for it here (CPython, a source that is not a picked file);
        the caller then makes the pass itself. Raises CopierFailed when the copier cannot be started."""

    async def remove_file(self, name: str) -> None:
        """Delete storage file `name`; no error if missing."""

    def flush(self) -> None:
        """Make every committed write durable."""

    async def estimate(self) -> dict[str, int]:
        """Storage `usage` and `quota` in bytes."""

    def download(self, name: str, mime: str, chunks: Iterable[str | bytes]) -> Download:
        """Collect `chunks` (text is UTF-8 encoded) into a download."""

    def post_with_blob(self, text: str, blob: Any) -> None:
        """Send a message with a blob beside it."""

    def byte_source(self, file: Any) -> ByteSource:
        """Wrap a posted `File` for reading."""

    def sample_file(self, name: str, data: bytes) -> Any:
        """`data` as a file the page could have posted (a `File` in the browser), for `byte_source`: the
        rehearsal reads its sample through the path a picked file takes (worker/rehearsal.py)."""

    async def next_task(self) -> None:
        """Resume in a new task of the host's event loop, after the messages that arrived meanwhile: the
        yield a long job makes between its batches so that the worker hears requests (Cancel) during it.
        (In the browser `asyncio.sleep(0)` is not enough: Pyodide resumes it through a MessageChannel, and
        chromium keeps running those before the page's messages to the worker, docs/protocol.md.)"""

    def heap_bytes(self) -> int:
        """Size of the runtime's heap in bytes (the wasm memory in the browser; 0 where unknown)."""

    @property
    def storage_name(self) -> str:
        """A short name for the storage, e.g. 'OPFS'."""
