"""A fake engine worker for the client layer's tests: records requests, answers them, pushes events."""

from __future__ import annotations

import json
from typing import Any

from ui.client.rpc import RpcClient


class FakeWorker:
    """The transport of an `RpcClient`: requests are recorded; the test answers them and pushes events."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._answered: set[int] = set()
        self.files: list[Any] = []
        self.client = RpcClient(self.post)
        self.unhandled: list[tuple[str, Any]] = []
        self.client.on_unhandled_error = lambda method, error: self.unhandled.append((method, error))

    def post(self, text: str, file: Any) -> None:
        self.requests.append(json.loads(text))
        self.files.append(file)

    # -- what the client asked ------------------------------------------------------------------------
    def pending(self, method: str | None = None) -> list[dict[str, Any]]:
        answered = self._answered
        return [r for r in self.requests if r["id"] not in answered and (method is None or r["method"] == method)]

    def last(self, method: str) -> dict[str, Any]:
        matching = [r for r in self.requests if r["method"] == method]
        assert matching, f"no {method} request among {[r['method'] for r in self.requests]}"
        return matching[-1]

    # -- answering ------------------------------------------------------------------------------------
    def reply(self, method: str, result: Any, blob: Any = None) -> dict[str, Any]:
        """Answer the oldest unanswered `method` request with `result`; returns that request."""
        request = self._oldest(method)
        self.client.receive(json.dumps({"id": request["id"], "ok": True, "result": result}), blob)
        return request

    def fail(self, method: str, code: str, message: str) -> dict[str, Any]:
        request = self._oldest(method)
        body = {"id": request["id"], "ok": False, "error": {"code": code, "message": message}}
        self.client.receive(json.dumps(body))
        return request

    def event(self, event_type: str, **data: Any) -> None:
        self.client.receive(json.dumps({"event": event_type, "data": data}))

    def status(self, state: str, message: str = "") -> None:
        self.event("engine:status", state=state, message=message or state)

    def _oldest(self, method: str) -> dict[str, Any]:
        pending = self.pending(method)
        assert pending, f"no unanswered {method} request; asked: {[r['method'] for r in self.pending()]}"
        self._answered.add(pending[0]["id"])
        return pending[0]


def run(run_id: str, status: str = "running", **extra: Any) -> dict[str, Any]:
    """A run as the protocol sends it."""
    base = {"id": run_id, "job": "import", "status": status, "input": {"file_name": "people.csv"},
            "output": None, "error": None, "progress": None, "labels": {}, "created_at": "2026-01-01T00:00:00+00:00",
            "started_at": None, "finished_at": None, "attempt": 1}
    base.update(extra)
    return base


def guess(kind: str, evidence: str, *, whole_file: bool = False, **extra: Any) -> dict[str, Any]:
    """One column's inference as `file.preview` (with header/name) or `file.scan` sends it."""
    base: dict[str, Any] = {"type": kind, "evidence": evidence, "date_format": None, "ambiguous": False,
                            "alternatives": [], "non_empty": 0, "email": False, "null_markers": [],
                            "null_counts": {}, "whole_file": whole_file}
    base.update(extra)
    return base
