"""Entry point called by static/js/engine-worker.mjs once Pyodide and the app's Python are loaded."""

from __future__ import annotations

from typing import Any

from worker.app import WorkerApp
from worker.hooks import parse_hooks
from worker.js_platform import BrowserPlatform


def create_app(bridge: Any, hooks: Any = None) -> WorkerApp:
    """Build the worker app over the JS bridge. `hooks` is the JSON text of test-only hooks a browser test
    injected (worker/hooks.py), or None in production. Raises TestHooksError if that text is not valid."""
    return WorkerApp(BrowserPlatform(bridge), hooks=parse_hooks(hooks))
