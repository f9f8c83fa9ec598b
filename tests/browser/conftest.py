"""Fixtures for browser tests: one app server, one chromium, a fresh context per test.

Each test gets its console log (page and worker) printed when it fails.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from tools.serve import make_server
from tools.vendor import bundle_engine, write_precache

from tests.browser.support import ARGS, CHROMIUM

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    if report.when == "call" and report.failed:
        for line in getattr(item, "console_lines", [])[-80:]:
            report.sections.append(("browser console", line))
    return report


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    bundle_engine()  # the worker loads py/ from app.zip and its snapshot: rebuilt, the tests run the current code
    write_precache()
    server = make_server(0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="session")
def pw() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(pw: Playwright) -> Iterator[Browser]:
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    yield browser
    browser.close()


@pytest.fixture
def console(request: pytest.FixtureRequest) -> list[str]:
    lines: list[str] = []
    request.node.console_lines = lines
    return lines


def attach_console(context: BrowserContext, lines: list[str]) -> None:
    """Collect console messages of every page (and its workers) in `context`."""

    def on_page(page: Page) -> None:
        page.on("console", lambda msg: lines.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda err: lines.append(f"pageerror: {err}"))

    context.on("page", on_page)


@pytest.fixture
def context(browser: Browser, console: list[str]) -> Iterator[BrowserContext]:
    context = browser.new_context()
    attach_console(context, console)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
