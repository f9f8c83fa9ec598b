"""The development server sends the MIME types module scripts and WebAssembly require."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator

import pytest
from tools.serve import make_server


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = make_server(0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.mark.parametrize(("path", "mime"), [
    ("static/js/engine-worker.mjs", "text/javascript"),
    ("static/vendor/pyodide/pyodide.asm.wasm", "application/wasm"),
    ("manifest.webmanifest", "application/manifest+json"),
    ("index.html", "text/html"),
])
def test_files_are_served_with_the_right_mime_type(base: str, path: str, mime: str) -> None:
    with urllib.request.urlopen(base + path) as response:
        assert response.headers["Content-Type"].split(";")[0] == mime
        assert response.headers["Cache-Control"] == "no-cache"
