"""Logs, tables, the table view and storage handles."""

from __future__ import annotations

from tests.ui.fakes import FakeWorker
from ui.client.logs import LogsHandle
from ui.client.tables import SAVED_RUNS_KEY, ColumnProfile, QueryResult, StorageHandle, TablesList, TableView


def test_logs_load_the_newest_max_logs_lines(ready: FakeWorker) -> None:
    logs = LogsHandle(ready.client, "r1", max_logs=2)
    ready.reply("runs.logs", {"logs": [{"message": "a"}, {"message": "b"}], "total": 5})
    assert ready.last("runs.logs")["params"] == {"run_id": "r1", "limit": 2, "offset": 3}
    ready.reply("runs.logs", {"logs": [{"message": "d"}, {"message": "e"}], "total": 5})
    assert [line["message"] for line in logs.logs] == ["d", "e"]


def test_live_log_lines_are_appended_filtered_by_level_and_capped(ready: FakeWorker) -> None:
    logs = LogsHandle(ready.client, "r1", max_logs=2, level="warning")
    ready.reply("runs.logs", {"logs": [], "total": 0})
    for level, text in (("info", "i"), ("warning", "w1"), ("error", "e"), ("warning", "w2")):
        ready.event("log:write", run_id="r1", job="import", level=level, message=text)
    ready.event("log:write", run_id="other", job="import", level="error", message="x")
    assert [line["message"] for line in logs.logs] == ["e", "w2"]


def test_changing_the_level_reloads_with_it(ready: FakeWorker) -> None:
    logs = LogsHandle(ready.client, "r1")
    ready.reply("runs.logs", {"logs": [{"level": "info", "message": "i"}], "total": 1})
    logs.set_level("error")
    assert logs.logs == [] and ready.last("runs.logs")["params"]["level"] == "error"


def test_tables_reload_when_an_import_completes(ready: FakeWorker) -> None:
    tables = TablesList(ready.client)
    ready.reply("tables.list", [])
    ready.event("run:complete", run_id="r1", job="import", output={})
    ready.reply("tables.list", [{"name": "people", "rows": 3, "run_id": "r1", "columns": ["id"]}])
    assert tables.tables[0]["rows"] == 3


def test_a_table_view_pages_sorts_and_filters(ready: FakeWorker) -> None:
    view = TableView(ready.client, "people", page_size=2)
    view.refresh()
    ready.reply("tables.rows", {"columns": ["id", "name"], "rows": [[1, "a"], [2, "b"]], "total": 3})
    assert view.has_more and view.page_count == 2
    view.sort_by("name")
    params = ready.reply("tables.rows", {"columns": ["id", "name"], "rows": [[1, "a"]], "total": 3})["params"]
    assert params == {"table": "people", "limit": 2, "offset": 0, "descending": False, "order_by": "name"}
    view.sort_by("name")
    assert ready.reply("tables.rows", {"columns": [], "rows": [], "total": 3})["params"]["descending"] is True
    view.next_page()
    assert ready.reply("tables.rows", {"columns": [], "rows": [], "total": 3})["params"]["offset"] == 2
    view.set_filter("bob")
    params = ready.reply("tables.rows", {"columns": [], "rows": [], "total": 1})["params"]
    assert params["filter"] == "bob" and params["offset"] == 0


def test_storage_loads_its_estimate_and_reloads_after_clearing(ready: FakeWorker) -> None:
    storage = StorageHandle(ready.client)
    ready.reply("storage.estimate", {"usage": 10, "quota": 100, "persisted": False})
    assert (storage.usage, storage.quota, storage.persisted) == (10, 100, False)
    storage.clear()
    ready.reply("storage.clear", {})
    ready.reply("storage.estimate", {"usage": 0, "quota": 100, "persisted": False})
    assert storage.usage == 0


def test_a_query_pages_on_while_the_worker_says_more_rows_follow(ready: FakeWorker) -> None:
    result = QueryResult(ready.client, page_size=2)
    result.run("SELECT id FROM people")
    assert ready.reply("sql.query", {"columns": ["id"], "rows": [[1], [2]], "truncated": True})["params"] == {
        "sql": "SELECT id FROM people", "seconds": 10, "limit": 2, "offset": 0}
    assert result.ran and result.has_more and result.page_count == 2
    result.next_page()
    assert ready.reply("sql.query", {"columns": ["id"], "rows": [[3]], "truncated": False})["params"]["offset"] == 2
    assert result.rows == [[3]] and not result.has_more and result.page == 1
    result.run("DELETE FROM people")
    ready.fail("sql.query", "invalid", "The query failed: not authorized")
    assert result.error.message == "The query failed: not authorized" and result.rows == [] and result.page == 0
    assert not result.ran and not result.has_more


def test_a_profile_ignores_an_answer_for_a_table_no_longer_shown(ready: FakeWorker) -> None:
    profile = ColumnProfile(ready.client)
    profile.load("a")
    profile.load("b")
    ready.reply("tables.profile", {"table": "a", "rows": 1, "columns": [{"name": "x"}]})
    assert profile.loading and profile.columns == []
    ready.reply("tables.profile", {"table": "b", "rows": 2, "columns": [{"name": "y"}]})
    assert not profile.loading and profile.rows == 2 and profile.columns == [{"name": "y"}]
class Memory:
    """The page's localStorage, as a dict."""

    def __init__(self, **items: str) -> None:
        self.items = dict(items)

    def get(self, key: str) -> str | None:
        return self.items.get(key)

    def set(self, key: str, value: str) -> None:
        self.items[key] = value


def test_a_new_database_where_runs_were_saved_is_reported_lost(worker: FakeWorker) -> None:
    memory = Memory(**{SAVED_RUNS_KEY: "4"})
    storage = StorageHandle(worker.client, memory)
    worker.event("engine:status", state="ready", message="ready", database_created=True, runs=0)
    assert storage.lost == 4 and memory.items[SAVED_RUNS_KEY] == "0"
    storage.dismiss_lost()
    assert storage.lost is None


def test_an_existing_or_never_used_database_is_not_reported(worker: FakeWorker) -> None:
    remembered = StorageHandle(worker.client, Memory(**{SAVED_RUNS_KEY: "4"}))
    first_visit = StorageHandle(worker.client, Memory())
    worker.event("engine:status", state="ready", message="ready", database_created=False, runs=4)
    assert remembered.lost is None
    other = FakeWorker()
    fresh = StorageHandle(other.client, Memory())
    other.event("engine:status", state="ready", message="ready", database_created=True, runs=0)
    assert (first_visit.lost, fresh.lost) == (None, None)


def test_the_saved_runs_are_counted_again_as_runs_are_created_and_deleted(ready: FakeWorker) -> None:
    memory = Memory()
    StorageHandle(ready.client, memory)
    ready.reply("storage.estimate", {"usage": 1, "quota": 2})
    ready.event("run:trigger", run_id="r1", job="import-csv")
    ready.event("run:trigger", run_id="r2", job="import-csv")  # one count in flight, one more after it
    assert len(ready.pending("runs.list")) == 1
    ready.reply("runs.list", {"runs": [], "total": 1})
    ready.reply("runs.list", {"runs": [], "total": 2})
    assert memory.items[SAVED_RUNS_KEY] == "2" and ready.pending("runs.list") == []
    ready.event("storage:cleared")
    ready.reply("runs.list", {"runs": [], "total": 0})
    assert memory.items[SAVED_RUNS_KEY] == "0"
