"""Start the engine worker and show its status."""

import json

from pyscript import document, window
from pyscript.ffi import create_proxy, to_js


def start():
    status = document.querySelector("[data-testid=engine-status]")
    worker = window.Worker.new("static/js/engine-worker.mjs", to_js({"type": "module"}))

    def on_message(event):
        msg = json.loads(event.data)
        if msg.get("event") == "engine:status":
            data = msg["data"]
            status.setAttribute("data-state", data["state"])
            status.textContent = data["message"]

    worker.onmessage = create_proxy(on_message)
    window.engineWorker = worker
    return worker
