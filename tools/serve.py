"""Serve the app as static files on 127.0.0.1: only the app's own files, under a Content-Security-Policy.

Role: development and tests only. Any static server works for the built app (index.html carries the page's
policy as a meta tag); this one also
- sets the types module scripts and WebAssembly need (.mjs as text/javascript, .wasm as application/wasm)
  and asks the browser to revalidate, so an edited file is picked up (the service worker keeps the app
  offline);
- serves only what the page and its workers fetch (APP_FILES, APP_FOLDERS): `.git`, `.venv`, tests/, tools/,
  the worker's sources (it loads static/vendor/app.zip), dot-files and directory listings are 404;
- sends the policy as a header: PAGE_POLICY on every response (it governs the page, with frame-ancestors,
  which a meta tag cannot carry), and the stricter WORKER_POLICY on the worker scripts, which a meta tag
  cannot reach at all. docs/storage.md ("Content-Security-Policy") says why each allowance is there.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import posixpath
import sys
import threading
import urllib.parse
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parent.parent

TYPES = {
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".toml": "text/plain; charset=utf-8",
    ".py": "text/plain; charset=utf-8",
    ".zip": "application/zip",
    ".whl": "application/zip",
    ".svg": "image/svg+xml",
}

# What the page fetches: the page and its config, the PWA files, the JS glue, styles, icons, the pinned
# runtime with the app bundle and the UI's bytecode and PyScript config (static/vendor), and the UI's Python
# (py/ui/: main.py, and every module where set-up could not compile them).
APP_FILES = frozenset({"", "index.html", "pyscript.toml", "manifest.webmanifest", "sw.js"})
APP_FOLDERS = ("static/", "py/ui/")

# Shared by the page and its workers. 'wasm-unsafe-eval': Pyodide and MicroPython compile WebAssembly.
BASE_POLICY = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; "
               "object-src 'none'; base-uri 'none'")
# The page also needs 'unsafe-eval': PyScript 0.7.31 builds its hook runner with `Function(...)` at start
# (core-*.js); without it the UI never starts. The same text is index.html's meta tag (tests/tools check).
META_POLICY = BASE_POLICY.replace("'wasm-unsafe-eval'", "'wasm-unsafe-eval' 'unsafe-eval'")
PAGE_POLICY = META_POLICY + "; frame-ancestors 'none'"
# The engine worker (Pyodide), its copier (hash-wasm compiles its wasm from bytes: 'wasm-unsafe-eval') and the
# service worker run no eval: they get the policy without it.
WORKER_POLICY = BASE_POLICY + "; frame-ancestors 'none'"
WORKER_SCRIPTS = frozenset({"static/js/engine-worker.mjs", "static/js/copier.mjs", "sw.js"})


def app_path(url_path: str, root: Path = ROOT) -> str | None:
    """The path (relative to `root`) a request names, or None when it is not one of the app's files."""
    path = urllib.parse.unquote(urllib.parse.urlsplit(url_path).path)
    if "\\" in path or "\0" in path:
        return None
    rel = posixpath.normpath("/" + path).lstrip("/")
    rel = "" if rel == "." else rel
    parts = rel.split("/")
    if any(part.startswith(".") or part == "__pycache__" for part in parts if part):
        return None
    if rel in APP_FILES or (rel.startswith(APP_FOLDERS) and (root / rel).is_file()):
        return rel
    return None


class AppHandler(http.server.SimpleHTTPRequestHandler):
    """The app's files only, with explicit MIME types, revalidation and the Content-Security-Policy."""

    extensions_map: ClassVar[dict[str, str]] = {**http.server.SimpleHTTPRequestHandler.extensions_map, **TYPES}
    protocol_version = "HTTP/1.1"
    """Connections stay open between requests (HTTP/1.0 opened one per file: a start fetches about 60 files,
    30 of them the UI's modules, six at a time)."""
    disable_nagle_algorithm = True
    """TCP_NODELAY, as static servers set it: a response goes out as its headers, then its body, and on a kept-
    open connection Nagle's algorithm held the body back until the browser's delayed ACK of the headers, 40 ms
    later. Every file after a connection's first took 44 ms (median of 60 small files); 0.2 ms with it."""

    def send_head(self):  # type: ignore[no-untyped-def]
        if app_path(self.path, Path(self.directory)) is None:
            self.send_error(404, "Not one of the app's files")
            return None
        return super().send_head()

    def list_directory(self, path):  # type: ignore[no-untyped-def]
        self.send_error(404, "No directory listings")
        return None

    def policy(self) -> str:
        """The Content-Security-Policy of this response."""
        return WORKER_POLICY if app_path(self.path, Path(self.directory)) in WORKER_SCRIPTS else PAGE_POLICY

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", self.policy())
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        if "--verbose" in sys.argv:
            super().log_message(format, *args)


class AppServer(http.server.ThreadingHTTPServer):
    """A thread per connection; a browser that closes a kept-alive connection (a tab closed, a page reloaded)
    is no error worth a traceback."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # reset, aborted, broken pipe
            super().handle_error(request, client_address)


def make_server(port: int, host: str = "127.0.0.1", *, root: Path = ROOT,
                handler: type[AppHandler] = AppHandler) -> AppServer:
    """Return a server for the app at `root` on host:port (port 0 picks a free one)."""
    return AppServer((host, port), functools.partial(handler, directory=str(root)))


def serve_in_background(handler: type[AppHandler] = AppHandler) -> tuple[AppServer, str]:
    """Serve the app on a free local port from a daemon thread; return the server and its URL."""
    server = make_server(0, handler=handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def main() -> int:
    parser = argparse.ArgumentParser(description="Serve the app on http://127.0.0.1:PORT")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args()
    server = make_server(args.port)
    print(f"Serving the CSV importer on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
