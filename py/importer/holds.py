"""Test-only hold points: `ImportEnv.after_batch` that holds a run after a committed batch, the same for a
staged chunk (`ImportEnv.after_stage_chunk`) and for a chunk of the fix-rejects job (`after_chunk`).

Browser tests (py/worker/hooks.py) and command-line crash tests (importer/cli/hooks.py) use them so that a
reload or a kill lands mid-import by construction. Production never sets them.
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
        await hold(step)


class HoldAtStagedBytes:
    """`ImportEnv.after_stage_chunk` that holds a run after the staged chunk that crossed `point` bytes."""

    def __init__(self, point: int) -> None:
        self.point = point

    async def __call__(self, step: StepContext, before: int, after: int) -> None:
        if before < self.point <= after:
            print(f"test hooks: run {step.run_id} held after staging {after} bytes", file=sys.stderr)
            await hold(step)


class HoldAfterChunks:
    """The fix-rejects job's `after_chunk` that holds a run once it committed `chunks` chunks (called only for
    chunks this execution committed, so a resumed run that passed the point is not held again)."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks

    async def __call__(self, step: StepContext, done: int) -> None:
        if done == self.chunks:
            print(f"test hooks: fix run {step.run_id} held after {done} chunks", file=sys.stderr)
            await hold(step)


async def hold(step: StepContext) -> None:
    """Wait until the run is cancelled or the engine stops (`checkpoint` raises then)."""
    while True:
        step.checkpoint()
        await asyncio.sleep(HOLD_POLL_SECONDS)
