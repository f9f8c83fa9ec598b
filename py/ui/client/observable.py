"""Observable state: the one pattern every client handle shares (the counterpart of a React hook's state).

A view subscribes with a callback and gets back a function that unsubscribes; the handle calls every
subscriber with itself after each change. Runs on MicroPython (the page) and CPython (the tests).
"""


class Observable:
    """Base of the client handles: `subscribe(callback)` and `_changed()`."""

    def __init__(self):
        self._subscribers = []

    def subscribe(self, callback):
        """Call `callback(self)` after every change; returns a function that stops it."""
        self._subscribers.append(callback)

        def unsubscribe():
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def _changed(self):
        for callback in list(self._subscribers):
            callback(self)
