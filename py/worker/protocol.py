"""The page ⇄ worker message protocol: requests with ids, replies, pushed events, structured errors.

Every message is one JSON text. A request is `{"id": int, "method": str, "params": {...}}`; its reply is
`{"id": id, "ok": true, "result": ...}` or `{"id": id, "ok": false, "error": {"code", "message", ...}}`;
the worker also pushes `{"event": type, "data": {...}}`. A file travels beside the text, as the `file`
field of the posted object, because a `File` cannot be JSON.
"""

from __future__ import annotations

import itertools
import json
import re
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
        if too_deep(text):
            raise RecursionError
        data = json.loads(text)
    except ValueError as exc:
        raise ProtocolError("bad-request", f"The message is not valid JSON: {exc}.") from None
    except RecursionError:
        raise ProtocolError("bad-request", f"The message is nested too deeply to read (more than {MAX_DEPTH} "
                                           "levels of arrays and objects; no request needs more than a few).") from None
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


MAX_DEPTH = 64
"""Deepest nesting of arrays and objects a message may have (a request needs about 6). Checked before
parsing: in Pyodide, json.loads of a deeply nested text overflows the wasm stack before Python's recursion
limit, a fatal error that kills the worker, instead of a RecursionError."""
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = str.maketrans({"[": "\x02", "{": "\x02", "]": "\x00", "}": "\x00"})


def too_deep(text: str) -> bool:
    """True when `text` nests arrays and objects deeper than MAX_DEPTH (brackets inside strings do not count).
    Cheap for ordinary messages: a text with at most MAX_DEPTH opening brackets cannot be too deep."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    steps = _NOT_BRACKET.sub("", _STRING.sub("", text)).translate(_DEPTH_STEP).encode("ascii")
    return max(itertools.accumulate(step - 1 for step in steps), default=0) > MAX_DEPTH


_LEADING_ID = re.compile(r'\s*\{\s*"id"\s*:\s*(-?\d{1,18})\s*[,}]')


def request_id_of(text: object) -> int | None:
    """The id of a possibly malformed request, so even a bad request gets its error reply (and its caller
    stops waiting). A text too broken or too deep to parse still has its id read when it comes first, as
    every client writes it."""
    if not isinstance(text, str):
        return None
    try:
        if too_deep(text):
            raise RecursionError
        value = json.loads(text)
    except (ValueError, RecursionError):
        match = _LEADING_ID.match(text)
        return int(match.group(1)) if match else None
    rid = value.get("id") if isinstance(value, dict) else None
    return rid if isinstance(rid, int) and not isinstance(rid, bool) else None


def is_event(text: str) -> bool:
    """True when `text` is a pushed event message (a JSON object with an `event` key)."""
    if too_deep(text):
        return False
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, dict) and "event" in value


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
