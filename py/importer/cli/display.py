"""What the import shows while it runs: a live bar on a terminal, plain lines otherwise, or nothing.

The job's progress payload (docs/importer.md: phase, bytes, rows, rejects, rates, ETA) arrives from the
engine's `run:progress` events. On a terminal (stderr is a TTY) a tqdm bar over the file's bytes shows the
phase, rows, rows/s, rejects and the ETA; when stderr is not a terminal, one plain line per phase change and
at most one a second; `--quiet` and `--json` show no progress.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import Any, TextIO

_PHASES = {"hashing": "Hashing", "staging": "Checking", "scanning": "Types", "importing": "Importing"}


class Display:
    """Progress output for one command; `mode` is "bar", "lines" or "none"."""

    def __init__(self, mode: str, stream: TextIO = sys.stderr) -> None:
        self.mode = mode
        self._stream = stream
        self._bar: Any = None
        self._phase = ""
        self._last_line = float("-inf")

    @classmethod
    def for_flags(cls, *, quiet: bool, json: bool, stream: TextIO = sys.stderr) -> Display:
        if quiet or json:
            return cls("none", stream)
        return cls("bar" if stream.isatty() else "lines", stream)

    def progress(self, data: dict[str, Any]) -> None:
        """Show one progress payload."""
        if self.mode == "none":
            return
        phase = str(data.get("phase", ""))
        if self.mode == "bar":
            self._show_bar(phase, data)
            return
        now = time.monotonic()
        if phase != self._phase or now - self._last_line >= 1.0:
            self._phase, self._last_line = phase, now
            text = str(data.get("text") or phase)
            if phase == "staging":  # the command line reads the file where it is: the step only checks it
                text = text.replace("Staging", "Checking the file", 1)
            print(text, file=self._stream, flush=True)

    def note(self, text: str) -> None:
        """A line for the user (not in --quiet or --json)."""
        if self.mode != "none":
            self.close()
            print(text, file=self._stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            self._phase = ""

    def _show_bar(self, phase: str, data: dict[str, Any]) -> None:
        from tqdm import tqdm  # the command line's dependency: imported only when a bar is shown

        # a terminal that reports no size (0 x 0, as a bare pty) gets shutil's fallback, not a hidden bar
        size = shutil.get_terminal_size()

        total = int(data.get("bytes_total") or 0)
        if self._bar is None or phase != self._phase:
            self.close()
            self._phase = phase
            self._bar = tqdm(total=total, initial=0, unit="B", unit_scale=True, file=self._stream, leave=False,
                             desc=_PHASES.get(phase, phase), ncols=size.columns, nrows=size.lines,
                             bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix} ETA {remaining}")
        bar = self._bar
        bar.n = int(data.get("bytes_done") or 0)
        if phase == "importing":
            bar.set_postfix_str(f"{int(data.get('rows_done') or 0):,} rows, "
                                f"{float(data.get('rows_per_second') or 0):,.0f} rows/s, "
                                f"{int(data.get('rows_rejected') or 0):,} rejected", refresh=False)
        bar.refresh()
