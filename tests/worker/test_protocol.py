"""The message protocol: parsing requests, building replies, errors and events; every message gets a reply
(however nested or malformed), test-only methods stay out of production, and `sql.query` has a budget."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.worker.fakes import FakePlatform
from worker import protocol
from worker.app import WorkerApp
from worker.hooks import parse_hooks


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b"{}", "JSON text"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"method": "x"}', "integer 'id'"),
        ('{"id": true, "method": "x"}', "integer 'id'"),
        ('{"id": 1}', "'method'"),
        ('{"id": 1, "method": "x", "params": []}', "'params'"),
    ],
)
def test_malformed_requests_raise_a_bad_request_error_with_the_reason(text: object, reason: str) -> None:
    with pytest.raises(protocol.ProtocolError) as info:
        protocol.parse_request(text)
    assert info.value.code == "bad-request"
    assert reason in info.value.message


def test_a_well_formed_request_is_parsed_with_default_params() -> None:
    assert protocol.parse_request('{"id": 3, "method": "engine.info"}') == protocol.Request(3, "engine.info", {})


@pytest.mark.parametrize(("text", "expected"), [('{"id": 5, "method": 1}', 5), ("{oops", None), ('{"id": "5"}', None)])
def test_the_id_of_a_malformed_request_is_recovered_when_present(text: str, expected: int | None) -> None:
    assert protocol.request_id_of(text) == expected


def test_replies_errors_and_events_are_json_with_stable_shapes() -> None:
    assert json.loads(protocol.reply(1, {"a": 1})) == {"id": 1, "ok": True, "result": {"a": 1}}
    error = protocol.ProtocolError("follower", "Another tab", hint="close it")
    assert json.loads(protocol.error_reply(2, error)) == {
        "id": 2, "ok": False, "error": {"code": "follower", "message": "Another tab", "hint": "close it"}}
    assert json.loads(protocol.event("run:progress", {"x": 1})) == {"event": "run:progress", "data": {"x": 1}}


# -- every message gets a reply, through the worker app (issue 12) ---------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("text", [
    DEEP,
    '{"id": 41, "method": "engine.info", "params": {"a": ' + DEEP + "}}",
    '{"id": 42, "method": "engine.info", "params": ' + "{" * 3 + DEEP,
])
def test_deeply_nested_json_is_a_bad_request_not_a_crash(text: str) -> None:
    with pytest.raises(protocol.ProtocolError) as info:
        protocol.parse_request(text)
    assert info.value.code == "bad-request"


def test_nesting_is_limited_before_parsing_and_brackets_in_strings_do_not_count() -> None:
    def nested(depth: int) -> str:
        return '{"id": 1, "method": "m", "params": {"a": ' + "[" * (depth - 2) + "]" * (depth - 2) + "}}"

    assert protocol.parse_request(nested(protocol.MAX_DEPTH)).id == 1
    with pytest.raises(protocol.ProtocolError, match="nested too deeply"):
        protocol.parse_request(nested(protocol.MAX_DEPTH + 1))
    brackets = '{"id": 2, "method": "m", "params": {"s": "' + "[{" * 500 + '\\"' + '", "t": "]]"}}'
    assert protocol.parse_request(brackets).params["s"].startswith("[{[{")
    siblings = '{"id": 3, "method": "m", "params": {"x": [' + "[1], " * 500 + "[1]]}}"  # many, but shallow
    assert len(protocol.parse_request(siblings).params["x"]) == 501


def test_the_id_of_a_too_deep_request_is_still_read_when_it_comes_first() -> None:
    assert protocol.request_id_of('{"id": 41, "method": "x", "params": ' + DEEP + "}") == 41
    assert protocol.request_id_of('{"method": "x", "id": 41, "params": ' + DEEP + "}") is None
    assert protocol.request_id_of(DEEP) is None


async def served(app: WorkerApp, *texts: object) -> dict[int | None, dict[str, Any]]:
    """Serve `texts` and return the replies by id (a later reply with the same id wins)."""
    platform = app.platform
    for text in texts:
        app.receive(text)
    await asyncio.sleep(0)
    while app._tasks:
        await asyncio.gather(*list(app._tasks))
    return {r["id"]: r for r in platform.replies()}  # type: ignore[attr-defined]


def ask(request_id: int, method: str, **params: Any) -> str:
    return json.dumps({"id": request_id, "method": method, "params": params})


@pytest.fixture
async def app(tmp_path: Path) -> WorkerApp:
    app = WorkerApp(FakePlatform(tmp_path))
    await app.lead(str(tmp_path / "app.sqlite"))
    return app


async def test_hostile_messages_each_get_an_error_reply(app: WorkerApp) -> None:
    replies = await served(app, '{"id": 41, "method": "engine.info", "params": ' + DEEP + "}",
                           "1e999999", "null", '{"id": 43, "method": "\\ud800"}',
                           ask(44, "sql.query", sql="SELECT 1", limit=1e300), ask(45, "engine.info"))
    assert replies[41]["error"]["code"] == "bad-request" and "nested too deeply" in replies[41]["error"]["message"]
    assert replies[None]["error"]["code"] == "bad-request"
    assert replies[43]["error"]["code"] == "unknown-method"
    assert replies[44]["error"]["code"] == "bad-params"
    assert replies[45]["ok"] is True


async def test_diagnostics_do_not_exist_without_the_test_hooks(app: WorkerApp) -> None:
    replies = await served(app, ask(1, "diagnostics.write", value="x"), ask(2, "diagnostics.bulk_write", rows=5),
                           ask(3, "diagnostics.read"), ask(4, "diagnostics.memory"))
    assert {r["error"]["code"] for r in replies.values()} == {"unknown-method"}


async def test_diagnostics_enabled_by_the_hooks_keep_their_rows_out_of_the_users_database(tmp_path: Path) -> None:
    app = WorkerApp(FakePlatform(tmp_path), hooks=parse_hooks('{"diagnostics": true}'))
    await app.lead(str(tmp_path / "app.sqlite"))
    replies = await served(app, ask(1, "diagnostics.write", value="probe"), ask(2, "diagnostics.read"),
                           ask(3, "tables.list"))
    assert replies[2]["result"]["values"] == ["probe"] and replies[2]["result"]["integrity"] == "ok"
    assert replies[3]["result"] == []
    user_tables = app.require_db().execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert not [name for (name,) in user_tables if "probe" in name or "diagnostic" in name]
    assert (tmp_path / "diagnostics.sqlite").exists()
    assert app.platform.prepared[-2:] == ["diagnostics.sqlite", "diagnostics.sqlite-journal"]  # type: ignore[attr-defined]


ENDLESS = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"


async def test_an_endless_query_is_stopped_within_its_budget_with_a_sentence(app: WorkerApp) -> None:
    replies = await served(app, ask(1, "sql.query", sql=ENDLESS, seconds=1))
    error = replies[1]["error"]
    assert error["code"] == "invalid"
    assert error["message"].startswith("The query ran for more than 1 s and was stopped.")
    after = await served(app, ask(2, "sql.query", sql="SELECT 1 + 1"))
    assert after[2]["result"]["rows"] == [[2]]  # the handler is gone: the next query runs


async def test_more_rows_than_the_cap_are_cut_with_a_sentence(app: WorkerApp) -> None:
    rows = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 50) SELECT i FROM n"
    replies = await served(app, ask(1, "sql.query", sql=rows, limit=20), ask(2, "sql.query", sql=rows, limit=50))
    cut, whole = replies[1]["result"], replies[2]["result"]
    assert cut["truncated"] is True and len(cut["rows"]) == 20
    assert cut["message"].startswith("Only the first 20 rows are shown")
    assert whole["truncated"] is False and "message" not in whole and len(whole["rows"]) == 50


async def test_a_query_cannot_build_a_value_that_would_exhaust_the_worker(app: WorkerApp) -> None:
    replies = await served(app, ask(1, "sql.query", sql="SELECT length(zeroblob(500000000))"),
                           ask(2, "sql.query", sql="SELECT length(zeroblob(1000))"))
    assert replies[1]["error"]["code"] == "invalid" and "32 MB" in replies[1]["error"]["message"]
    assert replies[2]["result"]["rows"] == [[1000]]
