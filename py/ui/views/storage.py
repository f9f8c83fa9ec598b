"""The storage panel: used and available space, persistent storage, delete all data, open a database file
(one the page downloaded or csv-import made) and restore the one it replaced; and the notice that the
browser cleared the saved imports (`[data-testid=storage-lost]`)."""

from ui import dom
from ui import format as fmt


class StorageView:
    """The Storage screen, bound to a `StorageHandle`.

    Persistent storage is asked for after a user gesture: the first Start of an import (`ask_persist`,
    once per page) or the panel's button. `#storage-persisted` says what the browser answers
    (`navigator.storage.persisted()`), also as `data-persisted` ("true" | "false" | "unknown").
    """

    def __init__(self, storage, notices, on_cleared=None):
        self._on_cleared = on_cleared
        self._storage = storage
        self._notices = notices
        self._persisted = None
        self._asking = False
        self._asked = False
        self._lost = dom.find("#storage-lost")
        storage.subscribe(lambda handle: self.render())
        dom.listen(dom.find("#persist"), "click", self._persist)
        dom.listen(dom.find("#clear-all"), "click", self._clear)
        dom.listen(dom.find("#storage-lost-dismiss"), "click", lambda event: storage.dismiss_lost())
        self._open_input = dom.find("#open-db-input")
        self._open_status = dom.find("#open-db-status")
        dom.listen(self._open_input, "change", self._picked)
        dom.listen(dom.find("#restore-db"), "click", self._restore)
        dom.storage_persisted(self._answered)
        self.render()

    def render(self):
        storage = self._storage
        usage, quota = storage.usage, storage.quota
        meter = dom.find("#storage-meter")
        figures = dom.find("#storage-text")
        if usage is not None and quota:
            meter.value = usage / quota
            text = fmt.size(usage) + " used of " + fmt.size(quota) + " available to this app"
            figures.setAttribute("data-usage", str(usage))
            figures.setAttribute("data-quota", str(quota))
        else:
            text = "Not known yet."
        dom.set_text(figures, text)
        persisted = self._persisted
        if persisted is None:
            note = "The browser has not said whether it keeps this data."
        elif persisted:
            note = "Persistent: the browser will not clear this data to free space."
        else:
            note = "Not persistent: the browser may clear this data when the disk runs low."
        line = dom.find("#storage-persisted")
        dom.set_text(line, note)
        line.setAttribute("data-persisted", "unknown" if persisted is None else str(bool(persisted)).lower())
        if self._asked:
            line.setAttribute("data-asked", "true")
        lost = storage.lost
        if lost:
            saved = "The saved import in this browser is" if lost == 1 else \
                "The " + fmt.count(lost) + " saved imports in this browser are"
            dom.set_text(dom.find("#storage-lost-text"), saved + " gone: the browser cleared "
                         "this site's storage (to free disk space, or because its data was cleared). This page cannot "
                         "bring back what was cleared: import the files again. To ask the browser to keep data from "
                         "now on, use 'Keep my data' under Storage.")
        dom.show(self._lost, bool(lost))
        dom.show(dom.find("#restore-db"), bool(storage.previous))

    def ask_persist(self):
        """Ask for persistent storage once per page, from a user gesture (the first Start of an import)."""
        if self._asking or self._persisted:
            return
        self._asking = True
        dom.request_persistence(self._requested)

    def _persist(self, event):
        self._asking = True
        dom.request_persistence(lambda granted: self._requested(granted, explain=True))

    def _requested(self, granted, explain=False):
        if granted is None and explain:
            self._notices.error("This browser cannot make storage persistent.")
        elif not granted and explain:
            self._notices.error("The browser said no to persistent storage. Installing the app, or "
                                "bookmarking it, often makes it say yes.")
        dom.storage_persisted(self._answered_after_asking)  # what the browser says now, not what we asked

    def _answered_after_asking(self, persisted):
        self._asked = True  # `data-asked`: the line shows the answer that followed a request
        self._answered(persisted)

    def _answered(self, persisted):
        self._persisted = persisted
        self.render()

    def _clear(self, event):
        self._notices.confirm("Delete all data?", "Every run, imported table, log and staged file in this "
                              "browser is deleted. This cannot be undone.", "Delete everything",
                              self._clear_now)

    def _clear_now(self):
        self._storage.clear().then(self._cleared, lambda e: self._notices.error(e.message))

    def _cleared(self, result):
        if self._on_cleared is not None:
            self._on_cleared()

    # -- opening a database file ----------------------------------------------------------------
    def _picked(self, event):
        files = self._open_input.files
        if not files.length:
            return
        file = files.item(0)
        self._open_input.value = ""  # so that picking the same file again is a change too
        self._say("Checking '" + str(file.name) + "'…", "checking")
        self._storage.inspect(file).then(self._checked, self._refused)

    def _checked(self, result):
        name = str(result.get("name") or "the file")
        token = result.get("token")
        self._say("'" + name + "' can be opened: confirm to open it.", "checked")
        self._notices.confirm("Open '" + name + "'?", _holds(result) + " " + _replaces(result), "Open it",
                              lambda: self._open(token, name), on_cancel=lambda: self._cancelled(token, name))

    def _cancelled(self, token, name):
        self._storage.discard(token)
        self._say("'" + name + "' was not opened; nothing changed.", "cancelled")

    def _open(self, token, name):
        self._say("Opening '" + name + "'…", "opening")
        self._storage.open_database(token, name).then(lambda result: self._opened("Opened '" + name + "'", result),
                                                      self._refused)

    def _restore(self, event):
        self._notices.confirm("Restore the previous database?", "The database this browser had before a file "
                              "was last opened comes back. The one here now becomes the backup instead, so "
                              "restoring again brings it back.", "Restore it", self._restore_now)

    def _restore_now(self):
        self._say("Restoring the previous database…", "opening")
        self._storage.restore().then(lambda result: self._opened("Restored the previous database", result),
                                     self._refused)

    def _opened(self, what, result):
        self._say(what + ": " + _counted(result) + ". The database it replaced is kept as a backup.", "opened")

    def _refused(self, error):
        self._say(error.message, "refused", alert=True)

    def _say(self, text, state, alert=False):
        dom.set_text(self._open_status, text)
        self._open_status.setAttribute("data-state", state)
        if alert:
            self._open_status.classList.add("error")
        else:
            self._open_status.classList.remove("error")


def _counted(result):
    runs = result.get("runs") or 0
    tables = result.get("tables") or []
    return (fmt.count(runs) + (" run" if runs == 1 else " runs") + " and " + fmt.count(len(tables)) +
            (" table" if len(tables) == 1 else " tables"))


def _holds(result):
    text = "It holds " + _counted(result)
    unfinished = result.get("unfinished") or 0
    if unfinished:
        text += (", " + fmt.count(unfinished) + " of them left unfinished (one csv-import left unfinished "
                 "continues here once you pick its file again under Import)")
    return text + "."


def _replaces(result):
    current = result.get("current_runs") or 0
    return ("It replaces the database in this browser (" + fmt.count(current) + (" run" if current == 1 else " runs") +
            "), which is kept as a backup: 'Restore the previous database' brings it back. Only the last one "
            "replaced is kept.")
