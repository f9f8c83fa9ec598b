"""Whole-file type scans of picked files, one per source, run in the background after a preview.

`file.preview` answers from the first 64 KB at once and starts a scan of the whole picked file with the
settings it detected (`ScanRegistry.start`); `file.scan` awaits it. A new preview of the same source
(read again with other settings) supersedes the running scan. The scan reads the `File` in chunks of 1 MiB
and yields after each 64 KiB of it, so the worker keeps serving; it reports `file:scan` progress to this
page only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from worker.platform import ByteSource
from worker.sources import read

if TYPE_CHECKING:  # the importer's models (pydantic) load after `ready` (worker/app.py `_load_importer`)
    from importer import ImportOptions, SniffResult

SCAN_READ_BYTES = 1 << 20
SCAN_FEED_BYTES = 1 << 16
"""The scan yields after each piece this large, so that a request that comes meanwhile (a Start, most often) waits
for one piece, not a whole read. Measured in the worker on a loaded afternoon: a piece of 256 KiB took 11-30 ms,
and a Start posted during one reached the worker 18-33 ms later; a click during a 1 MiB piece waited 35-55 ms.
64 KiB pieces scanned 1M rows (50.6 MB) in the same 2.5 s as 256 KiB ones (a yield costs far less than a piece)."""
PROGRESS_PER_SECOND = 5.0

Progress = Callable[[dict[str, Any]], None]


class ScanSuperseded(Exception):
    """The scan was replaced by a newer preview of the same file."""


class ScanRegistry:
    """source id -> the task scanning that source with the settings of its latest preview."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[dict[str, Any]]] = {}

    def start(self, source_id: str, source: ByteSource, sniffed: SniffResult, on_progress: Progress) -> None:
        """Scan `source` with `sniffed`'s settings, replacing any scan of the same source."""
        self.cancel(source_id)
        self._tasks[source_id] = asyncio.ensure_future(scan_source(source_id, source, sniffed, on_progress))

    def cancel(self, source_id: str) -> None:
        """Stop the scan of `source_id` (its waiters get `ScanSuperseded`)."""
        task = self._tasks.get(source_id)
        if task is not None and not task.done():
            task.cancel()

    async def result(self, source_id: str) -> dict[str, Any]:
        """The finished scan of `source_id`; raises KeyError if none was started, ScanSuperseded if replaced."""
        task = self._tasks[source_id]
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                raise ScanSuperseded() from None
            raise


async def scan_source(
    source_id: str, source: ByteSource, sniffed: SniffResult, on_progress: Progress
) -> dict[str, Any]:
    """Scan every row of `source` and return `{source_id, rows, bytes, columns}` (whole-file guesses)."""
    from importer.scan import Scanner

    options: ImportOptions = sniffed.options
    width = len(options.columns)
    first = 2 if options.has_header else 1
    if sniffed.complete:
        return _reply(source_id, sniffed.sample_rows, source.size, [g.to_dict() for g in sniffed.guesses])
    scanner = Scanner(options, width, skip_header=bool(options.has_header))
    offset, last = 0, 0.0
    while offset < source.size:
        data = await read(source, offset, min(SCAN_READ_BYTES, source.size - offset))
        if not data:
            break
        offset += len(data)
        chunk = bytes(data)
        for start in range(0, len(chunk), SCAN_FEED_BYTES):
            if start:
                await asyncio.sleep(0)
            scanner.feed(chunk[start:start + SCAN_FEED_BYTES],
                         final=offset >= source.size and start + SCAN_FEED_BYTES >= len(chunk))
        now = time.monotonic()
        if now - last >= 1.0 / PROGRESS_PER_SECOND or offset >= source.size:
            last = now
            on_progress({"source_id": source_id, "bytes_done": offset, "bytes_total": source.size,
                         "rows": scanner.row - first})
        await asyncio.sleep(0)
    if offset < source.size:
        scanner.feed(b"", final=True)
    columns = [g.to_dict() for g in scanner.guesses(whole_file=True)]
    return _reply(source_id, scanner.row - first, source.size, columns)


def _reply(source_id: str, rows: int, size: int, columns: list[dict[str, Any]]) -> dict[str, Any]:
    return {"source_id": source_id, "rows": rows, "bytes": size, "columns": columns}
