// Registers sw.js (it keeps the app working offline) for the version the server has now, as
// `sw.js?v=<version>`, the content hash in static/vendor/precache.json; the UI (py/ui/boot.py) calls
// `window.registerServiceWorker(onUpdateReady)` once the engine is ready, so the precache does not slow the
// boot. `onUpdateReady(registration)` runs when a new version has installed and waits behind the one in
// control (the UI shows its update prompt then). Skipped where service workers are missing and, offline,
// when the version cannot be read: the installed version keeps serving.
//
// Why JS and not the UI's Python: the page's MicroPython (1.28) can free a JS object that a Python callback
// returns to JavaScript before JavaScript reads it (a collection that was pending runs as the call returns;
// micropython/micropython#19141 fixes it upstream). A promise chain built in Python hands each step's
// return value to the next, so the registration step sometimes got `undefined` instead of precache.json's
// listing, and the page stayed without a service worker (docs/ui.md "Callbacks return nothing to JS").
const PRECACHE = "static/vendor/precache.json";

const watch = (container, registration, onUpdateReady) => {
  if (registration.waiting && container.controller) onUpdateReady(registration);
  registration.onupdatefound = () => {
    const worker = registration.installing;
    if (!worker) return;
    worker.onstatechange = () => {
      if (worker.state === "installed" && container.controller) onUpdateReady(registration);
    };
  };
};

const registerServiceWorker = async (onUpdateReady) => {
  const container = navigator.serviceWorker;
  if (!container) return;
  try {
    const response = await fetch(PRECACHE, { cache: "no-store" });
    const { version } = await response.json();
    if (!version) return;
    watch(container, await container.register(`sw.js?v=${version}`), onUpdateReady);
  } catch (err) {
    console.warn("sw.js:", err);
  }
};

window.registerServiceWorker = registerServiceWorker;
