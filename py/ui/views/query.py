"""The Data screen's query box: a read-only SQL query typed by the user, its result paged, its error in a
sentence, the last queries remembered in this browser, and the result exported as CSV."""

from ui import dom
from ui import format as fmt
from ui.client import QueryResult

HISTORY_KEY = "csv-importer:queries"
HISTORY_SIZE = 10


class QueryView:
    """Binds the query form to a `QueryResult` and renders its pages."""

    def __init__(self, client, notices):
        self._client = client
        self._notices = notices
        self._result = QueryResult(client, page_size=50)
        self._result.subscribe(lambda result: self.render())
        self._history = [q for q in dom.stored_list(HISTORY_KEY) if isinstance(q, str)][:HISTORY_SIZE]
        dom.listen(dom.find("#query-form"), "submit", self._run)
        dom.listen(dom.find("#query-prev"), "click", lambda e: self._result.prev_page())
        dom.listen(dom.find("#query-next"), "click", lambda e: self._result.next_page())
        dom.listen(dom.find("#export-query"), "click", self._export)
        dom.listen(dom.find("#query-history"), "click", self._reuse)
        self._render_history()

    def _run(self, event):
        event.preventDefault()
        sql = dom.find("#sql-query").value.strip()
        if not sql:
            self._say("Type a query first, for example SELECT * FROM a table.", error=True)
            return
        if not self._client.engine.ready:
            self._say("The engine is not ready yet; try again in a moment.", error=True)
            return
        self._say("Running…")
        self._result.run(sql)
        self._remember(sql)  # last: a storage error must not keep the query from running

    def render(self):
        result = self._result
        if result.error is not None:
            self._say(result.error.message, error=True)
            dom.fill(dom.find("#query-result"))
        elif result.ran:
            self._say(_summary(result))
            dom.fill(dom.find("#query-result"), *_table(result.columns, result.rows))
        dom.show(dom.find("#query-result-box"), result.ran and result.error is None)
        dom.set_text(dom.find("#query-page"), ("Page " + str(result.page + 1)) if result.ran and not result.error
                     else "")
        _enable(dom.find("#query-prev"), result.ran and result.page > 0)
        _enable(dom.find("#query-next"), result.ran and result.has_more)
        _enable(dom.find("#export-query"), result.ran and result.error is None)

    def _say(self, text, error=False):
        node = dom.find("#query-message")
        dom.set_text(node, text)
        node.className = "message error" if error else "message"
        dom.show(node, bool(text))

    def _export(self, event):
        self._result.export().then(lambda r: dom.download(r["blob"], r.get("name") or "query.csv"),
                                   lambda error: self._notices.error(error.message))

    def _remember(self, sql):
        kept = [q for q in self._history if q != sql][:HISTORY_SIZE - 1]
        kept.insert(0, sql)
        self._history = kept
        dom.store_list(HISTORY_KEY, self._history)
        self._render_history()

    def _render_history(self):
        items = [dom.h("li", None, dom.h("button", {"type": "button", "class": "link", "data-index": str(i),
                                                    "text": sql}))
                 for i, sql in enumerate(self._history)]
        dom.fill(dom.find("#query-history"), items)

    def _reuse(self, event):
        target = event.target.closest("button[data-index]")
        if target is not None:
            dom.find("#sql-query").value = self._history[int(target.getAttribute("data-index"))]
            dom.focus(dom.find("#sql-query"))


def _summary(result):
    shown = len(result.rows)
    first = result.page * result.page_size
    if not shown:
        return "The query returned no rows."
    text = "Rows " + fmt.count(first + 1) + "–" + fmt.count(first + shown)
    return text + (" (more follow)" if result.more else "")


def _table(columns, rows):
    head = dom.h("thead", None, dom.h("tr", None, [dom.h("th", {"scope": "col", "text": c}) for c in columns]))
    body = dom.h("tbody")
    for row in rows:
        cells = [dom.h("td", {"class": "null", "text": "NULL"}) if value is None
                 else dom.h("td", {"text": fmt.cell(value)}) for value in row]
        body.appendChild(dom.h("tr", {"data-testid": "query-row"}, cells))
    return head, body


def _enable(button, enabled):
    if enabled:
        button.removeAttribute("disabled")
    else:
        button.setAttribute("disabled", "")
