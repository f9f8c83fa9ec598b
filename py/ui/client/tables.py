"""Imported tables: the list with row counts (`TablesList`), one table paged and sorted (`TableView`), a
typed read-only query paged (`QueryResult`), a table's column profile (`ColumnProfile`), and the storage
figures (`StorageHandle`).
"""

from ui.client.observable import Observable, PagedQuery

_REFRESH_ON = ("run:complete", "run:fail", "run:cancel", "run:delete", "storage:cleared", "storage:replaced")


class TablesList(Observable):
    """`tables`: [{name, rows, run_id, columns}], reloaded when an import ends or a run is deleted."""

    def __init__(self, client):
        super().__init__()
        self._client = client
        self.tables = []
        self.error = None
        client.on("*", self._on_event)
        client.on_ready(self.refresh)

    def refresh(self):
        """Reload the list of tables."""
        self._client.call("tables.list").then(self._loaded, self._failed)

    def _loaded(self, tables):
        self.tables = tables if isinstance(tables, list) else (tables or {}).get("tables", [])
        self.error = None
        self._changed()

    def _failed(self, error):
        self.error = error
        self._changed()

    def _on_event(self, event):
        if event.get("type") in _REFRESH_ON and self._client.engine.ready:
            self.refresh()


class TableView(PagedQuery):
    """A page of one table's rows: `columns`, `rows`, `total`, `page`, `order_by`, `descending`, `filter`."""

    _method = "tables.rows"

    def __init__(self, client, table, page_size=50):
        super().__init__(client, page_size)
        self.table = table
        self.order_by = None
        self.descending = False
        self.filter = ""
        self.columns = []
        self.rows = []

    def _params(self):
        params = {"table": self.table, "descending": self.descending}
        if self.order_by:
            params["order_by"] = self.order_by
        if self.filter:
            params["filter"] = self.filter
        return params

    def _take(self, result):
        self.columns = list(result.get("columns") or [])
        self.rows = list(result.get("rows") or [])
        self.total = result.get("total", len(self.rows))

    def sort_by(self, column):
        """Sort by `column`; asking again for the same column flips the direction."""
        if self.order_by == column:
            self.descending = not self.descending
        else:
            self.order_by = column
            self.descending = False
        self.page = 0
        self.refresh()

    def set_filter(self, text):
        """Keep rows where some cell contains `text` (empty: all rows); back to the first page."""
        self.filter = text or ""
        self.page = 0
        self.refresh()

    def export(self):
        """The table as CSV; the result carries `name`, `mime` and the `blob`."""
        return self._client.call("export.table", {"table": self.table})


class QueryResult(PagedQuery):
    """The page of a typed read-only SQL query: `sql`, `columns`, `rows`, `more`, `ran`; `run(sql)` starts it.

    The worker cannot count a query's rows cheaply, so `total` is what is known: the rows up to this page,
    plus one when `more` rows follow (so `has_more` pages on and `page_count` grows as the user pages).
    """

    _method = "sql.query"
    seconds = 10  # the query box's time budget: the worker serves nothing else (imports pause) meanwhile

    def __init__(self, client, page_size=50):
        super().__init__(client, page_size)
        self.sql = ""
        self.columns = []
        self.rows = []
        self.more = False
        self.ran = False

    def run(self, sql):
        """Run `sql` from its first page."""
        self.sql = sql
        self.page = 0
        self.refresh()

    def _params(self):
        return {"sql": self.sql, "seconds": self.seconds}

    def _take(self, result):
        self.columns = list(result.get("columns") or [])
        self.rows = list(result.get("rows") or [])
        self.more = bool(result.get("truncated"))
        self.ran = True
        self.total = self.page * self.page_size + len(self.rows) + (1 if self.more else 0)

    def _failed(self, error):
        self.columns = []
        self.rows = []
        self.more = False
        self.ran = False
        self.total = 0
        super()._failed(error)

    def export(self):
        """Every row of the query as CSV; the result carries `name`, `mime` and the `blob`."""
        return self._client.call("export.query", {"sql": self.sql, "seconds": self.seconds})


class ColumnProfile(Observable):
    """A table's column profile: `table`, `rows`, `columns` (type, nulls, distinct, min, max, top,
    histogram per column), `loading`, `error`; `load(table)` computes it in the worker."""

    def __init__(self, client):
        super().__init__()
        self._client = client
        self.table = None
        self.rows = 0
        self.columns = []
        self.loading = False
        self.error = None

    def load(self, table):
        self.table = table
        self.loading = True
        self.error = None
        self._changed()
        self._client.call("tables.profile", {"table": table}).then(self._loaded, self._failed)

    def _loaded(self, result):
        if result.get("table") != self.table:
            return  # an answer for a table no longer shown
        self.rows = result.get("rows", 0)
        self.columns = list(result.get("columns") or [])
        self.loading = False
        self._changed()

    def _failed(self, error):
        self.loading = False
        self.columns = []
        self.error = error
        self._changed()


SAVED_RUNS_KEY = "csv-importer:saved-runs"
"""The page's memory (localStorage) of how many runs the database held, to tell a cleared one from an empty one."""
_COUNT_ON = ("run:trigger", "run:delete", "storage:cleared", "storage:replaced")


class StorageHandle(Observable):
    """Used and available bytes (`usage`, `quota`), `persisted`, refreshed on engine start and after runs;
    `lost`: how many saved runs the browser cleared, or None; `previous`: the size of the backup an opened
    database file replaced (what `restore` opens), or None.

    The database is gone when the engine had to create a new one (`database_created` in its ready status)
    where this browser remembers saved runs. `memory` (`get(key)` -> text or None, `set(key, text)`: the
    page's localStorage, a second place the browser keeps apart from the database) holds that number,
    updated as runs are created and deleted; without it nothing is detected.
    """

    def __init__(self, client, memory=None):
        super().__init__()
        self._client = client
        self._memory = memory
        self._counting = False
        self._count_again = False
        self.usage = None
        self.quota = None
        self.persisted = None
        self.error = None
        self.lost = None
        self.previous = None
        client.on("*", self._on_event)
        client.on_ready(self._ready)

    def refresh(self):
        self._client.call("storage.estimate").then(self._loaded, self._failed)
        self._client.call("storage.previous").then(self._previous, lambda error: None)

    def inspect(self, file):
        """Copy a picked database file into storage and check it, changing nothing else; returns the `Call`
        (its result: `token`, `name`, `runs`, `unfinished`, `tables`, `current_runs`)."""
        return self._client.call("storage.inspect", {}, file)

    def open_database(self, token, name=None):
        """Put the checked file `token` in place of the database (the current one becomes the backup)."""
        opened = self._client.call("storage.open", {"token": token, "name": name})
        opened.then(lambda result: self.refresh(), lambda error: None)
        return opened

    def discard(self, token):
        """Drop a checked file the user did not open."""
        return self._client.call("storage.discard", {"token": token})

    def restore(self):
        """Open the previous database again (the current one becomes the backup)."""
        restored = self._client.call("storage.restore")
        restored.then(lambda result: self.refresh(), lambda error: None)
        return restored

    def _previous(self, result):
        self.previous = result.get("size") if result.get("exists") else None
        self._changed()

    def clear(self):
        """Delete every run, table and staged file; returns the `Call`."""
        cleared = self._client.call("storage.clear")
        cleared.then(lambda result: self.refresh(), lambda error: None)
        return cleared

    def export_database(self):
        """The whole database file; the result carries `name`, `mime` and the `blob`."""
        return self._client.call("export.database")

    def dismiss_lost(self):
        """The user read the notice: stop showing it."""
        self.lost = None
        self._changed()

    def _ready(self):
        data = self._client.engine.data
        remembered = self._recall()
        if data.get("database_created") and remembered:
            self.lost = remembered
        runs = data.get("runs")
        if isinstance(runs, int):
            self._remember(runs)
        self.refresh()

    def _recall(self):
        if self._memory is None:
            return 0
        try:
            return max(0, int(self._memory.get(SAVED_RUNS_KEY) or 0))
        except ValueError:
            return 0

    def _remember(self, runs):
        if self._memory is not None:
            self._memory.set(SAVED_RUNS_KEY, str(runs))

    def _count(self):
        """Remember how many runs the database holds now (one count in flight; one more if asked meanwhile)."""
        if self._counting:
            self._count_again = True
            return
        self._counting = True

        def done(total):
            self._counting = False
            if total is not None:
                self._remember(total)
            if self._count_again:
                self._count_again = False
                self._count()

        self._client.call("runs.list", {"limit": 1}).then(lambda result: done(result.get("total")),
                                                          lambda error: done(None))

    def _loaded(self, result):
        self.usage = result.get("usage")
        self.quota = result.get("quota")
        if "persisted" in result:
            self.persisted = result.get("persisted")
        self.error = None
        self._changed()

    def _failed(self, error):
        self.error = error
        self._changed()

    def _on_event(self, event):
        if not self._client.engine.ready:
            return
        if event.get("type") in _COUNT_ON:
            self._count()
        if event.get("type") in _REFRESH_ON:
            self.refresh()
