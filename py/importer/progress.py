"""Progress payloads: rows and bytes done of total, rate, ETA and counts, throttled, as JSON-able dicts.

Role: the import job reports through a `ProgressMeter`, which decides when a report is due (at most
`per_second` a second) and builds the payload. The payload travels as the engine's progress `message`,
JSON-encoded (the engine's progress has only current/total/message); `current`/`total` are bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ProgressMeter:
    """Builds progress payloads for one phase ("staging" or "importing") of a run.

    `clock` returns seconds (monotonic); rates are measured from the meter's start, over the work done
    since then (a resumed run does not count work done before it resumed).
    """

    phase: str
    bytes_total: int
    clock: Callable[[], float]
    per_second: float = 10.0
    start_bytes: int = 0
    start_rows: int = 0
    _started: float = field(init=False)
    _last: float = field(init=False)

    def __post_init__(self) -> None:
        self._started = self.clock()
        self._last = float("-inf")

    def due(self) -> bool:
        """Return True when a report may be sent now (rate-limited)."""
        return self.clock() - self._last >= 1.0 / self.per_second

    def payload(self, *, bytes_done: int, rows: int = 0, accepted: int = 0, rejected: int = 0) -> dict[str, Any]:
        """Return the JSON-able payload for the current state and mark a report as sent."""
        now = self.clock()
        self._last = now
        elapsed = max(now - self._started, 1e-9)
        byte_rate = (bytes_done - self.start_bytes) / elapsed
        row_rate = (rows - self.start_rows) / elapsed
        left = self.bytes_total - bytes_done
        eta = left / byte_rate if byte_rate > 0 else None
        return {
            "phase": self.phase,
            "bytes_done": bytes_done,
            "bytes_total": self.bytes_total,
            "rows_done": rows,
            "rows_accepted": accepted,
            "rows_rejected": rejected,
            "rows_per_second": round(row_rate, 1),
            "bytes_per_second": round(byte_rate, 1),
            "eta_seconds": None if eta is None else round(eta, 1),
            "text": _text(self.phase, bytes_done, self.bytes_total, rows, rejected, row_rate, eta),
        }


def encode(payload: dict[str, Any]) -> str:
    """Return the payload as the compact JSON string passed as the progress message."""
    return json.dumps(payload, separators=(",", ":"))


def _text(phase: str, done: int, total: int, rows: int, rejected: int, rate: float, eta: float | None) -> str:
    percent = 100.0 * done / total if total else 100.0
    parts = [f"{phase.capitalize()}: {percent:.0f}% ({_mb(done)} of {_mb(total)})"]
    if phase == "importing":
        parts.append(f"{rows:,} rows, {rejected:,} rejected, {rate:,.0f} rows/s")
    if eta is not None:
        parts.append(f"about {eta:,.0f} s left")
    return "; ".join(parts)


def _mb(n: int) -> str:
    return f"{n / 1_000_000:,.1f} MB"
