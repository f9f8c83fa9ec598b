// Starts the engine worker as soon as the page is parsed, in parallel with PyScript loading the UI.
//
// Why JS: the UI (MicroPython via PyScript) is ready ~0.3-0.5 s after the page, and Pyodide's boot in the
// worker is the longest part of start-up; starting the worker here instead of from the UI takes that wait
// off "engine ready". Messages the worker sends before the UI is listening are kept, in order, in
// `window.engineEarlyMessages` for py/ui/boot.py to take.

const worker = new Worker(new URL("./engine-worker.mjs", import.meta.url), { type: "module" });
const early = [];
worker.onmessage = (event) => early.push(event);
worker.onerror = (event) => early.push(event);
window.engineWorker = worker;
window.engineEarlyMessages = early;
