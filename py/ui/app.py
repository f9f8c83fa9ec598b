"""The app: builds the client handles on the RPC client, the views on the handles, and routes by hash.

Routes: #import (default), #runs, #run=<id>, #data, #data=<table>, #storage.
"""

from ui import dom
from ui.client import JobHandle, RunActions, RunsList, StorageHandle, TablesList
from ui.client.versions import VersionCheck
from ui.views.data import DataView
from ui.views.importer import ImportView
from ui.views.notices import Notices
from ui.views.progress import ProgressView
from ui.views.run_detail import RunDetailView
from ui.views.runs import RunsView
from ui.views.storage import StorageView

IMPORT_JOB = "import-csv"
VIEWS = ("import", "runs", "run", "data", "storage")


class App:
    """Everything on the page, wired once at start."""

    def __init__(self, client, page_build=None):
        """`page_build`: this page's build id (boot.page_build()); the engine's must match it."""
        self.client = client
        self.versions = VersionCheck(client, page_build)  # first: the views below read its verdict
        self.job = JobHandle(client, IMPORT_JOB, "import.start", auto_resume=True, follow_latest=True)
        self.actions = RunActions(client)
        self.runs = RunsList(client, page_size=20, live=True)
        self.tables = TablesList(client)
        self.storage = StorageHandle(client, dom.LocalMemory())
        self.notices = Notices(client, self.job, self.versions)
        self.storage_view = StorageView(self.storage, self.notices, on_cleared=self._cleared)
        self.progress = ProgressView(client, self.job, self.notices)
        self.importer = ImportView(client, self.job, self.notices, on_start=self.storage_view.ask_persist)
        self.runs_view = RunsView(self.runs, self.actions, self.notices)
        self.run_detail = RunDetailView(client, self.actions, self.notices)
        self.data = DataView(client, self.tables, self.storage, self.notices)
        client.on("storage:replaced", lambda event: self._cleared())  # opened here or in another tab
        # window.addEventListener loses `this` when called from MicroPython: use the handler property
        dom.window.onhashchange = dom.callback(lambda event: self.route())
        self.route()
        dom.find("#app").setAttribute("aria-busy", "false")

    def _cleared(self):
        """Everything was deleted, or another database was opened: forget the current run, reload the lists."""
        self.job.reset()
        self.runs.refresh()
        self.tables.refresh()

    def route(self):
        """Show the view the location's hash names."""
        hash_text = str(dom.window.location.hash or "")[1:]
        name, _, arg = hash_text.partition("=")
        if name not in VIEWS:
            name = "import"
        arg = _decoded(arg) if arg else None
        for view in VIEWS:
            dom.show(dom.find("#view-" + view), view == name)
        tab = "runs" if name == "run" else name
        links = dom.document.querySelectorAll("nav.tabs a")
        for index in range(links.length):
            link = links.item(index)
            if link.getAttribute("data-view") == tab:
                link.setAttribute("aria-current", "page")
            else:
                link.removeAttribute("aria-current")
        if name == "run" and arg:
            self.run_detail.open(arg)
        else:
            self.run_detail.close()
        if name == "data":
            self.data.open(arg)
        if name == "runs" and self.client.engine.ready:
            self.runs.refresh()
        if name == "storage" and self.client.engine.ready:
            self.storage.refresh()
        self.progress.render()


def _decoded(text):
    """The link argument with its %XX escapes decoded as UTF-8; a broken escape such as `%` or `%zz` is kept
    as written. Pure Python on purpose: a JS exception (decodeURIComponent's URIError) cannot be caught in
    MicroPython, it unwinds through the interpreter and stops the first render."""
    hexdigits = "0123456789abcdefABCDEF"
    out = bytearray()
    index = 0
    while index < len(text):
        pair = text[index + 1:index + 3]
        if text[index] == "%" and len(pair) == 2 and pair[0] in hexdigits and pair[1] in hexdigits:
            out.append(int(pair, 16))
            index += 3
        else:
            out.extend(text[index].encode("utf-8"))
            index += 1
    try:
        return bytes(out).decode("utf-8")
    except Exception:  # UnicodeError: escapes that are not UTF-8
        return text
