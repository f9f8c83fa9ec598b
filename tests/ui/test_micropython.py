"""The client layer runs on MicroPython, the page's interpreter, not only on CPython.

MicroPython lacks parts of CPython (dataclasses, `{**d}` literals, str.rjust, `__future__`), so the
client modules are loaded into the vendored MicroPython (the very build the page uses, run by node) and
driven through a short scenario. Skipped when node or the vendored runtime is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MICROPYTHON = ROOT / "static" / "vendor" / "micropython" / "micropython.mjs"

RUNNER = """
import { loadMicroPython } from %(mjs)s;
const files = %(files)s;
const lines = [];
const mp = await loadMicroPython({heapsize: 4 * 1024 * 1024, stdout: (l) => lines.push(l)});
mp.FS.mkdirTree("/lib/ui/client");
for (const [path, text] of Object.entries(files)) mp.FS.writeFile("/lib/" + path, text);
try { mp.runPython(%(script)s); console.log(JSON.stringify({ok: true, lines})); }
catch (e) { console.log(JSON.stringify({ok: false, lines, error: String(e.message)})); }
"""

SCENARIO = """
import sys, json
sys.path.insert(0, "/lib")
from ui.client import (RpcClient, JobHandle, RunsList, RunHandle, LogsHandle, RunActions, TablesList,
                       TableView, StorageHandle, ImportDraft)
sent = []
client = RpcClient(lambda text, file: sent.append(json.loads(text)))
def reply(result):
    client.receive(json.dumps({"id": sent[-1]["id"], "ok": True, "result": result}))
def event(kind, **data):
    client.receive(json.dumps({"event": kind, "data": data}))
job = JobHandle(client, "import", "import.start")
runs = RunsList(client, page_size=5)
storage = StorageHandle(client)
event("engine:status", state="ready", message="Engine ready")
job.trigger({"source_id": "s"})
reply({"run_id": "r1", "created": True})
event("run:progress", run_id="r1", job="import", current=1, total=2, data={"rows": 7, "accepted": 6})
print(job.status, job.progress["rows"], job.progress["accepted"])
event("run:complete", run_id="r1", job="import", output={"rows": 7})
print(job.status, runs.has_more, runs.page_count)
draft = ImportDraft({"source_id": "s", "name": "a.csv", "columns": [{"name": "id", "type": "integer"}],
                     "table_name": "a", "sniff": {"encoding": {"value": "utf-8", "evidence": "ascii"}}})
draft.set_column(0, "name", "ident")
print(draft.params()["options"]["columns"][0]["name"], draft.problems(), draft.settings()[0][0])
draft.set_column(0, "min", "ten")
draft.set_column(0, "regex", "[0-9]+")
from ui.client.rules import read_date, date_order, explain_options_error
from ui.client.patterns import pattern_error
print(pattern_error("a{3,2}"), pattern_error("[A-Z]{2}[0-9]+"), pattern_error("(?P<x>a)(?P=x)|[z-a]"))
print(len(draft.problems()), draft.rules_summary(0), read_date("01/02/2024", "MM/DD/YYYY"), date_order("DD.MM.YYYY"))
print(explain_options_error("x\\ncolumns.0.min\\n  Value error, bad [type=value_error]", draft.columns))
view = TableView(client, "a")
view.sort_by("id")
print(sent[-1]["method"], sent[-1]["params"]["order_by"])
from ui import format as fmt
print(fmt.count(1234567), fmt.size(12300), fmt.duration(185), int(fmt.epoch("1970-01-02T00:00:00+00:00")))
g = {"type": "integer", "evidence": "sample", "null_markers": ["NA"], "null_counts": {"NA": 3}, "header": "n"}
big = ImportDraft({"source_id": "b", "name": "b.csv", "size": 100, "columns": [g, dict(g, header="m")],
                   "sniff": {"sample_rows": 716, "complete": False}})
big.follow_scan(client, lambda d: None)
event("file:scan", source_id="b", bytes_done=45, bytes_total=100, rows=9)
big.set_null_token("NA", False)
print(big.scan_label(), big.null_tokens(), big.evidence(0))
w = {"type": "real", "evidence": "whole", "null_markers": ["NA"], "null_counts": {"NA": 1200}, "whole_file": True}
reply({"source_id": "b", "rows": 336776, "bytes": 100, "columns": [w, w]})
big.set_null_token("NA", True)
print(big.scan_label(), [(c["type"], c["null_markers"], c["provisional"]) for c in big.params()["options"]["columns"]])
now = [0]
timed = RpcClient(lambda text, file: None, clock=lambda: now[0])
late = []
timed.call("runs.get").then(None, lambda e: late.append(e.code))
now[0] = 61
print(timed.check_timeouts(), late, RpcClient(lambda t, f: None).call("x").deadline > 0)
from ui.client.versions import VersionCheck
other = RpcClient(lambda text, file: None)
check = VersionCheck(other, "aaa")
mem = {"csv-importer:saved-runs": "3"}
class Memory:
    def get(self, key): return mem.get(key)
    def set(self, key, value): mem[key] = value
kept = StorageHandle(other, Memory())
other.receive(json.dumps({"event": "engine:status", "data": {"state": "ready", "build": "bbb",
                                                              "database_created": True, "runs": 0}}))
refused = []
other.call("import.start").then(None, lambda e: refused.append(e.code))
print(check.problem is not None, refused, kept.lost, mem["csv-importer:saved-runs"])
"""


@pytest.mark.skipif(shutil.which("node") is None or not MICROPYTHON.exists(),
                    reason="needs node and the vendored MicroPython (./run vendor)")
def test_the_client_layer_runs_on_the_pages_micropython(tmp_path: Path) -> None:
    files = {p.relative_to(ROOT / "py").as_posix(): p.read_text()
             for p in sorted((ROOT / "py" / "ui" / "client").glob("*.py"))}
    files["ui/__init__.py"] = ""
    files["ui/format.py"] = (ROOT / "py" / "ui" / "format.py").read_text()
    runner = tmp_path / "run.mjs"
    runner.write_text(RUNNER % {"mjs": json.dumps(MICROPYTHON.as_uri()), "files": json.dumps(files),
                                "script": json.dumps(SCENARIO)})
    out = subprocess.run(["node", str(runner)], capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["ok"], result.get("error")
    assert result["lines"] == ["running 7 6", "completed False 1", "ident [] encoding",
                               "min repeat greater than max repeat at position 2 None "
                               "bad character range z-a at position 16",
                               "1 min ten, pattern [0-9]+ 2 Jan 2024 day first",
                               "The worker refused these settings. Column 1 (ident), minimum: bad.", "tables.rows id",
                               "1,234,567 12.3 kB 3 min 05 s 86400",
                               "First look: the first 64 KB (716 rows). Checking the whole file… 45% "
                               "[('NA', False, [(0, 3), (1, 3)])] sample. 'NA' is not NULL (your choice), so 3 rows "
                               "are rejected ('NA' is not an integer).",
                               "Checked all 336,776 rows: the types hold for the whole file. "
                               "[('real', ['NA'], False), ('real', ['NA'], False)]",
                               "1 ['timeout'] True", "True ['version-mismatch'] 3 0"]
