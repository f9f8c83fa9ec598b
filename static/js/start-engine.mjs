// Starts the engine worker as soon as the page is parsed, in parallel with PyScript loading the UI (on a first
// visit its Python waits for the UI: below), and keeps a file dropped on the page before the UI is up (the UI
// takes it with `window.takeEarlyDrop()`).
//
// Why JS: the UI (MicroPython via PyScript) is ready ~0.3-0.5 s after the page, and Pyodide's boot in the
// worker is the longest part of start-up; starting the worker here instead of from the UI takes that wait
// off "engine ready". Messages the worker sends before the UI is listening are kept, in order, in
// `window.engineEarlyMessages` for py/ui/boot.py to take.

// The worker's settings, as JSON in its `name` (read by static/js/engine-worker.mjs before it does anything):
// `boot: "after-ui"` on a first visit (below), and, test-only, `hooks`: a browser test may set
// `window.__csvImporterTestHooks` with an init script before this runs (tests/browser/support.py
// `set_test_hooks`; docs/ui.md). Nothing in the app sets hooks; after a first visit the worker has no name.
const STARTED_KEY = "csv-importer:engine-started";
const startedBefore = () => {
  try {
    return localStorage.getItem(STARTED_KEY) !== null;
  } catch (err) {
    return true; // no storage to remember with: every visit would be a first one
  }
};
const firstVisit = !startedBefore();
const hooks = window.__csvImporterTestHooks;
const settings = { ...(firstVisit ? { boot: "after-ui" } : {}), ...(hooks !== undefined ? { hooks } : {}) };
const options = { type: "module" };
if (Object.keys(settings).length) options.name = JSON.stringify(settings);
const worker = new Worker(new URL("./engine-worker.mjs", import.meta.url), options);
const early = [];
worker.onmessage = (event) => early.push(event);
worker.onerror = (event) => early.push(event);
window.engineWorker = worker;
window.engineEarlyMessages = early;

// When a first visit's worker may start Python (docs/storage.md "A first visit: the UI first"). V8 has none of
// the runtime compiled then: compiling its 10 MB of WebAssembly took the two cores the UI needed, which was
// interactive at ~1.0 s instead of ~0.7 s. So the worker waits for `{kind: "boot"}`, posted once the UI is
// up (PyScript's `mpy:done`) or after `FIRST_VISIT_WAIT_MS` (a UI that does not start: the engine still
// boots). Any later visit (localStorage remembers that the engine was started here) boots at once.
// `window.engineBoot` says when and why (for the tests and the benchmark).
const FIRST_VISIT_WAIT_MS = 3000;
const bootEngine = (reason) => {
  if (window.engineBoot) return;
  window.engineBoot = { reason, at: performance.now() };
  if (firstVisit) worker.postMessage({ kind: "boot" });
  try {
    localStorage.setItem(STARTED_KEY, "1");
  } catch (err) { /* as in startedBefore: nothing to remember with */ }
};
if (firstVisit) {
  document.addEventListener("mpy:done", () => bootEngine("after the UI"), { once: true });
  setTimeout(() => bootEngine("waited long enough"), FIRST_VISIT_WAIT_MS);
} else {
  bootEngine("at once");
}

// A file dropped before the UI listens would make the browser open it in place of the app: keep it instead.
// The file input needs nothing: the UI reads what it holds when it starts (py/ui/views/importer.py).
let earlyDrop;
const onDragOver = (event) => event.preventDefault();
const onDrop = (event) => {
  event.preventDefault();
  earlyDrop = event.dataTransfer?.files?.[0] ?? earlyDrop;
};
document.addEventListener("dragover", onDragOver);
document.addEventListener("drop", onDrop);
window.takeEarlyDrop = () => {
  document.removeEventListener("dragover", onDragOver);
  document.removeEventListener("drop", onDrop);
  window.takeEarlyDrop = () => null;
  const file = earlyDrop ?? null;
  earlyDrop = undefined;
  return file;
};
