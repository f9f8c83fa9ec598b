// The service worker that keeps the app working offline (invariant 6).
//
// Why JS, and why at the root: a service worker is a JS file, and its scope is the folder it is served
// from, so it must sit beside index.html to control the whole app.
//
// Strategy: on install, cache every file listed in static/vendor/precache.json (written at set-up).
// The pinned runtime under static/vendor/ never changes for a given lock, so it is served cache-first (no
// 10 MB re-download or re-cache per visit); the app's own files go to the network first, so an updated app
// is picked up when online, and fall back to the cache when the network is gone. Nothing outside the
// origin is ever fetched. A change of the vendor lock must bump CACHE below.

const CACHE = "csv-importer-v1";

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const list = await (await fetch("static/vendor/precache.json", { cache: "no-store" })).json();
    const cache = await caches.open(CACHE);
    await cache.addAll(list.files);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    if (new URL(request.url).pathname.includes("/static/vendor/") && !request.url.endsWith("precache.json")
        && !request.url.endsWith("app.zip")) {
      const cached = await cache.match(request);
      if (cached) return cached;
    }
    try {
      const response = await fetch(request);
      if (response.ok) cache.put(request, response.clone());
      return response;
    } catch (offline) {
      const cached = await cache.match(request, { ignoreSearch: true });
      if (cached) return cached;
      throw offline;
    }
  })());
});
