"""The worker app on CPython with a fake platform: dispatch, errors, roles, diagnostics on a real SQLite file."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.worker.fakes import Client, FakePlatform, MemoryByteSource
from worker.app import WorkerApp, format_bytes, ready_message
from worker.hooks import parse_hooks

DIAGNOSTICS = parse_hooks('{"diagnostics": true}')  # the test-only probes, as a browser test enables them


async def serve(app: WorkerApp, *messages: object) -> None:
    for message in messages:
        app.receive(message)
    await asyncio.sleep(0)
    while app._tasks:
        await asyncio.gather(*list(app._tasks))


def request(request_id: int, method: str, **params: object) -> str:
    return json.dumps({"id": request_id, "method": method, "params": params})


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


async def test_lead_opens_the_database_and_reports_ready_with_versions(platform: FakePlatform, tmp_path: Path) -> None:
    app = WorkerApp(platform)
    await app.lead(str(tmp_path / "app.sqlite"))
    status = platform.events("engine:status")[-1]["data"]
    assert status["state"] == "ready"
    assert status["message"].startswith("Engine ready: Python ")
    assert status["usage"] == 1234
    journal = app.require_db().execute("PRAGMA journal_mode").fetchone()[0]
    assert journal == "truncate"


async def test_a_background_task_that_fails_says_so_on_the_workers_stderr(
    platform: FakePlatform, capsys: pytest.CaptureFixture[str]
) -> None:
    """A task nobody awaits (the warm-up, a sweep) would fail silently in the browser; a cancelled one is
    no failure."""
    app = WorkerApp(platform)

    async def fails() -> None:
        raise RuntimeError("boom")

    app._spawn(asyncio.sleep(3600))
    [sleeper] = app._tasks
    app._spawn(fails())
    await asyncio.wait(app._tasks - {sleeper})
    sleeper.cancel()
    await asyncio.wait({sleeper})
    await asyncio.sleep(0)
    assert not app._tasks
    assert capsys.readouterr().err == "worker: a background task failed: RuntimeError('boom')\n"


async def test_requests_before_ready_are_refused_but_info_is_served(platform: FakePlatform) -> None:
    app = WorkerApp(platform, hooks=DIAGNOSTICS)
    await serve(app, request(1, "diagnostics.read"), request(2, "engine.info"))
    replies = {r["id"]: r for r in platform.replies()}
    assert replies[1]["error"]["code"] == "not-ready"
    assert replies[2]["result"]["state"] == "booting"


async def test_a_follower_forwards_requests_and_relays_the_leaders_events(platform: FakePlatform) -> None:
    app = WorkerApp(platform, hooks=DIAGNOSTICS)
    app.follow()
    app.on_leader("leader-tab", "ready", "Engine ready")
    await serve(app, request(1, "diagnostics.write", value="x"))
    assert platform.replies() == [] and platform.forwarded == [(request(1, "diagnostics.write", value="x"), None)]
    app.on_broadcast(json.dumps({"event": "run:progress", "data": {"run_id": "r1"}}))
    assert platform.events("run:progress") == [{"event": "run:progress", "data": {"run_id": "r1"}}]


async def test_a_leader_ignores_broadcasts(platform: FakePlatform, tmp_path: Path) -> None:
    app = WorkerApp(platform)
    await app.lead(str(tmp_path / "app.sqlite"))
    app.on_broadcast(json.dumps({"event": "run:progress", "data": {}}))
    assert platform.events("run:progress") == []


async def test_malformed_and_unknown_requests_get_error_replies(platform: FakePlatform, tmp_path: Path) -> None:
    app = WorkerApp(platform, hooks=DIAGNOSTICS)
    await app.lead(str(tmp_path / "app.sqlite"))
    await serve(app, "{broken", request(5, "nope"), request(6, "diagnostics.bulk_write", rows=0),
                {"json": request(7, "engine.info"), "file": None})
    codes = {r["id"]: (r["error"]["code"] if not r["ok"] else "ok") for r in platform.replies()}
    assert codes == {None: "bad-request", 5: "unknown-method", 6: "bad-params", 7: "ok"}


async def test_diagnostics_commit_flush_and_read_back_after_reopening(platform: FakePlatform, tmp_path: Path) -> None:
    app = WorkerApp(platform, hooks=DIAGNOSTICS)
    await app.lead(str(tmp_path / "app.sqlite"))
    before = platform.flushes
    await serve(app, request(1, "diagnostics.write", value="hello"), request(2, "diagnostics.bulk_write", rows=50))
    assert platform.flushes == before + 2
    assert platform.events("diagnostics:bulk-started")
    reopened = WorkerApp(FakePlatform(), hooks=DIAGNOSTICS)
    await reopened.lead(str(tmp_path / "app.sqlite"))
    await serve(reopened, request(3, "diagnostics.read"))
    result = reopened.platform.replies()[0]["result"]  # type: ignore[attr-defined]
    assert result == {"values": ["hello"], "bulk_rows": 50, "integrity": "ok"}


async def test_an_unexpected_handler_failure_becomes_an_internal_error_reply(platform: FakePlatform) -> None:
    app = WorkerApp(platform)

    async def broken(app: WorkerApp, params: dict, file: object) -> None:
        raise ZeroDivisionError("boom")

    broken.any_state = True  # type: ignore[attr-defined]
    app._handlers["broken"] = broken
    await serve(app, request(9, "broken"))
    assert platform.replies()[0]["error"] == {"code": "internal", "message": "ZeroDivisionError: boom"}


@pytest.mark.parametrize(("count", "text"), [(0, "0 B"), (999, "999 B"), (74_200, "74.2 kB"),
                                             (10_700_000_000, "10.7 GB"), (512_000_000, "512 MB")])
def test_sizes_are_shown_with_decimal_units(count: int, text: str) -> None:
    assert format_bytes(count) == text


def test_the_ready_message_names_every_version_and_the_storage() -> None:
    info = {"python": "3.14.2", "sqlite": "3.39.0", "pydantic": "2.14.3"}
    assert ready_message(info, {"usage": 74_200, "quota": 10_700_000_000}, "OPFS") == (
        "Engine ready: Python 3.14.2, SQLite 3.39.0, pydantic 2.14.3, storage OPFS (74.2 kB / 10.7 GB)")
    early = {"python": "3.14.2", "sqlite": "3.39.0"}  # pydantic is not loaded yet
    assert ready_message(early, {"usage": 74_200, "quota": 10_700_000_000}, "OPFS", importer="loading") == (
        "Engine ready: Python 3.14.2, SQLite 3.39.0, storage OPFS (74.2 kB / 10.7 GB); loading the importer…")


async def test_a_new_database_gets_large_pages_and_a_large_cache(platform: FakePlatform, tmp_path: Path) -> None:
    app = WorkerApp(platform)
    await app.lead(str(tmp_path / "app.sqlite"))
    db = app.require_db()
    assert db.execute("PRAGMA page_size").fetchone()[0] == 65536
    assert db.execute("PRAGMA cache_size").fetchone()[0] == -65536


WARM_UP_SCRIPT = """
import asyncio, sys
from importer.job import WARM_UP
from tests.worker.fakes import Client, FakePlatform, MemoryByteSource
from worker.app import WorkerApp

async def main():
    quiet, preview = float(sys.argv[2]), sys.argv[3] == "preview"
    app = WorkerApp(FakePlatform(), warm_up_quiet=quiet)
    await app.lead(sys.argv[1])
    at_ready = [m.__pydantic_complete__ for m in WARM_UP]
    if preview:  # no quiet comes, but a preview does: the warm-up must end well within the test's bound
        await Client(app, app.platform).ok("file.preview", MemoryByteSource("people.csv", b"id,name\\n1,Ada\\n"))
        await asyncio.wait(list(app._tasks), timeout=120)
    elif quiet:  # the warm-up waits for a quiet that a test never gives it
        for _ in range(20):
            await asyncio.sleep(0.01)
    for task in list(app._tasks) if quiet else ():
        task.cancel()
    errors = []
    while app._tasks:
        ended = await asyncio.gather(*list(app._tasks), return_exceptions=True)
        errors += [repr(e) for e in ended if isinstance(e, Exception)]
    print(at_ready, [m.__pydantic_complete__ for m in WARM_UP], errors)
    await app.engine.stop()

asyncio.run(main())
"""


def warm_up(tmp_path: Path, quiet: float, preview: bool = False) -> str:
    """What a fresh interpreter's worker printed: which import-job models were built at `ready`, and after its
    tasks ended (a fresh one: in this interpreter other tests have built them already), and the errors of those
    tasks (the warm-up's last step runs a sample input through the job: it must stay valid)."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", WARM_UP_SCRIPT, str(tmp_path / "app.sqlite"), str(quiet),
                           "preview" if preview else "-"],
                          capture_output=True, text=True, cwd=root,
                          env={**os.environ, "PYTHONPATH": f"{root / 'py'}{os.pathsep}{root}"})
    assert done.returncode == 0, done.stderr
    assert "background task failed" not in done.stderr, done.stderr  # one that ended before the script looked
    return done.stdout.split("\n")[0]


def test_the_engine_is_ready_before_the_job_models_are_built_and_builds_them_right_after(tmp_path: Path) -> None:
    """Building the import job's validators is left out of the boot (a tenth of a second in Pyodide) and done
    once the engine is ready."""
    assert warm_up(tmp_path, 0.0) == "[False, False, False, False] [True, True, True, True] []"


def test_the_warm_up_waits_for_a_quiet_moment_before_building_a_model(tmp_path: Path) -> None:
    """With a quiet period (the browser's), nothing is built while the page could still be asking for its
    first answers: here a minute of quiet never comes, so nothing is built."""
    assert warm_up(tmp_path, 60.0) == "[False, False, False, False] [False, False, False, False] []"


def test_a_preview_ends_the_warm_ups_wait_for_quiet(tmp_path: Path) -> None:
    """Start, which needs every model and the exercised paths, may follow a preview at once: the preview
    starts what is left of the warm-up (the preview itself builds the options' models, not the run's)."""
    assert warm_up(tmp_path, 1e9, preview=True) == "[False, False, False, False] [True, True, True, True] []"


async def test_a_start_ends_the_warm_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Start builds what it needs and runs the paths the warm-up's sample would: after it, the warm-up runs no
    more steps (at Start's awaits one would only delay it), even when a later preview ends its wait for quiet."""
    import importer.job
    from importer.sniff import sniff

    sampled: list[object] = []
    monkeypatch.setattr(importer.job, "exercise", sampled.append)  # the warm-up's last step, observed
    platform = FakePlatform(tmp_path)
    app = WorkerApp(platform, warm_up_quiet=1e9)  # no quiet comes: the warm-up waits until told otherwise
    await app.lead(str(tmp_path / "app.sqlite"))
    data = b"id,name\n1,Ada\n2,Grace\n"
    source_id = app.sources.add(MemoryByteSource("people.csv", data))  # picked, not previewed: no hurry yet
    options = sniff(data, file_name="people.csv", complete=True).options.model_dump(mode="json")
    client = Client(app, platform)
    started = await client.ok("import.start", source_id=source_id, options=options)
    await client.wait_for_status(started["run_id"], "completed")
    app.hurry_warm_up()  # what a preview does: without the Start, every step would run now
    await asyncio.wait_for(asyncio.gather(*app._tasks), 60)
    assert sampled == []
    await app.engine.stop()


async def test_without_a_start_the_hurried_warm_up_runs_its_sample(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The control of the test above: the same worker, hurried with no Start before, runs the sample step."""
    import importer.job

    sampled: list[object] = []
    monkeypatch.setattr(importer.job, "exercise", sampled.append)
    platform = FakePlatform(tmp_path)
    app = WorkerApp(platform, warm_up_quiet=1e9)
    await app.lead(str(tmp_path / "app.sqlite"))
    app.hurry_warm_up()
    await asyncio.wait_for(asyncio.gather(*app._tasks), 60)
    assert sampled == [app._import_job]
    await app.engine.stop()


BEFORE_THE_WHEELS_SCRIPT = """
import asyncio, importlib.abc, json, sys

class NotInstalledYet(importlib.abc.MetaPathFinder):
    '''The wheels before the bootstrap installed them: pydantic and charset-normalizer cannot be imported.'''
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("pydantic", "pydantic_core", "charset_normalizer"):
            raise ModuleNotFoundError(f"No module named {name!r} (not installed yet)")
        return None

wheels = NotInstalledYet()
sys.meta_path.insert(0, wheels)
from tests.worker.fakes import Client, FakePlatform, MemoryByteSource
import worker.main  # what the bootstrap imports before the wheels: the app, its protocol and its light methods
from worker.app import WorkerApp

async def main():
    platform = FakePlatform()
    app = WorkerApp(platform)
    installed = asyncio.get_running_loop().create_future()  # the bootstrap's promise: the wheels installed
    lead = asyncio.ensure_future(app.lead(sys.argv[1], install_wheels=lambda: installed))
    while not [s for s in platform.events("engine:status") if s["data"]["state"] == "ready"]:
        await asyncio.sleep(0)
    first = platform.events("engine:status")[-1]["data"]
    client = Client(app, platform)
    out = {"first": {k: first.get(k) for k in ("importer", "pydantic", "runs")}, "message": first["message"],
           "running": app.engine.running, "runs": (await client.ok("runs.list"))["total"],
           "tables": await client.ok("tables.list")}
    app.receive({"json": json.dumps({"id": 900, "method": "file.preview", "params": {}}),
                 "file": MemoryByteSource("people.csv", b"id,name\\n1,Ada\\n")})
    for _ in range(100):
        await asyncio.sleep(0)
    out["preview_waited"] = not [r for r in platform.replies() if r["id"] == 900]
    out["imported_early"] = sorted(m for m in ("pydantic", "charset_normalizer", "importer.job") if m in sys.modules)
    sys.meta_path.remove(wheels)
    installed.set_result(321)
    await lead
    for _ in range(2000):
        if [r for r in platform.replies() if r["id"] == 900]:
            break
        await asyncio.sleep(0.001)
    [reply] = [r for r in platform.replies() if r["id"] == 900]
    last = platform.events("engine:status")[-1]["data"]
    out.update(preview=reply["ok"] and reply["result"]["name"], running_after=app.engine.running,
               last={k: last.get(k) for k in ("state", "importer", "database_created", "runs")},
               wheels_ms=last["timings"].get("wheels"),
               last_names_pydantic="pydantic" in last["message"])
    print(json.dumps(out))
    await app.engine.stop()

asyncio.run(main())
"""


def test_the_engine_is_ready_to_read_before_the_wheels_are_installed(tmp_path: Path) -> None:
    """The browser reports `ready` once the database can be read, before pydantic and charset-normalizer are
    installed (worker/app.py `lead`, docs/storage.md "Boot"): the run list and the tables answer at once, a
    preview waits for the importer and is answered once the wheels are in, and then `ready` comes again, with
    the importer. Run in a fresh interpreter where those packages cannot be imported until then."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", BEFORE_THE_WHEELS_SCRIPT, str(tmp_path / "app.sqlite")],
                          capture_output=True, text=True, cwd=root,
                          env={**os.environ, "PYTHONPATH": f"{root / 'py'}{os.pathsep}{root}"})
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["first"] == {"importer": "loading", "pydantic": None, "runs": 0}
    assert out["message"].endswith("; loading the importer…") and "pydantic" not in out["message"]
    assert out["running"] is False and out["runs"] == 0 and out["tables"] == []
    assert out["preview_waited"] is True and out["imported_early"] == []
    assert out["preview"] == "people.csv" and out["running_after"] is True
    # the second `ready` says what the first did: a page whose UI started after both reads only the last
    assert out["last"] == {"state": "ready", "importer": "ready", "database_created": True, "runs": 0}
    assert out["last_names_pydantic"] is True
    assert out["wheels_ms"] == 321


async def test_wheels_that_fail_to_install_turn_the_status_to_error_and_answer_the_waiting_requests(
        platform: FakePlatform, tmp_path: Path) -> None:
    """The reads answered before stay answered; a request waiting for the importer gets `not-ready` with the
    reason, and so does every later one: the page says to reload."""
    app = WorkerApp(platform)
    installed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    lead = asyncio.ensure_future(app.lead(str(tmp_path / "app.sqlite"), install_wheels=lambda: installed))
    client = Client(app, platform)
    while not platform.events("engine:status") or platform.events("engine:status")[-1]["data"]["state"] != "ready":
        await asyncio.sleep(0)
    assert (await client.ok("runs.list"))["total"] == 0
    app.receive(request(700, "runs.retry", run_id="x"))  # waits for the importer
    await asyncio.sleep(0)
    installed.set_exception(RuntimeError("HTTP 404 for pydantic_core.whl"))
    await lead
    while not [r for r in platform.replies() if r["id"] == 700]:
        await asyncio.sleep(0)
    [waited] = [r for r in platform.replies() if r["id"] == 700]
    status = platform.events("engine:status")[-1]["data"]
    assert status["state"] == "error"
    assert status["message"] == "The importer could not be loaded: HTTP 404 for pydantic_core.whl. Reload the page."
    assert waited["error"] == {"code": "not-ready", "message": status["message"]}
    assert (await client.call("runs.list"))["error"]["code"] == "not-ready"


def test_every_step_of_the_importers_loading_names_a_module_there_is() -> None:
    """The order is a hint that skips a module a later pydantic no longer has; with the pinned versions none is
    skipped (a stale name would make its next step as long as several)."""
    import importlib.util

    from worker.app import IMPORTER_MODULES

    assert [m for m in IMPORTER_MODULES if importlib.util.find_spec(m) is None] == []


def test_a_step_skips_a_module_that_is_gone_but_not_one_whose_import_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from worker.app import _import_step

    (tmp_path / "needs_a_missing_package.py").write_text("import no_such_package_here\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _import_step("pydantic._internal._no_such_module_any_more")
    with pytest.raises(ModuleNotFoundError, match="no_such_package_here"):
        _import_step("needs_a_missing_package")
