"""The storage panel: used and available space, persistent storage, delete all data."""

from pyscript.ffi import create_proxy

from ui import dom
from ui import format as fmt


class StorageView:
    """The Storage screen, bound to a `StorageHandle`."""

    def __init__(self, storage, notices, on_cleared=None):
        self._on_cleared = on_cleared
        self._storage = storage
        self._notices = notices
        self._persisted = None
        storage.subscribe(lambda handle: self.render())
        dom.listen(dom.find("#persist"), "click", self._persist)
        dom.listen(dom.find("#clear-all"), "click", self._clear)

    def render(self):
        storage = self._storage
        usage, quota = storage.usage, storage.quota
        meter = dom.find("#storage-meter")
        if usage is not None and quota:
            meter.value = usage / quota
            text = fmt.size(usage) + " used of " + fmt.size(quota) + " available to this app"
        else:
            text = "Not known yet."
        dom.set_text(dom.find("#storage-text"), text)
        persisted = self._persisted if self._persisted is not None else storage.persisted
        if persisted:
            note = "Persistent: the browser will not clear this data to free space."
        else:
            note = "Not persistent: the browser may clear this data when the disk runs low."
        dom.set_text(dom.find("#storage-persisted"), note)

    def _persist(self, event):
        storage = getattr(dom.window.navigator, "storage", None)
        if storage is None or not getattr(storage, "persist", None):
            self._notices.error("This browser cannot make storage persistent.")
            return

        def answered(granted):
            self._persisted = bool(granted)
            if not granted:
                self._notices.error("The browser said no to persistent storage. Installing the app, or "
                                    "bookmarking it, often makes it say yes.")
            self.render()

        storage.persist().then(create_proxy(answered))

    def _clear(self, event):
        self._notices.confirm("Delete all data?", "Every run, imported table, log and staged file in this "
                              "browser is deleted. This cannot be undone.", "Delete everything",
                              self._clear_now)

    def _clear_now(self):
        self._storage.clear().then(self._cleared, lambda e: self._notices.error(e.message))

    def _cleared(self, result):
        if self._on_cleared is not None:
            self._on_cleared()
