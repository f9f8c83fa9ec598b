"""Start the engine worker, wire it to the RPC client, show its status, register the service worker.

Role: the page's one seam to the engine worker (postMessage in both directions). Everything above it
talks to `RpcClient` only.
"""

import json

from pyscript import document, window
from pyscript.ffi import create_proxy, to_js

from ui.client import RpcClient

WORKER_URL = "static/js/engine-worker.mjs"


def start():
    """Take the worker static/js/start-engine.mjs started (or start it); returns the `RpcClient` over it.

    The worker is `window.engineWorker`; the messages it sent before the UI was up are replayed first.
    """
    status = document.querySelector("[data-testid=engine-status]")
    worker = getattr(window, "engineWorker", None)
    early = getattr(window, "engineEarlyMessages", None)
    if worker is None:
        worker = window.Worker.new(WORKER_URL, to_js({"type": "module"}))

    def post(text, file):
        if file is None:
            worker.postMessage(text)
            return
        message = window.Object.new()
        message.json = text
        message.file = file
        worker.postMessage(message)

    client = RpcClient(post)

    def on_message(event):
        data = event.data
        if isinstance(data, str):
            client.receive(data)
        else:
            client.receive(data.json, data.blob)

    def on_status(data):
        status.setAttribute("data-state", data.get("state", "error"))
        status.textContent = data.get("message", "")
        if data.get("state") == "ready":
            register_service_worker()

    def on_error(event):
        message = getattr(event, "message", None) or "the engine worker could not be loaded"
        client.receive(json.dumps({"event": "engine:status",
                                   "data": {"state": "error", "message": "The engine stopped: " + str(message)}}))

    client.on("engine:status", on_status)
    if early is not None:  # no event is dispatched while this runs, so none is lost or reordered
        for index in range(early.length):
            event = early[index]
            if getattr(event, "type", "message") == "error":
                on_error(event)
            else:
                on_message(event)
        window.engineEarlyMessages = None
    worker.onmessage = create_proxy(on_message)
    worker.onerror = create_proxy(on_error)
    window.engineWorker = worker
    window.setInterval(create_proxy(lambda *args: client.check_timeouts()), 1000)  # no call waits forever
    return client


_registered = []


def register_service_worker():
    """Register sw.js once (it keeps the app working offline); skipped where service workers are missing."""
    if _registered:
        return
    _registered.append(True)
    container = getattr(window.navigator, "serviceWorker", None)
    if container is None:
        return
    container.register("sw.js").catch(create_proxy(lambda error: window.console.warn("sw.js:", error)))
