"""Fixtures for the engine tests. Async tests run under `asyncio.run` through the hook below, so the
suite needs no asyncio plugin."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from tests.durable.enginekit import FakeClock, Ids

from durable import Engine

TEST_TIMEOUT = 30.0


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if pyfuncitem.config.pluginmanager.hasplugin("asyncio") or not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None  # pytest-asyncio (asyncio_mode=auto) runs it, or it is a plain test
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    asyncio.run(asyncio.wait_for(pyfuncitem.obj(**kwargs), TEST_TIMEOUT))
    return True


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "engine.db"


EngineFactory = Callable[..., Any]


@pytest.fixture
def make_engine(clock: FakeClock, db_path: Path) -> EngineFactory:
    """`async with make_engine(*jobs, **options) as engine`: a started engine on a file database."""

    @asynccontextmanager
    async def factory(*jobs: Any, database: Any = None, **options: Any) -> AsyncIterator[Engine]:
        options.setdefault("clock", clock)
        options.setdefault("id_factory", Ids())
        engine = Engine(db_path if database is None else database, **options)
        engine.register(*jobs)
        await engine.start()
        try:
            yield engine
        finally:
            await engine.stop(timeout=1.0)

    return factory
