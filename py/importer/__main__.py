"""`python -m importer`: the csv-import command line (importer.cli)."""

from importer.cli import main

raise SystemExit(main())
