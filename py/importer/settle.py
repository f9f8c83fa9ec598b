"""Columns the first look settles for good, so the whole-file scan can leave them out.

Types only ever widen as values are added (`infer.TypeTracker` discards candidates and never adds one back),
and text is the widest: a column with a value that is no number, boolean or date in the first bytes is text
in the whole file too, with no null markers (null tokens stay text in a text column). The scan of the whole
file could only confirm it, so such a provisional column is settled here from the same first bytes, parsed
exactly as the scan parses them (`scan.Scanner`, complete records only); when every provisional column is
settled this way, the import needs no scan at all.

The first bytes are fed a piece at a time, and the look stops as soon as every provisional column is proven
text: more bytes could not undo it (the same property), so stopping early settles what reading on would.
It costs tens of milliseconds in the browser between `stage` and `prepare` when it reads all 64 KB.
"""

from __future__ import annotations

from importer.errors import ImporterError
from importer.formats import ColumnType
from importer.options import ImportOptions
from importer.scan import Scanner
from importer.sniff import SNIFF_BYTES

PIECE_BYTES = 8 << 10
"""The first bytes are fed to the scanner in pieces of this size, the columns checked after each."""


def settle_text_columns(
    path: str, options: ImportOptions, width: int, *, prefix_bytes: int = SNIFF_BYTES, piece_bytes: int = PIECE_BYTES
) -> ImportOptions:
    """Return `options` with each provisional column that the first `prefix_bytes` of `path` prove to be text
    settled as text (no longer provisional, no null markers, no date format).

    Reading stops once every provisional column is proven; a file error (bytes that do not decode, a record
    too long) met before that leaves every column as it was: the scan meets it too, and says so."""
    provisional = {s.source for s in options.kept_columns() if s.provisional}
    if not provisional:
        return options
    with open(path, "rb") as f:
        prefix = f.read(prefix_bytes)
    whole = len(prefix) < prefix_bytes
    scanner = Scanner(options, width, skip_header=bool(options.has_header))
    text: set[int] = set()
    try:
        for start in range(0, max(len(prefix), 1), piece_bytes):
            end = start + piece_bytes
            scanner.feed(prefix[start:end], final=whole and end >= len(prefix))
            text = _proven_text(scanner, provisional)
            if text == provisional:
                break
    except ImporterError:
        return options
    if not text:
        return options
    columns = [s.model_copy(update={"type": ColumnType.TEXT, "date_format": None, "null_markers": [],
                                    "provisional": False}) if s.provisional and s.source in text else s
               for s in options.columns]
    return options.model_copy(update={"columns": columns})


def _proven_text(scanner: Scanner, sources: set[int]) -> set[int]:
    """Those of `sources` that hold a value in the records scanned so far and are text there."""
    guesses = scanner.guesses(whole_file=False)
    return {i for i in sources if i < len(guesses) and guesses[i].type is ColumnType.TEXT and guesses[i].non_empty}
