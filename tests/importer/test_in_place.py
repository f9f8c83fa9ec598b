"""An in-place run (the command line's) is not hashed twice: the `stage` step takes a file the host hashed
moments ago (ImportEnv.hashed) as checked while its size and mtime hold, and hashes it again otherwise."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from tests.importer.conftest import run_payload


def import_in_place(tmp_path: Path, path: Path, sha256: str, hashed: dict[str, tuple[int, int, str]]) -> str:
    """Run an in-place import of `path` claiming `sha256`; return 'completed' or the failure's message."""
    payload = {"file_name": path.name, "size": path.stat().st_size, "sha256": sha256, "staged_path": str(path),
               "in_place": True}
    outcome = run_payload(tmp_path, payload, hashed=hashed)
    return "completed" if outcome.error is None else str(outcome.error)


def test_a_file_hashed_moments_ago_is_not_hashed_again(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n1,2\n")
    stat = path.stat()
    claimed = hashlib.sha256(b"a,b\n3,4\n").hexdigest()  # what the host hashed: the same size, other bytes
    path.write_bytes(b"a,b\n1,2\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    outcome = import_in_place(tmp_path, path, claimed, {str(path): (stat.st_size, stat.st_mtime_ns, claimed)})
    assert outcome == "completed"  # taken as checked: no second hash looked at the bytes


def test_a_file_modified_since_it_was_hashed_is_hashed_again_and_refused(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n3,4\n")
    stat = path.stat()
    claimed = hashlib.sha256(b"a,b\n3,4\n").hexdigest()
    path.write_bytes(b"a,b\n1,2\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    outcome = import_in_place(tmp_path, path, claimed, {str(path): (stat.st_size, stat.st_mtime_ns, claimed)})
    assert "has changed since this import started" in outcome
