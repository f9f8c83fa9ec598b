"""Helpers for the browser tests: launching Debian chromium, serving the app, talking to the worker."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, Playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
BOOT_TIMEOUT_MS = 90_000
STATUS = "[data-testid=engine-status]"

RECORD_STATUS_JS = """(() => {
  window.__status = [];
  window.__statusAt = [];
  const PageWorker = window.Worker;
  window.Worker = class extends PageWorker {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        try {
          const message = JSON.parse(typeof event.data === "string" ? event.data : event.data.json);
          if (message.event === "engine:status") {
            window.__status.push(message.data);
            window.__statusAt.push(performance.now());
          }
        } catch (err) { /* not a protocol text */ }
      });
    }
  };
})();"""
"""An init script: every engine:status event's data the page's worker posts goes into `window.__status`, from
the first one on (it runs before static/js/start-engine.mjs creates the worker), and the page time it arrived
into `window.__statusAt`."""

# Posts one protocol request to the page's engine worker and resolves with the whole reply.

CALL_JS = """async ({method, params}) => {
  const worker = window.engineWorker;
  const id = 1_000_000_000 + Math.floor(Math.random() * 1_000_000_000);
  return await new Promise((resolve) => {
    const onReply = (event) => {
      const isText = typeof event.data === "string";
      const msg = JSON.parse(isText ? event.data : event.data.json);
      if (msg.id !== id) return;
      worker.removeEventListener("message", onReply);
      if (!isText && event.data.blob) {
        event.data.blob.text().then((text) => resolve({...msg, blobText: text, blobSize: event.data.blob.size}));
      } else resolve(msg);
    };
    worker.addEventListener("message", onReply);
    worker.postMessage(JSON.stringify({id, method, params}));
  });
}"""

# Records every pushed event in window.__events, for tests that wait on them.
RECORD_EVENTS_JS = """() => {
  window.__events = [];
  window.engineWorker.addEventListener("message", (event) => {
    const msg = JSON.parse(event.data);
    if (msg.event) window.__events.push(msg);
  });
}"""


def launch_persistent(pw: Playwright, profile: Path, **kwargs: Any) -> BrowserContext:
    """A chromium context whose storage (OPFS included) survives a close and relaunch."""
    return pw.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=ARGS, **kwargs)


def wait_for_importer(page: Page, timeout_ms: int = BOOT_TIMEOUT_MS) -> str:
    """Wait until the engine is ready with its importer loaded (it is ready to read before: docs/storage.md
    "Boot"); returns the status text. Fails fast on `error`."""
    page.wait_for_function(
        f"""() => {{ const el = document.querySelector('{STATUS}');
              return el && ((el.dataset.state === 'ready' && el.dataset.importer === 'ready')
                            || el.dataset.state === 'error'); }}""", timeout=timeout_ms)
    status = page.locator(STATUS)
    text = status.text_content() or ""
    assert status.get_attribute("data-state") == "ready", f"engine status is not ready: {text}"
    return text


def wait_for_state(page: Page, state: str, timeout_ms: int = BOOT_TIMEOUT_MS) -> str:
    """Wait until the engine status reaches `state`; returns its text. Fails fast on `error`."""
    page.wait_for_function(
        f"""(want) => {{ const el = document.querySelector('{STATUS}');
              return el && (el.dataset.state === want || el.dataset.state === 'error'); }}""",
        arg=state, timeout=timeout_ms)
    status = page.locator(STATUS)
    actual = status.get_attribute("data-state")
    text = status.text_content() or ""
    assert actual == state, f"engine status is {actual!r}, not {state!r}: {text}"
    return text


def call(page: Page, method: str, **params: Any) -> Any:
    """Call a worker method through the real protocol; returns the result or raises on an error reply."""
    reply = page.evaluate(CALL_JS, {"method": method, "params": params})
    if not reply["ok"]:
        raise WorkerError(reply["error"])
    return reply["result"]


def call_raw(page: Page, method: str, **params: Any) -> dict[str, Any]:
    """The whole reply object, error or not."""
    return page.evaluate(CALL_JS, {"method": method, "params": params})


class WorkerError(Exception):
    """An error reply from the worker."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.error = error


def kill_browser(profile: Path) -> int:
    """SIGKILL every chromium process using `profile`; returns how many were killed."""
    killed = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(str(profile).encode() in part for part in cmdline) and b"chrom" in cmdline[0]:
            try:
                os.kill(int(pid), signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
    time.sleep(0.5)
    return killed


# Builds a CSV File in the page (id,name,email,amount; every `invalidEvery`-th email is invalid) and posts
# `method` with it beside the message, the way the UI posts a picked file. Resolves with the reply.
CALL_WITH_GENERATED_FILE_JS = """async ({method, params, rows, invalidEvery, name}) => {
  const parts = ["id,name,email,amount\\n"];
  for (let i = 1; i <= rows; i++) {
    const email = i % invalidEvery === 0 ? `user${i}-at-example.com` : `user${i}@example.com`;
    parts.push(`${i},Name ${i},${email},${(i % 1000) / 10}\\n`);
  }
  const file = new File(parts, name, {type: "text/csv"});
  window.__lastFile = file;
  const worker = window.engineWorker;
  const id = 1_000_000_000 + Math.floor(Math.random() * 1_000_000_000);
  return await new Promise((resolve) => {
    const onReply = (event) => {
      const msg = JSON.parse(typeof event.data === "string" ? event.data : event.data.json);
      if (msg.id === id) { worker.removeEventListener("message", onReply); resolve(msg); }
    };
    worker.addEventListener("message", onReply);
    worker.postMessage({json: JSON.stringify({id, method, params}), file});
  });
}"""


def preview_generated_csv(page: Page, rows: int, *, invalid_every: int = 100, name: str = "people.csv") -> Any:
    """Post a generated CSV to `file.preview`, as the UI does with a picked file; returns the result."""
    reply = page.evaluate(CALL_WITH_GENERATED_FILE_JS, {
        "method": "file.preview", "params": {}, "rows": rows, "invalidEvery": invalid_every, "name": name})
    if not reply["ok"]:
        raise WorkerError(reply["error"])
    return reply["result"]


def wait_for_run(page: Page, run_id: str, predicate: Callable[[dict[str, Any], list[dict[str, Any]]], bool],
                 timeout_s: float = 120) -> dict[str, Any]:
    """Poll `runs.get` and `runs.steps` until `predicate(run, steps)` is true; returns the run."""
    deadline = time.monotonic() + timeout_s
    while True:
        run = call(page, "runs.get", run_id=run_id)
        steps = call(page, "runs.steps", run_id=run_id)
        if predicate(run, steps):
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} did not get there: {run['status']}, {len(steps)} steps")
        page.wait_for_timeout(100)


def set_test_hooks(target: Page | BrowserContext, hooks: dict[str, Any]) -> None:
    """Give the engine worker of every later page load (reloads included) test-only hooks (py/worker/hooks.py),
    e.g. `{"max_batch_rows": 20_000, "hold_at_rows": [250_000]}`: an init script sets
    `window.__csvImporterTestHooks` before static/js/start-engine.mjs starts the worker."""
    target.add_init_script(f"window.__csvImporterTestHooks = {json.dumps(hooks)};")


def batch_rows(steps: list[dict[str, Any]]) -> list[int]:
    """Rows done (accepted + rejected) after each committed `batch-N` step of an import, in order."""
    return [s["output"]["accepted"] + s["output"]["rejected"] for s in steps
            if s["name"].startswith("batch-") and s["status"] == "completed"]


def enable_diagnostics(target: Page | BrowserContext) -> None:
    """Serve the test-only `diagnostics.*` methods to the engine worker of every later page load (they do not
    exist otherwise, docs/protocol.md). Merges into hooks set before or after with `set_test_hooks`."""
    target.add_init_script("window.__csvImporterTestHooks = Object.assign("
                           "window.__csvImporterTestHooks || {}, {diagnostics: true});")


def assert_exactly_once(page: Page, run: dict[str, Any], rows: int, rejected: list[int], *, first_id: int = 0) -> None:
    """Run `run` imported a generated file of `rows` ids (`first_id`.., one a line after the header; 0 for
    bench's generate_csv, 1 for `preview_generated_csv`): its table holds every id not in `rejected` once
    (count, distinct, sum) and its rejects hold each row of `rejected` once (at its line number)."""
    table = run["output"]["table"]
    skipped = set(rejected)
    expected_ids = [i for i in range(first_id, first_id + rows) if i not in skipped]
    summary = call(page, "sql.query", sql=f'SELECT count(*), count(DISTINCT id), sum(id) FROM "{table}"')["rows"]
    assert summary == [[len(expected_ids), len(expected_ids), sum(expected_ids)]]
    rejects = call(page, "sql.query", params=[run["id"]], sql=(
        "SELECT count(*), count(DISTINCT row_number), sum(row_number) FROM importer_rejects WHERE run_id = ?"))
    lines = [i - first_id + 2 for i in rejected]
    assert rejects["rows"] == [[len(rejected), len(rejected), sum(lines)]]


def controlled(page: Page) -> None:
    """Wait until the service worker is active (it precached the app), then reload so that it controls the page."""
    page.wait_for_function("async () => !!(await navigator.serviceWorker.ready).active", timeout=60_000)
    page.reload()
    wait_for_state(page, "ready")
    page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=30_000)
