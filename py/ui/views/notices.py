"""Notices: the version mismatch, the follower notice, the resume banner, error toasts and the confirmation
dialog."""

from ui import dom
from ui import format as fmt


class Notices:
    """Page-wide messages. `error(text)` shows a dismissible alert; `confirm(...)` asks before deleting."""

    def __init__(self, client, job, versions):
        self._client = client
        self._job = job
        self._versions = versions
        self._follower = dom.find("#follower-notice")
        self._banner = dom.find("#resume-banner")
        self._banner_text = dom.find("#resume-text")
        self._toast = dom.find("#toast")
        self._toast_text = dom.find("#toast-text")
        self._dialog = dom.find("#confirm")
        self._dismissed_resume = None
        self._on_confirm = None
        dom.listen(dom.find("#toast-dismiss"), "click", lambda e: dom.show(self._toast, False))
        dom.listen(dom.find("#resume-dismiss"), "click", self._dismiss_resume)
        dom.listen(self._dialog, "close", self._closed)
        dom.listen(dom.find("#version-reload"), "click", lambda e: dom.window.location.reload())
        versions.subscribe(lambda check: self._version())
        self._version()
        client.on("engine:status", lambda data: self._engine())
        client.on_unhandled_error = lambda method, error: self.error(error.message)
        job.subscribe(lambda handle: self._resumed())

    def error(self, text):
        """Show `text` as an alert until dismissed."""
        dom.set_text(self._toast_text, text)
        dom.show(self._toast, True)

    def confirm(self, title, text, confirm_label, on_confirm, on_cancel=None):
        """Ask in a modal dialog; `on_confirm()` runs only if the user confirms, `on_cancel()` otherwise."""
        dom.set_text(dom.find("#confirm-title"), title)
        dom.set_text(dom.find("#confirm-text"), text)
        dom.set_text(dom.find("#confirm-yes"), confirm_label)
        self._on_confirm = on_confirm
        self._on_cancel = on_cancel
        self._dialog.returnValue = ""
        self._dialog.showModal()

    def _closed(self, event):
        action, self._on_confirm = self._on_confirm, None
        cancel, self._on_cancel = getattr(self, "_on_cancel", None), None
        if self._dialog.returnValue == "ok" and action is not None:
            action()
        elif cancel is not None:
            cancel()

    def _version(self):
        """`[data-testid=version-mismatch]`: the page and its engine come from different builds."""
        problem = self._versions.problem
        if problem:
            dom.set_text(dom.find("#version-mismatch-text"), problem)
        dom.show(dom.find("#version-mismatch"), bool(problem))

    def _engine(self):
        dom.show(self._follower, self._client.engine.follower)  # this tab's work goes to the other tab

    def _resumed(self):
        resumed = self._job.resumed
        visible = bool(resumed) and resumed.get("run_id") != self._dismissed_resume
        if visible:
            name = resumed.get("file_name") or self._job.file_name or "the file"
            row = resumed.get("row")
            where = " from row " + fmt.count(row) if row is not None else ""
            dom.set_text(self._banner_text, "Resumed import of " + name + where + ".")
        dom.show(self._banner, visible)

    def _dismiss_resume(self, event):
        if self._job.resumed:
            self._dismissed_resume = self._job.resumed.get("run_id")
        dom.show(self._banner, False)
