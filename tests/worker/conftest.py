"""The worker fixture: a WorkerApp leading on a real SQLite file, driven through its messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.worker.fakes import Client, FakePlatform
from worker.app import WorkerApp


@pytest.fixture
async def client(tmp_path: Path):
    platform = FakePlatform(tmp_path)
    app = WorkerApp(platform)
    await app.lead(str(tmp_path / "app.sqlite"))
    yield Client(app, platform)
    await app.engine.stop()
