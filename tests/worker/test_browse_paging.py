"""The data browser's pages (worker/browse.py) on a real SQLite file: every page is exactly the rows the plain
`ORDER BY ... LIMIT ... OFFSET` query gives (first, middle, last, past the end; with rowid gaps, a filter, a
sort with ties and NULLs in both directions), the remembered counts follow every change the jobs make, and a
page deep in a big table is found without walking the rows before it (counted in SQLite VM instructions, not
in seconds)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.sql import create_rejects_table, delete_range, mark_undone, record_inserted
from worker import browse
from worker.browse import ANCHOR_EVERY, View, forget, list_tables, rows

N = 4_321
GAPS = [(1_200, 1_450), (3_001, 3_001)]  # rowid ranges deleted, as an undo removes a run's rows


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(tmp_path / "browse.sqlite", isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    create_rejects_table(db)
    db.execute('CREATE TABLE "t" ("id" INTEGER, "name" TEXT, "score" REAL)')
    with db:
        db.executemany('INSERT INTO "t" VALUES (?, ?, ?)',
                       [(i, f"name {i % 97}", None if i % 13 == 0 else float(i % 7)) for i in range(N + 252)])
    for first, last in GAPS:
        delete_range(db, "t", "rowid", first, last)
    yield db
    forget(db)
    db.close()


def reference(conn: sqlite3.Connection, view: View) -> dict[str, Any]:
    """The page as the plain OFFSET query gives it (what browse.rows did before it stopped walking offsets)."""
    where, params = "", []
    if view.filter:
        where = " WHERE " + " OR ".join(f'CAST("{c}" AS TEXT) LIKE ?' for c in ("id", "name", "score"))
        params = [f"%{view.filter}%"] * 3
    order = "rowid" if view.order_by is None else f'"{view.order_by}" {"DESC" if view.descending else "ASC"}, rowid'
    page = conn.execute(f'SELECT * FROM "t"{where} ORDER BY {order} LIMIT ? OFFSET ?',
                        [*params, view.limit, view.offset]).fetchall()
    total = conn.execute(f'SELECT count(*) FROM "t"{where}', params).fetchone()[0]
    return {"columns": ["id", "name", "score"], "rows": [list(r) for r in page], "total": total}


def offsets(total: int) -> list[int]:
    """First, around each anchor boundary, middle, around the backwards threshold, last, past the end."""
    return sorted({0, 1, 49, ANCHOR_EVERY - 1, ANCHOR_EVERY, ANCHOR_EVERY + 1, 2 * ANCHOR_EVERY + 7, total // 2,
                   max(total - ANCHOR_EVERY - 60, 0), max(total - ANCHOR_EVERY, 0), max(total - 50, 0),
                   max(total - 1, 0), total, total + 10})


@pytest.mark.parametrize("limit", [1, 50, 1000])
def test_every_page_in_rowid_order_is_the_offset_querys_page(conn: sqlite3.Connection, limit: int) -> None:
    total = reference(conn, View("t"))["total"]
    assert total == N  # the gaps took 252 rows
    for offset in offsets(total):
        view = View("t", limit=limit, offset=offset)
        assert rows(conn, view) == reference(conn, view), offset


def test_a_table_without_gaps_pages_the_same(conn: sqlite3.Connection) -> None:
    conn.execute('CREATE TABLE "t2" AS SELECT * FROM "t"')  # fresh rowids 1..N: no gap
    for offset in offsets(N):
        got = rows(conn, View("t2", limit=50, offset=offset))
        want = conn.execute('SELECT * FROM "t2" ORDER BY rowid LIMIT 50 OFFSET ?', (offset,)).fetchall()
        assert got["rows"] == [list(r) for r in want] and got["total"] == N, offset


def test_a_table_named_like_the_anchor_walk_pages_the_same(conn: sqlite3.Connection) -> None:
    """The anchors are found by one recursive query (a CTE named `walk`): a user table of that name is still
    the one it reads."""
    conn.execute('CREATE TABLE "walk" AS SELECT rowid AS r, * FROM "t"')
    conn.execute('DELETE FROM "walk" WHERE rowid BETWEEN 2000 AND 2100')  # a gap: the anchors are needed
    total = conn.execute('SELECT count(*) FROM "walk"').fetchone()[0]
    for offset in offsets(total):
        got = rows(conn, View("walk", limit=50, offset=offset))
        want = conn.execute('SELECT * FROM "walk" ORDER BY rowid LIMIT 50 OFFSET ?', (offset,)).fetchall()
        assert got["rows"] == [list(r) for r in want] and got["total"] == total, offset


@pytest.mark.parametrize("text", ["1", "name 5", "zzz"])
@pytest.mark.parametrize("kept", [browse.MATCHES_KEPT, 10])
def test_every_filtered_page_is_the_offset_querys_page(conn: sqlite3.Connection, text: str, kept: int,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether the filter keeps every matching rowid or (past `kept` matches) an anchor every ANCHOR_EVERY."""
    monkeypatch.setattr(browse, "MATCHES_KEPT", kept)
    total = reference(conn, View("t", filter=text))["total"]
    for offset in offsets(total):
        view = View("t", limit=50, offset=offset, filter=text)
        assert rows(conn, view) == reference(conn, view), offset


@pytest.mark.parametrize("column", ["id", "name", "score"])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("text", [None, "3"])
def test_every_sorted_page_is_the_offset_querys_page(conn: sqlite3.Connection, column: str, descending: bool,
                                                     text: str | None) -> None:
    """Ties (name, score) stay in rowid order and NULLs (score) sort first ascending, last descending, read
    from either end."""
    total = reference(conn, View("t", filter=text))["total"]
    for offset in offsets(total):
        view = View("t", limit=50, offset=offset, order_by=column, descending=descending, filter=text)
        assert rows(conn, view) == reference(conn, view), offset


def test_the_counts_and_pages_follow_appends_undos_and_replacements(conn: sqlite3.Connection) -> None:
    middle, last = View("t", offset=2_500), View("t", offset=N - 50)
    filtered = View("t", offset=300, filter="name 1")
    for view in (middle, last, filtered):
        assert rows(conn, view) == reference(conn, view)
    assert list_tables(conn)[0]["rows"] == N

    conn.executemany('INSERT INTO "t" VALUES (?, ?, ?)', [(-i, "appended", 1.0) for i in range(1, 30)])  # a batch
    for view in (middle, last, filtered):
        assert rows(conn, view) == reference(conn, view)
    assert list_tables(conn)[0]["rows"] == N + 29

    delete_range(conn, "t", "rowid", 400, 2_000)  # an undo of a run in the middle: largest rowid unchanged
    mark_undone(conn, "run-1", "undo-1", 1_349, "2024-01-01T00:00:00.000+00:00")
    for view in (middle, last, filtered):
        assert rows(conn, view) == reference(conn, view)
    delete_range(conn, "t", "rowid", 2_600, 2_700)  # another: the undone table exists, the schema stays
    mark_undone(conn, "run-2", "undo-2", 101, "2024-01-02T00:00:00.000+00:00")
    for view in (middle, last, filtered):
        assert rows(conn, view) == reference(conn, view)

    conn.execute('DROP TABLE "t"')  # a replace: the new table under the same name
    conn.execute('CREATE TABLE "t" ("id" INTEGER, "name" TEXT, "score" REAL)')
    with conn:
        conn.executemany('INSERT INTO "t" VALUES (?, ?, ?)', [(i, f"name {i}", 0.5) for i in range(3_000)])
    for view in (middle, last, filtered):
        assert rows(conn, view) == reference(conn, view)
    assert list_tables(conn)[0]["rows"] == 3_000


def test_the_default_order_is_the_import_order_even_with_a_column_named_rowid(conn: sqlite3.Connection) -> None:
    conn.execute('CREATE TABLE "r" ("rowid" INTEGER, "v" TEXT)')
    with conn:
        conn.executemany('INSERT INTO "r" VALUES (?, ?)', [(100 - i, f"v{i}") for i in range(100)])
    page = rows(conn, View("r", limit=10, offset=95))
    assert [r[1] for r in page["rows"]] == [f"v{i}" for i in range(95, 100)] and page["total"] == 100


def record_runs(conn: sqlite3.Connection, table: str, ranges: list[tuple[int, int]], undone: bool = True) -> None:
    """What imports leave in the importer's ledger: each range as the batch of a run of its own, undone (its
    rows then removed by the caller) or not."""
    for i, (first, last) in enumerate(ranges):
        run = f"run-{i}-{undone}"
        record_inserted(conn, run, table, first, last, "import")
        if undone:
            mark_undone(conn, run, f"undo-{run}", last - first + 1, "2024-01-01T00:00:00.000+00:00")


KEPT = [(1, 600), (601, 1_199), (1_451, 3_000), (3_002, N + 252)]
"""The runs around GAPS, the first in two batches."""


@pytest.mark.parametrize(("undone", "kept"), [
    ([(1_200, 1_450), (3_001, 3_001)], []),  # the undone runs' ranges, as the undo removed them
    ([(1_200, 1_300), (1_250, 1_450), (3_001, 3_001), (N + 500, N + 900)], []),  # overlapping; one past the end
    ([(1_200, 1_300), (1_301, 1_450), (3_001, 3_001)], []),  # touching
    ([(1_300, 1_550), (3_001, 3_001)], []),  # as wide as the gaps, but rows are there: not trusted
    ([(1_150, 1_450), (3_001, 3_001)], []),  # wider than a gap
    ([(1_200, 1_450)], []),  # one gap not recorded: counts do not match
    ([], KEPT),  # the undone runs deleted: the gaps are what the other runs' ranges leave
    ([], [KEPT[0], KEPT[1], KEPT[3]]),  # and a run deleted too: its rows are in no range, not trusted
    ([(1_300, 1_550)], KEPT),  # a wrong undone range, then the other runs' ranges
])
def test_pages_are_exact_whatever_the_ledger_says(conn: sqlite3.Connection, undone: list[tuple[int, int]],
                                                  kept: list[tuple[int, int]]) -> None:
    """The gaps the ledger tells of let a page start at its rowid without anchors, but only once proven (each
    is empty and they account for every missing rowid); a ledger that is wrong or incomplete changes nothing."""
    record_runs(conn, "t", undone)
    record_runs(conn, "t", kept, undone=False)
    for offset in sorted({*offsets(N), 1_150, 1_199, 1_200, 1_250, 1_299, 1_300, 1_349, 2_700, 2_749, 2_750}):
        view = View("t", limit=50, offset=offset)
        assert rows(conn, view) == reference(conn, view), offset


ranges = st.lists(st.tuples(st.integers(1, 400), st.integers(0, 30)), max_size=6)


@settings(max_examples=100, deadline=None)
@given(removed=ranges, shift=st.integers(-20, 20), kept=st.booleans(), offset=st.integers(0, 420),
       limit=st.integers(1, 60))
def test_any_gaps_and_any_ledger_give_the_offset_querys_page(removed: list[tuple[int, int]], shift: int, kept: bool,
                                                             offset: int, limit: int) -> None:
    """Rows removed anywhere (the ends included), and the ledger telling of those ranges or of the same ranges
    shifted by `shift` rowids (as many rowids, elsewhere), as undone runs or as the runs kept around them: the
    same page as the OFFSET query."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    create_rejects_table(db)
    db.execute('CREATE TABLE "p" ("v" INTEGER)')
    db.executemany('INSERT INTO "p" VALUES (?)', [(i,) for i in range(1, 401)])
    for first, width in removed:
        delete_range(db, "p", "rowid", first, first + width)
    told = sorted((first + shift, first + shift + width) for first, width in removed)
    if kept:
        around, after = [], 1
        for first, last in told:
            around.append((after, first - 1))
            after = max(after, last + 1)
        record_runs(db, "p", [(a, b) for a, b in [*around, (after, 400)] if a <= b], undone=False)
    else:
        record_runs(db, "p", told)
    got = rows(db, View("p", limit=limit, offset=offset))
    want = db.execute('SELECT * FROM "p" ORDER BY rowid LIMIT ? OFFSET ?', (limit, offset)).fetchall()
    assert got["rows"] == [list(r) for r in want]
    forget(db)
    db.close()


STEP = 100
BOUND = 100
"""Hundreds of VM instructions a page may take beyond the first page's: skipping up to ANCHOR_EVERY rows
after an anchor costs about 2,000 instructions."""


def vm_steps(conn: sqlite3.Connection, fn: Any) -> int:
    """SQLite VM instructions `fn` makes `conn` run, in hundreds: work done, whatever the machine's speed."""
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0

    conn.set_progress_handler(tick, STEP)
    try:
        fn()
    finally:
        conn.set_progress_handler(None, 0)
    return steps[0]


@pytest.mark.parametrize("gap", [False, True])
def test_a_deep_page_does_not_walk_the_rows_before_it(tmp_path: Path, gap: bool) -> None:
    """Once the view is counted (and, with a rowid gap, its anchors taken: one pass), its middle and last pages
    cost about what its first page costs, not the hundreds of thousands of rows an OFFSET walks."""
    db = sqlite3.connect(tmp_path / "big.sqlite", isolation_level=None)
    db.execute('CREATE TABLE "big" ("id" INTEGER, "v" TEXT)')
    db.execute("""WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 300000)
                  INSERT INTO "big" SELECT x, 'value ' || x FROM n""")
    if gap:
        delete_range(db, "big", "rowid", 100_000, 100_999)
    total = rows(db, View("big"))["total"]
    rows(db, View("big", offset=total // 3))  # counted, and (with the gap) its anchors taken, once
    first = vm_steps(db, lambda: rows(db, View("big", offset=0)))
    for offset in (total // 2, total - 50, 123_456):
        assert vm_steps(db, lambda o=offset: rows(db, View("big", offset=o))) < first + BOUND, offset
    walked = vm_steps(db, lambda: db.execute('SELECT * FROM "big" LIMIT 50 OFFSET ?', (total // 2,)).fetchall())
    assert walked > 10 * (first + BOUND)  # what the old OFFSET page cost: the bound above means something
    forget(db)
    db.close()


@pytest.mark.parametrize("ledger", ["undone", "kept", "none"])
def test_the_first_request_for_a_page_past_an_undone_runs_gap_walks_nothing(tmp_path: Path, ledger: str) -> None:
    """With the gap an undone run left in the importer's ledger (its range, or the other runs' around it), the
    very first request for a middle page, counting included, costs about what the first page costs; a gap the
    ledger does not tell of is walked once for its anchors (what the bound is measured against)."""
    db = sqlite3.connect(tmp_path / "big.sqlite", isolation_level=None)
    create_rejects_table(db)
    db.execute('CREATE TABLE "big" ("id" INTEGER, "v" TEXT)')
    db.execute("""WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 300000)
                  INSERT INTO "big" SELECT x, 'value ' || x FROM n""")
    delete_range(db, "big", "rowid", 100_000, 100_999)
    if ledger == "undone":
        record_runs(db, "big", [(100_000, 100_999)])
    if ledger == "kept":
        record_runs(db, "big", [(1, 99_999), (101_000, 300_000)], undone=False)
    first = vm_steps(db, lambda: rows(db, View("big", offset=0)))
    forget(db)
    middle = vm_steps(db, lambda: rows(db, View("big", offset=150_000)))
    assert rows(db, View("big", offset=150_000))["rows"][0] == [151_001, "value 151001"]
    if ledger == "none":
        assert middle > 10 * (first + BOUND)
    else:
        assert middle < first + BOUND
    forget(db)
    db.close()


@pytest.mark.parametrize(("every", "word", "matches"), [(2, "odd", 150_000), (5_000, "rare", 60)])
def test_a_filtered_deep_page_does_not_walk_the_rows_before_it(tmp_path: Path, every: int, word: str,
                                                               matches: int) -> None:
    """Many matches (past MATCHES_KEPT: from an anchor) or few (their rowids kept): once the filter's one pass
    counted them, a page deep in them costs about what the first page costs."""
    db = sqlite3.connect(tmp_path / "big.sqlite", isolation_level=None)
    db.execute('CREATE TABLE "big" ("id" INTEGER, "v" TEXT)')
    db.execute("""WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 300000)
                  INSERT INTO "big" SELECT x, CASE WHEN x % ? = 0 THEN ? ELSE 'other' END FROM n""", (every, word))
    total = rows(db, View("big", filter=word))["total"]  # one pass: the count and the anchors
    assert total == matches
    first = vm_steps(db, lambda: rows(db, View("big", limit=10, filter=word)))
    middle = vm_steps(db, lambda: rows(db, View("big", limit=10, offset=total // 2, filter=word)))
    walked = vm_steps(db, lambda: db.execute("SELECT * FROM big WHERE v LIKE ? LIMIT 10 OFFSET ?",
                                             (f"%{word}%", total // 2)).fetchall())
    assert first < 2 * BOUND and middle < 2 * BOUND < walked / 10
    forget(db)
    db.close()


def test_a_table_hiding_its_rowid_pages_as_the_offset_query_does(conn: sqlite3.Connection) -> None:
    """Columns named rowid, _rowid_ and oid hide the rowid: pages are those of the plain query on the column
    named rowid (ties included), read forwards only, counted on every request."""
    conn.execute('CREATE TABLE "h" ("rowid" INTEGER, "_rowid_" TEXT, "oid" TEXT)')
    with conn:
        conn.executemany('INSERT INTO "h" VALUES (?, ?, ?)', [(i % 50, f"a{i}", f"b{i}") for i in range(3_000)])
    for offset in offsets(3_000):
        for order_by in (None, "oid"):
            got = rows(conn, View("h", limit=50, offset=offset, order_by=order_by))
            order = '"rowid"' if order_by is None else '"oid" ASC, "rowid"'
            want = conn.execute(f'SELECT * FROM "h" ORDER BY {order} LIMIT 50 OFFSET ?', (offset,)).fetchall()
            assert got["rows"] == [list(r) for r in want] and got["total"] == 3_000, (offset, order_by)
    conn.execute('INSERT INTO "h" VALUES (1, "x", "y")')
    assert rows(conn, View("h"))["total"] == 3_001
