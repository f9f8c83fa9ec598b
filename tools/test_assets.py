"""Fetch the test-only assets the browser tests inject into the page, pinned and hash-checked.

Role: tests only. axe-core (the accessibility checker) comes from the npm registry by package name with
`npm pack`, is checked against the sha256 below, and `axe.min.js` is extracted into .cache/test-assets/.
It is never served by the app: the tests add it to the page with `page.add_script_tag(path=...)`.

    python3 tools/test_assets.py        # prints the path of axe.min.js (fetching it on first use)
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "test-assets"
AXE_VERSION = "4.14.1"
AXE_TARBALL_SHA256 = "e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745"


class TestAssetError(Exception):
    """A test asset could not be fetched or did not match its pinned hash."""


def axe_path() -> Path:
    """Return the path of axe.min.js, fetching and verifying axe-core on first use.

    Raises TestAssetError when npm fails or the tarball's sha256 is not the pinned one.
    """
    target = CACHE / f"axe-core-{AXE_VERSION}" / "axe.min.js"
    if target.exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
        try:
            subprocess.run(["npm", "pack", f"axe-core@{AXE_VERSION}", "--silent", "--pack-destination", scratch],
                           check=True, capture_output=True, text=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            raise TestAssetError(f"`npm pack axe-core@{AXE_VERSION}` failed ({detail.strip()}); "
                                 "check that npm and the npm registry are reachable.") from None
        tarball = Path(scratch) / f"axe-core-{AXE_VERSION}.tgz"
        digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
        if digest != AXE_TARBALL_SHA256:
            raise TestAssetError(f"axe-core-{AXE_VERSION}.tgz has sha256 {digest}, expected "
                                 f"{AXE_TARBALL_SHA256}; refusing to use it.")
        with tarfile.open(tarball) as archive:
            member = archive.extractfile("package/axe.min.js")
            if member is None:
                raise TestAssetError("axe-core's tarball has no package/axe.min.js.")
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".partial")
            partial.write_bytes(member.read())
            partial.replace(target)
    return target


if __name__ == "__main__":
    try:
        print(axe_path())
    except TestAssetError as exc:
        print(f"test_assets: {exc}", file=sys.stderr)
        sys.exit(1)
