"""The message protocol: parsing requests, building replies, errors and events."""

from __future__ import annotations

import json

import pytest

from worker import protocol


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
