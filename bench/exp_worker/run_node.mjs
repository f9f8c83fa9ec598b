// Runs bench_a.py (or another script of this folder) in the vendored Pyodide under node, set up like the
// browser worker (worker.mjs): the wheels run_pyodide.mjs installs, py/importer unpacked into MEMFS at /py,
// the csv COPIED INTO MEMFS at /data/bench.csv (env NODEFS=1: mount /tmp/sqlexp with NODEFS instead, as
// bench/exp_sql/run_pyodide.mjs does).
// Usage (from /work/main): node bench/exp_worker/run_node.mjs bench_a.py [args...]
import { pathToFileURL, fileURLToPath } from "node:url";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const indexURL = path.join(root, "static/vendor/pyodide") + "/";
const data = process.env.SQLEXP_DATA || "/tmp/sqlexp";
const [script, ...args] = process.argv.slice(2);
console.log(`node ${process.version} v8 ${process.versions.v8} JSPI ${typeof WebAssembly.Suspending}`);
const { loadPyodide } = await import(pathToFileURL(indexURL + "pyodide.mjs").href);
const py = await loadPyodide({ indexURL, stdout: (l) => console.log(l), stderr: (l) => console.error(l) });
const wheels = readdirSync(path.join(root, "static/vendor/wheels")).filter((n) => n.endsWith(".whl"));
await py.loadPackage(wheels.map((n) => path.join(root, "static/vendor/wheels", n)), { messageCallback: () => {} });
py.FS.mkdirTree("/py");
py.FS.mount(py.FS.filesystems.NODEFS, { root: path.join(root, "py") }, "/py");
py.FS.mkdirTree("/exp");
py.FS.writeFile("/exp/" + script, readFileSync(path.join(here, script)));
py.FS.mkdirTree("/data");
if (process.env.NODEFS === "1") {
  py.FS.mount(py.FS.filesystems.NODEFS, { root: data }, "/data");
} else {
  py.FS.writeFile("/data/bench.csv", readFileSync(path.join(data, "bench.csv")));
}
py.globals.set("argv", py.toPy([script, ...args]));
await py.runPythonAsync(`
import sys, runpy
sys.argv = list(argv)
runpy.run_path("/exp/" + sys.argv[0], run_name="__main__")
`);
