"""The logs handle: one run's log lines, loaded from the store and kept live, capped at `max_logs`.

The counterpart of Durably's `useJobLogs`. Logs are stored by the engine, so they survive a reload: the
handle loads the newest `max_logs` on start (and on every engine (re)start), then appends `log:write`
events for its run. `level` is a minimum level: "warning" keeps warnings and errors.
"""

from ui.client.observable import Observable
from ui.client.records import level_rank


class LogsHandle(Observable):
    """`logs` (oldest first, each {level, message, step, created_at, data}), `total`, `level`, `error`."""

    def __init__(self, client, run_id, max_logs=100, level=None):
        super().__init__()
        self._client = client
        self.run_id = run_id
        self.max_logs = max_logs
        self.level = level
        self.logs = []
        self.total = 0
        self.error = None
        self._offs = [client.on("log:write", self._on_log), client.on_ready(self.refresh)]

    def refresh(self):
        """Reload the newest `max_logs` lines of the run from the engine."""
        params = {"run_id": self.run_id, "limit": self.max_logs, "offset": 0}
        if self.level:
            params["level"] = self.level

        def loaded(result):
            total = result.get("total", 0)
            if total > self.max_logs and params["offset"] == 0:
                params["offset"] = total - self.max_logs
                self._client.call("runs.logs", params).then(loaded, self._failed)
                return
            self.logs = list(result.get("logs") or [])
            self.total = total
            self.error = None
            self._changed()

        self._client.call("runs.logs", params).then(loaded, self._failed)

    def set_level(self, level):
        """Show only lines at `level` or above (None: all), reloading from the engine."""
        self.level = level or None
        self.logs = [line for line in self.logs if self._passes(line)]
        self._changed()
        if self._client.engine.ready:
            self.refresh()

    def clear(self):
        """Forget the lines shown (the stored logs stay)."""
        self.logs = []
        self._changed()

    def close(self):
        """Stop listening."""
        for off in self._offs:
            off()
        self._offs = []

    def _passes(self, line):
        return not self.level or level_rank(line.get("level")) >= level_rank(self.level)

    def _on_log(self, event):
        if event.get("run_id") != self.run_id:
            return
        line = {"level": event.get("level"), "message": event.get("message"), "step": event.get("step"),
                "created_at": event.get("at"), "data": event.get("data") or {}}
        self.total += 1
        if not self._passes(line):
            return
        self.logs.append(line)
        if len(self.logs) > self.max_logs:
            self.logs = self.logs[len(self.logs) - self.max_logs:]
        self._changed()

    def _failed(self, error):
        self.error = error
        self._changed()
