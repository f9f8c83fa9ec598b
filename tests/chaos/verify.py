"""The end checks of a chaos run, read through the real protocol: the stored table against `Expected`
(rows lost, rows duplicated, stray rows, the order-independent checksum of all columns), the run's rejects
against the invalid rows, and `PRAGMA integrity_check` (the test-only `diagnostics.read` probe)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Page

from tests.browser.support import call
from tests.chaos.data import CHECKSUM_MOD, HEADER, Expected, row_checksum

PAGE_ROWS = 10_000  # the most rows one sql.query returns
QUERY_SECONDS = 120


@dataclass(frozen=True)
class Verdict:
    """What the checks found. `lost`: valid rows missing from the table plus invalid rows missing from the
    rejects; `duplicated`: rows stored more than once plus rejects recorded more than once; `integrity`:
    failures of another kind (integrity_check not ok, stray rows or rejects, a checksum mismatch that no lost,
    doubled or stray row explains: a value changed)."""

    stored: int
    rejects: int
    lost: int
    duplicated: int
    integrity: int
    notes: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.integrity == 0


def pages(page: Page, sql: str, params: list[Any]) -> Iterator[list[list[Any]]]:
    """Every row of `sql` (whose first column is a key it filters with `> ?` and orders by), a page at a time."""
    after: Any = -(1 << 62)
    while True:
        result = call(page, "sql.query", sql=sql, params=[*params, after], limit=PAGE_ROWS, seconds=QUERY_SECONDS)
        if not result["rows"]:
            return
        yield result["rows"]
        after = result["rows"][-1][0]


def as_stored(row: list[Any]) -> list[Any]:
    """Undo JSON's one loss on the way here: a JS number has no int/float kind, so a REAL amount with no
    fraction (1234.0) arrives as the int 1234."""
    amount = row[3]
    if isinstance(amount, int) and not isinstance(amount, bool):
        return [*row[:3], float(amount)]
    return row


def verify_import(page: Page, run: dict[str, Any], expected: Expected) -> Verdict:
    """Compare what run `run` stored with `expected`; the page's worker must serve diagnostics."""
    table = run["output"]["table"].replace('"', '""')
    columns = ", ".join(f'"{name}"' for name in HEADER)
    seen = bytearray(expected.data_rows)  # times each id was stored (saturating at 255)
    stored = stray = 0
    checksum = 0
    for rows in pages(page, f'SELECT rowid, {columns} FROM "{table}" WHERE rowid > ? ORDER BY rowid', []):
        for _, *row in rows:
            row = as_stored(row)
            stored += 1
            checksum = (checksum + row_checksum(row)) % CHECKSUM_MOD
            key = row[0]
            if isinstance(key, int) and key in expected.ids:
                seen[key] = min(seen[key] + 1, 255)
            else:
                stray += 1
    lost_rows = sum(1 for i in expected.ids if seen[i] == 0)
    duplicated_rows = sum(count - 1 for count in seen if count > 1)

    numbers = [n for rows in pages(page, "SELECT row_number FROM importer_rejects WHERE run_id = ? AND row_number > ? "
                                         "ORDER BY row_number", [run["id"]]) for (n,) in rows]
    want = set(expected.invalid_rows)
    lost_rejects = len(want - set(numbers))
    duplicated_rejects = len(numbers) - len(set(numbers))
    stray_rejects = len(set(numbers) - want)
    integrity = call(page, "diagnostics.read")["integrity"]

    # a lost, doubled or stray row changes the checksum too: a mismatch counts alone when it is the only sign
    altered = checksum != expected.checksum and not (lost_rows or duplicated_rows or stray)
    notes = []
    if integrity != "ok":
        notes.append(f"PRAGMA integrity_check: {integrity}")
    if checksum != expected.checksum:
        notes.append(f"checksum {checksum:#x} != expected {expected.checksum:#x}")
    if stray or stray_rejects:
        notes.append(f"{stray} stored rows and {stray_rejects} rejects that are not in the file as such")
    return Verdict(stored=stored, rejects=len(numbers), lost=lost_rows + lost_rejects,
                   duplicated=duplicated_rows + duplicated_rejects,
                   integrity=int(integrity != "ok") + int(altered) + stray + stray_rejects,
                   notes=tuple(notes))
