"""Helpers for the engine tests: a steerable clock, sequential ids, gates, recorders, sample jobs."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from durable import Engine, Event, Job, Run, RunStatus, StepContext, define_job


class FakeClock:
    """Time stands still unless a test (or a backoff sleep) moves it."""

    def __init__(self) -> None:
        self.time = datetime(2025, 1, 1, tzinfo=UTC)
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.time

    def advance(self, seconds: float) -> None:
        self.time += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)


class Ids:
    def __init__(self, prefix: str = "run") -> None:
        self._counter = itertools.count(1)
        self._prefix = prefix

    def __call__(self) -> str:
        return f"{self._prefix}-{next(self._counter)}"


class Gate:
    """Lets a test hold a job at a named point and release it."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}
        self.reached: list[str] = []

    def _event(self, name: str) -> asyncio.Event:
        return self._events.setdefault(name, asyncio.Event())

    async def wait(self, name: str) -> None:
        self.reached.append(name)
        await self._event(name).wait()

    def open(self, name: str) -> None:
        self._event(name).set()


class Numbers(BaseModel):
    n: int = 3


class Total(BaseModel):
    total: int


class Recorder:
    """Collects events by type."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def types(self) -> list[str]:
        return [e.type for e in self.events]

    def of(self, event_type: str) -> list[Any]:
        return [e for e in self.events if e.type == event_type]


@define_job("sum", input=Numbers, output=Total)
async def sum_job(step: StepContext, payload: Numbers) -> Total:
    """Adds 0..n-1, one checkpoint per number."""
    total = 0
    for i in range(payload.n):
        total = await step.run(f"add-{i}", lambda i=i, t=total: t + i)
    return Total(total=total)


async def settle(predicate: Callable[[], Awaitable[bool]] | None = None, rounds: int = 200) -> None:
    """Let the event loop run until `predicate()` holds (or `rounds` turns passed)."""
    for _ in range(rounds):
        await asyncio.sleep(0)
        if predicate is not None and await predicate():
            return
    if predicate is not None:
        raise AssertionError("condition not reached")


async def status_is(engine: Any, run_id: str, status: RunStatus) -> bool:
    run = await engine.get_run(run_id)
    return run is not None and run.status is status


async def stop_while_held(db_path: Any, clock: FakeClock, job: Job[Any, Any], gate: Gate) -> Run:
    """Start an engine on `db_path`, trigger `job` (which waits at `gate` under its run id), stop the engine
    gracefully while the run is held there, then release it; return the run (requeued by the stop)."""
    engine = Engine(db_path, clock=clock, id_factory=Ids("a"))
    engine.register(job)
    await engine.start()
    run = (await engine.trigger(job, {})).run

    async def held() -> bool:
        return run.id in gate.reached

    await settle(held)
    stopping = asyncio.create_task(engine.stop())
    await settle()
    gate.open(run.id)
    await stopping
    return run


def raise_if(condition: bool) -> int:
    if condition:
        raise RuntimeError("planned failure")
    return 1
