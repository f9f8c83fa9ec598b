"""csv-import: the import job (`importer`) on the durable engine (`durable`), on CPython, from a terminal.

Role: the command line's edge. It parses arguments (`args`), reads the file's first look and whole-file
types with the importer's own functions (`settings`, `plan`), runs the same "import-csv" job on an
`Engine` over a SQLite file with live progress (`runner`, `display`), and manages runs and exports
(`manage`). It imports the progress bar library (tqdm); nothing the browser loads imports this package.
See docs/cli.md.
"""

from importer.cli.main import main

__all__ = ["main"]
