"""While an import's batches run, the engine worker answers a request, and ends the run on Cancel, within one
batch (issue 9 item 3, "Cancel lands within one second during any batch": a batch is bounded by
`ImportEnv.batch_seconds`).

Before the fix the worker yielded between batches with `asyncio.sleep(0)`, which Pyodide resumes through a
MessageChannel, and chromium kept running those before the page's messages to the worker: a request waited
for many batches (5.9 s in the chaos suite, 15 batches here). The checks count batches, never durations: the
worker posts a batch's `step:complete` event and a reply on the same channel, so the batches a request waited
for are the `step:complete` events the page receives before the reply whose commit (the event's `at`) came
after the page sent the request. Counting every event received between sending and the reply would also
count batches that committed before the request was sent but whose events still waited in the page's queue
(a page that lags behind a busy machine): on a loaded machine that read 5 for a request answered at once.
Both clocks are the system's (`Date.now()` in the page; the worker's `datetime.now`, whole milliseconds in
Pyodide), so an event before the send is never counted; one in the same millisecond after it may be missed.
"""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.support import call, preview_generated_csv, set_test_hooks, wait_for_state

ROWS = 400_000
BATCH_ROWS = 2_000
INVALID_EVERY = 100
PROBES = 8

# Sends `method` after batch `after` committed, `probes` times one after the other; resolves with, for each,
# how many batches committed after the request was sent and before its reply (and the reply), and whether the
# run ended (with how many batches committed after the last request was sent).
DURING_BATCHES_JS = """async ({method, params, after, probes, endEvent}) => {
  const worker = window.engineWorker;
  const committed = [];  // each batch's commit time (ms since the epoch), in the order the page received them
  let ended = null, sent = null;
  const waiters = [];
  const since = (from, at) => committed.slice(from).filter((t) => t > at).length;
  worker.addEventListener("message", (event) => {
    if (typeof event.data !== "string") return;
    const msg = JSON.parse(event.data);
    if (msg.event === "step:complete" && String(msg.data.step).startsWith("batch-")) {
      committed.push(Date.parse(String(msg.data.at).replace(/(\\.\\d{3})\\d*/, "$1")));
    }
    if (["run:complete", "run:fail", "run:cancel"].includes(msg.event)) {
      ended = {event: msg.event, batches: committed.length, after_sent: sent && since(sent.from, sent.at)};
    }
    waiters.splice(0).forEach((wake) => wake());
  });
  const until = (test) => new Promise((resolve) => {
    const check = () => (test() ? resolve() : waiters.push(check));
    check();
  });
  await until(() => committed.length >= after || ended);
  const out = [];
  for (let i = 0; i < probes && !ended; i++) {
    const id = 1_500_000_000 + i;
    const reply = await new Promise((resolve) => {
      const onReply = (event) => {
        const msg = JSON.parse(typeof event.data === "string" ? event.data : event.data.json);
        if (msg.id === id) { worker.removeEventListener("message", onReply); resolve(msg); }
      };
      worker.addEventListener("message", onReply);
      sent = {from: committed.length, at: Date.now()};
      worker.postMessage(JSON.stringify({id, method, params}));
    });
    out.push({waited: since(sent.from, sent.at), ok: reply.ok, result: reply.result, sentAt: sent.from});
    if (endEvent) await until(() => ended);
  }
  return {probes: out, ended, batches: committed.length, committed};
}"""


def begin(page: Page, base_url: str) -> str:
    set_test_hooks(page, {"max_batch_rows": BATCH_ROWS})
    page.goto(base_url)
    wait_for_state(page, "ready")
    preview = preview_generated_csv(page, ROWS, invalid_every=INVALID_EVERY)
    started = call(page, "import.start", source_id=preview["source_id"], options=preview["sniff"]["options"])
    return str(started["run_id"])


def test_requests_during_an_import_are_answered_within_one_batch(page: Page, base_url: str) -> None:
    run_id = begin(page, base_url)
    seen = page.evaluate(DURING_BATCHES_JS, {"method": "runs.list", "params": {"limit": 1}, "after": 3,
                                             "probes": PROBES, "endEvent": False})
    assert seen["ended"] is None, f"the import ended before the probes were done: {seen}"
    assert all(at > 0 for at in seen["committed"]), seen["committed"]  # every commit time was read (no NaN)
    assert len(seen["probes"]) == PROBES
    for probe in seen["probes"]:
        assert probe["ok"] and probe["result"]["runs"][0]["id"] == run_id
        assert probe["result"]["runs"][0]["status"] == "running"
        waited = [p["waited"] for p in seen["probes"]]
        assert probe["waited"] <= 1, f"runs.list waited for these numbers of batches: {waited}"
    call(page, "runs.cancel", run_id=run_id)


def test_cancel_during_an_import_ends_the_run_within_one_batch_with_only_committed_batches_stored(
        page: Page, base_url: str) -> None:
    run_id = begin(page, base_url)
    seen = page.evaluate(DURING_BATCHES_JS, {"method": "runs.cancel", "params": {"run_id": run_id}, "after": 5,
                                             "probes": 1, "endEvent": True})
    [probe] = seen["probes"]
    assert all(at > 0 for at in seen["committed"]), seen["committed"]  # every commit time was read (no NaN)
    assert probe["ok"], probe.get("error")
    assert seen["ended"]["event"] == "run:cancel", seen["ended"]
    waited = seen["ended"]["after_sent"]
    assert waited <= 1, f"the run ended {waited} batches after Cancel was sent"

    run = call(page, "runs.get", run_id=run_id)
    assert run["status"] == "cancelled"
    batches = [s for s in call(page, "runs.steps", run_id=run_id)
               if s["name"].startswith("batch-") and s["status"] == "completed"]
    assert len(batches) == seen["ended"]["batches"]  # every committed batch was announced, none after Cancel
    last = batches[-1]["output"]
    assert last["accepted"] + last["rejected"] == len(batches) * BATCH_ROWS
    table = call(page, "sql.query", sql="SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'people%'")
    [[name]] = table["rows"]
    count = call(page, "sql.query", sql=f'SELECT count(*), count(DISTINCT id) FROM "{name}"')["rows"]
    assert count == [[last["accepted"], last["accepted"]]]
    rejects = call(page, "sql.query", params=[run_id],
                   sql="SELECT count(*), count(DISTINCT row_number) FROM importer_rejects WHERE run_id = ?")["rows"]
    assert rejects == [[last["rejected"], last["rejected"]]]
