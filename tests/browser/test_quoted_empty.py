"""Empty versus quoted empty, where it matters: the browser's Python (>= 3.12) reads them apart.

docs/importer.md: an empty unquoted field is NULL, a quoted "" is empty text; in non-text columns both are
NULL. CPython 3.11 (the CPython tests) cannot tell them apart (no csv.QUOTE_NOTNULL), so the branch the
app runs in production is checked here, through the page with default settings.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.browser.support import call
from tests.ui.pages import open_app, start_import, wait_for_run

# label is a text column (empty, "", x, ""), count an integer one (empty and "" among numbers)
CSV = 'id,label,count\n1,,5\n2,"",""\n3,x,\n4,"",7\n5,"x y",""\n'


def test_an_empty_field_is_null_and_a_quoted_empty_one_is_empty_text_in_text_columns_only(
        page: Page, base_url: str, tmp_path: Path) -> None:
    path = tmp_path / "blanks.csv"
    path.write_bytes(CSV.encode())
    open_app(page, base_url)
    version = call(page, "engine.info")["python"]
    assert tuple(int(p) for p in version.split(".")[:2]) >= (3, 12), version  # the QUOTE_NOTNULL branch
    start_import(page, path)
    assert wait_for_run(page, "completed", "failed") == "completed"
    (run,) = call(page, "runs.list", limit=5)["runs"]
    assert run["output"]["rows_accepted"] == 5 and run["output"]["rows_rejected"] == 0
    table = run["output"]["table"]
    rows = call(page, "sql.query", sql=f'SELECT id, label, typeof(label), count, typeof(count) FROM "{table}" '
                "ORDER BY rowid")["rows"]
    assert rows == [
        [1, None, "null", 5, "integer"],
        [2, "", "text", None, "null"],
        [3, "x", "text", None, "null"],
        [4, "", "text", 7, "integer"],
        [5, "x y", "text", None, "null"],
    ]
