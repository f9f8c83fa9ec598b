"""No request leaves the origin while the app boots (invariant 6)."""

from __future__ import annotations

from playwright.sync_api import BrowserContext

from tests.browser.support import wait_for_state


def test_every_boot_request_goes_to_the_apps_own_origin(context: BrowserContext, base_url: str) -> None:
    urls: list[str] = []
    context.on("request", lambda request: urls.append(request.url))
    page = context.new_page()
    page.goto(base_url)
    wait_for_state(page, "ready")
    page.wait_for_load_state("networkidle")
    # the worker's own fetches are recorded too, or this test could not fail
    assert any(url.endswith("pyodide.asm.wasm") for url in urls), urls
    assert any(url.endswith("micropython.wasm") for url in urls), urls
    outside = [url for url in urls if not url.startswith(base_url) and not url.startswith("data:")]
    assert outside == []
