"""Static server for the worker test page (same origin for everything; no COOP/COEP: no SharedArrayBuffer needed).

  /exp/...      this folder (index.html, worker.mjs, bench_a.py)
  /pyodide/...  /work/main/static/vendor/pyodide
  /wheels/...   /work/main/static/vendor/wheels
  /data/...     /tmp/sqlexp (bench.csv)
  /py.zip       py/importer zipped in memory at start (unpacked in the worker at /py)
"""

from __future__ import annotations

import functools
import http.server
import io
import threading
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MOUNTS = {"/exp/": HERE, "/pyodide/": ROOT / "static/vendor/pyodide", "/wheels/": ROOT / "static/vendor/wheels",
          "/data/": Path("/tmp/sqlexp")}
TYPES = {".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html",
         ".json": "application/json", ".py": "text/plain", ".zip": "application/zip", ".whl": "application/zip",
         ".csv": "text/csv"}


def py_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for f in sorted((ROOT / "py" / "importer").rglob("*.py")):
            z.write(f, f.relative_to(ROOT / "py").as_posix())
    return buf.getvalue()


class Handler(http.server.BaseHTTPRequestHandler):
    zip_bytes = b""

    def log_message(self, *a):  # quiet
        pass

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/py.zip":
            return self._send(self.zip_bytes, "application/zip")
        for prefix, folder in MOUNTS.items():
            if path.startswith(prefix):
                f = (folder / path[len(prefix):]).resolve()
                if f.is_file() and f.is_relative_to(folder.resolve()):
                    return self._send(f.read_bytes(), TYPES.get(f.suffix, "application/octet-stream"))
        self.send_error(404)

    def _send(self, body: bytes, ctype: str):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


def serve_in_background(port: int = 0) -> tuple[str, http.server.ThreadingHTTPServer]:
    Handler.zip_bytes = py_zip()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{srv.server_address[1]}", srv


if __name__ == "__main__":
    import sys
    url, srv = serve_in_background(int(sys.argv[1]) if len(sys.argv) > 1 else 8765)
    print(url + "/exp/index.html", flush=True)
    threading.Event().wait()
