// The service worker that keeps the app working offline (invariant 6) and updates it safely.
//
// Why JS, and why at the root: a service worker is a JS file, and its scope is the folder it is served
// from, so it must sit beside index.html to control the whole app.
//
// One version at a time. The page registers `sw.js?v=<version>`, where the version is the content hash
// static/vendor/precache.json carries (tools/vendor.py: every precached file's sha256, the runtime of
// vendor.lock.json and the app bundle included). Each version precaches every listed file into its own
// cache, `csv-importer-<version>`, and serves them cache-first, so a page, its UI and its engine worker
// always run the files of one version, never a mix. A new version installs in the background and then
// WAITS: no skipWaiting on install. The page shows an update prompt; its button posts
// {type: "activate-update"}, the new version takes over, and the page reloads into it (an import running
// meanwhile resumes after the reload). Otherwise it takes over once every tab of the app has closed.
// Nothing outside the origin is ever fetched.

const VERSION = new URL(self.location.href).searchParams.get("v") || "unversioned";
const PREFIX = "csv-importer-";
const CACHE = PREFIX + VERSION;
const PRECACHE = "static/vendor/precache.json";

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const list = await (await fetch(PRECACHE, { cache: "no-store" })).json();
    if (VERSION !== "unversioned" && list.version !== VERSION) {
      throw new Error(`sw.js?v=${VERSION}: the server now has version ${list.version}; not installing a mix`);
    }
    const cache = await caches.open(CACHE);
    await cache.addAll(list.files.map((file) => new Request(file, { cache: "reload" })));
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "activate-update") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    if (url.pathname.endsWith("/" + PRECACHE)) {  // the version check: the network's, else this version's
      try { return await fetch(request); } catch (offline) {
        return (await cache.match(request, { ignoreSearch: true })) || Response.error();
      }
    }
    const cached = await cache.match(request, { ignoreSearch: true });
    return cached || fetch(request);
  })());
});
