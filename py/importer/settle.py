"""Columns the first look settles for good, so the whole-file scan can leave them out.

Types only ever widen as values are added (`infer.TypeTracker` discards candidates and never adds one back),
and text is the widest: a column with a value that is no number, boolean or date in the first bytes is text
in the whole file too, with no null markers (null tokens stay text in a text column). The scan of the whole
file could only confirm it, so such a provisional column is settled here from the same first bytes, parsed
exactly as the scan parses them (`scan.Scanner`, complete records only); when every provisional column is
settled this way, the import needs no scan at all.
"""

from __future__ import annotations

from importer.errors import ImporterError
from importer.formats import ColumnType
from importer.options import ImportOptions
from importer.scan import Scanner
from importer.sniff import SNIFF_BYTES


def settle_text_columns(
    path: str, options: ImportOptions, width: int, *, prefix_bytes: int = SNIFF_BYTES
) -> ImportOptions:
    """Return `options` with each provisional column that the first `prefix_bytes` of `path` prove to be text
    settled as text (no longer provisional, no null markers, no date format)."""
    provisional = [s for s in options.kept_columns() if s.provisional]
    if not provisional:
        return options
    with open(path, "rb") as f:
        prefix = f.read(prefix_bytes)
    scanner = Scanner(options, width, skip_header=bool(options.has_header))
    try:
        scanner.feed(prefix, final=len(prefix) < prefix_bytes)
    except ImporterError:
        return options  # the scan meets it too, and says so
    guesses = scanner.guesses(whole_file=False)
    text = {s.source for s in provisional
            if s.source < len(guesses) and guesses[s.source].type is ColumnType.TEXT and guesses[s.source].non_empty}
    if not text:
        return options
    columns = [s.model_copy(update={"type": ColumnType.TEXT, "date_format": None, "null_markers": [],
                                    "provisional": False}) if s.provisional and s.source in text else s
               for s in options.columns]
    return options.model_copy(update={"columns": columns})
