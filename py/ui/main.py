"""The page's entry point (MicroPython, via PyScript): start the engine worker, then the app."""

import sys

from ui import app, boot

try:
    app.App(boot.start(), boot.page_build())
except Exception as exc:
    sys.print_exception(exc)
