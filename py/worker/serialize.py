"""Engine records (runs, steps, log entries) and events as JSON-able dicts for messages."""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any


def to_json(value: Any) -> Any:
    """A frozen record, list, dict or scalar as plain JSON values (datetimes as ISO-8601 text)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in fields(value) if not f.name.startswith("_")}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def progress_fields(message: Any) -> dict[str, Any]:
    """Split a progress message into `message` text and structured `data`.

    The importer sends its progress payload (rows, bytes, rate, ETA, counts) as a JSON object in the
    engine's progress `message`; the page gets it as `data`, with its human-readable `text` as `message`.
    """
    if isinstance(message, str) and message.startswith("{"):
        try:
            data = json.loads(message)
        except ValueError:
            data = None
        if isinstance(data, dict):
            return {"message": data.get("text"), "data": data}
    return {"message": message, "data": None}


def run_json(run: Any) -> dict[str, Any]:
    """A run as JSON, its progress split into text and data."""
    out: dict[str, Any] = to_json(run)
    if out.get("progress"):
        out["progress"].update(progress_fields(out["progress"].get("message")))
    return out


def event_json(event: dict[str, Any]) -> dict[str, Any]:
    """An engine event dict as sent to the page (progress split into text and data)."""
    if event.get("type") == "run:progress":
        return {**event, **progress_fields(event.get("message"))}
    return event
