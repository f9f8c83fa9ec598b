"""Entry point called by static/js/engine-worker.mjs once Pyodide and the app's Python are loaded."""

from __future__ import annotations

from typing import Any

from worker.app import WorkerApp
from worker.js_platform import COPIER_SCRIPT, BrowserPlatform
from worker.rehearsal import SAMPLE_ROWS

WARM_UP_QUIET = 0.5
"""Seconds without a request before each step of the engine's warm-up after `ready` (worker/app.py
`_warm_up`): the page asks for its run list, tables and storage as soon as the engine is ready, and those
answers must not wait for the warm-up (`bench listing`: the first tables.list took 388 ms, not 39, when the
warm-up started at once)."""

MISSING_COPIER = "copier-missing.mjs"
"""A copier script that does not exist (the `copier_missing` test hook)."""


def create_app(bridge: Any, hooks: Any = None) -> WorkerApp:
    """Build the worker app over the JS bridge. `hooks` is the JSON text of test-only hooks a browser test
    injected (worker/hooks.py), or None (or "") in production, where pydantic is not loaded yet: the hooks are
    validated with it, so the bootstrap installs the wheels first when there are hooks. Raises TestHooksError
    if that text is not valid."""
    parsed = None
    if isinstance(hooks, str) and hooks:
        from worker.hooks import parse_hooks

        parsed = parse_hooks(hooks)
    copier = MISSING_COPIER if parsed is not None and parsed.copier_missing else COPIER_SCRIPT
    hold = parsed is not None and parsed.hold_copier
    whole = parsed.copier_whole_bytes if parsed is not None else None
    rows = parsed.rehearsal_rows if parsed is not None else None
    return WorkerApp(BrowserPlatform(bridge, copier, hold_copier=hold, copier_whole_bytes=whole), hooks=parsed,
                     warm_up_quiet=WARM_UP_QUIET, rehearsal_rows=rows if rows is not None else SAMPLE_ROWS)
