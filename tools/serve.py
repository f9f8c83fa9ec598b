"""Serve the app as static files on 127.0.0.1 with the MIME types the browser insists on.

Role: development and tests only. Any static server works for the built app; this one sets the types
module scripts and WebAssembly need (.mjs as text/javascript, .wasm as application/wasm) and asks the
browser to revalidate, so an edited file is picked up (the service worker keeps the app offline).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import sys
from pathlib import Path
from typing import ClassVar

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


class AppHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with explicit MIME types and revalidation."""

    extensions_map: ClassVar[dict[str, str]] = {**http.server.SimpleHTTPRequestHandler.extensions_map, **TYPES}

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        if "--verbose" in sys.argv:
            super().log_message(format, *args)


def make_server(port: int, host: str = "127.0.0.1") -> http.server.ThreadingHTTPServer:
    """Return a server for the app root on host:port (port 0 picks a free one)."""
    handler = functools.partial(AppHandler, directory=str(ROOT))
    return http.server.ThreadingHTTPServer((host, port), handler)


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
