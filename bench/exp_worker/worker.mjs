// Dedicated module worker: loads the vendored Pyodide, installs the vendored wheels, unpacks py/importer at
// /py, copies bench.csv into MEMFS at /data/bench.csv, and runs the script; every output line goes to the page.
const post = (line) => self.postMessage({ line });
self.onmessage = async (e) => {
  const { script, args, nojspi, sync } = e.data;
  try {
    if (nojspi) { delete WebAssembly.Suspending; delete WebAssembly.Suspender; }
    post(`worker: ${navigator.userAgent} JSPI ${typeof WebAssembly.Suspending} hc ${navigator.hardwareConcurrency}`);
    const t0 = performance.now();
    const { loadPyodide } = await import("../pyodide/pyodide.mjs");
    const py = await loadPyodide({ indexURL: new URL("../pyodide/", import.meta.url).href,
                                   stdout: post, stderr: (l) => post("ERR " + l) });
    const wheels = (await (await fetch("../wheels/index.json")).json());
    await py.loadPackage(wheels.map((n) => new URL(`../wheels/${n}`, import.meta.url).href), { messageCallback: () => {} });
    py.unpackArchive(await (await fetch("../py.zip")).arrayBuffer(), "zip", { extractDir: "/py" });
    py.FS.mkdirTree("/exp");
    py.FS.writeFile("/exp/" + script, new Uint8Array(await (await fetch(script)).arrayBuffer()));
    py.FS.mkdirTree("/data");
    py.FS.writeFile("/data/bench.csv", new Uint8Array(await (await fetch("../data/bench.csv")).arrayBuffer()));
    post(`worker: set up in ${Math.round(performance.now() - t0)} ms; jspiSupported ${py._module.jspiSupported}; sync ${sync}`);
    py.globals.set("argv", py.toPy([script, ...args]));
    const code = `
import sys, runpy
sys.argv = list(argv)
runpy.run_path("/exp/" + sys.argv[0], run_name="__main__")
`;
    if (sync) py.runPython(code); else await py.runPythonAsync(code);
    self.postMessage({ done: "ok" });
  } catch (err) {
    post("ERROR " + (err && err.stack ? err.stack : err));
    self.postMessage({ done: "error" });
  }
};
