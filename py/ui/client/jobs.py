"""The job handle: trigger a job, follow its current run (status, progress, output, error, logs).

The counterpart of Durably's `useJob`. `auto_resume` reattaches, whenever the engine becomes ready, to the
newest pending or running run of the job (a reload mid-import shows its progress again with no click);
`follow_latest` switches to each new run of the job, wherever it was triggered (another tab included).
A run can also be followed from its events alone (before the engine answers, e.g. while it starts).
"""

from ui.client.observable import Observable
from ui.client.records import ACTIVE, FINISHED, apply_event, file_name_of, progress_of, run_from_event


class JobHandle(Observable):
    """The current run of job `job`, started through `start_method` (e.g. "import.start")."""

    def __init__(self, client, job, start_method, auto_resume=True, follow_latest=True, max_logs=100):
        super().__init__()
        self._client = client
        self.job = job
        self.start_method = start_method
        self.follow_latest = follow_latest
        self.max_logs = max_logs
        self.run = None
        self.logs = []
        self.resumed = None
        self._waiters = []
        client.on("*", self._on_event)
        if auto_resume:
            client.on_ready(self._resume)

    # -- reading -----------------------------------------------------------------------------------
    @property
    def run_id(self):
        return self.run.get("id") if self.run else None

    @property
    def status(self):
        return self.run.get("status") if self.run else None

    @property
    def progress(self):
        """The run's progress as a flat dict (see records.progress_of), or None."""
        return progress_of(self.run.get("progress")) if self.run else None

    @property
    def output(self):
        return self.run.get("output") if self.run else None

    @property
    def error(self):
        return self.run.get("error") if self.run else None

    @property
    def file_name(self):
        return file_name_of(self.run)

    @property
    def is_active(self):
        return self.status in ACTIVE

    @property
    def is_pending(self):
        return self.status == "pending"

    @property
    def is_running(self):
        return self.status == "running"

    @property
    def is_completed(self):
        return self.status == "completed"

    @property
    def is_failed(self):
        return self.status == "failed"

    @property
    def is_cancelled(self):
        return self.status == "cancelled"

    # -- acting ------------------------------------------------------------------------------------
    def trigger(self, params, file=None):
        """Start the job; returns the `Call` (result `{run_id, created}`).

        A new run is followed at once. `created: false` means an earlier run did the same work: the handle
        does not switch to it; the caller offers it (or triggers again with `force`).
        """
        started = self._client.call(self.start_method, params, file)
        started.then(self._started)
        return started

    def trigger_and_wait(self, params, on_done, file=None):
        """Start the job (or join the earlier identical run) and call `on_done(run)` once it finishes."""
        started = self._client.call(self.start_method, params, file)

        def joined(result):
            run_id = result.get("run_id")
            self._waiters.append((run_id, on_done))
            if run_id != self.run_id:
                self.attach(run_id)
            else:
                self._settle_waiters()

        started.then(joined)
        return started

    def attach(self, run_id, run=None):
        """Follow run `run_id` (loading it and its stored logs when the engine answers)."""
        if run is None and self.run_id == run_id:
            run = self.run  # already following it (e.g. from its run:trigger event): keep what is known
        elif run is None:
            run = {"id": run_id, "job": self.job, "status": "pending"}
            self.logs = []
        else:
            self.logs = []
        self.run = run
        self._changed()
        if not self._client.engine.ready:
            return
        self._client.call("runs.get", {"run_id": run_id}).then(self._loaded, lambda error: None)
        logs = {"run_id": run_id, "limit": self.max_logs}
        self._client.call("runs.logs", logs).then(self._logs_loaded, lambda error: None)

    def cancel(self):
        """Ask the engine to cancel the current run; returns the `Call`, or None without a run."""
        if self.run_id is None:
            return None
        return self._client.call("runs.cancel", {"run_id": self.run_id})

    def reset(self):
        """Forget the current run (and the resume notice)."""
        self.run = None
        self.logs = []
        self.resumed = None
        self._changed()

    # -- engine replies and events -------------------------------------------------------------------
    def _started(self, result):
        run_id = result.get("run_id")
        # the run's trigger event usually comes first and already attached (and loaded) it: loading it again
        # would only add requests the engine serves between the import's first batches
        if result.get("created", True) and run_id != self.run_id:
            self.attach(run_id)

    def _loaded(self, run):
        if isinstance(run, dict) and run.get("id") == self.run_id:
            self.run = run
            self._changed()
            self._settle_waiters()

    def _logs_loaded(self, result):
        self.logs = list(result.get("logs") or [])[-self.max_logs:]
        self._changed()

    def _resume(self):
        if self.is_active:
            self.attach(self.run_id)  # reload its state: a take-over may have missed events
            return
        if self.run_id is not None and not (self.run or {}).get("input"):
            self.attach(self.run_id)  # known only from events sent while the engine was starting: load it
        self._find_active(["running", "pending"])

    def _find_active(self, statuses):
        if not statuses:
            return
        params = {"status": statuses[0], "limit": 1, "offset": 0}
        if self.job:
            params["job"] = self.job

        def found(result):
            runs = result.get("runs") or []
            if not runs:
                self._find_active(statuses[1:])
                return
            run = runs[0]
            if self.resumed is None and run.get("status") == "running":
                self.resumed = {"run_id": run.get("id"), "file_name": file_name_of(run),
                                "row": (progress_of(run.get("progress")) or {}).get("rows")}
            self.attach(run.get("id"), run)

        self._client.call("runs.list", params).then(found, lambda error: None)

    def _on_event(self, event):
        kind = event.get("type")
        run_id = event.get("run_id")
        if kind == "import:resumed":
            self.resumed = {"run_id": run_id, "file_name": event.get("file_name"), "row": event.get("row")}
            if run_id != self.run_id:
                self.attach(run_id)
            else:
                self._changed()
            return
        if run_id is None or (self.job and event.get("job") not in (None, self.job)):
            return
        if run_id != self.run_id and self.follow_latest and self._is_newer(kind):
            self.attach(run_id, run_from_event(event))
            return
        if run_id != self.run_id:
            return
        if kind == "run:delete":
            self.reset()
        elif kind == "log:write":
            self.logs.append({"level": event.get("level"), "message": event.get("message"),
                              "step": event.get("step"), "created_at": event.get("at")})
            self.logs = self.logs[-self.max_logs:]
            self._changed()
        elif apply_event(self.run, event):
            self._changed()
            self._settle_waiters()

    def _is_newer(self, kind):
        if kind == "run:trigger":
            return True
        return kind in ("run:start", "run:progress") and not self.is_active

    def _settle_waiters(self):
        if self.status not in FINISHED:
            return
        done = [w for w in self._waiters if w[0] == self.run_id]
        self._waiters = [w for w in self._waiters if w[0] != self.run_id]
        for _, on_done in done:
            on_done(self.run)
