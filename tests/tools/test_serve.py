"""The development server: the MIME types module scripts and WebAssembly require, only the app's own files,
and the Content-Security-Policy as a header (the page's, and a stricter one for the worker scripts)."""

from __future__ import annotations

import http.client
import socket
import threading
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from tools.serve import META_POLICY, PAGE_POLICY, ROOT, WORKER_POLICY, AppHandler, make_server


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = make_server(0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def connection(base: str) -> http.client.HTTPConnection:
    """A connection to the server at `base` (not opened yet)."""
    host, port = base.removeprefix("http://").rstrip("/").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=30)


def get(base: str, raw_path: str) -> http.client.HTTPResponse:
    """GET `raw_path` exactly as written (no client-side normalisation of `..` or escapes)."""
    conn = connection(base)
    conn.request("GET", raw_path)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_one_connection_serves_one_file_after_another(base: str) -> None:
    """Kept alive (HTTP/1.1): a page's start fetches about 60 files, and a connection per file cost each its
    setup on the server."""
    conn = connection(base)
    conn.connect()
    sock = conn.sock
    for path in ("/index.html", "/static/css/app.css", "/py/ui/main.py"):
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        assert response.version == 11 and not response.will_close, path
        assert len(body) == int(response.headers["Content-Length"]), path
    assert conn.sock is sock  # the same socket all along: never closed and opened again
    conn.close()


def test_a_response_is_sent_without_waiting_for_the_acknowledgement_of_its_headers() -> None:
    """The server's sockets have TCP_NODELAY: on a kept-alive connection, Nagle's algorithm held each body back
    until the browser's delayed ACK of its headers (44 ms a file instead of 0.2 ms, measured). Read from the
    socket each request was served on."""
    seen: list[int] = []

    class Recording(AppHandler):
        def handle(self) -> None:
            seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            super().handle()

    server = make_server(0, handler=Recording)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert get(f"http://127.0.0.1:{server.server_address[1]}/", "/index.html").status == 200
    finally:
        server.shutdown()
    assert seen and all(seen), seen


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


@pytest.mark.parametrize("path", [
    "/", "/index.html", "/pyscript.toml", "/manifest.webmanifest", "/sw.js", "/static/css/app.css",
    "/static/vendor/app.zip", "/static/vendor/precache.json", "/py/ui/main.py", "/py/ui/client/rpc.py",
    "/index.html?v=1",
])
def test_the_apps_own_files_are_served(base: str, path: str) -> None:
    assert get(base, path).status == 200


@pytest.mark.parametrize(("path", "on_disk"), [
    ("/.git/HEAD", ".git"), ("/.git/config", ".git"), ("/.venv/pyvenv.cfg", ".venv/pyvenv.cfg"),
    ("/.corpus/", ".corpus"), ("/.gitignore", ".gitignore"), ("/tests/conftest.py", "tests/conftest.py"),
    ("/tools/serve.py", "tools/serve.py"), ("/run", "run"), ("/pyproject.toml", "pyproject.toml"),
    ("/vendor.lock.json", "vendor.lock.json"), ("/README.md", "README.md"),
    ("/py/worker/app.py", "py/worker/app.py"), ("/py/durable/store.py", "py/durable/store.py"),
    ("/static/vendor/.installed.json", "static/vendor/.installed.json"),
    ("/static/vendor/.downloads/", "static/vendor/.downloads"),
    ("/static/", "static"), ("/static/js/", "static/js"), ("/py/ui/", "py/ui"),
    ("/static/../.git/HEAD", ".git"), ("/static/%2e%2e/.git/HEAD", ".git"), ("/py/ui/../../run", "run"),
    ("/py/ui/%2e%2e/%2e%2e/tools/serve.py", "tools/serve.py"), ("/%2egit/HEAD", ".git"),
    ("/static/..%2f.git/HEAD", ".git"), ("/static\\..\\run", "run"),
])
def test_everything_else_in_the_checkout_is_not_found(base: str, path: str, on_disk: str) -> None:
    assert (ROOT / on_disk).exists(), f"{on_disk} is not in this checkout: the case would test nothing"
    response = get(base, path)
    assert response.status == 404, f"{path} served {response.status}"


def test_the_page_gets_the_policy_as_a_header_with_frame_ancestors(base: str) -> None:
    for path in ("/", "/index.html", "/static/css/app.css", "/no-such-file"):
        policy = get(base, path).headers["Content-Security-Policy"]
        assert policy == PAGE_POLICY
    assert "frame-ancestors 'none'" in PAGE_POLICY and "connect-src 'self'" in PAGE_POLICY


def test_the_worker_scripts_get_the_policy_without_unsafe_eval(base: str) -> None:
    for path in ("/static/js/engine-worker.mjs", "/static/js/copier.mjs", "/sw.js"):
        policy = get(base, path).headers["Content-Security-Policy"]
        assert policy == WORKER_POLICY
        assert "'wasm-unsafe-eval'" in policy and "'unsafe-eval'" not in policy


class _MetaPolicy(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.policies: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "content-security-policy":
            self.policies.append(values.get("content") or "")


def test_the_meta_tag_in_index_html_is_the_headers_policy_less_frame_ancestors() -> None:
    parser = _MetaPolicy()
    parser.feed(Path(ROOT / "index.html").read_text())
    assert parser.policies == [META_POLICY]
    assert PAGE_POLICY == META_POLICY + "; frame-ancestors 'none'"
    for directive in ("default-src 'self'", "connect-src 'self'", "object-src 'none'", "base-uri 'none'"):
        assert directive in META_POLICY
