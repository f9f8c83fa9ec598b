// The engine worker's entry point: loads Pyodide and the app's Python, takes the engine lock, mounts OPFS.
//
// Why JS: a Worker starts from a JS module, Pyodide is loaded from JS, and the Web Lock, OPFS handles and
// BroadcastChannel are browser APIs. Everything after boot (the protocol, the engine, the importer) is
// Python in py/worker; this file only wires the browser's pieces to it (bridge below).
//
// Tabs: one BroadcastChannel carries the leader's events (JSON texts) and, as objects, the messages between
// the workers of the tabs (docs/protocol.md "Tabs"): a follower's forwarded requests (`request`, with the
// picked File), the leader's replies to them (`reply`, addressed to a tab, with a download's Blob), the
// leader's announcements of its state (`leader`) and a follower's question who leads (`hello`). One channel
// keeps a tab's replies and the leader's events in the order the leader sent them.

import { loadPyodide } from "../vendor/pyodide/pyodide.mjs";
import { mountOpfs } from "./opfs-fs.mjs";

const ENGINE_LOCK = "csv-importer-engine";
const EVENTS_CHANNEL = "csv-importer-events";
const DB_NAME = "importer.sqlite";
const VENDOR = new URL("../vendor/", import.meta.url);
const HOOKS_PREFIX = "test-hooks:";
const TAB = crypto.randomUUID(); // this worker's address on the channel
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
    forward: (text, file) => channel.postMessage({ kind: "request", from: TAB, json: text, file: file ?? undefined }),
    replyTo: (tab, text, blob) => channel.postMessage({ kind: "reply", to: tab, json: text, blob: blob ?? undefined }),
    announce: (state, message) => channel.postMessage({ kind: "leader", from: TAB, state, message }),
    askLeader: () => channel.postMessage({ kind: "hello", from: TAB }),
    readSlice: async (blob, start, end) => new Uint8Array(await blob.slice(start, end).arrayBuffer()),
    estimate: () => navigator.storage.estimate(),
    heapBytes: () => 0,
    // a timer task, not Pyodide's MessageChannel: the page's messages queued meanwhile run first
    nextTask: () => new Promise((resolve) => setTimeout(resolve, 0)),
    persisted: () => (navigator.storage.persisted ? navigator.storage.persisted() : Promise.resolve(false)),
    fs: null,
  };
}

/** Hand one channel message to the app: an event text, or a message between the tabs' workers. Anything
 * else is ignored; the app checks every field again (any script of the origin can post here). */
function fromChannel(app, data) {
  if (typeof data === "string") return app.on_broadcast(data);
  if (data === null || typeof data !== "object") return;
  const file = data.file instanceof File ? data.file : undefined;
  const blob = data.blob instanceof Blob ? data.blob : undefined;
  if (data.kind === "request") app.on_forwarded(data.from, data.json, file);
  else if (data.kind === "reply" && data.to === TAB) app.on_forwarded_reply(data.json, blob);
  else if (data.kind === "leader") app.on_leader(data.from, data.state, data.message);
  else if (data.kind === "hello") app.on_hello();
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
  channel.onmessage = (event) => fromChannel(app, event.data);

  const lead = async () => {
    try {
      app.begin_lead(); // announced at once, so the other tabs know the engine moved here
      let t = performance.now();
      // test-only storage faults (py/worker/hooks.py), validated, defaults filled; [] in production
      const faults = JSON.parse(pyodide.pyimport("worker.hooks").storage_faults_json(testHooks));
      bridge.fs = await mountOpfs(pyodide, "/opfs", { pinned: [DB_NAME, `${DB_NAME}-journal`], faults });
      mark("opfs", t);
      t = performance.now();
      await app.lead(`/opfs/${DB_NAME}`, timings);
    } catch (err) {
      app.lead_failed(String(err && err.message ? err.message : err));
    }
  };
  if (!(await requestEngineLock({ ifAvailable: true }, lead))) {
    app.follow();
    await requestEngineLock({}, lead);
  }
}

main().catch((err) => status("error", `The engine could not start: ${err && err.message ? err.message : err}`));
