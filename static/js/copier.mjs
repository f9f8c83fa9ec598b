// The copier: one pass over a picked file, on a thread of its own, that hashes it (sha256) and copies it
// into the storage directory ahead of Start (py/worker/sources.py, docs/storage.md "Staged copies").
//
// Why JS: the engine worker's one thread runs Python (the preview, the type scan, the engine); this pass only
// moves bytes, so a small dedicated worker started by the engine worker does it on the second core. It writes
// with its own OPFS sync access handle, `chunk` bytes at a time. A file of at most `wholeBytes` is read in one
// piece and hashed by the browser's own SHA-256 (`crypto.subtle.digest`, native code on a thread of the
// browser's, 3-6 times hash-wasm's speed) while the copy is written; a larger one is read a chunk at a time
// (Blob.slice, off-thread), the next chunk read while this one is hashed with hash-wasm (WebAssembly,
// sha256.umd.min.js pinned in vendor.lock.json; incremental, so memory stays flat) and written. It runs no
// Python and touches nothing but its one file.
//
// A file larger than `wholeBytes` that is copied takes two copiers (engine-worker.mjs `startCopier`): one only
// hashes (`name` null), the other only writes (`hash` false), each reading the file on its own, so the hash
// and the writes run on two cores instead of one after the other (at 250 MB here, hash-wasm 1.1-1.3 s and the
// writes 1.3-2.0 s).
//
// Protocol (static/js/engine-worker.mjs `copy`): one `pass` message {file, directory, name, chunk, wholeBytes,
// hash, faults, hold} (`name` null: only hash; `hash` false: only write, ending early once the copy is dropped;
// test-only: `faults`, the storage faults of opfs-fs.mjs, and `hold`, wait after the first chunk until told to
// stop copying), then maybe `stop-copying` (another file was picked: drop the copy, hash on). One reply, then
// the engine terminates this worker:
//   {kind: "done", sha256, hashedBy, copied, error}  copied false: no name, stopped, or a write failed (error
//                                          says why), the partial file removed; hashedBy "webcrypto" | "hash-wasm"
//                                          ("" and sha256 "" when `hash` is false)
//   {kind: "read-error", message}          the File could not be read: the pass fails, no copy is left
//   {kind: "failed", message}              the copier could not work (no wasm, say): the engine hashes itself

import { faultSwitch } from "./opfs-fs.mjs";

// hash-wasm's sha256, loaded only for a pass that needs it (a file larger than `wholeBytes`, or a failed
// digest): the spare copier started ahead (engine-worker.mjs `spareCopier`) then costs no wasm compile
let hasherReady = null;
const loadHasher = () => (hasherReady ??= import("../vendor/hash-wasm/sha256.umd.min.js") // a UMD bundle:
  .then(() => globalThis.hashwasm.createSHA256())); // it defines globalThis.hashwasm
let stopCopying = false;
let stop;
const stopped = new Promise((resolve) => (stop = resolve));

self.onmessage = (event) => {
  const message = event.data;
  if (message && message.kind === "stop-copying") {
    stopCopying = true;
    stop();
  }
  else if (message && message.kind === "pass") pass(message).then((reply) => self.postMessage(reply));
};

const describe = (err) => (err && err.name ? `${err.name}: ${err.message}` : String(err));

/** Read, hash and (while allowed) write `file`; resolves with the one reply. */
async function pass({ file, directory, name, chunk, wholeBytes, hash = true, faults, hold }) {
  let whole = null; // the whole file, when it is hashed by crypto.subtle
  let digest = null; // that hash, computed off this thread while the copy is written
  if (hash && file.size > 0 && file.size <= wholeBytes && globalThis.crypto?.subtle) {
    try {
      whole = new Uint8Array(await file.arrayBuffer());
    } catch (err) {
      return { kind: "read-error", message: describe(err) };
    }
    digest = crypto.subtle.digest("SHA-256", whole);
    digest.catch(() => {}); // awaited after the copy; a failure falls back to hash-wasm there
  }
  let hasher = null;
  if (hash && !whole) {
    try {
      hasher = await loadHasher();
    } catch (err) {
      return unavailable(err);
    }
  }
  const fault = faultSwitch(faults); // test-only: null in production
  let handle = null;
  let error = "";
  const drop = async (reason) => { // the copy is given up: the partial file goes, the pass hashes on
    error = error || reason;
    try { handle?.close(); } catch { /* closed already */ }
    handle = null;
    await directory.removeEntry(name).catch(() => {}); // never created: nothing to remove
  };
  const write = (data, at) => {
    if (fault) fault("write", name);
    if (handle.write(data, { at }) !== data.length) throw new Error("the storage wrote less than asked");
  };
  if (name) {
    try {
      handle = await (await directory.getFileHandle(name, { create: true })).createSyncAccessHandle();
      handle.truncate(0);
    } catch (err) {
      await drop(describe(err));
    }
  }
  const read = (at) => (whole ? Promise.resolve(whole.subarray(at, at + chunk))
    : file.slice(at, Math.min(at + chunk, file.size)).arrayBuffer().then((bytes) => new Uint8Array(bytes)));
  let ahead = file.size > 0 && (hash || handle) ? read(0) : null;
  for (let at = 0; at < file.size && (hash || handle); at += chunk) { // a write-only pass ends with its copy
    let data;
    try {
      data = await ahead;
    } catch (err) {
      if (handle) await drop("");
      return { kind: "read-error", message: describe(err) };
    }
    ahead = at + chunk < file.size ? read(at + chunk) : null;
    ahead?.catch(() => {}); // (awaited next turn; a failure is reported there)
    hasher?.update(data);
    if (handle && stopCopying) await drop("");
    try {
      if (handle) write(data, at);
    } catch (err) {
      await drop(describe(err));
    }
    if (hold && handle && at + chunk < file.size) await stopped; // test-only: mid-copy until another pick
  }
  let copied = false;
  try {
    if (handle) {
      if (fault) fault("flush", name);
      handle.flush();
      handle.close();
      handle = null;
      copied = true;
    }
  } catch (err) {
    await drop(describe(err));
  }
  if (whole) {
    try {
      return { kind: "done", sha256: hex(await digest), hashedBy: "webcrypto", copied, error };
    } catch { // the digest failed: hash-wasm hashes the bytes read
      try {
        hasher = await loadHasher();
      } catch (err) {
        return unavailable(err);
      }
      hasher.update(whole);
    }
  }
  if (!hasher) return { kind: "done", sha256: "", hashedBy: "", copied, error }; // a write-only pass
  return { kind: "done", sha256: hasher.digest("hex"), hashedBy: "hash-wasm", copied, error };
}

const unavailable = (err) => ({ kind: "failed", message: `sha256 is not available here (${describe(err)})` });

const hex = (buffer) => Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");
