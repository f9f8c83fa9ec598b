// Set-up only (tools/vendor.py runs it with node): a memory snapshot of Pyodide with the standard-library
// modules the app imports already imported, so the engine worker restores it instead of initialising
// Python (docs/storage.md, "Boot").
//
// Usage: node tools/snapshot.mjs <pyodide dir> <modules.json> <out file>
// Writes the raw snapshot (Pyodide's format: its header, then the whole wasm heap) to <out file>, after
// restoring it once here to prove it loads. Exits 1 with a sentence when it cannot.
//
// What a snapshot may hold: only the interpreter's heap. Files are not in it (the worker installs the
// stdlib, the wheels and the app as usual), nor are binary extensions (pydantic_core's .so: Pyodide cannot
// snapshot a loaded dynamic library), so only standard-library modules are imported here. The heap must fit
// the runtime's initial memory, which a restore cannot grow (Pyodide 314 ignores INITIAL_MEMORY).

import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [indexDir, modulesFile, outFile] = process.argv.slice(2);
if (!outFile) {
  console.error("usage: node tools/snapshot.mjs <pyodide dir> <modules.json> <out file>");
  process.exit(2);
}
const indexURL = indexDir.endsWith("/") ? indexDir : indexDir + "/";
const { loadPyodide } = await import(pathToFileURL(indexURL + "pyodide.mjs").href);
const modules = JSON.parse(readFileSync(modulesFile, "utf8"));

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
if (py._module.HEAP8.length > initialHeap) {
  console.error(`the heap grew to ${py._module.HEAP8.length} bytes importing the modules: a snapshot cannot be restored`);
  process.exit(1);
}
const snapshot = py.makeMemorySnapshot();
const check = await loadPyodide({ indexURL, _loadSnapshot: snapshot, ...quiet });
const proof = check.runPython("import sys; len(sys.modules)");
if (!(proof > modules.length - skipped.length)) {
  console.error("the snapshot did not restore its modules");
  process.exit(1);
}
writeFileSync(outFile, snapshot);
console.log(JSON.stringify({ bytes: snapshot.length, modules: modules.length - skipped.length, skipped }));
