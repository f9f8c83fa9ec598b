"""`--dry-run`: the detected settings with their evidence and the column plan, over the whole file.

The first look is `sniff()` on the first 64 KB (as the page's preview); the types are then settled over
every row with the job's own whole-file scan (`scan_file`, `apply_scan`), so the plan shown is the one the
import would follow. Nothing is written: the database, if it exists, is only read for its table names.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from importer import sql
from importer.cli import database
from importer.cli.exits import OK, CliError
from importer.cli.report import safe
from importer.errors import ImporterError
from importer.infer import ColumnGuess
from importer.names import table_name_from_file
from importer.options import ImportOptions
from importer.scan import apply_scan, needs_scan, scan_file, scan_guesses
from importer.sniff import SniffResult

_SETTINGS = ("encoding", "delimiter", "quotechar", "has_header", "line_ending", "decimal_comma")


async def dry_run(path: str, db: str, sniffed: SniffResult, options: ImportOptions, *, as_json: bool) -> int:
    """Print the plan for importing `path` into `db` with `options`; return the exit code."""
    guesses, rows = list(sniffed.guesses), sniffed.sample_rows
    fixed = {spec.source for spec in options.columns if not spec.provisional and not sniffed.complete}
    if needs_scan(options):
        guesses, rows = await _whole_file(path, options)
        options = apply_scan(options, guesses)
    table = options.table or table_name_from_file(os.path.basename(path), _existing_tables(db))
    exists = options.table is not None and table in _existing_tables(db)
    plan = {
        "file": os.path.basename(path),
        "bytes": os.path.getsize(path),
        "settings": {name: getattr(sniffed, name).to_dict() for name in _SETTINGS},
        "rows": rows,
        "table": table,
        "table_exists": exists,
        "if_exists": options.if_exists,
        "columns": [_column(spec.model_dump(mode="json"), guesses[spec.source] if spec.source < len(guesses) else None,
                            spec.source in fixed) for spec in options.columns],
    }
    if as_json:
        print(json.dumps(plan))
    else:
        _print_plan(plan)
    return OK


async def _whole_file(path: str, options: ImportOptions) -> tuple[list[ColumnGuess], int]:
    width = len(options.columns)
    size = os.path.getsize(path)
    cursor = {"offset": 0, "row": 1, "state": None, "done": False}
    try:
        cursor = await scan_file(path, options, width, cursor, size=size, step_bytes=size + 1)
    except ImporterError as exc:
        raise CliError(f"Checking the whole file: {exc}") from None
    state: Any = cursor.get("state") or {}
    return scan_guesses(cursor, options, width), int(state.get("rows", 0)) if isinstance(state, dict) else 0


def _existing_tables(db: str) -> list[str]:
    if not os.path.exists(db):
        return []
    with database.read_only(db) as store:
        return sql.table_names(store.conn)


def _column(spec: dict[str, Any], guess: ColumnGuess | None, fixed: bool) -> dict[str, Any]:
    chosen = fixed or guess is None or guess.type.value != spec["type"]
    return {
        "source": spec["source"] + 1,
        "name": spec["name"],
        "type": spec["type"],
        "date_format": spec["date_format"],
        "null_markers": spec["null_markers"],
        "skip": spec["skip"],
        "required": spec["required"],
        "unique": spec["unique"],
        "evidence": "chosen with --type" if chosen or guess is None else guess.evidence,
    }


def _print_plan(plan: dict[str, Any]) -> None:
    out = sys.stdout
    print(f"File:      {safe(plan['file'])} ({plan['bytes']:,} bytes, {plan['rows']:,} data rows)", file=out)
    for name, detected in plan["settings"].items():
        print(f"{name + ':':<15}{safe(repr(detected['value'])):<10} {safe(detected['evidence'])}"
              + (" (given)" if detected["overridden"] else ""), file=out)
    state = "exists" if plan["table_exists"] else "new"
    print(f"Table:     {safe(plan['table'])} ({state}; if it exists: {plan['if_exists']})", file=out)
    print("Columns:", file=out)
    for c in plan["columns"]:
        rules = [r for r in ("required", "unique", "skip") if c[r]]
        extra = [c["date_format"]] if c["date_format"] else []
        extra += [f"null: {', '.join(c['null_markers'])}"] if c["null_markers"] else []
        print(f"  {c['source']:>3}  {safe(c['name']):<24} {c['type']:<9} {safe('; '.join(extra + rules)):<20} "
              f"{safe(c['evidence'])}", file=out)
    print("Nothing was written (--dry-run).", file=out)
