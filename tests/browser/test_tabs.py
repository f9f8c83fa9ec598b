"""One engine per origin, every tab usable (issue 9 item 4): tabs opened at once each import through their own
page while one tab's worker runs the engine; closing that tab hands the engine to another, which resumes the
running import; a request the engine cannot answer (it starts, or its tab went) gets a clear answer.

Determinism: the handover lands mid-import by construction (a hold point, py/worker/hooks.py, holds the run
after a committed batch until the tab closes), and the booting leader is held `booting` by the `hold_boot`
hook; nothing waits on time.
"""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import BrowserContext, Page

from tests.browser.support import (
    BOOT_TIMEOUT_MS,
    CALL_JS,
    RECORD_EVENTS_JS,
    RECORD_STATUS_JS,
    STATUS,
    assert_exactly_once,
    batch_rows,
    call,
    call_raw,
    enable_diagnostics,
    preview_generated_csv,
    set_test_hooks,
    wait_for_run,
    wait_for_state,
)

WAITING = "Another tab is starting the engine; this tab will send its work there."


def wait_for_role(page: Page) -> str:
    """Wait until the page's engine status is `ready` (this tab runs the engine) or `follower`; returns it."""
    page.wait_for_function(
        f"""() => {{ const el = document.querySelector('{STATUS}');
              return el && ['ready', 'follower', 'error'].includes(el.dataset.state); }}""",
        timeout=BOOT_TIMEOUT_MS)
    state = page.get_attribute(STATUS, "data-state") or ""
    assert state in ("ready", "follower"), f"{state}: {page.text_content(STATUS)}"
    return state


def wait_for_new_leader(pages: list[Page], timeout_s: float = 90) -> Page:
    """The one of `pages` whose worker took the engine once its tab closed (the others follow it)."""
    deadline = time.monotonic() + timeout_s
    while True:
        states = [page.get_attribute(STATUS, "data-state") for page in pages]
        if "error" in states:
            raise AssertionError([page.text_content(STATUS) for page in pages])
        if "ready" in states:
            return pages[states.index("ready")]
        if time.monotonic() > deadline:
            raise AssertionError(f"no tab took the engine over: {states}")
        pages[0].wait_for_timeout(100)


def start_generated_import(page: Page, rows: int, invalid_every: int, name: str, table: str) -> str:
    """Preview a generated file in `page` (its File goes to whichever worker runs the engine) and start its
    import into `table` with the email rule on (every `invalid_every`-th row rejected); returns the run id."""
    preview = preview_generated_csv(page, rows, invalid_every=invalid_every, name=name)
    options = {**preview["sniff"]["options"], "table": table}
    for column in options["columns"]:
        column["email"] = column["name"] == "email"
    started = call(page, "import.start", source_id=preview["source_id"], options=options)
    assert started["created"] is True
    return str(started["run_id"])


def finished(run: dict[str, Any], steps: list[dict[str, Any]]) -> bool:
    return run["status"] in ("completed", "failed", "cancelled")


def invalid_ids(rows: int, every: int) -> list[int]:
    """The ids `preview_generated_csv` gives an invalid email (1-based)."""
    return [i for i in range(1, rows + 1) if i % every == 0]


def test_three_tabs_opened_at_once_each_import_through_one_engine_exactly_once(
        context: BrowserContext, base_url: str) -> None:
    set_test_hooks(context, {"max_batch_rows": 2_000})  # several batches per import
    context.add_init_script(RECORD_STATUS_JS)
    pages = [context.new_page() for _ in range(3)]
    for page in pages:
        page.goto(base_url)  # returns on the page's load event: the three workers boot side by side
    roles = [wait_for_role(page) for page in pages]
    assert sorted(roles) == ["follower", "follower", "ready"], roles

    imports = [(12_000 + 1_000 * n, 50 + 7 * n) for n in range(3)]  # (rows, invalid every) per tab
    run_ids = [start_generated_import(page, rows, every, f"tab{n}.csv", f"tab_{n}")
               for n, (page, (rows, every)) in enumerate(zip(pages, imports, strict=True))]
    for n, (page, run_id, (rows, every)) in enumerate(zip(pages, run_ids, imports, strict=True)):
        run = wait_for_run(page, run_id, finished, 300)
        assert run["status"] == "completed", (n, run["error"])
        assert run["output"]["table"] == f"tab_{n}"
        assert_exactly_once(page, run, rows, invalid_ids(rows, every), first_id=1)
        assert len(batch_rows(call(page, "runs.steps", run_id=run_id))) > 1
    assert len(call(pages[0], "runs.list", limit=10)["runs"]) == 3  # three runs, not more

    histories = [page.evaluate("window.__status.map((s) => s.state)") for page in pages]  # one engine throughout
    leader = roles.index("ready")
    for n, history in enumerate(histories):
        if n == leader:
            assert "follower" not in history and history[-1] == "ready", history
        else:
            assert "ready" not in history and "error" not in history and history[-1] == "follower", history
    assert [page.get_attribute(STATUS, "data-state") for page in pages] == roles


HOLD = 8_000


def test_closing_the_engines_tab_mid_import_hands_the_engine_to_a_tab_that_resumes_it(
        context: BrowserContext, base_url: str) -> None:
    set_test_hooks(context, {"max_batch_rows": 2_000, "hold_at_rows": [HOLD]})
    leader = context.new_page()
    leader.goto(base_url)
    wait_for_state(leader, "ready")
    followers = [context.new_page(), context.new_page()]
    for page in followers:
        page.goto(base_url)
        wait_for_state(page, "follower")
    rows, every = 30_000, 97
    run_id = start_generated_import(followers[1], rows, every, "handed.csv", "handed")  # a follower's file
    held = wait_for_run(leader, run_id, lambda run, steps: finished(run, steps) or
                        (bool(batch_rows(steps)) and batch_rows(steps)[-1] >= HOLD), 120)
    done_before = batch_rows(call(leader, "runs.steps", run_id=run_id))
    assert held["status"] == "running" and HOLD <= done_before[-1] < rows, (held["status"], done_before)
    for page in followers:
        page.evaluate(RECORD_EVENTS_JS)

    leader.close()  # mid-import by construction: the run is held after the batch that crossed HOLD
    new_leader = wait_for_new_leader(followers)
    other = followers[1 - followers.index(new_leader)]
    run = wait_for_run(new_leader, run_id, finished, 300)  # resumed by itself: no call asks for it
    assert run["status"] == "completed", run["error"]
    assert_exactly_once(new_leader, run, rows, invalid_ids(rows, every), first_id=1)
    steps = call(new_leader, "runs.steps", run_id=run_id)
    names = [s["name"] for s in steps]
    assert len(names) == len(set(names)), "a step was recorded twice"
    assert batch_rows(steps)[:len(done_before)] == done_before  # the batches before the close were kept

    wait_for_state(other, "follower")  # the third tab kept following, now the new leader
    other.wait_for_function(
        "(id) => window.__events.some((e) => e.event === 'run:complete' && e.data.run_id === id)",
        arg=run_id, timeout=60_000)
    assert call(other, "runs.get", run_id=run_id)["status"] == "completed"


def test_a_followers_request_gets_a_clear_answer_while_the_engine_starts_and_takes_over_later(
        context: BrowserContext, base_url: str) -> None:
    starting = context.new_page()
    set_test_hooks(starting, {"hold_boot": True})  # this tab takes the engine and stays `booting`
    starting.goto(base_url)
    starting.wait_for_function(f"() => document.querySelector('{STATUS}')?.textContent === 'Opening storage…'",
                               timeout=BOOT_TIMEOUT_MS)
    follower = context.new_page()
    follower.goto(base_url)
    follower.wait_for_function(f"(text) => document.querySelector('{STATUS}')?.textContent === text",
                               arg=WAITING, timeout=BOOT_TIMEOUT_MS)
    reply = call_raw(follower, "runs.list")
    assert reply["error"] == {"code": "not-ready",
                              "message": "Another tab is starting the engine: try again in a moment."}

    starting.close()
    wait_for_state(follower, "ready")
    assert call(follower, "runs.list")["total"] == 0


def test_a_request_the_engines_tab_never_answered_gets_a_clear_answer_when_that_tab_closes(
        context: BrowserContext, base_url: str) -> None:
    enable_diagnostics(context)  # `diagnostics.hang`: a request the engine never answers
    leader = context.new_page()
    leader.goto(base_url)
    wait_for_state(leader, "ready")
    followers = [context.new_page(), context.new_page()]
    for page in followers:
        page.goto(base_url)
        wait_for_state(page, "follower")
    asking = followers[0]
    asking.evaluate(f"(args) => {{ ({CALL_JS})(args).then((reply) => (window.__reply = reply)); }}",
                    {"method": "diagnostics.hang", "params": {}})
    leader.close()
    asking.wait_for_function("() => window.__reply !== undefined", timeout=BOOT_TIMEOUT_MS)  # answered once
    reply = asking.evaluate("window.__reply")  # the engine moved to another tab
    assert reply["ok"] is False and reply["error"]["code"] == "not-ready"
    assert reply["error"]["message"].startswith("The tab that ran the engine closed before it answered; ")
    assert reply["error"]["message"].endswith(". Try again (an import it had started carries on by itself).")
    new_leader = wait_for_new_leader(followers)
    assert call(new_leader, "engine.info")["state"] == "ready"


def test_a_file_picked_in_a_follower_tab_stays_readable_after_that_tab_closes(
        context: BrowserContext, base_url: str) -> None:
    leader = context.new_page()
    leader.goto(base_url)
    wait_for_state(leader, "ready")
    picker = context.new_page()
    picker.goto(base_url)
    wait_for_state(picker, "follower")
    rows, every = 20_000, 40
    preview = preview_generated_csv(picker, rows, invalid_every=every, name="left.csv")  # the File moves
    picker.close()  # to the engine's worker; its tab is gone before the import reads it
    options = preview["sniff"]["options"]
    for column in options["columns"]:
        column["email"] = column["name"] == "email"
    started = call(leader, "import.start", source_id=preview["source_id"], options=options)
    run = wait_for_run(leader, started["run_id"], finished, 120)
    assert run["status"] == "completed", run["error"]
    assert_exactly_once(leader, run, rows, invalid_ids(rows, every), first_id=1)
