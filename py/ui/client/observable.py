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


class PagedQuery(Observable):
    """A page of a query's results: `page` (0-based), `page_size`, `total`, `loading`, `error`.

    One request at a time: a refresh asked for while one is in flight runs after it. Subclasses name the
    worker method (`_method`), give its parameters (`_params()`) and take the result (`_take(result)`).
    """

    _method = ""

    def __init__(self, client, page_size):
        super().__init__()
        self._client = client
        self.page_size = page_size
        self.page = 0
        self.total = 0
        self.loading = False
        self.error = None
        self._again = False

    @property
    def has_more(self):
        return (self.page + 1) * self.page_size < self.total

    @property
    def page_count(self):
        return max(1, (self.total + self.page_size - 1) // self.page_size)

    def refresh(self):
        """Reload the current page."""
        if self.loading:
            self._again = True
            return
        self.loading = True
        params = self._params()
        params["limit"] = self.page_size
        params["offset"] = self.page * self.page_size
        self._client.call(self._method, params).then(self._loaded, self._failed)

    def next_page(self):
        if self.has_more:
            self.go_to_page(self.page + 1)

    def prev_page(self):
        if self.page > 0:
            self.go_to_page(self.page - 1)

    def go_to_page(self, page):
        """Show page `page` (0-based, clamped to the pages that exist)."""
        self.page = max(0, min(page, self.page_count - 1))
        self.refresh()

    def _params(self):
        return {}

    def _take(self, result):
        raise NotImplementedError

    def _loaded(self, result):
        self.loading = False
        self._take(result)
        self.error = None
        if self._again:
            self._again = False
            self.refresh()
        self._changed()

    def _failed(self, error):
        self.loading = False
        self._again = False
        self.error = error
        self._changed()
