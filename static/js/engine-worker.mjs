// The engine worker's entry point: loads Pyodide and the app's Python, takes the engine lock, mounts OPFS.
//
// Why JS: a Worker starts from a JS module, Pyodide is loaded from JS, and the Web Lock, OPFS handles and
// BroadcastChannel are browser APIs. Everything after boot (the protocol, the engine, the importer) is
// Python in py/worker; this file only wires the browser's pieces to it (bridge below).

import { loadPyodide } from "../vendor/pyodide/pyodide.mjs";
import { mountOpfs } from "./opfs-fs.mjs";

const ENGINE_LOCK = "csv-importer-engine";
const EVENTS_CHANNEL = "csv-importer-events";
const DB_NAME = "importer.sqlite";
const VENDOR = new URL("../vendor/", import.meta.url);
const HOOKS_PREFIX = "test-hooks:";
// Test-only hooks (py/worker/hooks.py) arrive as JSON in the worker's name; "" in production (a text, because
// a JS null reaches Python as `jsnull`, not None).
const testHooks = self.name.startsWith(HOOKS_PREFIX) ? self.name.slice(HOOKS_PREFIX.length) : "";

const pending = [];
let deliver = null;
self.onmessage = (event) => (deliver ? deliver(event.data) : pending.push(event.data));

const status = (state, message, extra = {}) =>
  self.postMessage(JSON.stringify({ event: "engine:status", data: { state, message, ...extra } }));

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Could not load ${url.pathname || url}: HTTP ${response.status}. Run ./run serve (it fetches the runtime).`);
  return response.arrayBuffer();
}

const timings = {};
const mark = (name, since) => (timings[name] = Math.round(performance.now() - since));

async function bootPython() {
  let t = performance.now();
  // fetch the wheel list and the app's Python while Pyodide itself loads
  const wheelList = fetch(new URL("wheels/index.json", VENDOR)).then((r) => r.json());
  const appZip = fetchBytes(new URL("app.zip", VENDOR));
  const pyodide = await loadPyodide({ indexURL: new URL("pyodide/", VENDOR).href });
  mark("pyodide", t);
  t = performance.now();
  const wheels = await wheelList;
  await pyodide.loadPackage(wheels.map((name) => new URL(`wheels/${name}`, VENDOR).href), {
    messageCallback: () => {},
  });
  mark("wheels", t);
  t = performance.now();
  pyodide.unpackArchive(await appZip, "zip", { extractDir: "/app" });
  pyodide.runPython("import sys; sys.path.insert(0, '/app')");
  mark("app", t);
  return pyodide;
}

/** The browser services Python reaches through py/worker/js_platform.py. */
function makeBridge(channel) {
  return {
    post: (text) => self.postMessage(text),
    postWithBlob: (text, blob) => self.postMessage({ json: text, blob }),
    broadcast: (text) => channel.postMessage(text),
    readSlice: async (blob, start, end) => new Uint8Array(await blob.slice(start, end).arrayBuffer()),
    estimate: () => navigator.storage.estimate(),
    heapBytes: () => 0,
    persisted: () => (navigator.storage.persisted ? navigator.storage.persisted() : Promise.resolve(false)),
    fs: null,
  };
}

/** Ask for the engine lock; resolves true once held (held until the worker dies), false if busy. */
function requestEngineLock(options, onAcquired) {
  return new Promise((resolve, reject) => {
    navigator.locks
      .request(ENGINE_LOCK, options, async (lock) => {
        if (!lock) return resolve(false);
        resolve(true);
        await onAcquired();
        await new Promise(() => {}); // keep the lock for the worker's lifetime
      })
      .catch(reject);
  });
}

async function main() {
  status("booting", "Loading Python…");
  const channel = new BroadcastChannel(EVENTS_CHANNEL);
  const bridge = makeBridge(channel);
  const pyodide = await bootPython();
  bridge.heapBytes = () => pyodide._module.HEAPU8.length;
  let t = performance.now();
  const app = pyodide.pyimport("worker.main").create_app(bridge, testHooks);
  mark("imports", t);
  deliver = (data) => app.receive(data);
  pending.splice(0).forEach(deliver);
  channel.onmessage = (event) => app.on_broadcast(event.data);

  const lead = async () => {
    try {
      status("booting", "Opening storage…");
      let t = performance.now();
      // test-only storage faults (py/worker/hooks.py), validated, defaults filled; [] in production
      const faults = JSON.parse(pyodide.pyimport("worker.hooks").storage_faults_json(testHooks));
      bridge.fs = await mountOpfs(pyodide, "/opfs", { pinned: [DB_NAME, `${DB_NAME}-journal`], faults });
      mark("opfs", t);
      t = performance.now();
      await app.lead(`/opfs/${DB_NAME}`, timings);
    } catch (err) {
      status("error", String(err && err.message ? err.message : err));
    }
  };
  if (!(await requestEngineLock({ ifAvailable: true }, lead))) {
    app.follow();
    await requestEngineLock({}, lead);
  }
}

main().catch((err) => status("error", `The engine could not start: ${err && err.message ? err.message : err}`));
