"""Exit codes of `csv-import` and the one error it raises to end with a sentence (never a traceback)."""

from __future__ import annotations

OK = 0
REJECTS = 1  # done, with rejected rows, and --strict was given
USAGE = 2
FAILED = 3  # a file-level error, a failed run, or a database the command cannot use
INTERRUPTED = 130


class CliError(Exception):
    """End the command with `message` (one line on stderr) and exit `code`."""

    def __init__(self, message: str, code: int = FAILED) -> None:
        self.message = " ".join(message.split())
        self.code = code
        super().__init__(self.message)
