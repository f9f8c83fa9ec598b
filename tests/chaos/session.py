"""The app open in a persistent chromium profile, and the three ways a user interrupts it: reload the page,
close the tab and open the app again, or lose the whole browser (SIGKILL) and launch it again on the same
profile. Test hooks are set on the context, so every page it opens (reloads, new tabs) gets them."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, Playwright

from tests.browser.support import kill_browser, launch_persistent, set_test_hooks, wait_for_state

KINDS = ("reload", "tab", "kill")
# Records every event of the page's engine worker in window.__events from the moment the worker is created
# (before it resumes anything), so the driver sees a resumed run's `run:start` and its first batches.
RECORD_FROM_START_JS = """(() => {
  window.__events = [];
  const Native = window.Worker;
  window.Worker = function (...args) {
    const worker = new Native(...args);
    worker.addEventListener("message", (event) => {
      const msg = JSON.parse(typeof event.data === "string" ? event.data : event.data.json);
      if (msg.event) window.__events.push(msg);
    });
    return worker;
  };
  window.Worker.prototype = Native.prototype;
})();"""
KIND_NAMES = {"reload": "page reload", "tab": "tab closed + app reopened", "kill": "browser SIGKILL + relaunch"}


class AppSession:
    """One profile, one open page of the app at a time (`page`); `console` keeps every page's and worker's
    console lines, for the report of a failure."""

    def __init__(self, pw: Playwright, profile: Path, base_url: str, hooks: dict[str, Any]) -> None:
        self.pw, self.profile, self.base_url, self.hooks = pw, profile, base_url, hooks
        self.console: list[str] = []
        self.context: BrowserContext | None = None
        self.page: Page | None = None

    def open(self) -> Page:
        """Launch the browser on the profile and open the app until its engine is ready."""
        self.context = launch_persistent(self.pw, self.profile)
        self.context.on("page", self._listen)
        for existing in self.context.pages:
            self._listen(existing)
        set_test_hooks(self.context, self.hooks)
        self.context.add_init_script(RECORD_FROM_START_JS)
        return self._open_page(self.context.pages[0] if self.context.pages else self.context.new_page())

    def interrupt(self, kind: str) -> Page:
        """Interrupt the app the `kind` way (one of KINDS) and open it again; returns the new page."""
        assert self.context is not None and self.page is not None
        if kind == "reload":
            self.page.reload()
            wait_for_state(self.page, "ready")
            return self.page
        if kind == "tab":
            self.page.close()
            return self._open_page(self.context.new_page())
        if kind == "kill":
            assert kill_browser(self.profile) > 0, "no chromium process of the profile to kill"
            with contextlib.suppress(Exception):  # its connection died with the browser: expected
                self.context.close()
            return self.open()
        raise ValueError(f"unknown interruption {kind!r}")

    def close(self) -> None:
        if self.context is not None:
            with contextlib.suppress(Exception):
                self.context.close()
        self.context = self.page = None

    def _open_page(self, page: Page) -> Page:
        page.goto(self.base_url)
        wait_for_state(page, "ready")
        self.page = page
        return page

    def _listen(self, page: Page) -> None:
        page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda err: self.console.append(f"pageerror: {err}"))
