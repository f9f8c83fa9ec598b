"""Quality of every screen: keyboard use, visible focus, phone width, dark scheme, accessibility."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.support import wait_for_state
from tests.ui.pages import assert_accessible, go, open_app, people, preview, shot, start_import, wait_for_run

SCREENS = ("import", "runs", "data", "storage")


def test_the_whole_flow_works_from_the_keyboard(page: Page, base_url: str, tmp_path: Path) -> None:
    open_app(page, base_url)
    path = people(tmp_path, 40)
    page.set_input_files("[data-testid=file-input]", str(path))  # the OS picker itself is not the page's
    page.wait_for_selector("#preview:not([hidden]) #preview-table tbody tr")
    page.focus("#table-name")
    page.keyboard.press("Control+A")
    page.keyboard.type("typed_by_keyboard")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.dataset.testid") == "if-exists"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.dataset.testid") == "start-import"
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused button shows no focus ring"
    page.keyboard.press("Enter")
    wait_for_run(page, "completed")
    page.focus("nav.tabs a[data-view=data]")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=table-row-count][data-table=typed_by_keyboard]")


def test_the_file_picker_is_reachable_with_tab_and_labelled(page: Page, base_url: str) -> None:
    open_app(page, base_url)
    label = page.evaluate("""() => { const input = document.querySelector('[data-testid=file-input]');
        return input.labels.length ? input.labels[0].textContent : ''; }""")
    assert "Choose a file" in label
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.dataset.testid") == "file-input":
            break
    else:
        pytest.fail("Tab never reached the file input")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_screen_fits_a_phone_and_passes_axe(browser: Browser, base_url: str, tmp_path: Path,
                                                  artifacts: Path, scheme: str) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, color_scheme=scheme,
                                  device_scale_factor=1)
    try:
        page = context.new_page()
        page.goto(base_url)
        wait_for_state(page, "ready")
        start_import(page, people(tmp_path, 30))
        wait_for_run(page, "completed")
        preview(page, people(tmp_path, 30, name="second.csv"))
        for screen in SCREENS:
            go(page, screen)
            if screen == "data":
                page.click(".table-link")
                page.locator("[data-testid=data-row]").first.wait_for()
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{screen} scrolls sideways by {overflow}px on a phone"
            shot(page, artifacts, f"phone-{scheme}-{screen}")
            assert_accessible(page, f"{screen} ({scheme}, phone)")
    finally:
        context.close()


def test_progress_updates_neither_move_the_layout_nor_animate(page: Page, base_url: str, tmp_path: Path) -> None:
    """A progress update is one frame: no layout shift, and no CSS transition or animation, which would have the
    page render about 60 frames a second through the whole import on the cores the import runs on (a width
    transition on the bar did: 56-59 frames a second, 3 s of the page's main thread in a 1M-row import)."""
    open_app(page, base_url)
    page.evaluate("""() => { window.__shifts = 0; new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__shifts += entry.value;
    }).observe({type: 'layout-shift', buffered: false}); }""")
    cdp = page.context.new_cdp_session(page)
    animations: list[str] = []
    cdp.on("Animation.animationStarted", lambda event: animations.append(event["animation"]["type"]))
    cdp.send("Animation.enable")
    start_import(page, people(tmp_path, 600_000))
    page.wait_for_selector("[data-testid=run-progress][data-status=running]", timeout=60_000)
    page.evaluate("() => { window.__shifts = 0; }")
    animations.clear()
    page.wait_for_function("() => parseInt((document.querySelector('#stat-rows').textContent || '0')"
                           ".replace(/,/g, '')) > 50000", timeout=60_000)
    wait_for_run(page, "completed")
    assert page.evaluate("() => window.__shifts") < 0.01
    assert page.evaluate("() => document.querySelector('[data-testid=run-progress]').value") == 1
    assert animations == []
