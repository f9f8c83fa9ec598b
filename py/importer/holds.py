"""A test-only hold point for the import job: `ImportEnv.after_batch` that holds a run after a committed batch.

Browser tests (py/worker/hooks.py) and command-line crash tests (importer/cli/hooks.py) use it so that a
reload or a kill lands mid-import by construction. Production never sets `after_batch`.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from durable import StepContext

HOLD_POLL_SECONDS = 0.05  # how often a held run looks for Cancel or a stop


def rows_done(cursor: dict[str, Any]) -> int:
    """Data rows a batch cursor has accounted for (accepted plus rejected)."""
    return int(cursor["accepted"]) + int(cursor["rejected"])


class HoldAt:
    """`ImportEnv.after_batch` that holds a run after a committed batch that crossed one of `points`."""

    def __init__(self, points: list[int]) -> None:
        self.points = sorted(set(points))

    async def __call__(self, step: StepContext, before: dict[str, Any], after: dict[str, Any]) -> None:
        start, end = rows_done(before), rows_done(after)
        crossed = [p for p in self.points if start < p <= end]
        if not crossed:
            return
        print(f"test hooks: run {step.run_id} held after row {end} (hold point {crossed[-1]})", file=sys.stderr)
        while True:  # raises CancellationRequested / StopRequested when the run is cancelled or the engine stops
            step.checkpoint()
            await asyncio.sleep(HOLD_POLL_SECONDS)
