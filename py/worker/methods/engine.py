"""Engine and storage methods: state, versions, storage estimate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from worker.methods import method

if TYPE_CHECKING:
    from worker.app import WorkerApp


@method("engine.info", any_state=True)
async def engine_info(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, Any]:
    """The engine's state and runtime versions."""
    return {"state": app.state, **app.runtime_info()}


@method("storage.estimate")
async def storage_estimate(app: WorkerApp, params: dict[str, Any], file: Any) -> dict[str, int]:
    """Used and available storage, in bytes."""
    return await app.platform.estimate()
