"""Test-only hooks: settings a browser test injects into the worker at boot, never set in production.

A playwright test sets `window.__csvImporterTestHooks` with an init script (before any page script runs);
static/js/start-engine.mjs passes it as `hooks` in the JSON of the engine Worker's `name`, and
engine-worker.mjs hands it as JSON text to `worker.main.create_app`. No message of the protocol and no URL
can set them. They shape the import job's environment (`ImportEnv`):

- `max_batch_rows`: rows per committed batch (many small batches for a test), and rejects per chunk of the
  fix-rejects job.
- `hold_at_rows`: data-row counts; a batch this worker commits whose range of rows done crosses one of them
  (start < point <= end) holds the run right after its commit until it is cancelled or the engine stops,
  so a test that reloads once the cursor reached the point reloads mid-import by construction. A resumed
  run starts past the points its earlier executions crossed, so only later points hold it again.
- `hold_at_staged_bytes`: the same for staging: a run holds right after it copied the chunk that crossed
  this many bytes of the picked file into its staged copy (a test reloads mid-staging by construction).
- `hold_fix_after_chunks`: a fix-rejects run holds right after it committed this many chunks (a test
  reloads while fixed rows are being inserted, by construction).
- `diagnostics`: serve the `diagnostics.*` probes (worker/methods/diagnostics.py); without it they do not exist.
- `hold_boot`: a worker that takes the engine lock stays `booting` (before it opens the database) until its
  tab closes, or until the test calls `diagnostics.release_boot` (with `diagnostics`), so a test sees what
  the other tabs, or its own page, do while the engine starts.
- `hold_importer`: the engine stays ready to read, its importer not loaded (worker/app.py `_load_importer`),
  until the test calls `diagnostics.release_importer`, so a test sees what the page does meanwhile.
- `stage_ahead` (default true): copy a picked file into storage during its preview (worker/sources.py);
  false, or `hold_at_staged_bytes` or a storage fault on the staged copies, leave the copy to the job's
  `stage` step, as when no copy could be made ahead.
- `storage_faults`: make OPFS handle calls fail as a full disk would (static/js/opfs-fs.mjs, docs/storage.md):
  each fault fails the matching `op` on `file` `times` times in a row, after `after_calls` matching calls
  succeeded. Validated here, before the JS bootstrap mounts OPFS with them. The copier (static/js/copier.mjs)
  applies them to the copies it stages ahead (`file: "ahead"`), counting afresh in each pass.
- `copier_missing`: start the copier from a script that is not there, as in a browser where it cannot start:
  every pass falls back to Python (worker/sources.py).
- `hold_copier`: the copier holds each pass after its first chunk (of a longer file) until it is told to stop
  copying (another file was picked), so a test picks a second file while the first is being copied, by
  construction.
- `copier_whole_bytes`: the largest file the copier hashes in one piece with the browser's SHA-256 (default
  64 MiB, static/js/engine-worker.mjs `WHOLE_HASH_BYTES`); a larger one is hashed chunk by chunk (hash-wasm),
  so a test reaches that path with a small file.
- `read_only_after_step`: the worker's database refuses every write (SQLite's `query_only`) from when a run's
  step of this name completes, as storage that turned read-only: the run's end cannot be written, nor the
  failure in its place, so the engine stops for good (docs/engine.md "A run whose end cannot be written").
- `rehearsal_rows`: the rows of the rehearsal import that ends the warm-up (default worker/rehearsal.py
  `SAMPLE_ROWS`; 0: no rehearsal), so a benchmark compares a first import with and without it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, ValidationError

from importer.holds import HoldAfterChunks, HoldAt, HoldAtStagedBytes


class StorageFault(BaseModel):
    """One injected storage fault: the (`after_calls` + 1)-th `op` call on `file`, and the `times` - 1 matching
    calls after it, throw `error` (a DOMException named QuotaExceededError, as a full quota throws, or an
    I/O failure). `file` "staged" means any staged copy of a picked file (`staged-*.csv`), "ahead" any copy
    staged ahead of Start (`ahead-*.csv`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # production never builds it

    op: Literal["write", "truncate", "flush"]
    file: Literal["importer.sqlite", "importer.sqlite-journal", "staged", "ahead"]
    after_calls: NonNegativeInt
    error: Literal["QuotaExceededError", "IOError"] = "QuotaExceededError"
    times: PositiveInt = 1


class TestHooks(BaseModel):
    """The hooks a test may set; an unknown key is refused (a typo must not silently do nothing)."""

    __test__ = False  # not a pytest test class
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # production never builds it

    max_batch_rows: PositiveInt | None = None
    hold_at_rows: list[PositiveInt] = Field(default_factory=list)
    hold_at_staged_bytes: PositiveInt | None = None
    hold_fix_after_chunks: PositiveInt | None = None
    diagnostics: bool = False
    hold_boot: bool = False
    hold_importer: bool = False
    storage_faults: list[StorageFault] = Field(default_factory=list)
    stage_ahead: bool = True
    copier_missing: bool = False
    hold_copier: bool = False
    copier_whole_bytes: NonNegativeInt | None = None
    rehearsal_rows: NonNegativeInt | None = None
    read_only_after_step: str | None = None

    def stages_ahead(self) -> bool:
        """Whether picked files are copied into storage during their preview (worker/sources.py). Off with
        `stage_ahead: false`, and when the hooks hold or fault the job's own staging (`hold_at_staged_bytes`,
        a fault on the staged copies): those tests are about the copy the job makes when none was made ahead."""
        staged_faults = any(fault.file == "staged" for fault in self.storage_faults)
        return self.stage_ahead and self.hold_at_staged_bytes is None and not staged_faults

    def env_overrides(self) -> dict[str, Any]:
        """Keyword arguments for `ImportEnv` that apply these hooks."""
        overrides: dict[str, Any] = {}
        if self.max_batch_rows is not None:
            overrides["max_batch_rows"] = self.max_batch_rows
        if self.hold_at_rows:
            overrides["after_batch"] = HoldAt(self.hold_at_rows)
        if self.hold_at_staged_bytes is not None:
            overrides["after_stage_chunk"] = HoldAtStagedBytes(self.hold_at_staged_bytes)
        return overrides

    def read_only_after(self, conn: Any) -> Callable[[Any], None] | None:
        """A `step:complete` handler that makes `conn` refuse writes once the step `read_only_after_step`
        completes (before the job goes on: the handler runs right after that step's commit), or None."""
        name = self.read_only_after_step
        if name is None:
            return None

        def refuse_writes(event: Any) -> None:
            if event.step == name:
                conn.execute("PRAGMA query_only = 1")

        return refuse_writes

    def fix_hold(self) -> Any:
        """`after_chunk` for the fix-rejects job that holds after `hold_fix_after_chunks` chunks, or None."""
        return HoldAfterChunks(self.hold_fix_after_chunks) if self.hold_fix_after_chunks else None


class TestHooksError(ValueError):
    """The injected hooks text is not valid; the message names the problem."""

    __test__ = False


def parse_hooks(text: object) -> TestHooks | None:
    """Parse the JSON text the bootstrap passed; "" or anything not a text (None, a JS null) means no hooks,
    so production never fails here. Raises TestHooksError for a text that is not valid hooks."""
    if not isinstance(text, str) or text == "":
        return None
    try:
        return TestHooks.model_validate(json.loads(text))
    except (ValueError, ValidationError) as exc:
        raise TestHooksError(f"The test hooks are not valid: {exc}") from None


def storage_faults_json(text: object) -> str:
    """The storage faults of the hooks text, validated and with their defaults, as the JSON list the JS
    bootstrap passes to `mountOpfs` ("[]" without hooks, as in production)."""
    hooks = parse_hooks(text)
    return json.dumps([fault.model_dump() for fault in hooks.storage_faults] if hooks is not None else [])
