"""Run history: newest first, status and job filters, pages, live first page, retry/cancel/delete."""

from ui import dom
from ui import format as fmt
from ui.client.records import ACTIVE, FINISHED, counts_of, file_name_of, fraction_of, progress_of


class RunsView:
    """The Runs screen, bound to a `RunsList` and `RunActions`."""

    def __init__(self, runs, actions, notices):
        self._runs = runs
        self._actions = actions
        self._notices = notices
        self._body = dom.find("#runs-body")
        self._rows = {}
        self._order = []  # MicroPython dicts do not keep insertion order: the shown order lives here
        self._render = dom.Throttle(self.render, 150)
        dom.listen(dom.find("#runs-prev"), "click", lambda e: runs.prev_page())
        dom.listen(dom.find("#runs-next"), "click", lambda e: runs.next_page())
        dom.listen(dom.find("#filter-status"), "change", self._filter)
        dom.listen(dom.find("#filter-job"), "change", self._filter)
        dom.listen(self._body, "click", self._clicked)
        runs.subscribe(self._render)

    def _filter(self, event):
        self._runs.set_filters(status=dom.find("#filter-status").value, job=dom.find("#filter-job").value)

    def render(self):
        runs = self._runs
        ids = [run.get("id") for run in runs.runs]
        if ids != self._order:
            self._order = ids
            self._rows = {}
            rows = []
            for run in runs.runs:
                row = dom.h("tr", {"data-testid": "run-row", "data-run-id": run.get("id")})
                self._rows[run.get("id")] = row
                rows.append(row)
            dom.fill(self._body, rows)
        for run in runs.runs:
            self._fill_row(self._rows[run.get("id")], run)
        dom.show(dom.find("#runs-empty"), not runs.runs and not runs.loading)
        text = "Page " + str(runs.page + 1) + " of " + str(runs.page_count) + " · " + fmt.plural(runs.total, "run")
        dom.set_text(dom.find("#runs-page"), text)
        _enable(dom.find("#runs-prev"), runs.page > 0)
        _enable(dom.find("#runs-next"), runs.has_more)

    def _fill_row(self, row, run):
        status = run.get("status") or "pending"
        key = status + "|" + str(run.get("progress")) + "|" + str(run.get("finished_at")) + "|" + str(
            bool(run.get("undone")))
        if row.getAttribute("data-key") == key:
            return
        row.setAttribute("data-key", key)
        row.setAttribute("data-status", status)
        run_id = run.get("id")
        name = file_name_of(run) or run.get("job") or "run"
        progress = progress_of(run.get("progress")) or {}
        rows, _, rejected = counts_of(run)
        counts = fmt.count(rows) if rows is not None else "—"
        if rejected:
            counts += " (" + fmt.count(rejected) + " rejected)"
        if status in ACTIVE and fraction_of(progress) is not None:
            counts += " · " + fmt.percent(fraction_of(progress))
        took = fmt.duration(fmt.elapsed(run.get("started_at"), run.get("finished_at")))
        dom.fill(row,
                 dom.h("td", None, dom.h("a", {"href": "#run=" + str(run_id), "text": name,
                                               "class": "file-name"})),
                 dom.h("td", None, dom.h("span", {"class": "badge", "data-status": status, "text": status}),
                       dom.h("span", {"class": "badge", "data-status": "undone", "text": "undone"})
                       if run.get("undone") else None),
                 dom.h("td", {"text": fmt.when(run.get("started_at") or run.get("created_at"), dom.now())}),
                 dom.h("td", {"class": "num", "text": took}),
                 dom.h("td", {"class": "num", "text": counts}),
                 dom.h("td", {"class": "row-actions"}, self._buttons(run_id, status, name)))

    def _buttons(self, run_id, status, name):
        buttons = []
        if status in ("failed", "cancelled"):
            buttons.append(_action("retry", run_id, "Retry", "Retry the import of " + name))
        if status in ACTIVE:
            buttons.append(_action("cancel", run_id, "Cancel", "Cancel the import of " + name))
        if status in FINISHED:
            buttons.append(_action("delete", run_id, "Delete", "Delete the run of " + name, "danger"))
        return buttons

    def _clicked(self, event):
        target = event.target.closest("button[data-action]")
        if target is None:
            return
        action = target.getAttribute("data-action")
        run_id = target.getAttribute("data-run")
        if action == "retry":
            self._actions.retry(run_id).then(None, self._failed)
        elif action == "cancel":
            self._actions.cancel(run_id).then(None, self._failed)
        elif action == "delete":
            self._notices.confirm(
                "Delete this run?", "The run, its logs, its rejected rows and its staged copy of the file "
                "are deleted. The imported table stays.", "Delete run",
                lambda: self._actions.delete(run_id).then(None, self._failed))

    def _failed(self, error):
        self._notices.error(error.message)


def _action(action, run_id, text, label, css=None):
    return dom.h("button", {"type": "button", "data-action": action, "data-run": run_id, "text": text,
                            "aria-label": label, "class": css})


def _enable(button, enabled):
    if enabled:
        button.removeAttribute("disabled")
    else:
        button.setAttribute("disabled", "")
