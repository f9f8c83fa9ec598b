"""Argument parsing: the import command (`csv-import FILE --db ...`) and the run-management commands.

`parse(argv)` returns a namespace whose `command` is "import" or one of `MANAGE_COMMANDS`. A usage error
prints one line and exits with code 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from importer.cli.exits import USAGE
from importer.formats import ColumnType

PROG = "csv-import"
MANAGE_COMMANDS = ("runs", "show", "retry", "cancel", "delete", "errors", "export")


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message} (see '{self.prog} --help')", file=sys.stderr)
        sys.exit(USAGE)


def parse(argv: list[str]) -> argparse.Namespace:
    """Parse the command line; a first argument naming a management command selects it (a file named like
    one is given as ./runs)."""
    if argv and argv[0] in MANAGE_COMMANDS:
        args = _manage_parser().parse_args(argv)
    else:
        args = _import_parser().parse_args(argv)
        args.command = "import"
    return args


def _import_parser() -> argparse.ArgumentParser:
    types = "|".join(t.value for t in ColumnType)
    parser = _Parser(
        prog=PROG,
        description="Import a CSV file into a SQLite database with the durable import job: the same sniffing, "
        "whole-file types, validation and exactly-once batches as the page. Run the same command again to "
        f"resume an interrupted import. Other commands: {', '.join(MANAGE_COMMANDS)} (see '{PROG} runs --help').",
    )
    parser.add_argument("file", metavar="FILE", help="the CSV file to import")
    parser.add_argument("--db", required=True, metavar="PATH", help="the SQLite database (created if missing)")
    parser.add_argument("--table", metavar="NAME", help="target table (default: derived from the file name)")
    parser.add_argument("--delimiter", metavar="CHAR", help="field delimiter (default: detected); \\t for tab")
    parser.add_argument("--quotechar", metavar="CHAR", help="quote character (default: detected)")
    parser.add_argument("--encoding", metavar="NAME", help="text encoding (default: detected)")
    parser.add_argument("--no-header", action="store_true", help="the first row is data, not column names")
    parser.add_argument("--null", action="append", default=[], metavar="TOKEN",
                        help="a value read as NULL in every column (repeatable), e.g. --null NA")
    parser.add_argument("--type", action="append", default=[], metavar="COL=TYPE[:FORMAT]",
                        help=f"fix a column's type ({types}); dates take a format, e.g. when=date:DD/MM/YYYY")
    parser.add_argument("--required", action="append", default=[], metavar="COL", help="reject rows with no value")
    parser.add_argument("--unique", action="append", default=[], metavar="COL",
                        help="reject rows whose value the table already has")
    parser.add_argument("--if-exists", choices=("fail", "append", "replace"), default="fail",
                        help="when --table names an existing table (default: fail)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the detected settings with evidence and the column plan; write nothing")
    parser.add_argument("--strict", action="store_true", help="exit 1 when rows were rejected")
    parser.add_argument("--force", action="store_true",
                        help="import again even if this content was imported with these options before")
    _output_flags(parser)
    return parser


def _manage_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Manage the import runs of a database.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    runs = sub.add_parser("runs", help="list the runs, newest first")
    runs.add_argument("--status", choices=("pending", "running", "completed", "failed", "cancelled"))
    runs.add_argument("--limit", type=int, default=50)
    for name, what in (("show", "a run's input, result, steps and logs"),
                       ("retry", "continue a failed or cancelled run (or an interrupted one) from its checkpoints"),
                       ("cancel", "cancel a pending or interrupted run"),
                       ("delete", "delete a finished run with its rejects"),
                       ("errors", "write a run's rejected rows as CSV to stdout")):
        command = sub.add_parser(name, help=what)
        command.add_argument("run", metavar="RUN", help="the run id (a unique prefix is enough)")
        if name == "retry":
            command.add_argument("--file", metavar="PATH",
                                 help="the source file again (a run made in the page reads its staged copy there)")
            command.add_argument("--strict", action="store_true", help="exit 1 when rows were rejected")
    export = sub.add_parser("export", help="write a table as CSV to stdout (cells neutralised as the page does)")
    export.add_argument("table", metavar="TABLE")
    for command in sub.choices.values():
        command.add_argument("--db", required=True, metavar="PATH", help="the SQLite database")
        _output_flags(command)
    return parser


def _output_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress, only errors")
    parser.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")
