"""The page's entry point (MicroPython, via PyScript)."""

from ui import boot

boot.start()
