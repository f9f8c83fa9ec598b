"""Live progress of the current import: a real <progress>, rows/s, ETA, counts, step, message, Cancel.

Renders at most ~10 times a second (dom.Throttle) and only changes text in place, in fixed-width cells,
so the layout never jumps while numbers move.
"""

from ui import dom
from ui import format as fmt
from ui.client.records import counts_of, fraction_of

STEP_NAMES = {"staging": "Copying the file", "stage": "Copying the file", "prepare": "Preparing",
              "importing": "Importing rows", "import": "Importing rows", "completed": "Done",
              "failed": "Stopped", "cancelled": "Stopped"}
TITLES = {"pending": "Waiting to import ", "running": "Importing ", "completed": "Imported ",
          "failed": "Import failed: ", "cancelled": "Import cancelled: "}


class ProgressView:
    """The current-run panel, bound to the import `JobHandle`."""

    def __init__(self, client, job, notices):
        self._client = client
        self._job = job
        self._notices = notices
        self._panel = dom.find("#current-run")
        self._bar = dom.find("#run-progress")
        self._ids = {}
        for name in ("current-run-title", "current-status", "current-percent", "stat-rows", "stat-rate",
                     "stat-eta", "stat-accepted", "stat-rejected", "stat-step", "current-message",
                     "current-cancel", "current-details", "current-data", "current-dismiss"):
            self._ids[name] = dom.find("#" + name)
        self._dismissed = None
        self._render = dom.Throttle(self.render, 100)
        dom.listen(self._ids["current-cancel"], "click", self._cancel)
        dom.listen(self._ids["current-dismiss"], "click", self._dismiss)
        job.subscribe(self._render)

    def render(self):
        job = self._job
        on_import = str(dom.window.location.hash or "#import") in ("#import", "#", "")
        visible = job.run is not None and job.run_id != self._dismissed and (job.is_active or on_import)
        dom.show(self._panel, visible)
        if not visible:
            return
        status = job.status or "pending"
        name = job.file_name or "file"
        progress = job.progress or {}
        rows, accepted, rejected = counts_of(job.run)
        fraction = fraction_of(progress)
        if status == "completed":
            fraction = 1.0
        ids = self._ids
        dom.set_text(ids["current-run-title"], TITLES.get(status, "") + name)
        dom.set_text(ids["current-status"], status)
        ids["current-status"].setAttribute("data-status", status)
        if fraction is None:
            self._bar.removeAttribute("value")
        else:
            self._bar.value = fraction
        label = "Import progress of " + name + (": " + fmt.percent(fraction) if fraction is not None else "")
        self._bar.setAttribute("aria-label", label)
        self._bar.setAttribute("data-status", status)
        dom.set_text(ids["current-percent"], fmt.percent(fraction))
        dom.set_text(ids["stat-rows"], fmt.count(rows))
        dom.set_text(ids["stat-rate"], fmt.rate(self._rate(status, progress, rows)))
        dom.set_text(ids["stat-eta"], fmt.duration(progress.get("eta_s")) if status == "running" else "—")
        dom.set_text(ids["stat-accepted"], fmt.count(accepted))
        dom.set_text(ids["stat-rejected"], fmt.count(rejected))
        step = progress.get("step")
        if status in ("completed", "failed", "cancelled"):
            step = status
        dom.set_text(ids["stat-step"], STEP_NAMES.get(step, step or "—"))
        dom.set_text(ids["current-message"], self._message(status, progress))
        dom.show(ids["current-cancel"], job.is_active)
        dom.show(ids["current-dismiss"], not job.is_active)
        dom.show(ids["current-data"], status == "completed")
        ids["current-details"].setAttribute("href", "#run=" + str(job.run_id))

    def _rate(self, status, progress, rows):
        if status == "running":
            return progress.get("rows_per_s") if progress.get("step") in ("importing", "import") else None
        output = self._job.output
        if status == "completed" and isinstance(output, dict) and output.get("seconds") and rows:
            return rows / output["seconds"]
        return None

    def _message(self, status, progress):
        error = self._job.error
        if status == "failed" and error:
            return error.get("message") or "The import failed."
        if status == "completed":
            output = self._job.output or {}
            table = output.get("table") if isinstance(output, dict) else None
            return "Done" + (": table " + table if table else "") + "."
        if status == "cancelled":
            return "Cancelled. What was imported is kept; retry the run to continue."
        done, total = progress.get("bytes"), progress.get("total_bytes")
        if status == "running" and done is not None and total:
            step = progress.get("step")
            return STEP_NAMES.get(step, step or "Working") + ": " + fmt.size(done) + " of " + fmt.size(total) + "."
        return progress.get("message") or ("Waiting for the engine…" if status == "pending" else "")

    def _cancel(self, event):
        pending = self._job.cancel()
        if pending is not None:
            self._ids["current-cancel"].setAttribute("disabled", "")
            pending.then(lambda run: self._enable_cancel(), lambda error: self._cancel_failed(error))

    def _enable_cancel(self):
        self._ids["current-cancel"].removeAttribute("disabled")

    def _cancel_failed(self, error):
        self._enable_cancel()
        self._notices.error(error.message)

    def _dismiss(self, event):
        self._dismissed = self._job.run_id
        self.render()
