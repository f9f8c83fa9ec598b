"""After the first visit the app works with no network at all (invariant 6, PWA)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import BrowserContext, Playwright

from tests.browser.support import call, enable_diagnostics, launch_persistent, wait_for_state


def test_app_boots_offline_after_the_first_visit(context: BrowserContext, base_url: str) -> None:
    enable_diagnostics(context)
    page = context.new_page()
    page.goto(base_url)
    wait_for_state(page, "ready")
    page.wait_for_function(
        "async () => { const r = await navigator.serviceWorker.ready; return !!r.active; }", timeout=60_000)
    page.reload()  # now controlled by the service worker, which fills its cache as files are used
    wait_for_state(page, "ready")
    page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=30_000)
    call(page, "diagnostics.write", value="written online")

    context.set_offline(True)
    page.reload()
    assert wait_for_state(page, "ready").startswith("Engine ready")
    assert call(page, "diagnostics.read")["values"] == ["written online"]


def test_the_manifest_makes_the_app_installable(pw: Playwright, base_url: str, tmp_path: Path) -> None:
    context = launch_persistent(pw, tmp_path / "profile")  # installability is off in incognito contexts
    page = context.new_page()
    page.goto(base_url)
    wait_for_state(page, "ready")
    errors = context.new_cdp_session(page).send("Page.getInstallabilityErrors")["installabilityErrors"]
    context.close()
    assert errors == []
