"""The Data screen's query box and column profile on CPython: `sql.query` pages, `export.query` writes every
row of a read-only query as CSV, `tables.profile` gives figures equal to ones computed here from the rows."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date

from tests.worker.fakes import Client, MemoryByteSource

ROWS = [(i, f"name {i % 7}", None if i % 5 == 0 else round(i * 1.5, 1), f"2024-01-{1 + i % 28:02d}")
        for i in range(1, 201)]
CSV = ("id,name,amount,day\n" + "".join(
    f"{i},{name},{'' if amount is None else amount},{day}\n" for i, name, amount, day in ROWS)).encode()


async def imported(client: Client) -> str:
    preview = await client.ok("file.preview", MemoryByteSource("sales.csv", CSV))
    started = await client.ok("import.start", source_id=preview["source_id"], options=preview["sniff"]["options"])
    run = await client.wait_for_status(started["run_id"], "completed", "failed")
    assert run["status"] == "completed", run
    return str(run["output"]["table"])


async def test_a_query_is_paged_with_offset_and_says_when_more_follow(client: Client) -> None:
    table = await imported(client)
    sql = f'SELECT id FROM "{table}" WHERE id > ? ORDER BY id'
    first = await client.ok("sql.query", sql=sql, params=[150], limit=20)
    last = await client.ok("sql.query", sql=sql, params=[150], limit=20, offset=40)
    assert [r[0] for r in first["rows"]] == list(range(151, 171)) and first["truncated"] is True
    assert [r[0] for r in last["rows"]] == list(range(191, 201)) and last["truncated"] is False
    assert "message" not in last


async def test_a_query_result_exports_as_csv_and_writes_stay_refused(client: Client) -> None:
    table = await imported(client)
    await client.ok("export.query", sql=f'SELECT id, name FROM "{table}" WHERE id <= ? ORDER BY id', params=[3])
    posted = client.platform.replies()[-1]
    assert posted["result"]["name"] == "query.csv"
    rows = list(csv.reader(io.StringIO(posted["blob"].decode("utf-8"))))
    assert rows == [["id", "name"], ["1", "name 1"], ["2", "name 2"], ["3", "name 3"]]
    refused = await client.call("export.query", sql=f'DELETE FROM "{table}"')
    assert refused["error"]["code"] == "invalid" and refused["error"]["message"].startswith("The query failed")
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n"
    stopped = await client.call("export.query", sql=endless, seconds=1)
    assert stopped["error"]["message"].startswith("The query ran for more than 1 s and was stopped.")
    assert (await client.ok("sql.query", sql=f'SELECT count(*) FROM "{table}"'))["rows"] == [[200]]


async def test_the_profile_matches_figures_computed_from_the_rows(client: Client) -> None:
    table = await imported(client)
    result = await client.ok("tables.profile", table=table)
    assert result["table"] == table and result["rows"] == len(ROWS)
    by_name = {c["name"]: c for c in result["columns"]}
    assert [c["name"] for c in result["columns"]] == ["id", "name", "amount", "day"]

    amounts = [a for _, _, a, _ in ROWS if a is not None]
    amount = by_name["amount"]
    assert amount["type"] == "REAL"
    assert (amount["nulls"], amount["distinct"]) == (len(ROWS) - len(amounts), len(set(amounts)))
    assert (amount["min"], amount["max"]) == (min(amounts), max(amounts))
    bins = amount["histogram"]["bins"]
    assert amount["histogram"]["kind"] == "number" and len(bins) == 10
    width = (max(amounts) - min(amounts)) / 10
    expected = Counter(min(int((a - min(amounts)) / width), 9) for a in amounts)
    assert [b["count"] for b in bins] == [expected.get(i, 0) for i in range(10)]
    assert bins[0]["low"] == min(amounts) and bins[-1]["high"] == max(amounts)

    names = Counter(n for _, n, _, _ in ROWS)
    name = by_name["name"]
    assert name["type"] == "TEXT" and name["histogram"] is None and name["nulls"] == 0
    assert name["top"] == [[v, n] for v, n in sorted(names.items(), key=lambda kv: (-kv[1], kv[0]))[:5]]

    days = [date.fromisoformat(d) for _, _, _, d in ROWS]
    day = by_name["day"]
    assert day["histogram"]["kind"] == "date"
    assert sum(b["count"] for b in day["histogram"]["bins"]) == len(days)
    assert day["histogram"]["bins"][0]["low"] == min(days).isoformat()
    assert day["histogram"]["bins"][-1]["high"] == max(days).isoformat()
    assert (day["min"], day["max"]) == (min(days).isoformat(), max(days).isoformat())


async def test_profile_of_a_missing_table_is_not_found(client: Client) -> None:
    reply = await client.call("tables.profile", table='no"such')
    assert reply["error"]["code"] == "not-found"
    assert reply["error"]["message"] == "There is no table 'no\"such'."
