"""Entry point called by static/js/engine-worker.mjs once Pyodide and the app's Python are loaded."""

from __future__ import annotations

from typing import Any

from worker.app import WorkerApp
from worker.js_platform import BrowserPlatform


def create_app(bridge: Any) -> WorkerApp:
    """Build the worker app over the JS bridge."""
    return WorkerApp(BrowserPlatform(bridge))
