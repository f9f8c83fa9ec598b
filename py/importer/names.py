"""SQL-safe names: column names from a hostile header row, table names from file names, one quoting rule.

Role: every identifier that reaches SQL passes through `quote_identifier()`; names shown to the user come
from `column_names()` and `table_name_from_file()`. Nothing here touches a database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

MAX_NAME_LENGTH = 64
_UNSAFE = re.compile(r"[^0-9a-z_]+")


def quote_identifier(name: str) -> str:
    """Return `name` quoted as an SQLite identifier (double quotes, inner quotes doubled).

    Raises `ValueError`-free: NUL characters, which SQLite cannot store in a name, are dropped.
    """
    return '"' + name.replace("\x00", "").replace('"', '""') + '"'


def column_names(header: Sequence[str | None]) -> list[str]:
    """Return one distinct, non-blank name per header cell, in order.

    A blank cell becomes `column_N` (N is the 1-based position); a repeated name gets `_2`, `_3`...
    Names keep their spelling (they are always quoted), minus control characters and outer spaces.
    Comparison for duplicates is case-insensitive, as it is in SQLite.
    """
    names: list[str] = []
    seen: set[str] = set()
    for position, cell in enumerate(header, start=1):
        base = _clean(cell or "") or f"column_{position}"
        name, n = base, 1
        while name.lower() in seen:
            n += 1
            name = f"{base}_{n}"
        seen.add(name.lower())
        names.append(name)
    return names


def table_name_from_file(file_name: str, existing: Iterable[str] = ()) -> str:
    """Return a lower-case snake_case table name derived from `file_name`, distinct from `existing`.

    "Sales 2024 (final).csv" -> "sales_2024_final"; a name taken already gets `_2`, `_3`...; a name that
    would start with a digit or be empty is prefixed with `t_` / replaced by `import`.
    """
    stem = file_name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if "." in stem.strip("."):
        stem = stem.rsplit(".", 1)[0]
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    base = _UNSAFE.sub("_", ascii_stem.lower()).strip("_")[:MAX_NAME_LENGTH] or "import"
    if base[0].isdigit():
        base = f"t_{base}"
    if base.startswith("sqlite_"):
        base = f"t_{base}"
    taken = {name.lower() for name in existing}
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def _clean(cell: str) -> str:
    """Strip control characters and surrounding space; cap the length."""
    text = "".join(ch for ch in cell if unicodedata.category(ch)[0] != "C")
    return " ".join(text.split())[:MAX_NAME_LENGTH]
