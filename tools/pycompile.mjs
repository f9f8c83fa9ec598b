// Set-up only (tools/vendor.py runs it with node): compile Python sources to bytecode with the runtime's own
// Python (Pyodide's 3.14: this machine's CPython writes another bytecode version), so the engine worker
// imports the app and its wheels without compiling them at every boot (docs/storage.md, "Boot").
//
// Usage: node tools/pycompile.mjs <pyodide dir> <folder> <path in the worker> [<folder> <path> ...]
// Writes __pycache__/*.cpython-314.pyc beside each .py under each folder, as checked-hash pycs (the worker
// reads files without their modification times, so a timestamp pyc would never match; a hash pyc whose
// source changed is simply recompiled), with the file names tracebacks will show (<path in the worker>/...).

import { pathToFileURL } from "node:url";

const [indexDir, ...pairs] = process.argv.slice(2);
if (!indexDir || pairs.length === 0 || pairs.length % 2) {
  console.error("usage: node tools/pycompile.mjs <pyodide dir> <folder> <path in the worker> [...]");
  process.exit(2);
}
const indexURL = indexDir.endsWith("/") ? indexDir : indexDir + "/";
const { loadPyodide } = await import(pathToFileURL(indexURL + "pyodide.mjs").href);
const py = await loadPyodide({ indexURL, stdout: () => {}, stderr: (line) => console.error(line) });
const jobs = [];
for (let i = 0; i < pairs.length; i += 2) {
  const mount = `/mnt/${i / 2}`;
  py.FS.mkdirTree(mount);
  py.FS.mount(py.FS.filesystems.NODEFS, { root: pairs[i] }, mount);
  jobs.push([mount, pairs[i + 1]]);
}
py.globals.set("jobs", py.toPy(jobs));
const ok = py.runPython(`
import compileall, py_compile
all(compileall.compile_dir(folder, ddir=shown, quiet=1, workers=1,
                           invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    for folder, shown in jobs)`);
if (!ok) {
  console.error("some files did not compile");
  process.exit(1);
}
