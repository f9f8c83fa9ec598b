"""The page's DOM, reached from one module: building elements, events, throttled rendering, downloads.

Rule of the house: data is only ever put on the page as text (`textContent`, text nodes, attributes);
nothing here takes HTML, so a cell `<img src=x onerror=alert(1)>` shows literally and runs nothing.
"""

import json

from pyscript import document, window
from pyscript.ffi import create_proxy

SVG_NS = "http://www.w3.org/2000/svg"


def h(tag, attrs=None, *children):
    """A new element `tag` with attributes and children.

    `attrs`: "text" sets the text; "on_<event>" adds a listener; True sets a boolean attribute, False
    and None leave it out; any other value becomes the attribute's text. Children are nodes, strings
    (text nodes), None (skipped) or lists of those.
    """
    node = document.createElement(tag)
    if attrs:
        for name, value in attrs.items():
            if value is None or value is False:
                continue
            if name == "text":
                node.textContent = str(value)
            elif name.startswith("on_"):
                listen(node, name[3:], value)
            elif value is True:
                node.setAttribute(name, "")
            else:
                node.setAttribute(name, str(value))
    append(node, children)
    return node


def svg(tag, attrs=None, *children):
    """A new SVG element `tag` (attributes and children as `h`, in the SVG namespace)."""
    node = document.createElementNS(SVG_NS, tag)
    for name, value in (attrs or {}).items():
        if name == "text":
            node.textContent = str(value)
        elif value is not None and value is not False:
            node.setAttribute(name, str(value))
    append(node, children)
    return node


def stored_list(key):
    """The list saved under `key` in this browser's localStorage ([] if none, unreadable or not a list)."""
    try:
        value = json.loads(window.localStorage.getItem(key) or "[]")
    except Exception:  # storage blocked, or a value not ours: start afresh
        return []
    return value if isinstance(value, list) else []


def store_list(key, values):
    """Save `values` (JSON) under `key` in localStorage; a full or blocked storage only loses the list."""
    try:  # noqa: SIM105  (MicroPython has no contextlib)
        window.localStorage.setItem(key, json.dumps(values))
    except Exception:
        pass


def append(node, children):
    """Append children (nodes, strings as text, None skipped, nested lists) to `node`."""
    for child in children:
        if child is None:
            continue
        if isinstance(child, (list, tuple)):
            append(node, child)
        elif isinstance(child, str):
            node.appendChild(document.createTextNode(child))
        else:
            node.appendChild(child)


def fill(node, *children):
    """Replace the children of `node`."""
    node.textContent = ""
    append(node, children)
    return node


def set_text(node, value):
    """Set the text of `node` only when it changed (no needless layout work)."""
    value = str(value)
    if node.textContent != value:
        node.textContent = value


def callback(function):
    """`function` as a JavaScript function that returns nothing to JavaScript: the one way the UI hands Python
    to JavaScript. The page's MicroPython (1.28) can free a JS object a Python callback returns before
    JavaScript reads it (micropython/micropython#19141), so a JavaScript caller that used the value (a promise's
    `then`) could get `undefined`; here no caller gets a value at all (docs/ui.md)."""

    def call(*args):
        function(*args)

    return create_proxy(call)


def listen(node, event, function):
    """Call `function(event)` on `event`; returns the proxy (keep it to remove the listener)."""
    proxy = callback(function)
    node.addEventListener(event, proxy)
    return proxy


def find(selector, root=None):
    """The first element matching `selector`, or None."""
    return (root or document).querySelector(selector)


def show(node, visible):
    """Show or hide `node` (the `hidden` attribute)."""
    if visible:
        node.removeAttribute("hidden")
    else:
        node.setAttribute("hidden", "")


def later(function, ms=0):
    """Run `function()` after `ms` milliseconds."""
    window.setTimeout(callback(function), ms)


class Throttle:
    """Run `render()` at most once per `ms`: at once when it has been quiet, else once at the end of the
    window with the latest state (events arrive ~10 a second; the DOM changes at most that often)."""

    def __init__(self, render, ms=100):
        self._render = render
        self._ms = ms
        self._scheduled = False
        self._last = -1e9
        self._proxy = callback(self._fire)

    def __call__(self, *args):
        if self._scheduled:
            return
        wait = self._last + self._ms - window.performance.now()
        if wait <= 0:
            self._fire()
        else:
            self._scheduled = True
            window.setTimeout(self._proxy, wait)

    def _fire(self):
        self._scheduled = False
        self._last = window.performance.now()
        self._render()


def download(blob, name):
    """Save `blob` as a file called `name` (a hidden link with `download`, clicked)."""
    url = window.URL.createObjectURL(blob)
    link = h("a", {"href": url, "download": name, "hidden": True})
    document.body.appendChild(link)
    link.click()
    link.remove()
    later(lambda: window.URL.revokeObjectURL(url), 60000)


def now():
    """Seconds since 1970, from the browser clock."""
    return window.Date.now() / 1000


def focus(node):
    if node is not None:
        node.focus()



class LocalMemory:
    """The page's localStorage as `get(key)` -> text or None and `set(key, text)`; silent where it is off
    (a browser setting can forbid it: the page then just remembers nothing)."""

    def get(self, key):
        try:
            value = window.localStorage.getItem(key)
        except Exception:
            return None
        return None if value is None else str(value)

    def set(self, key, value):
        try:  # noqa: SIM105 (MicroPython has no contextlib)
            window.localStorage.setItem(key, value)
        except Exception:
            pass


def storage_persisted(on_answer):
    """Call `on_answer(True/False)` with whether the browser keeps this site's storage (persistent), or
    `on_answer(None)` where it cannot say."""
    storage = getattr(window.navigator, "storage", None)
    if storage is None or not getattr(storage, "persisted", None):
        on_answer(None)
        return
    storage.persisted().then(callback(lambda granted: on_answer(bool(granted))))


def request_persistence(on_answer):
    """Ask the browser to keep this site's storage (`navigator.storage.persist`; call it from a user gesture:
    some browsers ask the user); `on_answer(True/False)`, or `on_answer(None)` where it cannot be asked."""
    storage = getattr(window.navigator, "storage", None)
    if storage is None or not getattr(storage, "persist", None):
        on_answer(None)
        return
    storage.persist().then(callback(lambda granted: on_answer(bool(granted))),
                           callback(lambda error: on_answer(None)))
