"""One engine per origin: a second tab follows, writes nothing, and takes over when the first closes."""

from __future__ import annotations

from playwright.sync_api import BrowserContext

from tests.browser.support import call, call_raw, enable_diagnostics, wait_for_state


def test_second_tab_follows_writes_nothing_and_takes_over(context: BrowserContext, base_url: str) -> None:
    enable_diagnostics(context)
    first = context.new_page()
    first.goto(base_url)
    wait_for_state(first, "ready")
    second = context.new_page()
    second.goto(base_url)
    text = wait_for_state(second, "follower")
    assert "Another tab" in text

    refused = call_raw(second, "diagnostics.write", value="from the follower")
    assert refused["ok"] is False and refused["error"]["code"] == "follower"

    call(first, "diagnostics.write", value="from the leader")
    first.close()
    wait_for_state(second, "ready")
    assert call(second, "diagnostics.read")["values"] == ["from the leader"]
