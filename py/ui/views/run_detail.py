"""Run detail: facts, actions, the step timeline with durations, logs with a level filter, rejected rows (the
rejects workbench, views/rejects.py)."""

from ui import dom
from ui import format as fmt
from ui.client import LogsHandle, RunHandle
from ui.client.records import ACTIVE, FINISHED, counts_of, file_name_of
from ui.views.rejects import RejectsView


class RunDetailView:
    """The screen of one run; `open(run_id)` binds it, `close()` lets go of the handles."""

    def __init__(self, client, actions, notices):
        self._client = client
        self._actions = actions
        self._notices = notices
        self._run = None
        self._logs = None
        self._offs = []
        self._rejects = RejectsView(client, notices)
        self._render = dom.Throttle(self.render, 150)
        self._render_logs = dom.Throttle(self.render_logs, 150)
        dom.listen(dom.find("#log-level"), "change", self._level)
        dom.listen(dom.find("#download-errors"), "click", self._download)
        dom.listen(dom.find("#run-actions"), "click", self._clicked)
        self._undo_run = None
        client.on("*", self._on_event)

    def open(self, run_id):
        if self._run is not None and self._run.run_id == run_id:
            return
        self.close()
        self._run = RunHandle(self._client, run_id)
        self._logs = LogsHandle(self._client, run_id, max_logs=200, level=dom.find("#log-level").value or None)
        self._offs = [self._run.subscribe(self._render), self._logs.subscribe(self._render_logs)]
        for node in ("#run-steps", "#run-logs", "#run-facts", "#run-actions"):
            dom.fill(dom.find(node))
        dom.set_text(dom.find("#run-title"), "Run")
        self._rejects.open(run_id)

    def close(self):
        for off in self._offs:
            off()
        self._offs = []
        if self._run is not None:
            self._run.close()
            self._logs.close()
            self._rejects.close()
        self._run = None
        self._logs = None

    # -- run and steps -----------------------------------------------------------------------------
    def render(self):
        handle = self._run
        if handle is None:
            return
        if handle.deleted:
            dom.set_text(dom.find("#run-title"), "This run was deleted")
            return
        if handle.error is not None and handle.run is None:
            dom.set_text(dom.find("#run-title"), handle.error.message)
            return
        run = handle.run
        if run is None:
            return
        status = run.get("status") or "pending"
        name = file_name_of(run) or run.get("job") or "Run"
        dom.set_text(dom.find("#run-title"), name)
        badge = dom.find("#run-status")
        dom.set_text(badge, status)
        badge.setAttribute("data-status", status)
        self._facts(run)
        error = run.get("error")
        error_box = dom.find("#run-error")
        dom.show(error_box, bool(error))
        if error:
            dom.set_text(error_box, (error.get("message") or "") + (" (step " + error.get("step") + ")"
                                                                    if error.get("step") else ""))
        dom.fill(dom.find("#run-actions"), self._buttons(run, status))
        self._steps(handle.steps, status)
        self._rejects.run_changed(run, self._source_names())

    def _facts(self, run):
        output = run.get("output") if isinstance(run.get("output"), dict) else {}
        rows, accepted, rejected = counts_of(run)
        facts = [("Run", run.get("id")), ("Job", run.get("job")), ("Attempt", run.get("attempt")),
                 ("Created", fmt.when(run.get("created_at"), dom.now())),
                 ("Took", fmt.duration(fmt.elapsed(run.get("started_at"), run.get("finished_at")))),
                 ("Table", output.get("table")),
                 ("Rows read", fmt.count(rows)), ("Accepted", fmt.count(accepted)),
                 ("Rejected", fmt.count(rejected))]
        items = []
        for label, value in facts:
            if value is not None:
                items.append(dom.h("div", None, dom.h("dt", {"text": label}), dom.h("dd", {"text": value})))
        dom.fill(dom.find("#run-facts"), items)

    def _buttons(self, run, status):
        buttons = []
        undone = run.get("undone")
        if run.get("job") == "import-csv" and status == "completed":
            if undone:
                buttons.append(dom.h("span", {"class": "badge", "data-status": "undone", "data-testid": "run-undone",
                                              "text": "Undone: " + fmt.plural(undone.get("rows") or 0, "row")
                                              + " removed"}))
                buttons.append(dom.h("button", {"type": "button", "data-action": "redo", "data-testid": "redo-run",
                                                "text": "Redo import"}))
            else:
                buttons.append(dom.h("button", {"type": "button", "data-action": "undo", "data-testid": "undo-run",
                                                "text": "Undo import…"}))
        if status in ("failed", "cancelled"):
            buttons.append(dom.h("button", {"type": "button", "data-action": "retry", "text": "Retry"}))
        if status in ACTIVE:
            buttons.append(dom.h("button", {"type": "button", "data-action": "cancel", "text": "Cancel",
                                            "class": "danger"}))
        if status in FINISHED:
            buttons.append(dom.h("button", {"type": "button", "data-action": "delete", "text": "Delete run…",
                                            "class": "danger"}))
        return buttons

    def _steps(self, steps, status):
        items = []
        for step in steps or []:
            took = fmt.duration(fmt.elapsed(step.get("started_at"), step.get("finished_at")))
            state = step.get("status") or ""
            attempts = step.get("attempts") or 1
            detail = state + " · " + took + (" · " + str(attempts) + " attempts" if attempts > 1 else "")
            error = step.get("error")
            items.append(dom.h("li", {"data-status": state},
                               dom.h("span", {"class": "step-name", "text": step.get("name")}),
                               dom.h("span", {"class": "step-detail", "text": detail}),
                               dom.h("span", {"class": "step-error", "text": error.get("message")})
                               if isinstance(error, dict) and error.get("message") else None))
        if status in ACTIVE:
            items.append(dom.h("li", {"data-status": "running"},
                               dom.h("span", {"class": "step-name", "text": "…"}),
                               dom.h("span", {"class": "step-detail", "text": status})))
        dom.fill(dom.find("#run-steps"), items)

    def _clicked(self, event):
        target = event.target.closest("button[data-action]")
        if target is None or self._run is None:
            return
        action = target.getAttribute("data-action")
        run_id = self._run.run_id
        if action == "retry":
            self._actions.retry(run_id).then(None, self._failed)
        elif action == "cancel":
            self._actions.cancel(run_id).then(None, self._failed)
        elif action == "undo":
            self._notices.confirm("Undo this import?", "The rows it put in its table are removed (also the rejected "
                                  "rows fixed into it later); a replace puts the table it replaced back. Rows "
                                  "other imports added stay. You can redo it afterwards.", "Undo import",
                                  lambda: self._actions.undo(run_id).then(self._undoing, self._failed))
        elif action == "redo":
            self._actions.redo(run_id).then(self._redone, self._failed)
        elif action == "delete":
            self._notices.confirm("Delete this run?", "The run, its logs, its rejected rows and its staged copy "
                                  "of the file are deleted. The imported table stays.", "Delete run",
                                  lambda: self._actions.delete(run_id).then(self._deleted, self._failed))

    def _redone(self, result):
        dom.window.location.hash = "#run=" + str(result.get("run_id"))

    def _undoing(self, result):
        self._undo_run = result.get("run_id")

    def _on_event(self, event):
        """An undo ended (here or in another tab): the run it undid shows it; a failed undo of ours says why."""
        if event.get("job") != "undo-import" or event.get("type") not in ("run:complete", "run:fail"):
            return
        if self._run is not None:
            self._run.refresh()
        if event.get("type") == "run:fail" and event.get("run_id") == self._undo_run:
            self._notices.error("The undo failed: " + str(event.get("error") or ""))

    def _deleted(self, result):
        dom.window.location.hash = "#runs"

    def _failed(self, error):
        self._notices.error(error.message)

    # -- logs --------------------------------------------------------------------------------------
    def render_logs(self):
        if self._logs is None:
            return
        items = []
        for line in self._logs.logs:
            level = line.get("level") or "info"
            items.append(dom.h("li", {"data-level": level},
                               dom.h("span", {"class": "level", "text": level}),
                               dom.h("time", {"text": (line.get("created_at") or "")[11:19]}),
                               dom.h("span", {"class": "log-message", "text": line.get("message") or ""})))
        if not items:
            items.append(dom.h("li", {"class": "empty", "text": "No log lines at this level."}))
        dom.fill(dom.find("#run-logs"), items)

    def _level(self, event):
        if self._logs is not None:
            self._logs.set_level(dom.find("#log-level").value or None)

    def _source_names(self):
        """The file's column names in file order, from the run's import options (empty if unknown)."""
        run = self._run.run if self._run is not None else None
        payload = run.get("input") if isinstance(run, dict) else None
        options = payload.get("options") if isinstance(payload, dict) else None
        columns = options.get("columns") if isinstance(options, dict) else None
        names = []
        for spec in columns or []:
            if isinstance(spec, dict) and spec.get("source") == len(names):
                names.append(str(spec.get("name") or ""))
        return names

    def _download(self, event):
        if self._run is None:
            return
        self._actions.export_errors(self._run.run_id).then(
            lambda result: dom.download(result["blob"], result.get("name") or "errors.csv"), self._failed)


