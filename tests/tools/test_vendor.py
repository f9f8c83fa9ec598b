"""Set-up: every vendored artifact is checked against the lock; a mismatch stops with a clear error."""

from __future__ import annotations

import hashlib
import json
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
                    "@micropython/micropython-webassembly-pyscript": "1.28.0-6"}
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
