"""Test-only hooks of the command line, from the CSV_IMPORT_TEST_HOOKS environment variable (JSON).

Never documented as an option and never set in production: a crash test sets `max_batch_rows` (many
small batches) and `hold_at_rows` (hold the run right after the committed batch that crosses one of these
data-row counts, printing "test hooks: run ... held" on stderr, until the process is killed or stopped), so
a SIGKILL lands mid-import by construction, not by timing. The same hold as the page's (importer.holds).
"""

from __future__ import annotations

import json
import os
from typing import Any

from importer.holds import HoldAt

VARIABLE = "CSV_IMPORT_TEST_HOOKS"


def env_overrides() -> dict[str, Any]:
    """Keyword arguments for `ImportEnv` from the hooks variable ({} when unset)."""
    text = os.environ.get(VARIABLE, "")
    if not text:
        return {}
    hooks = json.loads(text)
    overrides: dict[str, Any] = {}
    if hooks.get("max_batch_rows"):
        overrides["max_batch_rows"] = int(hooks["max_batch_rows"])
    if hooks.get("hold_at_rows"):
        overrides["after_batch"] = HoldAt([int(p) for p in hooks["hold_at_rows"]])
    return overrides
