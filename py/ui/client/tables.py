"""Imported tables: the list with row counts (`TablesList`), one table paged and sorted (`TableView`), a
typed read-only query paged (`QueryResult`), a table's column profile (`ColumnProfile`), and the storage
figures (`StorageHandle`).
"""

from ui.client.observable import Observable, PagedQuery

_REFRESH_ON = ("run:complete", "run:fail", "run:cancel", "run:delete", "storage:cleared")


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


class StorageHandle(Observable):
    """Used and available bytes (`usage`, `quota`), `persisted`, refreshed on engine start and after runs."""

    def __init__(self, client):
        super().__init__()
        self._client = client
        self.usage = None
        self.quota = None
        self.persisted = None
        self.error = None
        client.on("*", self._on_event)
        client.on_ready(self.refresh)

    def refresh(self):
        self._client.call("storage.estimate").then(self._loaded, self._failed)

    def clear(self):
        """Delete every run, table and staged file; returns the `Call`."""
        cleared = self._client.call("storage.clear")
        cleared.then(lambda result: self.refresh(), lambda error: None)
        return cleared

    def export_database(self):
        """The whole database file; the result carries `name`, `mime` and the `blob`."""
        return self._client.call("export.database")

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
        if event.get("type") in _REFRESH_ON and self._client.engine.ready:
            self.refresh()
