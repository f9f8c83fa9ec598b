"""Runs: one run followed live (`RunHandle`), the paged list of runs (`RunsList`), and `RunActions`.

The counterparts of Durably's `useJobRun`, `useRuns` and `useRunActions`. Handles load from the engine
when it becomes ready and then apply the engine's events, so views re-render from callbacks only.
"""

from ui.client.observable import Observable, PagedQuery
from ui.client.records import RUN_EVENTS, STEP_EVENTS, apply_event


class RunHandle(Observable):
    """One run and its steps, kept live: `run`, `steps`, `deleted`, `error` (a failed load)."""

    def __init__(self, client, run_id):
        super().__init__()
        self._client = client
        self.run_id = run_id
        self.run = None
        self.steps = []
        self.deleted = False
        self.error = None
        self._steps_loading = False
        self._steps_again = False
        self._offs = [client.on("*", self._on_event), client.on_ready(self.refresh)]

    def refresh(self):
        """Reload the run and its steps."""
        self._client.call("runs.get", {"run_id": self.run_id}).then(self._loaded, self._failed)
        self._load_steps()

    def close(self):
        """Stop listening."""
        for off in self._offs:
            off()
        self._offs = []

    def _loaded(self, run):
        self.run = run
        self.error = None
        self._changed()

    def _failed(self, error):
        self.error = error
        self._changed()

    def _load_steps(self):
        if self._steps_loading:
            self._steps_again = True
            return
        self._steps_loading = True

        def loaded(steps):
            self._steps_loading = False
            self.steps = steps if isinstance(steps, list) else (steps or {}).get("steps", [])
            self._changed()
            if self._steps_again:
                self._steps_again = False
                self._load_steps()

        def failed(error):
            self._steps_loading = False
            self._steps_again = False

        self._client.call("runs.steps", {"run_id": self.run_id}).then(loaded, failed)

    def _on_event(self, event):
        if event.get("run_id") != self.run_id:
            return
        kind = event.get("type")
        if kind == "run:delete":
            self.deleted = True
            self._changed()
        elif kind in STEP_EVENTS:
            if self._client.engine.ready:
                self._load_steps()
        elif self.run is not None and apply_event(self.run, event):
            self._changed()
            if kind != "run:progress" and self._client.engine.ready:
                self._load_steps()


class RunsList(PagedQuery):
    """A page of runs, newest first, filtered by `status` and `job`; the first page stays live.

    `runs`, `total`, `page` (0-based), `page_size`, `has_more`, `page_count`, `loading`, `error`.
    """

    _method = "runs.list"

    def __init__(self, client, job=None, status=None, page_size=20, live=True):
        super().__init__(client, page_size)
        self.job = job
        self.status = status
        self.live = live
        self.runs = []
        self._offs = [client.on("*", self._on_event), client.on_ready(self.refresh)]

    def _params(self):
        params = {}
        if self.status:
            params["status"] = self.status
        if self.job:
            params["job"] = self.job
        return params

    def _take(self, result):
        self.runs = list(result.get("runs") or [])
        self.total = result.get("total", len(self.runs))

    def set_filters(self, status=None, job=None):
        """Filter by `status` and `job` (None: any) and go back to the first page."""
        self.status = status or None
        self.job = job or None
        self.page = 0
        self.refresh()

    def close(self):
        """Stop listening."""
        for off in self._offs:
            off()
        self._offs = []

    def _on_event(self, event):
        kind = event.get("type")
        if kind not in RUN_EVENTS:
            return
        shown = None
        for run in self.runs:
            if run.get("id") == event.get("run_id"):
                shown = run
        if shown is not None and kind != "run:delete" and apply_event(shown, event):
            self._changed()
        if kind == "run:progress" or not self.live or not self._client.engine.ready:
            return
        if self.page == 0 or (shown is not None and kind == "run:delete"):
            self.refresh()


class RunActions(Observable):
    """Retry, cancel, delete and read runs; `busy` counts calls in flight, `error` is the last failure."""

    def __init__(self, client):
        super().__init__()
        self._client = client
        self.busy = 0
        self.error = None

    def retry(self, run_id):
        return self._track(self._client.call("runs.retry", {"run_id": run_id}))

    def cancel(self, run_id):
        return self._track(self._client.call("runs.cancel", {"run_id": run_id}))

    def delete(self, run_id):
        return self._track(self._client.call("runs.delete", {"run_id": run_id}))

    def undo(self, run_id):
        """Start undoing a completed import (an undo-import run): -> `{run_id}` of that run."""
        return self._track(self._client.call("runs.undo", {"run_id": run_id}))

    def redo(self, run_id):
        """Import an undone run's staged copy again as a new run: -> `{run_id}` of the new run."""
        return self._track(self._client.call("runs.redo", {"run_id": run_id}))

    def get_run(self, run_id):
        return self._track(self._client.call("runs.get", {"run_id": run_id}))

    def get_steps(self, run_id):
        return self._track(self._client.call("runs.steps", {"run_id": run_id}))

    def get_rejects(self, run_id, limit=50, offset=0):
        return self._track(self._client.call("runs.rejects", {"run_id": run_id, "limit": limit, "offset": offset}))

    def export_errors(self, run_id):
        """The error report of a run; the result carries `name`, `mime` and the `blob`."""
        return self._track(self._client.call("export.errors", {"run_id": run_id}))

    def _track(self, pending):
        self.busy += 1
        self._changed()

        def ok(result):
            self.busy -= 1
            self.error = None
            self._changed()

        def failed(error):
            self.busy -= 1
            self.error = error
            self._changed()

        pending.then(ok, failed)
        return pending
