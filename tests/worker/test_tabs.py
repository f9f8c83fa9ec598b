"""Tabs on CPython: real worker apps on one real SQLite file, their channel faked (tests/worker/fakes.py
`Tabs`). A follower forwards its page's requests to the leader and relays the replies; the leader serves
them as its own; nothing is left waiting when the leader goes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.worker.fakes import Client, MemoryByteSource, TabPlatform, Tabs
from worker import tabs as tab_texts
from worker.app import WorkerApp, build_id
from worker.hooks import parse_hooks
from worker.protocol import MAX_DEPTH

DIAGNOSTICS = parse_hooks('{"diagnostics": true}')
CSV = b"id,name\n" + b"".join(b"%d,N%d\n" % (i, i) for i in range(1, 101))


def app_with(hooks: Any = None) -> Callable[[TabPlatform], WorkerApp]:
    return lambda platform: WorkerApp(platform, hooks=hooks)


def status(platform: TabPlatform) -> dict[str, Any]:
    return platform.events("engine:status")[-1]["data"]


async def settle(*apps: WorkerApp) -> None:
    """Let every request task of `apps` finish (they may spawn more)."""
    await asyncio.sleep(0)
    while any(app._tasks for app in apps):
        await asyncio.gather(*[t for app in apps for t in app._tasks])


def request(request_id: int, method: str, **params: Any) -> str:
    return json.dumps({"id": request_id, "method": method, "params": params})


@pytest.fixture
async def tabs(tmp_path: Path) -> AsyncIterator[Tabs]:
    """Tab `a` leads (ready) on a real database; `b` follows it."""
    tabs = Tabs()
    leader, _ = tabs.open("a", app_with(DIAGNOSTICS), tmp_path)
    leader.begin_lead()
    await leader.lead(str(tmp_path / "app.sqlite"))
    follower, _ = tabs.open("b", app_with(DIAGNOSTICS), tmp_path)
    follower.follow()
    yield tabs
    for app in tabs.apps.values():
        if app.engine is not None:
            await app.engine.stop()


def follower_client(tabs: Tabs, tab: str = "b") -> Client:
    app = tabs.apps[tab]
    return Client(app, app.platform)  # type: ignore[arg-type]


async def test_a_follower_imports_through_the_leader_and_gets_every_reply(tabs: Tabs) -> None:
    client = follower_client(tabs)
    assert status(client.platform)["state"] == "follower"
    assert status(client.platform)["message"] == tab_texts.FOLLOWING
    assert all(e["data"]["build"] == build_id() for e in client.platform.events("engine:status"))  # the page's check
    preview = await client.ok("file.preview", MemoryByteSource("people.csv", CSV))
    options = preview["sniff"]["options"]
    started = await client.ok("import.start", source_id=preview["source_id"], options=options)
    run = await client.wait_for_status(started["run_id"], "completed")
    assert (run["output"]["rows_accepted"], run["output"]["rows_rejected"]) == (100, 0)
    count = await client.ok("sql.query", sql=f'SELECT count(*), count(DISTINCT id) FROM "{options["table"]}"')
    assert count["rows"] == [[100, 100]]
    assert client.app.engine is None  # the follower never opened the database
    leader = tabs.apps["a"].platform
    assert not [m for m in leader.replies() if m["id"] is not None]  # type: ignore[attr-defined]
    assert client.platform.events("run:complete")  # the leader's events, relayed


async def test_a_download_reaches_the_follower_with_its_blob(tabs: Tabs) -> None:
    client = follower_client(tabs)
    reply = await client.call("export.database")
    assert reply["ok"] and reply["result"]["name"] == "importer.sqlite"
    assert reply["blob"][:16] == b"SQLite format 3\x00"


async def test_a_forwarded_preview_reports_its_scan_to_the_calling_tab_only(tabs: Tabs) -> None:
    client = follower_client(tabs)
    big = b"id,name\n" + b"".join(b"%d,N%d\n" % (i, i) for i in range(200_000))
    preview = await client.ok("file.preview", MemoryByteSource("big.csv", big))
    scan = await client.ok("file.scan", source_id=preview["source_id"])
    assert scan["rows"] == 200_000
    assert client.platform.events("file:scan")
    assert not tabs.apps["a"].platform.events("file:scan")  # type: ignore[attr-defined]


async def test_test_only_methods_stay_unknown_through_the_forward_path(tmp_path: Path) -> None:
    tabs = Tabs()
    leader, _ = tabs.open("a", app_with(None), tmp_path)  # production: no hooks
    await leader.lead(str(tmp_path / "app.sqlite"))
    follower, _ = tabs.open("b", app_with(DIAGNOSTICS), tmp_path)  # a tab claiming diagnostics
    follower.follow()
    try:
        reply = await follower_client(tabs).call("diagnostics.write", value="x")
        assert reply["error"]["code"] == "unknown-method"
    finally:
        await leader.engine.stop()  # type: ignore[union-attr]


async def test_a_malformed_request_is_answered_by_the_follower_and_never_forwarded(tabs: Tabs) -> None:
    follower = tabs.apps["b"]
    follower.receive('{"id": 4, "method": 7}')
    follower.receive("[" * (MAX_DEPTH + 1))
    codes = [r["error"]["code"] for r in follower.platform.replies()]  # type: ignore[attr-defined]
    assert codes == ["bad-request", "bad-request"]
    assert follower.platform.forwarded == []  # type: ignore[attr-defined]


async def test_hostile_forwarded_messages_get_error_replies_and_bad_senders_are_ignored(tabs: Tabs) -> None:
    leader = tabs.apps["a"]
    sink_posts: dict[str, list[dict[str, Any]]] = {}

    class Recording:
        def __init__(self, tab: str) -> None:
            self.tab = tab

        def post(self, text: str) -> None:
            sink_posts.setdefault(self.tab, []).append(json.loads(text))

        def post_with_blob(self, text: str, blob: Any) -> None:
            self.post(text)

    leader.platform.reply_sink = Recording  # type: ignore[method-assign]
    deep = '{"id": 3, "params": ' + "[" * (MAX_DEPTH + 1)
    for tab, text in [("t1", "{broken"), ("t2", deep), ("t3", {"not": "text"}), ("t4", request(4, "nope")),
                      (17, request(5, "engine.info")), ("x" * 65, request(6, "engine.info")), ("", "{}")]:
        leader.on_forwarded(tab, text)
    await settle(leader)
    codes = {tab: [(m["id"], m["error"]["code"]) for m in posts] for tab, posts in sink_posts.items()}
    assert codes == {"t1": [(None, "bad-request")], "t2": [(3, "bad-request")], "t3": [(None, "bad-request")],
                     "t4": [(4, "unknown-method")]}


async def test_a_follower_relays_only_the_replies_it_waits_for(tabs: Tabs) -> None:
    follower = tabs.apps["b"]
    follower.on_forwarded_reply(json.dumps({"id": 99, "ok": True, "result": 1}))
    follower.on_forwarded_reply({"id": 1})
    follower.on_forwarded_reply("{broken")
    assert follower.platform.replies() == []  # type: ignore[attr-defined]


async def test_a_tab_that_does_not_lead_ignores_forwarded_requests(tabs: Tabs) -> None:
    follower = tabs.apps["b"]
    follower.on_forwarded("c", request(1, "engine.info"))
    await settle(follower)
    assert follower._tasks == set() and follower.platform.replies() == []  # type: ignore[attr-defined]


async def test_while_the_leader_boots_a_follower_says_so_and_answers_at_once(tmp_path: Path) -> None:
    tabs = Tabs()
    leader, _ = tabs.open("a", app_with(), tmp_path)
    leader.begin_lead()  # holds the lock, still opening the storage
    follower, platform = tabs.open("b", app_with(), tmp_path)
    follower.follow()
    assert status(platform) == {"state": "booting", "message": tab_texts.WAITING, "build": build_id()}
    follower.receive(request(1, "runs.list"))
    assert platform.replies() == [{"id": 1, "ok": False,
                                   "error": {"code": "not-ready", "message": tab_texts.STARTING}}]
    assert platform.forwarded == []
    await leader.lead(str(tmp_path / "app.sqlite"))
    assert status(platform)["state"] == "follower"
    client = Client(follower, platform)
    client.next_id = 1  # request 1 was answered above
    reply = await client.call("runs.list")
    assert reply["ok"] and reply["result"]["total"] == 0
    await leader.engine.stop()  # type: ignore[union-attr]


async def test_a_follower_opened_after_the_leader_is_ready_learns_it_by_asking(tabs: Tabs, tmp_path: Path) -> None:
    late, platform = tabs.open("c", app_with(), tmp_path)
    late.follow()
    assert platform.asked == 1
    assert status(platform)["state"] == "follower"


@pytest.mark.parametrize(("next_leader", "who"), [("b", "this tab runs the engine now"),
                                                  ("c", "another tab is taking over the engine")])
async def test_requests_in_flight_when_the_leader_goes_get_a_clear_answer(
        tabs: Tabs, tmp_path: Path, next_leader: str, who: str) -> None:
    third, _ = tabs.open("c", app_with(DIAGNOSTICS), tmp_path)
    third.follow()
    follower = tabs.apps["b"]
    follower.receive(request(7, "diagnostics.hang"))
    follower.receive(request(7, "diagnostics.hang"))  # the same id twice: each gets its answer
    await asyncio.sleep(0)
    old = tabs.apps["a"]
    tabs.close("a")  # the leader's tab closes before it answered
    await old.engine.stop()  # type: ignore[union-attr]
    tabs.apps[next_leader].begin_lead()
    expected = tab_texts.LEADER_GONE.format(who=who)
    assert follower.platform.replies() == [  # type: ignore[attr-defined]
        {"id": 7, "ok": False, "error": {"code": "not-ready", "message": expected}}] * 2
    if next_leader == "c":
        assert status(follower.platform)["state"] == "booting"  # type: ignore[arg-type]


async def test_a_follower_mirrors_a_leader_whose_storage_failed(tabs: Tabs) -> None:
    leader, follower = tabs.apps["a"], tabs.apps["b"]
    leader.state = "error"
    leader.emit_status("The browser's storage failed after a commit: full. Reload the page to continue.")
    assert status(follower.platform) == {  # type: ignore[arg-type]
        "state": "error", "message": "The tab that runs the engine reports: The browser's storage failed after "
        "a commit: full. Reload the page to continue.", "build": build_id()}
    follower.receive(request(2, "runs.list"))
    assert follower.platform.replies()[-1]["error"]["message"].startswith("The browser's storage failed")  # type: ignore[attr-defined]


async def test_announcements_that_are_not_valid_are_ignored(tabs: Tabs) -> None:
    follower = tabs.apps["b"]
    before = list(follower.platform.posted)  # type: ignore[attr-defined]
    for tab, state, message in [("a", "exploded", "x"), (None, "ready", "x"), ("a", "ready", 5),
                                ("y" * 65, "booting", "")]:
        follower.on_leader(tab, state, message)
    assert follower.platform.posted == before  # type: ignore[attr-defined]
    assert follower.link.leader is not None and follower.link.leader.tab == "a"
