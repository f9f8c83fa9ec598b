"""A file's size, sha256 and modification time, hashed in a thread of its own.

hashlib lets go of the GIL while it hashes a large chunk, so the command's first look at the file (its sniff,
pure Python) runs while the file is hashed instead of before it. Progress is shown while the command waits.
"""

from __future__ import annotations

import hashlib
import os
import threading

from importer.cli.display import Display
from importer.cli.exits import CliError

HASH_CHUNK = 4 << 20


class FileHash:
    """Start hashing `path` now; `result()` waits for it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.done = 0
        try:
            self.size = os.stat(path).st_size
        except OSError:
            self.size = 0  # the thread meets the error and keeps it for result()
        self._digest = hashlib.sha256()
        self._mtime_ns = 0
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._hash, name="sha256", daemon=True)
        self._thread.start()

    def result(self, display: Display) -> tuple[int, str, int]:
        """The file's size, sha256 and mtime (ns), showing progress until they are known; raises CliError when
        the file cannot be read."""
        if self.size <= HASH_CHUNK:  # one update: nothing to show until it is done
            self._thread.join()
        while True:
            finished = not self._thread.is_alive()  # then the line below is the last, at 100%
            display.progress({"phase": "hashing", "bytes_done": self.done, "bytes_total": self.size,
                              "text": f"Hashing: {self.done * 100 // max(self.size, 1)}% of {self.size:,} bytes"})
            if finished:
                break
            self._thread.join(0.1)
        display.close()
        if self._error is not None:
            exc = self._error
            raise CliError(f"Cannot read '{self.path}': {exc.strerror or exc}.") from None
        return self.done, self._digest.hexdigest(), self._mtime_ns  # the size of what was hashed

    def _hash(self) -> None:
        try:
            with open(self.path, "rb") as f:
                while data := f.read(HASH_CHUNK):
                    self._digest.update(data)
                    self.done += len(data)
                self._mtime_ns = os.fstat(f.fileno()).st_mtime_ns
        except OSError as exc:
            self._error = exc


def file_sha256(path: str, display: Display) -> tuple[int, str, int]:
    """The file's size, sha256 and mtime (ns), with progress; raises CliError when it cannot be read."""
    return FileHash(path).result(display)
