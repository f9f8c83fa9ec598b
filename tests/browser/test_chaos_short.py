"""The short form of `./run chaos` (issue 9, item 1): a 150,000-row chaos file (about 1% invalid rows) imported
through the page and interrupted once each way a user can (page reload, tab closed and the app opened again,
SIGKILL of the whole browser and relaunch on the same profile). Every interruption lands mid-import by
construction: the worker's test hooks hold the run right after the batch that crossed each hold point, and the
driver interrupts once the committed rows reached it. After each, the run resumes by itself; at the end the
table equals the file's valid rows (count and checksum of all columns), the rejects are its invalid rows once
each, and PRAGMA integrity_check is ok. tests/chaos/ holds the driver; docs/chaos.md explains it.
"""

from __future__ import annotations

import random
from pathlib import Path

from playwright.sync_api import Playwright

from tests.browser.test_import_reloads import hold_points
from tests.chaos.data import expected_from_csv, write_chaos_csv
from tests.chaos.interrupts import chaos_import
from tests.chaos.session import KINDS, AppSession

SEED = 9  # fixed: the same file, hold points and order every run
ROWS = 150_000
BATCH_ROWS = 10_000


def test_each_kind_of_interruption_mid_import_resumes_and_loses_nothing(
        pw: Playwright, base_url: str, tmp_path: Path) -> None:
    source = tmp_path / "chaos.csv"
    write_chaos_csv(source, ROWS, SEED)
    expected = expected_from_csv(source)
    assert 0.008 * ROWS < len(expected.invalid_rows) < 0.012 * ROWS
    points = hold_points(random.Random(SEED), ROWS, len(KINDS), BATCH_ROWS)
    session = AppSession(pw, tmp_path / "profile", base_url,
                         {"max_batch_rows": BATCH_ROWS, "hold_at_rows": points, "diagnostics": True})
    try:
        outcome = chaos_import(session, source, expected, list(zip(KINDS, points, strict=True)))
    except BaseException:
        print("\n".join(session.console[-80:]))
        raise
    finally:
        session.close()
    print(f"hold points {points}; interrupted at (kind, point, rows done): {outcome.moments}")
    assert outcome.landed == dict.fromkeys(KINDS, 1) and outcome.missed == 0, outcome
    assert outcome.banners >= 2, outcome  # the reload's and the tab's: the run then waits at the next hold point
    for _, point, done in outcome.moments:  # held right after the batch that crossed the point
        assert point <= done < point + BATCH_ROWS, outcome.moments
    assert outcome.status == "completed", outcome.error
    verdict = outcome.verdict
    assert verdict is not None
    assert (verdict.stored, verdict.rejects) == (len(expected.ids), len(expected.invalid_rows)), verdict
    assert verdict.clean, verdict
