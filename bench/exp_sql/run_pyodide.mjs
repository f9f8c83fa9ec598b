// Run a Python script in the vendored Pyodide under node, with the importer (py/) and this folder mounted.
// Usage: node bench/exp_sql/run_pyodide.mjs <script.py relative to bench/exp_sql> [args...]
// The data folder (default /tmp/sqlexp, env SQLEXP_DATA) is mounted at /data.
import { pathToFileURL, fileURLToPath } from "node:url";
import { readdirSync } from "node:fs";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const indexURL = path.join(root, "static/vendor/pyodide") + "/";
const data = process.env.SQLEXP_DATA || "/tmp/sqlexp";
const [script, ...args] = process.argv.slice(2);
const { loadPyodide } = await import(pathToFileURL(indexURL + "pyodide.mjs").href);
const py = await loadPyodide({ indexURL, stdout: (l) => console.log(l), stderr: (l) => console.error(l) });
const wheels = readdirSync(path.join(root, "static/vendor/wheels")).filter((n) => n.endsWith(".whl"));
await py.loadPackage(wheels.map((n) => path.join(root, "static/vendor/wheels", n)), { messageCallback: () => {} });
for (const [host, mnt] of [[path.join(root, "py"), "/py"], [here, "/exp"], [data, "/data"]]) {
  py.FS.mkdirTree(mnt);
  py.FS.mount(py.FS.filesystems.NODEFS, { root: host }, mnt);
}
py.globals.set("argv", py.toPy([script, ...args]));
await py.runPythonAsync(`
import sys, runpy
sys.path.insert(0, "/py"); sys.path.insert(0, "/exp")
sys.argv = list(argv)
runpy.run_path("/exp/" + sys.argv[0], run_name="__main__")
`);
