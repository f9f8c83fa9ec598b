// Set-up only (tools/vendor.py runs it with node): a memory snapshot of Pyodide with the standard-library
// modules the app imports already imported, and the app's own modules the worker needs before `ready`, so the
// engine worker restores it instead of initialising Python and importing its entry point (docs/storage.md,
// "Boot").
//
// Usage: node tools/snapshot.mjs <pyodide dir> <modules.json> <app.zip> <out file>
// modules.json: {"stdlib": [names], "app": [names]}. The standard-library names that Pyodide lacks stay lazy;
// the app's are imported from app.zip written to /app.zip (where the worker writes it too) and must import.
// Writes the raw snapshot (Pyodide's format: its header, then the whole wasm heap) to <out file>, after
// restoring it once here to prove it loads. Exits 1 with a sentence when it cannot.
//
// What a snapshot may hold: only the interpreter's heap. Files are not in it (the worker installs the
// stdlib, the wheels and the app as usual), nor are binary extensions (pydantic_core's .so: Pyodide cannot
// snapshot a loaded dynamic library), nor references to JS objects: the app's modules touch neither when
// imported. The heap must fit the runtime's initial memory, which a restore cannot grow (Pyodide 314 ignores
// INITIAL_MEMORY).

import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [indexDir, modulesFile, appZip, outFile] = process.argv.slice(2);
if (!outFile) {
  console.error("usage: node tools/snapshot.mjs <pyodide dir> <modules.json> <app.zip> <out file>");
  process.exit(2);
}
const indexURL = indexDir.endsWith("/") ? indexDir : indexDir + "/";
const { loadPyodide } = await import(pathToFileURL(indexURL + "pyodide.mjs").href);
const { stdlib: modules, app: appModules } = JSON.parse(readFileSync(modulesFile, "utf8"));

const quiet = { stdout: () => {}, stderr: (line) => console.error(line) };
const py = await loadPyodide({ indexURL, _makeSnapshot: true, ...quiet });
const initialHeap = py._module.HEAP8.length;
py.globals.set("wanted", py.toPy(modules));
const skipped = py.runPython(`
def _import_all(names):
    import importlib
    skipped = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # not available in Pyodide (ssl, multiprocessing...): it stays lazy
            skipped.append(name)
    return skipped
_import_all(wanted)`).toJs();
py.runPython("del _import_all, wanted");
// the app, where the worker puts it and imported from it in place (static/js/engine-worker.mjs bootPython,
// tools/vendor.py APP_IN_WORKER); a failure here is the build's. zipimport keeps the zip's directory in the heap:
// the worker restores this snapshot only beside the same app.zip bytes, so it stays true there.
py.FS.writeFile("/app.zip", new Uint8Array(readFileSync(appZip)));
py.globals.set("wanted", py.toPy(appModules));
try {
  py.runPython(`
import importlib, sys
sys.path.insert(0, "/app.zip")
for _name in wanted:
    importlib.import_module(_name)
del importlib, sys, wanted, _name`);
} catch (err) {
  console.error(`the app's modules did not import: ${String(err.message || err).trim().split("\n").pop()}`);
  process.exit(1);
}
if (py._module.HEAP8.length > initialHeap) {
  console.error(`the heap grew to ${py._module.HEAP8.length} bytes importing the modules: a snapshot cannot be restored`);
  process.exit(1);
}
const snapshot = py.makeMemorySnapshot();
const check = await loadPyodide({ indexURL, _loadSnapshot: snapshot, ...quiet });
check.globals.set("wanted", check.toPy(appModules));
const proof = check.runPython("import sys; len(sys.modules) if all(n in sys.modules for n in wanted) else 0");
if (!(proof > modules.length - skipped.length)) {
  console.error("the snapshot did not restore its modules");
  process.exit(1);
}
writeFileSync(outFile, snapshot);
console.log(JSON.stringify({ bytes: snapshot.length, modules: modules.length - skipped.length, skipped }));
