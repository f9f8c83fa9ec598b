"""SQL-safe names: column names from a hostile header row, table names from file names, one quoting rule.

Role: every identifier that reaches SQL passes through `quote_identifier()`; names shown to the user come
from `column_names()` and `table_name_from_file()`; names the user types are checked by `table_name_problem()`
and `column_name_problem()` (the options validators). Names the importer makes for itself (unique indexes,
the shadow table of a replace) start with a reserved prefix, so no user name can meet them.
Nothing here touches a database.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence

MAX_NAME_LENGTH = 64
RESERVED_PREFIXES = ("sqlite_", "durable_", "importer_")
"""SQLite's own objects, the engine's tables and the importer's tables and indexes."""
_UNSAFE = re.compile(r"[^0-9a-z_]+")
_ASCII_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def quote_identifier(name: str) -> str:
    """Return `name` quoted as an SQLite identifier (double quotes, inner quotes doubled).

    Raises ValueError for a NUL character, which SQLite cannot store in a name (the name is never changed
    silently: the validators refuse such names with a sentence before they get here).
    """
    if "\x00" in name:
        raise ValueError(f"the name {name!r} contains a NUL character")
    return '"' + name.replace('"', '""') + '"'


def sql_fold(name: str) -> str:
    """Return `name` as SQLite compares identifiers: ASCII letters lower-cased, everything else as is."""
    return name.translate(_ASCII_UPPER)


def reserved_prefix(name: str) -> str | None:
    """Return the reserved prefix `name` starts with (as SQLite compares names), or None."""
    folded = sql_fold(name)
    return next((p for p in RESERVED_PREFIXES if folded.startswith(p)), None)


def table_name_problem(name: str) -> str | None:
    """Return why `name` (exactly as it will be quoted) cannot be a user table's name, or None if it can."""
    control = _control_character(name)
    if control is not None:
        return f"the table name contains {control}: remove it"
    prefix = reserved_prefix(name)
    if prefix is not None:
        return f"table names starting with '{prefix}' are reserved for the app's own tables: choose another name"
    return None


def column_name_problem(name: str) -> str | None:
    """Return why `name` cannot be a column's name, or None if it can."""
    control = _control_character(name)
    if control is not None:
        return f"the column name {name!r} contains {control}: remove it"
    return None


def unique_index_name(table: str, column: str) -> str:
    """Return the name of the unique index on `table`.`column`.

    Reserved prefix (no user table can take it) plus a hash of both names with a separator that cannot
    occur in either (so table `a_b` column `c` and table `a` column `b_c` get different indexes); the
    names are folded as SQLite compares them, so `People`.`ID` and `people`.`id` share one index.
    """
    digest = hashlib.sha256(f"{sql_fold(table)}\x00{sql_fold(column)}".encode()).hexdigest()[:16]
    return f"importer_unique_{digest}"


def shadow_table_name(run_id: str) -> str:
    """Return the internal table a replacing run loads into before it takes the old table's place."""
    return f"importer_replace_{run_id}"


def kept_table_name(run_id: str) -> str:
    """Return the internal name a replacing run keeps the table it replaced under (an undo puts it back)."""
    return f"importer_replaced_{run_id}"


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
        while sql_fold(name) in seen:
            n += 1
            name = f"{base}_{n}"
        seen.add(sql_fold(name))
        names.append(name)
    return names


def table_name_from_file(file_name: str, existing: Iterable[str] = ()) -> str:
    """Return a lower-case snake_case table name derived from `file_name`, distinct from `existing`.

    "Sales 2024 (final).csv" -> "sales_2024_final"; a name taken already gets `_2`, `_3`...; a name that
    would start with a digit or a reserved prefix is prefixed with `t_`; an empty one becomes `import`.
    """
    stem = file_name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if "." in stem.strip("."):
        stem = stem.rsplit(".", 1)[0]
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    base = _UNSAFE.sub("_", ascii_stem.lower()).strip("_")[:MAX_NAME_LENGTH] or "import"
    if base[0].isdigit() or reserved_prefix(base) is not None:
        base = f"t_{base}"
    taken = {sql_fold(name) for name in existing}
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def _control_character(name: str) -> str | None:
    """Describe the first control character (or lone surrogate) in `name`, or None."""
    for ch in name:
        if unicodedata.category(ch) in ("Cc", "Cs"):
            what = "a NUL character" if ch == "\x00" else f"the control character U+{ord(ch):04X}"
            return what
    return None


def _clean(cell: str) -> str:
    """Strip control characters and surrounding space; cap the length."""
    text = "".join(ch for ch in cell if unicodedata.category(ch)[0] != "C")
    return " ".join(text.split())[:MAX_NAME_LENGTH]
