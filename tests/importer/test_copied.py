"""A copy the host wrote and hashed in one pass (the browser's copy staged during the preview) is not hashed
again: the `stage` step takes a copy named in ImportEnv.copied with the input's size and sha256 as staged, and
reads and hashes any other copy as before."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.importer.conftest import run_payload


def import_copy(tmp_path: Path, path: Path, sha256: str, copied: dict[str, tuple[int, str]]) -> str:
    """Run an import of the staged copy at `path` claiming `sha256`; return 'completed' or the failure."""
    payload = {"file_name": "data.csv", "size": path.stat().st_size, "sha256": sha256, "staged_path": str(path)}
    outcome = run_payload(tmp_path, payload, copied=copied)
    return "completed" if outcome.error is None else str(outcome.error)


def test_a_copy_written_and_hashed_in_one_pass_is_not_hashed_again(tmp_path: Path) -> None:
    path = tmp_path / "ahead-copy.csv"
    path.write_bytes(b"a,b\n1,2\n")
    claimed = hashlib.sha256(b"a,b\n3,4\n").hexdigest()  # what the pass hashed: the same size, other bytes
    outcome = import_copy(tmp_path, path, claimed, {str(path): (path.stat().st_size, claimed)})
    assert outcome == "completed"  # taken as staged: no second hash looked at the bytes


def test_a_copy_not_recorded_as_written_in_one_pass_is_hashed_and_refused_when_it_differs(tmp_path: Path) -> None:
    path = tmp_path / "ahead-copy.csv"
    path.write_bytes(b"a,b\n1,2\n")
    claimed = hashlib.sha256(b"a,b\n3,4\n").hexdigest()
    size = path.stat().st_size
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    elsewhere = import_copy(tmp_path / "a", path, claimed, {str(tmp_path / "other.csv"): (size, claimed)})
    resized = import_copy(tmp_path / "b", path, claimed, {str(path): (size + 1, claimed)})
    assert "Pick" in elsewhere and "Pick" in resized  # hashed, found damaged, and no file to copy it again from
