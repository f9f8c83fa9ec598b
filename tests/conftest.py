"""Suite-wide ordering: browser tests run last.

Playwright's sync API keeps an event loop running in the main thread until its session fixture ends, so
async CPython tests collected after a browser test could not start their own loop.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: "tests/browser/" in str(item.path))
