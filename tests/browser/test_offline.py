"""After the first visit the app works with no network at all (invariant 6, PWA): with the server stopped
(nothing listens) and with the browser offline, it boots, imports a file to completion and browses it."""

from __future__ import annotations

import http.server
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Playwright
from tools.serve import make_server

from tests.browser.support import call, controlled, launch_persistent, wait_for_state
from tests.ui.pages import go, people, start_import, wait_for_run


@pytest.fixture
def own_server(base_url: str) -> Iterator[http.server.ThreadingHTTPServer]:  # base_url: the bundle is built
    """A server of the app's files for this test alone, which the test may stop."""
    server = make_server(0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("cut", ["server-stopped", "network-off"])
def test_after_the_first_visit_a_file_is_imported_and_browsed_with_no_server(
        cut: str, context: BrowserContext, own_server: http.server.ThreadingHTTPServer, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{own_server.server_address[1]}/"
    page = context.new_page()
    page.goto(url)
    wait_for_state(page, "ready")
    controlled(page)  # the first visit installed the service worker, which precached this version
    start_import(page, people(tmp_path, 20, name="online.csv"))
    assert wait_for_run(page, "completed") == "completed"

    if cut == "server-stopped":  # nothing listens on the port any more: every request is refused
        own_server.shutdown()
        own_server.server_close()
    else:
        context.set_offline(True)
    page.reload()
    assert wait_for_state(page, "ready").startswith("Engine ready")
    go(page, "import")
    start_import(page, people(tmp_path, 2_000, name="offline.csv"))
    assert wait_for_run(page, "completed") == "completed"
    go(page, "data")
    page.wait_for_function("() => document.querySelectorAll('.table-link').length === 2")  # online's kept
    page.click(".table-link >> text=offline")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=data-row]').length > 0")
    assert page.locator("[data-testid=data-row]").first.text_content().startswith("1")
    assert call(page, "sql.query", sql='SELECT count(*) FROM "offline"')["rows"] == [[2_000]]
    if cut == "server-stopped":
        with pytest.raises(OSError):  # the server really is gone
            urllib.request.urlopen(url, timeout=5)


def test_the_manifest_makes_the_app_installable(pw: Playwright, base_url: str, tmp_path: Path) -> None:
    context = launch_persistent(pw, tmp_path / "profile")  # installability is off in incognito contexts
    page = context.new_page()
    page.goto(base_url)
    wait_for_state(page, "ready")
    errors = context.new_cdp_session(page).send("Page.getInstallabilityErrors")["installabilityErrors"]
    context.close()
    assert errors == []
