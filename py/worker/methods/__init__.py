"""The worker's request methods: `name -> async fn(app, params, file)`, one module per area.

Importing this package registers the methods that need neither pydantic nor the import job (runs, tables,
storage, diagnostics); `register_importer_methods()` registers the rest (preview, import, rejects, undo) once
the worker has loaded the importer (docs/storage.md "Boot").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from worker.protocol import ProtocolError

Fn = Callable[..., Awaitable[Any]]
"""`async fn(app: WorkerApp, params: dict, file)`, with `*, sink: ReplySink` when registered `with_sink`."""
METHODS: dict[str, Fn] = {}


def method(name: str, *, any_state: bool = False, with_sink: bool = False, early: bool = False) -> Callable[[Fn], Fn]:
    """Register `fn` as the handler of method `name`; `any_state` serves it before `ready` too; `with_sink`
    passes it the caller's reply sink as `sink=` (for events meant for the calling page only); `early` serves
    it while the importer is still loading after `ready` (a read of the database: the others wait for it)."""

    def register(fn: Fn) -> Fn:
        fn.any_state = any_state  # type: ignore[attr-defined]
        fn.with_sink = with_sink  # type: ignore[attr-defined]
        fn.early = early  # type: ignore[attr-defined]
        METHODS[name] = fn
        return fn

    return register


def int_param(params: dict[str, Any], name: str, default: int, *, low: int, high: int) -> int:
    value = params.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ProtocolError("bad-params", f"'{name}' must be an integer from {low} to {high}.")
    return value




def str_param(params: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    """A string parameter; raises ProtocolError('bad-params') if missing (when required) or not a string."""
    value = params.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ProtocolError("bad-params", f"'{name}' must be a non-empty string.")
    return value


def _register_light() -> None:
    from worker.methods import diagnostics, engine, opening, runs, tables  # noqa: F401


def register_importer_methods() -> None:
    """Register the methods that need the importer's models (pydantic): call once it can be imported."""
    from worker.methods import imports, rejects, undo  # noqa: F401


_register_light()
