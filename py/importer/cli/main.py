"""The `csv-import` entry point: parse, dispatch, and turn every failure into one line and an exit code."""

from __future__ import annotations

import asyncio
import sys

from importer.cli import args as arguments
from importer.cli.exits import FAILED, INTERRUPTED, CliError
from importer.cli.importing import import_command
from importer.cli.manage import manage_command
from importer.cli.report import interrupted_message, safe
from importer.cli.runner import Interrupted


def main(argv: list[str] | None = None) -> int:
    """Run the command line `argv` (default: sys.argv[1:]); return the exit code (docs/cli.md)."""
    args = arguments.parse(sys.argv[1:] if argv is None else argv)
    command = import_command if args.command == "import" else manage_command
    try:
        return asyncio.run(command(args))
    except CliError as exc:
        print(f"csv-import: {safe(exc.message)}", file=sys.stderr)
        return exc.code
    except Interrupted as exc:
        print(f"csv-import: {interrupted_message(exc.run, exc.rows)}", file=sys.stderr)
        return INTERRUPTED
    except KeyboardInterrupt:
        print("csv-import: interrupted; nothing was lost (run the same command again to resume).", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        return FAILED  # stdout closed early (| head): nothing more to say
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"csv-import: unexpected error ({type(exc).__name__}: {safe(exc)}); please report it.",
              file=sys.stderr)
        return FAILED
