"""From the command line's flags to the job's `ImportOptions`, through the importer's own first look.

The file's first `SNIFF_BYTES` go to `sniff()` with the flags that fix a reading setting as overrides,
exactly as the page's preview does; the flags that shape columns (--type, --required, --unique) edit the
sniffed column specs. Columns whose type the user did not fix stay provisional: the job settles them over
the whole file (its `scan-N` steps) before it writes a row. The table stays None unless --table names it,
so the options (and the idempotency key made from them) do not depend on what the database holds.
"""

from __future__ import annotations

import argparse
import os

from pydantic import ValidationError

from importer.cli.exits import USAGE, CliError
from importer.errors import ImporterError
from importer.formats import ColumnType
from importer.options import ColumnSpec, ImportOptions, options_problem
from importer.sniff import SNIFF_BYTES, SniffResult, sniff


def read_prefix(path: str) -> tuple[bytes, int]:
    """Return the file's first SNIFF_BYTES and its size; raises CliError when it cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read(SNIFF_BYTES), os.fstat(f.fileno()).st_size
    except IsADirectoryError:
        raise CliError(f"'{path}' is a directory, not a CSV file.") from None
    except OSError as exc:
        raise CliError(f"Cannot read '{path}': {exc.strerror or exc}.") from None


def sniff_file(path: str, args: argparse.Namespace) -> SniffResult:
    """The first look at the file with the reading settings the flags fix. Raises CliError with the
    importer's sentence for a file that cannot be read as CSV."""
    prefix, size = read_prefix(path)
    try:
        fixed = ImportOptions(encoding=args.encoding, delimiter=_unescape(args.delimiter),
                              quotechar=_unescape(args.quotechar), null_markers=list(args.null))
    except ValidationError as exc:
        raise CliError(options_problem(exc), USAGE) from None
    overrides = {k: v for k, v in fixed.model_dump().items()
                 if k in ("encoding", "delimiter", "quotechar") and v is not None}
    if args.no_header:
        overrides["has_header"] = False
    if args.null:
        overrides["null_markers"] = list(args.null)
    try:
        return sniff(prefix, file_name=os.path.basename(path), complete=len(prefix) >= size, overrides=overrides)
    except ImporterError as exc:
        raise CliError(str(exc)) from None
    except ValidationError as exc:
        raise CliError(options_problem(exc)) from None


def import_options(sniffed: SniffResult, args: argparse.Namespace) -> ImportOptions:
    """The job's options: the sniffed defaults, the table flags, and the column flags applied."""
    columns = list(sniffed.options.columns)
    for text in args.type:
        name, _, kind = text.partition("=")
        index = _column(columns, name, "--type")
        type_name, _, fmt = kind.partition(":")
        try:
            chosen = ColumnType(type_name.strip().lower())
        except ValueError:
            known = ", ".join(t.value for t in ColumnType)
            raise CliError(f"--type {text!r}: '{type_name}' is not a type (choose one of {known}).", USAGE) from None
        columns[index] = _spec(columns[index], type=chosen, date_format=fmt or _same_format(columns[index], chosen),
                               provisional=False, email=False)
    for flag, names in (("required", args.required), ("unique", args.unique)):
        for name in names:
            index = _column(columns, name, f"--{flag}")
            columns[index] = _spec(columns[index], **{flag: True})
    try:
        return ImportOptions.model_validate({
            **sniffed.options.model_dump(), "table": args.table, "if_exists": args.if_exists,
            "columns": [c.model_dump() for c in columns]})
    except ValidationError as exc:
        raise CliError(options_problem(exc), USAGE) from None


def _spec(spec: ColumnSpec, **update: object) -> ColumnSpec:
    try:
        return ColumnSpec.model_validate({**spec.model_dump(), **update})
    except ValidationError as exc:
        raise CliError(f"Column '{spec.name}': " + options_problem(exc), USAGE) from None


def _same_format(spec: ColumnSpec, chosen: ColumnType) -> str | None:
    """Keep the detected date format when the chosen type is the detected one."""
    return spec.date_format if spec.type is chosen else None


def _column(columns: list[ColumnSpec], name: str, flag: str) -> int:
    """The index of the column named `name` (as the table will name it, or its 1-based position)."""
    for index, spec in enumerate(columns):
        if spec.name == name:
            return index
    folded = [i for i, spec in enumerate(columns) if spec.name.lower() == name.lower()]
    if len(folded) == 1:
        return folded[0]
    if name.isdigit() and 1 <= int(name) <= len(columns):
        return int(name) - 1
    known = ", ".join(repr(c.name) for c in columns[:20]) + (" ..." if len(columns) > 20 else "")
    raise CliError(f"{flag}: the file has no column {name!r} (its columns: {known}).", USAGE)


def _unescape(value: str | None) -> str | None:
    """`\\t` on the command line means a tab."""
    return {"\\t": "\t", "tab": "\t"}.get(value, value) if value is not None else None
