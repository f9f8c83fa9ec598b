"""A committed transaction survives a reload, a browser restart and a SIGKILL mid-transaction (invariant 1)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from playwright.sync_api import Playwright

from tests.browser.support import (
    RECORD_EVENTS_JS,
    call,
    enable_diagnostics,
    kill_browser,
    launch_persistent,
    wait_for_state,
)


def test_committed_row_survives_reload(page, base_url: str) -> None:
    enable_diagnostics(page)
    page.goto(base_url)
    wait_for_state(page, "ready")
    call(page, "diagnostics.write", value="kept across reload")
    page.reload()
    wait_for_state(page, "ready")
    assert "kept across reload" in call(page, "diagnostics.read")["values"]


def test_committed_row_survives_closing_and_relaunching_the_browser(
        pw: Playwright, base_url: str, tmp_path: Path) -> None:
    context = launch_persistent(pw, tmp_path / "profile")
    enable_diagnostics(context)
    page = context.new_page()
    page.goto(base_url)
    wait_for_state(page, "ready")
    call(page, "diagnostics.write", value="kept across restart")
    context.close()

    context = launch_persistent(pw, tmp_path / "profile")
    enable_diagnostics(context)
    page = context.new_page()
    page.goto(base_url)
    wait_for_state(page, "ready")
    result = call(page, "diagnostics.read")
    context.close()
    assert result["values"] == ["kept across restart"]
    assert result["integrity"] == "ok"


def test_sigkill_mid_transaction_leaves_an_intact_database(
        pw: Playwright, base_url: str, tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    context = launch_persistent(pw, profile)
    enable_diagnostics(context)
    page = context.new_page()
    page.goto(base_url)
    wait_for_state(page, "ready")
    for value in ("first", "second"):
        call(page, "diagnostics.write", value=value)
    page.evaluate(RECORD_EVENTS_JS)
    # a million rows spill pages into the file and journal; the worker then holds the transaction open
    page.evaluate("""() => window.engineWorker.postMessage(JSON.stringify(
        {id: 99, method: "diagnostics.bulk_write", params: {rows: 1000000, hold: true}}))""")
    page.wait_for_function(
        "() => window.__events.some((e) => e.event === 'diagnostics:bulk-held')", timeout=120_000)
    assert kill_browser(profile) > 0
    with contextlib.suppress(Exception):  # the connection died with the browser: expected
        context.close()

    context = launch_persistent(pw, profile)
    enable_diagnostics(context)
    page = context.new_page()
    page.goto(base_url)
    wait_for_state(page, "ready")
    result = call(page, "diagnostics.read")
    context.close()
    assert result["integrity"] == "ok"
    assert result["values"] == ["first", "second"]
    assert result["bulk_rows"] == 0, "the killed transaction must leave no rows"
