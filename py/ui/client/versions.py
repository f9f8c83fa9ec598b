"""The version handshake: the page's build against its engine's, and what to do when they differ.

The page's UI (py/ui, loaded file by file) and the engine worker (static/vendor/app.zip) are fetched apart,
so a stale cache or a half-applied update can pair a page of one build with an engine of another. Each
carries the build id tools/vendor.py gave both: the page reads it from `ui/build.json`, the engine sends
its own as `build` in `engine:status`. When they differ the page says so and refuses to start or change
work until a reload: an engine of another version could write what this page (or that engine) does not
expect, e.g. an older schema.
"""

from ui.client.observable import Observable

REFUSED = ("import.start", "import.resume", "runs.retry", "runs.delete", "storage.clear", "storage.open",
           "storage.restore")
"""The calls a mismatched page refuses: everything that starts or changes work. Reading stays possible."""


def mismatch_message(page_build, engine_build):
    """The sentence the page shows when its build and its engine's differ."""
    engine = engine_build or "an older version"
    return ("This page and its engine come from different versions of the app (page "
            + str(page_build or "unknown")
            + ", engine " + str(engine) + "), so importing is off until you reload. Reload the page to "
            "finish updating; your saved imports are kept.")


class VersionCheck(Observable):
    """Compares `page_build` with the `build` of each ready (or follower) `engine:status`.

    `problem` is None while they match, else the sentence to show; the client then refuses the calls of
    `REFUSED` with the error `version-mismatch`. Create it before the views that read `problem`.
    """

    def __init__(self, client, page_build):
        super().__init__()
        self._client = client
        self.page_build = page_build
        self.engine_build = None
        self.problem = None
        client.on("engine:status", self._status)
        self._status(client.engine.data)  # a status that arrived before this check was made

    def _status(self, data):
        if not data or data.get("state") not in ("ready", "follower") or self.problem is not None:
            return
        self.engine_build = data.get("build")
        if self.engine_build == self.page_build:
            return
        self.problem = mismatch_message(self.page_build, self.engine_build)
        self._client.refuse(REFUSED, "version-mismatch", self.problem)
        self._changed()
