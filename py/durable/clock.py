"""Time, injected: the engine asks its `Clock` for the time and for sleeps, never `time.time()`.

`SystemClock` is the default; tests pass their own clock to steer time (backoff, purge, leases).
Timestamps are timezone-aware UTC datetimes; the store keeps them as ISO-8601 text.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """What the engine needs from time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` (backoff between step attempts, heartbeat pauses)."""
        ...


class SystemClock:
    """Wall-clock time and `asyncio.sleep` (works on CPython and on Pyodide's WebLoop)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
