"""The RPC client: requests with ids over an injected transport, replies settling calls, event dispatch.

Role: the only module that speaks docs/protocol.md. The page's boot wires it to the engine worker (post a
message; feed every message back to `receive`); the tests wire it to a fake. Nothing here imports
pyscript or js, so the client layer runs on CPython too.

    client = RpcClient(post)            # post(text, file) sends one request
    client.call("runs.get", {"run_id": rid}).then(show, show_error)
    client.on("run:progress", on_progress)
    client.receive(text, blob)          # every message from the worker
    client.check_timeouts()             # now and then (the page: once a second): overdue calls fail

Every call has a timeout (`timeout_for(method)`, or `call(..., timeout=seconds)`): a call the worker never
answers settles with the error `timeout`, so no caller waits forever; a reply arriving later is ignored.
"""

import json
import time

STATES = ("booting", "ready", "follower", "error")
DEFAULT_TIMEOUT = 60
"""Seconds a request may take. The worker answers most in milliseconds, but serves one thing at a time:
a request can wait behind an import batch or a read-only query (its budget is 30 s by default)."""
LONG_TIMEOUT = 3600
LONG_METHODS = ("file.scan", "file.earlier_imports", "export.errors", "export.table", "export.database",
                "storage.clear", "storage.inspect", "storage.open", "storage.restore", "import.resume")
"""Requests whose work grows with the data (a whole-file scan or hash, an export, deleting everything,
copying and checking a database file, copying a command-line run's file)."""


def timeout_for(method):
    """The timeout in seconds of a call to `method`."""
    return LONG_TIMEOUT if method in LONG_METHODS else DEFAULT_TIMEOUT


def _monotonic():
    clock = getattr(time, "monotonic", None)  # MicroPython has no monotonic(): its time() serves
    return clock() if clock is not None else time.time()


class RpcError(Exception):
    """An error reply: `code` from the protocol's closed list, a `message` that says what to do."""

    def __init__(self, code, message, details=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


class Call:
    """One request in flight; settles once with `result` or `error`, then runs its callbacks.

    `then(on_result, on_error)` may be called before or after it settles. An error nobody handles goes
    to the client's `on_unhandled_error`, so no failure is silent.
    """

    def __init__(self, client, method, deadline=None):
        self._client = client
        self.method = method
        self.deadline = deadline
        self.done = False
        self.result = None
        self.error = None
        self._on_result = []
        self._on_error = []
        self._handled = False

    def then(self, on_result=None, on_error=None):
        """Run `on_result(result)` or `on_error(RpcError)` when the call settles; returns the call."""
        if on_result is not None:
            self._on_result.append(on_result)
        if on_error is not None:
            self._on_error.append(on_error)
        if self.done:
            self._run_callbacks()
        return self

    def _settle(self, result=None, error=None):
        if self.done:
            return
        self.done = True
        self.result = result
        self.error = error
        self._run_callbacks()
        if error is not None and not self._handled:
            self._client._unhandled(self, error)

    def _run_callbacks(self):
        callbacks = self._on_error if self.error is not None else self._on_result
        value = self.error if self.error is not None else self.result
        self._handled = bool(self._on_error) or self.error is None
        while callbacks:
            callbacks.pop(0)(value)
        if self.error is None:
            self._on_error = []
        else:
            self._on_result = []


class EngineState:
    """The engine's last reported status: `state` (booting, ready, follower, error), `message`, `data`.

    `ready` means requests are served: by this tab's engine (`ready`), or by the engine another tab runs,
    to which this tab's worker forwards them (`follower`)."""

    def __init__(self):
        self.state = "booting"
        self.message = ""
        self.data = {}

    @property
    def ready(self):
        return self.state in ("ready", "follower")

    @property
    def follower(self):
        return self.state == "follower"


class RpcClient:
    """Requests, replies and events over one transport (`post(text, file)`).

    Events are dispatched by type (`on("run:progress", cb)`, or `on("*", cb)` for all) with the event's
    `data` dict, whose `type` key is set to the event type. `on_ready(cb)` runs `cb()` each time the
    engine becomes ready (first boot, a follower whose leading tab is ready, a follower taking over), and at
    once if it already is.
    """

    def __init__(self, post, clock=None):
        """`post(text, file)` sends a request; `clock()` gives seconds (default: a monotonic clock)."""
        self._post = post
        self._clock = clock or _monotonic
        self._next_id = 1
        self._pending = {}
        self._listeners = {}
        self._ready_callbacks = []
        self.engine = EngineState()
        self.on_unhandled_error = None
        self.refused = {}

    # -- requests --------------------------------------------------------------------------------
    def call(self, method, params=None, file=None, timeout=None):
        """Send `method(params)` (with `file` beside it, when given); returns its `Call`, which fails with
        the error `timeout` if no reply came within `timeout` seconds (default: `timeout_for(method)`)."""
        if method in self.refused:  # not sent: settles at once with the reason (see `refuse`)
            refused = Call(self, method)
            refused._settle(error=self.refused[method])
            return refused
        request_id = self._next_id
        self._next_id += 1
        seconds = timeout if timeout is not None else timeout_for(method)
        pending = Call(self, method, self._clock() + seconds)
        self._pending[request_id] = pending
        text = json.dumps({"id": request_id, "method": method, "params": params or {}})
        try:
            self._post(text, file)
        except Exception as exc:  # the transport is gone (worker died): settle, never leave it hanging
            del self._pending[request_id]
            pending._settle(error=RpcError("transport", "Could not reach the engine: " + str(exc)))
        return pending

    def refuse(self, methods, code, message):
        """From now on, fail calls to `methods` at once with `RpcError(code, message)`, without sending them
        (the version handshake refuses writes to an engine of another build)."""
        for method in methods:
            self.refused[method] = RpcError(code, message)

    def pending_count(self):
        """How many calls await their reply."""
        return len(self._pending)

    def check_timeouts(self):
        """Fail every call whose deadline has passed with the error `timeout`; returns how many failed."""
        now = self._clock()
        overdue = [(rid, c) for rid, c in self._pending.items() if c.deadline is not None and c.deadline <= now]
        for request_id, pending in overdue:
            del self._pending[request_id]
            pending._settle(error=RpcError(
                "timeout", "The engine did not answer (" + pending.method + ") in time. It may be busy with a "
                "large file, or it stopped: if this lasts, reload the page; imports resume where they were."))
        return len(overdue)

    # -- events ----------------------------------------------------------------------------------
    def on(self, event_type, callback):
        """Call `callback(data)` for each event of `event_type` ("*": every event); returns an unsubscribe."""
        listeners = self._listeners.setdefault(event_type, [])
        listeners.append(callback)

        def off():
            if callback in listeners:
                listeners.remove(callback)

        return off

    def on_ready(self, callback):
        """Run `callback()` now if the engine is ready, and every time it becomes ready; returns an unsubscribe."""
        self._ready_callbacks.append(callback)
        if self.engine.ready:
            callback()

        def off():
            if callback in self._ready_callbacks:
                self._ready_callbacks.remove(callback)

        return off

    # -- messages in -----------------------------------------------------------------------------
    def receive(self, text, blob=None):
        """Take one message from the worker (its JSON text, and the blob of a download reply)."""
        try:
            message = json.loads(text)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if "event" in message:
            data = message.get("data")
            self._dispatch(message["event"], data if isinstance(data, dict) else {})
            return
        pending = self._pending.pop(message.get("id"), None)
        if pending is None:
            return  # a reply to someone else's request (tests post their own)
        if message.get("ok"):
            result = message.get("result")
            if blob is not None and isinstance(result, dict):
                result["blob"] = blob
            pending._settle(result=result)
        else:
            error = message.get("error") or {}
            pending._settle(error=RpcError(error.get("code", "internal"), error.get("message", "Unknown error"),
                                           error))

    def _dispatch(self, event_type, data):
        data["type"] = event_type
        if event_type == "engine:status":
            self._engine_status(data)
        for key in (event_type, "*"):
            for callback in list(self._listeners.get(key, ())):
                callback(data)

    def _engine_status(self, data):
        was = self.engine.state
        self.engine.state = data.get("state", "error")
        self.engine.message = data.get("message", "")
        self.engine.data = data
        if self.engine.ready and self.engine.state != was:  # follower -> ready too: a take-over
            for callback in list(self._ready_callbacks):
                callback()

    def _unhandled(self, pending, error):
        if self.on_unhandled_error is not None:
            self.on_unhandled_error(pending.method, error)
