"""The version handshake (issue 12, docs/ui.md): the page and its engine worker each carry the id of the build
they come from; when they differ the page says so plainly and importing is off until a reload."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Iterator
from typing import ClassVar

import pytest
from playwright.sync_api import BrowserContext, Page
from tools.serve import AppHandler, make_server
from tools.vendor import BUILD_JSON, BUILD_MODULE, VENDOR, build_module

from tests.browser.support import call, wait_for_state

OTHER_BUILD = "0ther0build0000b"
MISMATCH = "[data-testid=version-mismatch]"


def bundle_of_another_build() -> bytes:
    """The session's app.zip with another build id, as a bundle of another release would have."""
    out = io.BytesIO()
    with zipfile.ZipFile(VENDOR / "app.zip") as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for item in source.infolist():
            data = build_module(OTHER_BUILD).encode() if item.filename == BUILD_MODULE else source.read(item)
            zf.writestr(item, data)
    return out.getvalue()


class OtherEngine(AppHandler):
    """Serves the app, but the engine bundle (static/vendor/app.zip) of another build."""

    bundle: ClassVar[bytes] = b""

    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/static/vendor/app.zip":
            return super().do_GET()
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(self.bundle)))
        self.end_headers()
        self.wfile.write(self.bundle)


@pytest.fixture
def other_engine(base_url: str) -> Iterator[str]:  # base_url: the session's app.zip and build.json are built
    OtherEngine.bundle = bundle_of_another_build()
    server = make_server(0, handler=OtherEngine)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def page_build() -> str:
    return json.loads(BUILD_JSON.read_text())["build"]


def test_a_page_and_engine_of_one_build_show_no_notice(page: Page, base_url: str) -> None:
    page.goto(base_url)
    wait_for_state(page, "ready")
    page.wait_for_function("() => document.querySelector('#app').getAttribute('aria-busy') === 'false'")
    assert page.is_hidden(MISMATCH)
    assert page.is_enabled("[data-testid=file-input]")


def test_an_engine_of_another_build_is_named_and_importing_is_off(context: BrowserContext, other_engine: str) -> None:
    page = context.new_page()
    page.goto(other_engine)
    wait_for_state(page, "ready")
    notice = page.locator(MISMATCH)
    notice.wait_for(state="visible", timeout=30_000)
    text = notice.text_content() or ""
    assert f"page {page_build()}, engine {OTHER_BUILD}" in text, text
    assert "different versions" in text and "Reload" in text
    assert page.is_disabled("[data-testid=file-input]")
    assert page_build() != OTHER_BUILD
    assert call(page, "runs.list")["total"] == 0  # the engine itself runs: reading works, starting is off
    assert page.is_visible("[data-testid=import-blocked]")
    assert "different versions" in (page.text_content("[data-testid=import-blocked]") or "")
