"""What the client reads out of runs and events: statuses, normalised progress, applying an event to a run.

Role: one place that knows the shapes of docs/protocol.md's run JSON and the engine's events, so the
handles and the views never dig in raw dicts. Plain functions over dicts (MicroPython has no dataclasses).
"""

import json

STATUSES = ("pending", "running", "completed", "failed", "cancelled")
ACTIVE = ("pending", "running")
FINISHED = ("completed", "failed", "cancelled")
RUN_EVENTS = ("run:trigger", "run:start", "run:progress", "run:complete", "run:fail", "run:cancel",
              "run:retry", "run:delete")
STEP_EVENTS = ("step:start", "step:complete", "step:fail")
STATUS_AFTER = {
    "run:trigger": "pending",
    "run:start": "running",
    "run:complete": "completed",
    "run:fail": "failed",
    "run:cancel": "cancelled",
    "run:retry": "pending",
}
IMPORT_STATS = ("rows", "bytes", "total_bytes", "rows_per_s", "eta_s", "accepted", "rejected", "step")
LOG_LEVELS = ("info", "warning", "error")


# The importer's own payload names (sent JSON-encoded in the progress message) -> the protocol's names.
_PAYLOAD_NAMES = (("rows_done", "rows"), ("bytes_done", "bytes"), ("bytes_total", "total_bytes"),
                  ("rows_per_second", "rows_per_s"), ("eta_seconds", "eta_s"), ("rows_accepted", "accepted"),
                  ("rows_rejected", "rejected"), ("phase", "step"))


def _stats(payload):
    """The import statistics of a payload dict under the protocol's names (either naming accepted)."""
    stats = {}
    for theirs, ours in _PAYLOAD_NAMES:
        if payload.get(theirs) is not None:
            stats[ours] = payload[theirs]
    for key in IMPORT_STATS:
        if payload.get(key) is not None:
            stats[key] = payload[key]
    return stats


def _payload_in_message(message):
    """The payload dict when the progress message is a JSON object (the importer's own form), else None."""
    if not isinstance(message, str) or not message.startswith("{"):
        return None
    try:
        payload = json.loads(message)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def progress_of(source):
    """The progress in a run's `progress` or a `run:progress` event, as one flat dict.

    Keys: current, total, message, and the import's statistics (rows, bytes, total_bytes, rows_per_s,
    eta_s, accepted, rejected, step) whether they sit in `data` (under the protocol's or the importer's
    names), at the top level, or in a JSON `message`. Missing values are None. None without progress.
    """
    if not isinstance(source, dict):
        return None
    message = source.get("message")
    payload = _payload_in_message(message)
    if payload is not None:
        message = payload.get("text")
    stats = _stats(payload or {})
    data = source.get("data")
    if isinstance(data, dict):
        stats.update(_stats(data))
        if message is None and isinstance(data.get("text"), str):
            message = data["text"]
    flat = {"current": source.get("current"), "total": source.get("total"), "message": message}
    for key in IMPORT_STATS:
        value = stats.get(key)
        flat[key] = value if value is not None else source.get(key)
    return flat


# Share of the whole import each phase stands for, so the bar never runs to 100% twice. Checking the
# types over the whole file ("scanning") happens only when the preview's own scan had not finished.
PHASES = {"staging": (0.0, 0.1), "stage": (0.0, 0.1), "scanning": (0.1, 0.15), "prepare": (0.25, 0.0),
          "importing": (0.25, 0.75), "import": (0.25, 0.75)}


def fraction_of(progress):
    """Done fraction 0..1 of a flat progress over the whole run; None when unknown.

    The phase's own fraction (bytes first, then current/total) is placed in the phase's share of the run
    (copying the file is the first tenth), so the bar moves forward only.
    """
    if not progress:
        return None
    start, share = PHASES.get(progress.get("step"), (0.0, 1.0))
    for done, total in (("bytes", "total_bytes"), ("current", "total")):
        d, t = progress.get(done), progress.get(total)
        if isinstance(d, (int, float)) and isinstance(t, (int, float)) and t > 0:
            return start + share * max(0.0, min(1.0, d / t))
    return start if share == 0.0 else None


def apply_event(run, event):
    """Update the run dict `run` in place from an event about it; returns True if anything changed."""
    kind = event.get("type")
    status = STATUS_AFTER.get(kind)
    changed = False
    if status is not None and run.get("status") != status:
        run["status"] = status
        changed = True
    if kind == "run:progress":
        if run.get("status") in (None, "pending"):
            run["status"] = "running"
        run["progress"] = {"current": event.get("current"), "total": event.get("total"),
                           "message": event.get("message"), "data": progress_of(event)}
        changed = True
    elif kind == "run:complete":
        run["output"] = event.get("output")
        changed = True
    elif kind == "run:fail":
        run["error"] = {"type": event.get("error_type"), "message": event.get("error"), "step": event.get("step")}
        changed = True
    elif kind == "run:retry":
        run["error"] = None
        changed = True
    if kind in ("run:complete", "run:fail", "run:cancel") and event.get("at"):
        run["finished_at"] = event.get("at")
    if kind == "run:start" and event.get("at"):
        run["started_at"] = event.get("at")
        run["attempt"] = event.get("attempt", run.get("attempt"))
    return changed


def run_from_event(event):
    """A minimal run dict built from an event alone (while the engine cannot be asked yet)."""
    run = {"id": event.get("run_id"), "job": event.get("job"), "status": "running", "input": None,
           "output": None, "error": None, "progress": None, "labels": event.get("labels") or {},
           "created_at": event.get("at"), "started_at": None, "finished_at": None, "attempt": 1}
    apply_event(run, event)
    return run


def file_name_of(run):
    """The imported file's name from a run's input or labels, or None."""
    if not isinstance(run, dict):
        return None
    for holder in (run.get("input"), run.get("labels")):
        if isinstance(holder, dict):
            for key in ("file_name", "name", "file"):
                value = holder.get(key)
                if isinstance(value, str) and value:
                    return value
    return None


def counts_of(run):
    """(rows, accepted, rejected) of a run: from its output once finished, else from its last progress.

    Each is None when unknown. `rows` is accepted + rejected when the output only has those.
    """
    output = run.get("output") if isinstance(run, dict) else None
    if isinstance(output, dict) and ("rows_accepted" in output or "accepted" in output):
        accepted = output.get("rows_accepted", output.get("accepted"))
        rejected = output.get("rows_rejected", output.get("rejected")) or 0
        return (accepted or 0) + rejected, accepted, rejected
    progress = progress_of(run.get("progress")) if isinstance(run, dict) else None
    progress = progress or {}
    return progress.get("rows"), progress.get("accepted"), progress.get("rejected")


def level_rank(level):
    """0 for info, 1 warning, 2 error (unknown levels count as info)."""
    return LOG_LEVELS.index(level) if level in LOG_LEVELS else 0
