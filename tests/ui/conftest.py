"""Fixtures of the client layer's tests: a fake worker, booting or already ready."""

from __future__ import annotations

import pytest

from tests.ui.fakes import FakeWorker


@pytest.fixture
def worker() -> FakeWorker:
    return FakeWorker()


@pytest.fixture
def ready(worker: FakeWorker) -> FakeWorker:
    worker.status("ready", "Engine ready")
    return worker
