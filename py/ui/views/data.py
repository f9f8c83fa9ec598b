"""The data browser: imported tables with row counts, one table paged and sortable with a filter,
export as CSV, its column profile, a read-only query box, download of the whole database. Every cell is
text."""

from ui import dom
from ui import format as fmt
from ui.client import TableView
from ui.views.profile import ProfileView
from ui.views.query import QueryView


class DataView:
    """The Data screen, bound to a `TablesList`; `open(table)` shows one table."""

    def __init__(self, client, tables, storage, notices):
        self._client = client
        self._tables = tables
        self._storage = storage
        self._notices = notices
        self._view = None
        self._off = None
        tables.subscribe(lambda handle: self.render())
        dom.listen(dom.find("#download-db"), "click", self._download_db)
        dom.listen(dom.find("#table-filter"), "submit", self._filter)
        dom.listen(dom.find("#export-table"), "click", self._export)
        dom.listen(dom.find("#rows-prev"), "click", lambda e: self._view and self._view.prev_page())
        dom.listen(dom.find("#rows-next"), "click", lambda e: self._view and self._view.next_page())
        dom.listen(dom.find("#rows-table"), "click", self._sort_clicked)
        dom.listen(dom.find("#profile-table"), "click", self._profile_clicked)
        self._profile = ProfileView(client)
        self._query = QueryView(client, notices)

    def render(self):
        rows = []
        for table in self._tables.tables:
            name = table.get("name") or ""
            columns = table.get("columns") or []
            link = dom.h("a", {"href": "#data=" + _escape_hash(name), "text": name, "class": "table-link"})
            count = dom.h("td", {"class": "num", "data-testid": "table-row-count", "data-table": name,
                                 "text": fmt.count(table.get("rows"))})
            rows.append(dom.h("tr", None, dom.h("th", {"scope": "row"}, link), count,
                              dom.h("td", {"class": "num", "text": str(len(columns))})))
        dom.fill(dom.find("#tables-body"), rows)
        dom.show(dom.find("#tables-empty"), not rows)

    def open(self, table):
        """Show `table` (None: only the list)."""
        if self._client.engine.ready:
            self._tables.refresh()
        if table is None:
            dom.show(dom.find("#table-view"), False)
            return
        if self._view is None or self._view.table != table:
            if self._off is not None:
                self._off()
            self._profile.hide()
            self._view = TableView(self._client, table, page_size=50)
            self._off = self._view.subscribe(lambda view: self.render_rows())
            dom.find("#table-filter-text").value = ""
            dom.fill(dom.find("#rows-table"))
        dom.set_text(dom.find("#table-title"), table)
        dom.show(dom.find("#table-view"), True)
        if self._client.engine.ready:
            self._view.refresh()

    def render_rows(self):
        view = self._view
        if view.error is not None:
            dom.fill(dom.find("#rows-table"), dom.h("caption", {"text": view.error.message}))
            return
        head = []
        for column in view.columns:
            sorted_here = column == view.order_by
            direction = "descending" if view.descending else "ascending"
            arrow = (" ▼" if view.descending else " ▲") if sorted_here else ""
            button = dom.h("button", {"type": "button", "class": "sort", "data-column": column,
                                      "text": column + arrow,
                                      "aria-label": "Sort by " + column + (" (sorted " + direction + ")"
                                                                          if sorted_here else "")})
            head.append(dom.h("th", {"scope": "col", "aria-sort": direction if sorted_here else None}, button))
        body = dom.h("tbody")
        for row in view.rows:
            cells = []
            for value in row:
                if value is None:
                    cells.append(dom.h("td", {"class": "null", "text": "NULL"}))
                else:
                    cells.append(dom.h("td", {"text": fmt.cell(value)}))
            body.appendChild(dom.h("tr", {"data-testid": "data-row"}, cells))
        dom.fill(dom.find("#rows-table"), dom.h("thead", None, dom.h("tr", None, head)), body)
        text = "Page " + str(view.page + 1) + " of " + str(view.page_count) + " · " + fmt.plural(view.total, "row")
        if view.filter:
            text += " matching “" + view.filter + "”"
        dom.set_text(dom.find("#rows-page"), text)
        _enable(dom.find("#rows-prev"), view.page > 0)
        _enable(dom.find("#rows-next"), view.has_more)

    def _sort_clicked(self, event):
        target = event.target.closest("button[data-column]")
        if target is not None and self._view is not None:
            self._view.sort_by(target.getAttribute("data-column"))

    def _profile_clicked(self, event):
        if self._view is not None and self._client.engine.ready:
            self._profile.show(self._view.table)

    def _filter(self, event):
        event.preventDefault()
        if self._view is not None:
            self._view.set_filter(dom.find("#table-filter-text").value.strip())

    def _export(self, event):
        if self._view is not None:
            self._view.export().then(lambda r: dom.download(r["blob"], r.get("name") or "table.csv"),
                                     lambda error: self._notices.error(error.message))

    def _download_db(self, event):
        self._storage.export_database().then(lambda r: dom.download(r["blob"], r.get("name") or "importer.sqlite"),
                                             lambda error: self._notices.error(error.message))


def _escape_hash(name):
    return dom.window.encodeURIComponent(name)


def _enable(button, enabled):
    if enabled:
        button.removeAttribute("disabled")
    else:
        button.setAttribute("disabled", "")
