"""The page ⇄ worker message protocol: requests with ids, replies, pushed events, structured errors.

Every message is one JSON text. A request is `{"id": int, "method": str, "params": {...}}`; its reply is
`{"id": id, "ok": true, "result": ...}` or `{"id": id, "ok": false, "error": {"code", "message", ...}}`;
the worker also pushes `{"event": type, "data": {...}}`. A file travels beside the text, as the `file`
field of the posted object, because a `File` cannot be JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


class ProtocolError(Exception):
    """A request that cannot be served; becomes an error reply with `code` and `message`."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


@dataclass(frozen=True)
class Request:
    """One parsed request. `id` is None only when the message was too broken to carry one."""

    id: int | None
    method: str
    params: dict[str, Any] = field(default_factory=dict)


def parse_request(text: object) -> Request:
    """Parse a request text; raises ProtocolError('bad-request') with the reason, never anything else."""
    if not isinstance(text, str):
        raise ProtocolError("bad-request", f"Expected a JSON text message, got {type(text).__name__}.")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ProtocolError("bad-request", f"The message is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad-request", "The message must be a JSON object.")
    request_id = data.get("id")
    if not isinstance(request_id, int) or isinstance(request_id, bool):
        raise ProtocolError("bad-request", "The message needs an integer 'id'.")
    method = data.get("method")
    params = data.get("params", {})
    if not isinstance(method, str) or not method:
        raise ProtocolError("bad-request", "The message needs a 'method' name.", id=request_id)
    if not isinstance(params, dict):
        raise ProtocolError("bad-request", "'params' must be a JSON object.", id=request_id)
    return Request(request_id, method, params)


def request_id_of(text: object) -> int | None:
    """The id of a possibly malformed request, so even a bad request gets its error reply."""
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    rid = value.get("id") if isinstance(value, dict) else None
    return rid if isinstance(rid, int) and not isinstance(rid, bool) else None


def reply(request_id: int | None, result: Any) -> str:
    """The success reply to request `request_id`."""
    return json.dumps({"id": request_id, "ok": True, "result": result})


def error_reply(request_id: int | None, error: ProtocolError) -> str:
    """The error reply to request `request_id`."""
    body = {"code": error.code, "message": error.message, **error.details}
    return json.dumps({"id": request_id, "ok": False, "error": body})


def event(event_type: str, data: dict[str, Any]) -> str:
    """A pushed event message."""
    return json.dumps({"event": event_type, "data": data})


def translate(exc: Exception) -> ProtocolError | None:
    """The protocol error for an engine or importer error (its message kept), or None for anything else."""
    from durable import DurableError, InvalidRunStateError, RunNotFoundError
    from importer import ImporterError

    if isinstance(exc, RunNotFoundError):
        return ProtocolError("not-found", str(exc))
    if isinstance(exc, InvalidRunStateError):
        return ProtocolError("conflict", str(exc))
    if isinstance(exc, DurableError | ImporterError):
        return ProtocolError("invalid", str(exc))
    return None
