"""Browser kill chaos: import a chaos file through the page and interrupt it at chosen committed row counts,
each time one of the three ways a user can (session.KINDS); after each, the app opened again must find the run
unfinished and resume it by itself (resume banner, then a further committed batch). At the end the stored
table and rejects must equal the file's (verify.py).

A moment is "when the run's committed rows done passed target N": the driver polls the run's committed batch
steps through the protocol and interrupts as soon as the condition holds, however fast the machine is. The
long form draws its targets from the seed (random moments); the short test also sets them as hold points
(py/worker/hooks.py), so the run waits there and every interruption lands mid-import by construction.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.support import batch_rows, call, wait_for_run
from tests.browser.test_import_reloads import wait_for_run_created
from tests.chaos.data import Expected
from tests.chaos.session import KINDS, AppSession
from tests.chaos.verify import Verdict, verify_import

FINISHED = ("completed", "failed", "cancelled")
BANNER = "[data-testid=resume-banner]"
RUN_TIMEOUT_S = 1800


@dataclass
class Outcome:
    """What happened: interruptions that landed mid-import, by kind; ones that did not (the run had ended);
    and the final verdict (None if the run never completed)."""

    landed: Counter[str] = field(default_factory=Counter)
    missed: int = 0
    banners: int = 0  # landed interruptions after which the page showed its resume banner
    moments: list[tuple[str, int, int]] = field(default_factory=list)  # (kind, target, rows done at interrupt)
    verdict: Verdict | None = None
    status: str = ""
    error: Any = None


def draw_targets(rng: random.Random, rows: int, count: int) -> list[int]:
    """`count` distinct committed row counts, sorted, spread over the first 95% of the file."""
    return sorted(rng.sample(range(rows // 100, rows * 95 // 100), count))


def draw_kinds(rng: random.Random, count: int) -> list[str]:
    """`count` kinds: each round of three holds every kind once, in a seeded order."""
    kinds: list[str] = []
    while len(kinds) < count:
        kinds += rng.sample(KINDS, len(KINDS))
    return kinds[:count]


def start_import(page: Page, source: Path) -> str:
    """Pick `source` in the page's file input, make id integer and amount real, press Start; the run id."""
    page.set_input_files("[data-testid=file-input]", str(source))
    page.get_by_label("Type of column 1 (id)").select_option("integer")
    page.get_by_label("Type of column 4 (amount)").select_option("real")
    page.locator("[data-testid=start-import]").click(timeout=120_000)
    return wait_for_run_created(page, timeout_s=300)


def committed(page: Page, run_id: str) -> int:
    """Rows done (accepted + rejected) by the run's committed batches."""
    rows = batch_rows(call(page, "runs.steps", run_id=run_id))
    return rows[-1] if rows else 0


# Resolves once the run's committed rows done reached `target` (reading the events recorded since the worker
# began, then new ones): {how, rows}, or {how: "ended"} when the run
# ended first. Two witnesses, whichever comes first: the worker's events (a `batch-N` step completed after a
# progress event that counted `target` rows: progress counts rows of the batch in flight, so the commit that
# follows holds at least as many) and `runs.steps` replies (exact; the worker answers a request only between
# batches, so replies can lag seconds behind). One request is in flight at a time.
WAIT_FOR_ROWS_JS = """({runId, target, timeoutMs}) => new Promise((resolve, reject) => {
  const worker = window.engineWorker;
  let seen = 0, pending = false, done = false, id = 2_000_000_000;
  const finish = (value) => { done = true; worker.removeEventListener("message", onMessage); resolve(value); };
  const timer = setTimeout(() => { if (!done) { done = true; reject(new Error("no progress to " + target)); } },
                           timeoutMs);
  const onMessage = (event) => {
    if (done) return;
    const msg = JSON.parse(typeof event.data === "string" ? event.data : event.data.json);
    if (msg.event && msg.data && msg.data.run_id === runId) {
      if (msg.event === "run:progress" && msg.data.data && msg.data.data.phase === "importing")
        seen = Math.max(seen, msg.data.data.rows_done || 0);
      if (msg.event === "step:complete" && msg.data.step.startsWith("batch-") && seen >= target)
        { clearTimeout(timer); finish({how: "event", rows: seen}); }
      if (["run:complete", "run:fail", "run:cancel"].includes(msg.event))
        { clearTimeout(timer); finish({how: "ended", rows: seen}); }
    } else if (msg.id === id && msg.ok) {
      pending = false;
      const batches = msg.result.filter((s) => s.name.startsWith("batch-") && s.status === "completed");
      const last = batches.length ? batches[batches.length - 1].output : null;
      const rows = last ? last.accepted + last.rejected : 0;
      if (rows >= target) { clearTimeout(timer); finish({how: "poll", rows}); }
    }
  };
  worker.addEventListener("message", onMessage);
  for (const msg of window.__events) onMessage({data: JSON.stringify(msg)});  // since this page's worker began
  const poll = () => {
    if (done) return;
    if (!pending) {
      pending = true; id += 1;
      worker.postMessage(JSON.stringify({id, method: "runs.steps", params: {run_id: runId}}));
    }
    setTimeout(poll, 200);
  };
  poll();
})"""


def wait_for_rows(page: Page, run_id: str, target: int) -> tuple[str, int]:
    """Wait until the run's committed rows done reached `target` (WAIT_FOR_ROWS_JS); returns (how, rows)."""
    found = page.evaluate(WAIT_FOR_ROWS_JS, {"runId": run_id, "target": target, "timeoutMs": RUN_TIMEOUT_S * 1000})
    return str(found["how"]), int(found["rows"])


def chaos_import(session: AppSession, source: Path, expected: Expected, plan: list[tuple[str, int]], *,
                 enough: int | None = None, log: Callable[[str], None] = print) -> Outcome:
    """Import `source` and interrupt it by `plan` (kind, target rows done), in order, until `enough` landed
    mid-import (default: the whole plan); then let it finish and verify it. Returns the outcome; the caller
    judges it."""
    outcome = Outcome()
    page = session.open()
    run_id = start_import(page, source)
    log(f"run {run_id} started")
    attempt = call(page, "runs.get", run_id=run_id)["attempt"]
    for kind, target in plan:
        if enough is not None and sum(outcome.landed.values()) >= enough:
            break
        how, before = wait_for_rows(page, run_id, target)
        if how == "ended":
            log(f"the run ended before target {target:,}: no more interruptions")
            break
        page = session.interrupt(kind)
        landed, attempt = resumed(page, run_id, attempt)
        outcome.moments.append((kind, target, before))
        if landed:
            outcome.landed[kind] += 1
            outcome.banners += landed == "banner"
        else:
            outcome.missed += 1
        log(f"{kind:6} at {before:>9,} rows done (target {target:,}, seen by {how}): "
            + ("landed mid-import, resumed" + (" (resume banner shown)" if landed == "banner" else "")
               if landed else "the run had ended"))
        if not landed:
            break
    run = wait_for_run(page, run_id, lambda r, _: r["status"] in FINISHED, RUN_TIMEOUT_S)
    outcome.status, outcome.error = run["status"], run["error"]
    if run["status"] == "completed":
        outcome.verdict = verify_import(page, run, expected)
    return outcome


# This page's worker resumed run `runId` (its `run:start` with an attempt past `attempt`) and then committed a
# batch or completed it; resolves true then, false after `ms` without.
RESUMED_JS = """({runId, attempt, ms}) => new Promise((resolve) => {
  const check = () => {
    const events = window.__events.filter((e) => e.data && e.data.run_id === runId);
    const start = events.findIndex((e) => e.event === "run:start" && e.data.attempt > attempt);
    return start >= 0 && events.slice(start).some((e) => e.event === "run:complete"
        || (e.event === "step:complete" && e.data.step.startsWith("batch-")));
  };
  const until = Date.now() + ms;
  const poll = () => { if (check()) resolve(true); else if (Date.now() > until) resolve(false);
                       else setTimeout(poll, 50); };
  poll();
})"""
ATTEMPT_JS = """(runId) => Math.max(0, ...window.__events
    .filter((e) => e.event === "run:start" && e.data.run_id === runId).map((e) => e.data.attempt))"""
BANNER_MS = 15_000  # how long a resumed run's page may take to show its banner


def resumed(page: Page, run_id: str, attempt: int) -> tuple[str, int]:
    """After an interruption: ("", attempt) when the run had ended before it; otherwise the reopened app
    resumed the run by itself (the engine started it again with a later attempt, seen in this page's events)
    and committed a batch or completed the run: ("banner" when the page showed its resume banner by then, else
    "resumed", the new attempt). Events first: the worker answers requests only between batches."""
    banner = page.locator(BANNER)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        if page.evaluate(RESUMED_JS, {"runId": run_id, "attempt": attempt, "ms": 1000}):
            try:
                banner.wait_for(state="visible", timeout=BANNER_MS)
                shown = "Resumed import of" in (banner.text_content() or "")
            except PlaywrightTimeoutError:
                shown = False
            return ("banner" if shown else "resumed"), int(page.evaluate(ATTEMPT_JS, run_id))
        run = call(page, "runs.get", run_id=run_id)
        if run["attempt"] == attempt and run["status"] in FINISHED:
            return "", attempt  # never started again: it had ended before the interruption
    raise AssertionError(f"run {run_id} did not resume within {RUN_TIMEOUT_S} s after the interruption")
