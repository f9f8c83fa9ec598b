"""`./run chaos`: the chaos suite's long form (issue 9), one summary table at the end (docs/chaos.md).

    python -m tests.chaos [--seed N] [--rows N] [--interruptions N] [--faults N] [--fuzz-examples N]
                          [--short] [--parts interruptions,faults,fuzz,runaway]

Parts: browser interruptions of a 4M-row import (interrupts.py), storage faults at seeded calls
(faults.py), the garbage-in fuzz cases and the runaway-work tests (suites.py). The seed is printed first;
`--seed` replays the same files, moments, kinds and faults. Exit status 1 when any loss or integrity column is
not 0, a case failed, or fewer interruptions than asked landed mid-import.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import sync_playwright
from tools.serve import make_server
from tools.vendor import bundle_engine, write_precache

from tests.browser.support import ARGS, CHROMIUM
from tests.browser.test_import_reloads import hold_points
from tests.chaos import faults, interrupts, suites
from tests.chaos.data import expected_from_csv, write_chaos_csv
from tests.chaos.session import AppSession
from tests.chaos.summary import Row, render

PARTS = ("interruptions", "faults", "fuzz", "runaway")
LONG = {"rows": 4_000_000, "interruptions": 21, "faults": 6, "fuzz_examples": 1000, "batch_rows": 2_000}
SHORT = {"rows": 300_000, "interruptions": 3, "faults": 2, "fuzz_examples": 250, "batch_rows": 10_000}
FAULT_ROWS = 200_000  # the spans of faults.SPANS are calls of an import this size


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="./run chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, help="replay this seed (default: a new random one, printed)")
    parser.add_argument("--short", action="store_true", help="a quick pass: 200,000 rows, 3 interruptions, ...")
    parser.add_argument("--rows", type=int, help="data rows of the interrupted import (long form: 4,000,000)")
    parser.add_argument("--interruptions", type=int, help="how many must land mid-import (long form: 21)")
    parser.add_argument("--faults", type=int, help="storage fault cases (long form: 6)")
    parser.add_argument("--fuzz-examples", type=int, help="garbage-in examples (long form: 1000)")
    parser.add_argument("--batch-rows", type=int,
                        help="rows per committed batch at most (test hook; long form: 2,000)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    args = parser.parse_args(argv)
    for key, value in (SHORT if args.short else LONG).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.parts = [p for p in args.parts.split(",") if p]
    if unknown := set(args.parts) - set(PARTS):
        parser.error(f"unknown parts {sorted(unknown)}: choose from {', '.join(PARTS)}")
    if args.seed is None:
        args.seed = random.randrange(1 << 31)
    return args


@contextmanager
def app_server() -> Iterator[str]:
    """Serve the current tree's app (bundle rebuilt from py/, as the browser tests do); yields its URL."""
    bundle_engine()
    write_precache()
    server = make_server(0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def interruptions_part(pw: object, base_url: str, workdir: Path, args: argparse.Namespace) -> Row:
    source = workdir / "chaos.csv"
    write_chaos_csv(source, args.rows, args.seed)
    expected = expected_from_csv(source)
    log(f"chaos file: {args.rows:,} rows, {len(expected.invalid_rows):,} invalid, {source.stat().st_size:,} bytes")
    rng = random.Random(f"{args.seed}-interruptions")
    hooks: dict[str, object] = {"diagnostics": True}
    if args.batch_rows:
        hooks["max_batch_rows"] = args.batch_rows
    if args.short:  # few, small batches race past random moments: hold points make each one land mid-import
        targets = hold_points(rng, args.rows, args.interruptions, args.batch_rows)
        plan = list(zip(interrupts.draw_kinds(rng, len(targets)), targets, strict=True))
        hooks["hold_at_rows"] = targets
    else:
        planned = args.interruptions + args.interruptions // 4 + 1  # spares for any that miss (the run had ended)
        plan = list(zip(interrupts.draw_kinds(rng, planned),
                        interrupts.draw_targets(rng, args.rows, planned), strict=True))
    session = AppSession(pw, workdir / "profile", base_url, hooks)  # type: ignore[arg-type]
    try:
        outcome = interrupts.chaos_import(session, source, expected, plan, enough=args.interruptions, log=log)
    except BaseException:
        print("\n".join(session.console[-80:]), file=sys.stderr)
        raise
    finally:
        session.close()
    return interrupts_row(outcome, args.interruptions)


def interrupts_row(outcome: interrupts.Outcome, required: int) -> Row:
    landed = sum(outcome.landed.values())
    by_kind = ", ".join(f"{k} {outcome.landed[k]}" for k in ("reload", "tab", "kill"))
    failed, notes = 0, []
    if landed < required:
        failed += 1
        notes.append(f"only {landed} of {required} interruptions landed mid-import")
    verdict = outcome.verdict
    if verdict is None:
        failed += 1
        notes.append(f"the run ended {outcome.status}: {outcome.error}")
    else:
        notes += verdict.notes
    return Row("browser interruptions", f"{landed} landed mid-import ({by_kind}); {outcome.missed} after the end",
               verdict.lost if verdict else None, verdict.duplicated if verdict else None,
               verdict.integrity if verdict else None, failed, notes)


def faults_part(pw: object, base_url: str, workdir: Path, args: argparse.Namespace) -> Row:
    source = workdir / "faults.csv"
    write_chaos_csv(source, FAULT_ROWS, args.seed)
    expected = expected_from_csv(source)
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)  # type: ignore[attr-defined]
    try:
        tally = faults.storage_faults(browser, base_url, source, expected, args.seed, args.faults, log=log)
    finally:
        browser.close()
    return Row("storage faults", f"{tally.injected} injected ({tally.mid_import} mid-import), "
                                 f"{tally.never_fired} never fired, of {tally.cases} cases",
               tally.lost, tally.duplicated, tally.integrity, tally.unclear, tally.notes)


def suite_row(part: str, result: suites.SuiteResult, what: str) -> Row:
    return Row(part, what, None, None, None, result.failed, result.failures)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    form = "short" if args.short else "long"
    print(f"chaos seed: {args.seed} ({form} form; replay with ./run chaos --seed {args.seed}"
          f"{' --short' if args.short else ''})", flush=True)
    rows: list[Row] = []
    workdir = Path(tempfile.mkdtemp(prefix="chaos-"))
    try:
        if {"interruptions", "faults"} & set(args.parts):
            with app_server() as base_url, sync_playwright() as pw:
                if "interruptions" in args.parts:
                    rows.append(interruptions_part(pw, base_url, workdir, args))
                if "faults" in args.parts:
                    rows.append(faults_part(pw, base_url, workdir, args))
        if "fuzz" in args.parts:
            log(f"fuzz: {args.fuzz_examples} garbage-in examples and the durable state machine")
            result = suites.fuzz(args.fuzz_examples)
            rows.append(suite_row("fuzz cases", result, f"{result.passed} cases passed (examples and focused tests)"))
        if "runaway" in args.parts:
            log("runaway: the pathological-pattern, batch-budget and runaway tests")
            result = suites.runaway()
            rows.append(suite_row("hangs stopped", result, f"{result.stopped} pathological cases refused or stopped "
                                                           f"({result.passed} runaway test cases passed)"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(render(rows, args.seed), flush=True)
    return 0 if all(row.clean for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
