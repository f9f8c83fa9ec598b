"""Start the engine worker, wire it to the RPC client, show its status, register the service worker.

Role: the page's one seam to the engine worker (postMessage in both directions). Everything above it
talks to `RpcClient` only.
"""

import json

from pyscript import document, window
from pyscript.ffi import to_js

from ui import dom
from ui.client import RpcClient

WORKER_URL = "static/js/engine-worker.mjs"
BUILD_FILE = "ui/build.json"
"""The page's build id: static/vendor/build.json, loaded by PyScript beside the UI's modules (pyscript.toml)."""


def page_build():
    """The id of the build this page's UI comes from (tools/vendor.py), or None where the file is missing."""
    try:
        with open(BUILD_FILE) as handle:
            return json.loads(handle.read()).get("build")
    except Exception:  # OSError or a broken file: no id, so the handshake reports a mismatch
        return None


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
        # "loading" from the engine's first `ready` until its importer (pydantic, the import job) is loaded
        status.setAttribute("data-importer", str(data.get("importer") or ""))
        status.textContent = data.get("message", "")
        if data.get("state") == "ready" and data.get("importer") != "loading":  # its precache would slow the boot
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
    worker.onmessage = dom.callback(on_message)
    worker.onerror = dom.callback(on_error)
    window.engineWorker = worker
    window.setInterval(dom.callback(lambda *args: client.check_timeouts()), 1000)  # no call waits forever
    return client


_registered = []
UPDATE_TEXT = "A new version of the app is ready."


def register_service_worker():
    """Register sw.js once (static/js/service-worker.mjs does it, in JavaScript), with the update prompt shown
    when a new version has installed and waits."""
    if _registered:
        return
    _registered.append(True)
    register = getattr(window, "registerServiceWorker", None)
    container = getattr(window.navigator, "serviceWorker", None)
    if register is None or container is None:
        return
    register(dom.callback(lambda registration: show_update(container, registration)))


def show_update(container, registration):
    """The prompt `[data-testid=update-available]`: its button activates the waiting version and reloads."""
    if document.querySelector("[data-testid=update-available]"):
        return
    notice = document.createElement("div")
    notice.className = "notice notice-info"
    notice.setAttribute("data-testid", "update-available")
    notice.setAttribute("role", "status")
    text = document.createElement("span")
    text.textContent = UPDATE_TEXT + " Update now, or it starts the next time every tab of the app is closed. " \
        "An import in progress continues after the reload."
    button = document.createElement("button")
    button.type = "button"
    button.setAttribute("data-testid", "update-activate")
    button.textContent = "Update and reload"

    def activate(event):
        button.disabled = True
        container.oncontrollerchange = dom.callback(lambda event: window.location.reload())
        waiting = registration.waiting
        if waiting:
            waiting.postMessage(to_js({"type": "activate-update"}))

    button.onclick = dom.callback(activate)
    notice.append(text, button)
    document.querySelector("#notices").prepend(notice)
