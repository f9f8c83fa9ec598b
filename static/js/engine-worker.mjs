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
const TAB = crypto.randomUUID(); // this worker's address on the channel
// The page's settings for this worker, JSON in its name (static/js/start-engine.mjs): `boot` and `hooks`.
const settings = (() => {
  try {
    const parsed = JSON.parse(self.name || "{}");
    return parsed !== null && typeof parsed === "object" ? parsed : {};
  } catch (err) {
    return {};
  }
})();
// Test-only hooks (py/worker/hooks.py), as JSON text; "" in production (a text, because a JS null reaches
// Python as `jsnull`, not None).
const testHooks = settings.hooks !== undefined ? JSON.stringify(settings.hooks) : "";

const pending = [];
let deliver = null;
self.onmessage = (event) => {
  const data = event.data;
  if (data !== null && typeof data === "object" && data.kind === "boot") return release();
  return deliver ? deliver(data) : pending.push(data);
};

// When Python may start (docs/storage.md "A first visit: the UI first"): at once, except on a first visit
// (`boot: "after-ui"`), when the page posts `{kind: "boot"}` once its UI is interactive. Until then the worker
// fetches app.zip and the wheels and compiles and runs nothing: on two cores that compile is what kept a first
// visit's UI past a second. (Known from the name, not a message: a message took 5-80 ms to arrive.)
let release = () => {};
const released = settings.boot === "after-ui" ? new Promise((resolve) => (release = resolve)) : null;

const status = (state, message, extra = {}) =>
  self.postMessage(JSON.stringify({ event: "engine:status", data: { state, message, ...extra } }));

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Could not load ${url.pathname || url}: HTTP ${response.status}. Run ./run serve (it fetches the runtime).`);
  return response.arrayBuffer();
}

// Boot phases in milliseconds (and `snapshot`: how Python started), reported in the `ready` status.
const timings = {};
const mark = (name, since) => (timings[name] = Math.round(performance.now() - since));

// The boot snapshot (tools/vendor.py, docs/storage.md "Boot"): gzip of a 64-byte header naming its key and the
// digest of the app.zip it was made from, then a Pyodide memory snapshot with the app's standard-library
// modules and its entry point (worker.main and what it imports) imported. Restoring it replaces Python's
// initialisation and those imports, the longest parts of the engine's start.
const SNAPSHOT_MAGIC = "csv-importer-snapshot ";
const SNAPSHOT_HEADER = 64;

/** 16 hex digits of the sha256 of app.zip's bytes (tools/vendor.py `app_digest`). */
async function appDigest(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Open the snapshot, if build.json names one: resolves `{state}` where there is none to use ("none",
 * "stale": its header names another key than build.json, "stale app": it holds the modules of another
 * app.zip than `appZip`'s, "failed: ..."), or `{state: "found", rest}` once its header matched; `rest`
 * resolves with Pyodide's snapshot (rejects if the file is damaged: the gzip CRC or a short file). Read as it
 * downloads, so Pyodide's own loading goes on meanwhile. `appZip` resolves with the app.zip this worker
 * runs: a snapshot of another one (a page and a bundle of two builds) would run that one's modules. */
async function openSnapshot(appZip) {
  try {
    const build = await (await fetch(new URL("build.json", VENDOR))).json();
    if (typeof build.snapshot !== "string" || !build.snapshot) return { state: "none" };
    const response = await fetch(new URL("snapshot.bin", VENDOR));
    if (!response.ok) return { state: `failed: HTTP ${response.status}` };
    const reader = response.body.pipeThrough(new DecompressionStream("gzip")).getReader();
    const chunks = [];
    let size = 0;
    while (size < SNAPSHOT_HEADER) {
      const { done, value } = await reader.read();
      if (done) return { state: "failed: the file ends in its header" };
      chunks.push(value);
      size += value.length;
    }
    const head = new TextDecoder().decode(join(chunks, size).subarray(0, SNAPSHOT_HEADER));
    const [key, app] = head.slice(SNAPSHOT_MAGIC.length).trim().split(/\s+/);
    if (key !== build.snapshot || !head.startsWith(SNAPSHOT_MAGIC)) {
      reader.cancel();
      return { state: "stale" };
    }
    if (app !== (await appDigest(await appZip))) {
      reader.cancel();
      return { state: "stale app" };
    }
    const rest = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        size += value.length;
      }
      const snapshot = join(chunks, size).subarray(SNAPSHOT_HEADER);
      return snapshot.byteOffset % 4 ? snapshot.slice() : snapshot; // Pyodide reads it as 32-bit words
    })();
    rest.catch(() => {}); // awaited by loadPyodide; its failure is handled there
    return { state: "found", rest };
  } catch (err) {
    return { state: `failed: ${err && err.message ? err.message : err}` };
  }
}

function join(chunks, size) {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  chunks.splice(0, chunks.length, out);
  return out;
}

/** Pyodide from the snapshot when there is a current one, else (none, stale, or its restore failed)
 * initialised as usual; `timings.snapshot` says which. */
async function startPyodide(appZip) {
  const options = { indexURL: new URL("pyodide/", VENDOR).href };
  const snapshot = await openSnapshot(appZip);
  timings.snapshot = snapshot.state;
  if (snapshot.rest) {
    try {
      const pyodide = await loadPyodide({ ...options, _loadSnapshot: snapshot.rest });
      pyodide.runPython("import random; random.seed()"); // the snapshot's generator state is everyone's
      timings.snapshot = "restored";
      return pyodide;
    } catch (err) {
      timings.snapshot = `failed: ${err && err.message ? err.message.split("\n")[0] : err}`;
      console.warn("engine: the boot snapshot could not be restored; starting Python without it.", err);
    }
  }
  return loadPyodide(options);
}

/** Pyodide with the app's Python on its path, and `installWheels()`: installs the wheels (pydantic,
 * charset-normalizer and theirs, fetched meanwhile) with their bytecode, once, and resolves with the
 * milliseconds that took (the `wheels` boot phase). The app's engine opens its
 * database and reports `ready` before they are (py/worker/app.py `lead`; docs/storage.md "Boot"). */
async function bootPython() {
  let t = performance.now();
  // fetch the wheel list, the wheels and the app's Python while Pyodide itself loads
  const wheelList = fetch(new URL("wheels/index.json", VENDOR)).then((r) => r.json());
  // (the wheels into the HTTP cache, or from the service worker's, where loadPackage below finds them; it
  // fetches them anyway, and reports a failure)
  const prefetch = (name) => fetch(new URL(`wheels/${name}`, VENDOR)).then((r) => r.arrayBuffer()).catch(() => {});
  wheelList.then((names) => names.forEach(prefetch)).catch(() => {});
  const appZip = fetchBytes(new URL("app.zip", VENDOR));
  appZip.catch(() => {}); // awaited below; a failure is reported there
  // the wheels' bytecode, compiled at set-up (tools/vendor.py); without it Python compiles at import
  const wheelsBytecode = fetchBytes(new URL("wheels-pyc.zip", VENDOR)).catch(() => null);
  if (released) {
    await released;
    mark("held", t); // a first visit: the UI's start
    t = performance.now();
  }
  const pyodide = await startPyodide(appZip);
  mark("pyodide", t);
  t = performance.now();
  // imported from the zip in place (zipimport; tools/vendor.py APP_IN_WORKER): unpacking its 128 files took
  // 50-200 ms before `ready`. A restored snapshot has it on the path and worker.main imported from it already.
  pyodide.FS.writeFile("/app.zip", new Uint8Array(await appZip));
  pyodide.runPython("import sys\nif '/app.zip' not in sys.path: sys.path.insert(0, '/app.zip')");
  mark("app", t);
  let installing = null;
  const installWheels = () => (installing = installing || (async () => {
    const since = performance.now();
    const wheels = await wheelList;
    await pyodide.loadPackage(wheels.map((name) => new URL(`wheels/${name}`, VENDOR).href), {
      messageCallback: () => {},
    });
    const bytecode = await wheelsBytecode;
    if (bytecode) pyodide.unpackArchive(bytecode, "zip", { extractDir: pyodide._api.sitePackages });
    return Math.round(performance.now() - since);
  })());
  return { pyodide, installWheels };
}

/** The browser services Python reaches through py/worker/js_platform.py. */
function makeBridge(channel) {
  const bridge = {
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
    copy: (file, name, script, hold, wholeBytes) => startCopier(file, name, { script, hold, wholeBytes }, bridge),
    fs: null,
    faults: [], // the test-only storage faults, for the copier too (opfs-fs.mjs); [] in production
  };
  return bridge;
}

// Bytes the copier reads, hashes and writes at a time: a sixteenth of the file, at least 4 MiB (so a small file's
// pass still overlaps its reads with its work) and at most 16 MiB. Each `Blob.slice().arrayBuffer()` read has a
// cost of its own: at 266 MB (two copiers, Start clicked as the preview showed), 16 MiB pieces had the run created
// 3.15 s after Start against 3.7 s with 4 MiB ones (medians of 4, alternated, 2026-12-03).
const copyChunk = (size) => Math.min(16 << 20, Math.max(4 << 20, Math.ceil(size / 16)));
// The largest file the copier reads in one piece and hashes with the browser's native SHA-256 (crypto.subtle has
// no incremental digest): its pass holds about twice this in memory. Larger files are hashed chunk by chunk.
const WHOLE_HASH_BYTES = 64 << 20;
const COPIER_SCRIPT = "copier.mjs"; // (py/worker/js_platform.py COPIER_SCRIPT; a test hook names another)
// A copier started before it is needed (its thread up, its scripts and wasm loaded), so that a picked file's
// pass begins at once: one when the engine is ready, then one after each pass.
let spareCopier = null;

/** Start a copier worker (static/js/copier.mjs) from `script` (relative to this file): `{script, worker,
 * reply}`, where `reply` resolves with its one reply, or `{kind: "failed"}` when it cannot start (the script
 * did not load: that error may come before any pass is asked of it). It is ended once it replied. */
function launchCopier(script) {
  const worker = new Worker(new URL(script, import.meta.url), { type: "module", name: "copier" });
  const reply = new Promise((resolve) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      resolve({ kind: "failed", message: `the copier did not start (${event.message || "its script did not load"})` });
    };
  });
  reply.then(() => worker.terminate());
  return { script, worker, reply };
}

/** A pass over `file` in a copier (the spare one if it runs `script`): hash it and, when `name` is not null,
 * copy it into the storage directory as `name`. Returns `{result, stopCopying()}`, `result` the copier's
 * reply. A file hashed chunk by chunk (larger than `wholeBytes`) that is copied gets two copiers, one hashing
 * and one writing, in parallel (`splitPass`). `hold` (test-only): the copier waits after its first chunk until
 * it is told to stop copying; `wholeBytes` (test-only; null: WHOLE_HASH_BYTES): the largest file hashed in one
 * piece. */
function startCopier(file, name, { script, hold, wholeBytes }, bridge) {
  const copier = spareCopier && spareCopier.script === script ? spareCopier : launchCopier(script);
  if (spareCopier && spareCopier !== copier) spareCopier.worker.terminate();
  spareCopier = null;
  const directory = bridge.fs ? bridge.fs.directory : null;
  const pass = { kind: "pass", file, directory, name: directory ? name : null, chunk: copyChunk(file.size),
                 wholeBytes: wholeBytes ?? WHOLE_HASH_BYTES, faults: bridge.faults, hold: Boolean(hold) };
  const job = pass.name && file.size > pass.wholeBytes ? splitPass(launchCopier(script), copier, pass)
    : (copier.worker.postMessage(pass), { result: copier.reply, stopCopying: () => stopCopier(copier) });
  job.result.then(() => (spareCopier = spareCopier || launchCopier(script))); // not before: the CPU is this pass's
  return job;
}

const stopCopier = (copier) => copier.worker.postMessage({ kind: "stop-copying" });

/** `pass` made by two copiers on two cores: `hasher` reads and hashes the file, `writer` reads and writes the
 * copy, so the pass takes the longer of the two instead of their sum. One reply, as one copier's: the
 * hasher's failure (its copy then dropped: the engine makes the pass itself) or read error first, then the
 * writer's; else the hasher's sha256 with the writer's copy. The writes take longer than the hash here, so the
 * writer is the copier started ahead, and the hasher the one started now. */
function splitPass(hasher, writer, pass) {
  hasher.worker.postMessage({ ...pass, name: null, hold: false });
  writer.worker.postMessage({ ...pass, hash: false });
  hasher.reply.then((reply) => reply.kind !== "done" && stopCopier(writer));
  const result = Promise.all([hasher.reply, writer.reply]).then(([hashed, written]) => {
    if (hashed.kind !== "done") return hashed;
    if (written.kind === "read-error") return written;
    if (written.kind !== "done") return { ...hashed, error: written.message }; // no copy: the job stages
    return { ...hashed, hashedBy: `${hashed.hashedBy} (a second copier)`, copied: written.copied,
             error: written.error };
  });
  return { result, stopCopying: () => stopCopier(writer) };
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
  const { pyodide, installWheels } = await bootPython();
  bridge.heapBytes = () => pyodide._module.HEAPU8.length;
  if (testHooks) await installWheels(); // the test hooks are validated with pydantic (py/worker/hooks.py)
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
      const faults = testHooks ? JSON.parse(pyodide.pyimport("worker.hooks").storage_faults_json(testHooks)) : [];
      bridge.faults = faults;
      bridge.fs = await mountOpfs(pyodide, "/opfs", { pinned: [DB_NAME, `${DB_NAME}-journal`], faults });
      mark("opfs", t);
      t = performance.now();
      await app.lead(`/opfs/${DB_NAME}`, timings, installWheels); // installs them once `ready`
      spareCopier = spareCopier || launchCopier(COPIER_SCRIPT); // for the first picked file
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
