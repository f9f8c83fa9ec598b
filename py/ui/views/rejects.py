"""The rejects workbench on the run detail: each rejected row editable cell by cell with its reasons beside
it, Check, Insert fixed rows, bulk fixes (set a column, NULL, find and replace) and discard. Over a
`RejectsWorkbench` handle; every change is a durable fix-rejects run on the engine."""

from ui import dom
from ui import format as fmt
from ui.client.rejects import RejectsWorkbench

PAGE = 25


class RejectsView:
    """Renders one run's rejects into the run detail's rejects section; `open(run_id)`, `close()`."""

    def __init__(self, client, notices):
        self._client = client
        self._notices = notices
        self._bench = None
        self._off = None
        self._shown = None  # the rows list last drawn: edits redraw only reasons, never the inputs
        self._editable = False
        self._fallback_names = []
        dom.listen(dom.find("#rejects-prev"), "click", lambda e: self._bench and self._bench.prev_page())
        dom.listen(dom.find("#rejects-next"), "click", lambda e: self._bench and self._bench.next_page())
        dom.listen(dom.find("#rejects-table"), "input", self._typed)
        dom.listen(dom.find("#rejects-table"), "change", self._toggled)
        dom.listen(dom.find("#recheck-rejects"), "click", lambda e: self._bench and self._bench.check())
        dom.listen(dom.find("#insert-fixed"), "click", lambda e: self._bench and self._bench.insert_fixed())
        dom.listen(dom.find("#discard-rejects"), "click", self._discard)
        dom.listen(dom.find("#bulk-fix"), "submit", self._bulk)
        dom.listen(dom.find("#bulk-op"), "change", lambda e: self._bulk_inputs())

    def open(self, run_id):
        self.close()
        self._bench = RejectsWorkbench(self._client, run_id, page_size=PAGE)
        self._off = self._bench.subscribe(lambda bench: self.render())
        self._shown = None
        dom.fill(dom.find("#rejects-table"))
        dom.set_text(dom.find("#fix-status"), "")
        self._bulk_inputs()

    def close(self):
        if self._off is not None:
            self._off()
            self._off = None
        if self._bench is not None:
            self._bench.close()
            self._bench = None

    def run_changed(self, run, source_names):
        """The run's status or job changed: editing is for a completed import; reload when it finished."""
        editable = bool(run) and run.get("job") == "import-csv" and run.get("status") == "completed"
        self._fallback_names = source_names
        if editable != self._editable:
            self._editable = editable
            self._shown = None
            if self._bench is not None:
                if editable:
                    self._bench.start()
                else:
                    self.render()
        elif self._bench is not None and run and run.get("status") in ("completed", "failed", "cancelled") \
                and self._bench.total == 0 and not self._bench.loading:
            self._bench.refresh()

    def render(self):
        bench = self._bench
        if bench is None:
            return
        if bench.rows is not self._shown:
            self._draw_rows(bench)
            self._shown = bench.rows
        else:
            self._draw_reasons(bench)
        pages = max(1, (bench.total + PAGE - 1) // PAGE)
        dom.set_text(dom.find("#rejects-page"), "Page " + str(bench.page + 1) + " of " + str(pages) + " · "
                     + fmt.plural(bench.total, "rejected row"))
        _enable(dom.find("#rejects-prev"), bench.page > 0)
        _enable(dom.find("#rejects-next"), bench.has_more)
        _enable(dom.find("#download-errors"), bench.total > 0)
        busy = bench.fix is not None and bench.fix.get("status") in ("starting", "running")
        dom.show(dom.find("#rejects-tools"), self._editable and bench.total > 0)
        for button in ("#recheck-rejects", "#insert-fixed", "#discard-rejects", "#bulk-apply"):
            _enable(dom.find(button), self._editable and not busy)
        status = dom.find("#fix-status")
        if bench.error is not None:
            dom.set_text(status, bench.error.message)
            status.className = "message error"
        else:
            dom.set_text(status, "Fixing… (a reload does not lose it)" if busy else bench.message)
            status.className = "message"
        self._fill_fields(bench)

    # -- drawing -----------------------------------------------------------------------------------
    def _names(self, bench):
        return bench.fields or self._fallback_names

    def _draw_rows(self, bench):
        table = dom.find("#rejects-table")
        if not bench.rows:
            dom.fill(table, dom.h("caption", {"text": "No rejected rows."}))
            return
        names = self._names(bench)
        width = max([len(bench.values_of(r.get("row_number"))) for r in bench.rows] + [len(names)])
        head = [dom.h("th", {"scope": "col", "text": "Select"}), dom.h("th", {"scope": "col", "text": "Row"}),
                dom.h("th", {"scope": "col", "text": "Reasons"})]
        head += [dom.h("th", {"scope": "col", "text": _name(names, i)}) for i in range(width)]
        body = dom.h("tbody")
        for row in bench.rows:
            number = row.get("row_number")
            values = bench.values_of(number)
            cells = [dom.h("td", {"class": "check"}, dom.h("input", {
                         "type": "checkbox", "data-testid": "reject-select", "data-row": str(number),
                         "aria-label": "Select row " + str(number), "checked": number in bench.selected})),
                     dom.h("td", {"class": "num", "text": fmt.count(number)}),
                     dom.h("td", {"class": "reasons", "data-testid": "reject-reasons"})]
            for i in range(width):
                value = values[i] if i < len(values) else None
                if self._editable:
                    cells.append(dom.h("td", None, dom.h("input", {
                        "type": "text", "data-testid": "reject-cell", "data-column": _name(names, i),
                        "data-field": str(i), "data-row": str(number), "value": "" if value is None else value,
                        "placeholder": "NULL" if value is None else None, "spellcheck": "false",
                        "aria-label": "Row " + str(number) + ", " + _name(names, i)})))
                else:
                    cells.append(dom.h("td", {"text": "" if value is None else fmt.cell(value)}))
            body.appendChild(dom.h("tr", {"data-testid": "reject-row", "data-row-number": str(number)}, cells))
        dom.fill(table, dom.h("thead", None, dom.h("tr", None, head)), body)
        self._draw_reasons(bench)

    def _draw_reasons(self, bench):
        for row in bench.rows:
            number = row.get("row_number")
            cell = dom.find("[data-testid=reject-row][data-row-number='" + str(number) + "'] td.reasons")
            if cell is None:
                continue
            reasons = bench.reasons_of(number)
            passes = not reasons and (number in bench.checked or not row.get("reasons"))
            dom.set_text(cell, "Passes the checks: Insert fixed rows puts it in the table" if passes
                         else "; ".join([str(r) for r in reasons]))
            cell.className = "reasons ok" if passes else "reasons"

    def _fill_fields(self, bench):
        select = dom.find("#bulk-field")
        names = self._names(bench)
        if select.options.length == len(names) and (not names or select.options[0].textContent == names[0]):
            return
        dom.fill(select, [dom.h("option", {"value": str(i), "text": name}) for i, name in enumerate(names)])

    def _bulk_inputs(self):
        op = dom.find("#bulk-op").value
        dom.show(dom.find("#bulk-value-box"), op == "set")
        dom.show(dom.find("#bulk-replace-box"), op == "replace")

    # -- events ------------------------------------------------------------------------------------
    def _typed(self, event):
        target = event.target
        if self._bench is None or target.getAttribute("data-testid") != "reject-cell":
            return
        self._bench.edit(int(target.getAttribute("data-row")), int(target.getAttribute("data-field")), target.value)

    def _toggled(self, event):
        target = event.target
        if self._bench is not None and target.getAttribute("data-testid") == "reject-select":
            self._bench.select(int(target.getAttribute("data-row")), bool(target.checked))

    def _bulk(self, event):
        event.preventDefault()
        if self._bench is None or not self._names(self._bench):
            return
        field = int(dom.find("#bulk-field").value or "0")
        op = dom.find("#bulk-op").value
        if op == "replace":
            find = dom.find("#bulk-find").value
            if not find:
                self._notices.error("Type the text to find first.")
                return
            self._bench.replace_in_field(field, find, dom.find("#bulk-replace").value)
        else:
            self._bench.set_field(field, None if op == "null" else dom.find("#bulk-value").value)

    def _discard(self, event):
        bench = self._bench
        if bench is None:
            return
        if not bench.selected:
            bench.discard()  # says to select first
            return
        count = len(bench.selected)
        self._notices.confirm("Discard " + fmt.plural(count, "rejected row") + "?",
                              "They will not be imported, and the error report will no longer list them.",
                              "Discard", bench.discard)


def _name(names, i):
    return names[i] if i < len(names) else "field " + str(i + 1)


def _enable(button, enabled):
    if enabled:
        button.removeAttribute("disabled")
    else:
        button.setAttribute("disabled", "")
