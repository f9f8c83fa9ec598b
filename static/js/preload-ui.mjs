// Has the browser fetch, as early as it can, every file PyScript needs to start the UI, in the order it needs
// them: the modules it imports before starting an interpreter (its config's TOML parser, its plugins),
// MicroPython and its WebAssembly, the UI's entry point and its modules, as listed by set-up in
// static/vendor/ui-preload.json (tools/vendor.py). index.html loads this as an `async` module: it runs as soon
// as it arrives, not after the parse.
//
// Why JS: PyScript fetches them one stage after another (its config, its parser, its plugins, then the
// interpreter, then the 30 modules once the interpreter runs): on a first visit the modules started ~0.85 s
// after navigation. A preload link fetches them all at once; PyScript's own requests (and imports) are then
// answered from the preload cache. The browser fetches six at a time from one origin, so the order is kept:
// the chunks first, the modules last. The list is the build's (bytecode or sources; chunk
// names carry a hash), so it is read, not written here. Without it the page starts as before: nothing here
// is needed, only sooner.
fetch(new URL("../vendor/ui-preload.json", import.meta.url))
  .then((response) => (response.ok ? response.json() : []))
  .then((urls) => {
    for (const url of Array.isArray(urls) ? urls : []) {
      if (typeof url !== "string") continue;
      const link = document.createElement("link");
      if (url.endsWith(".mjs") || url.endsWith(".js")) {
        link.rel = "modulepreload";
      } else {
        link.rel = "preload";
        link.as = "fetch";
        link.crossOrigin = "anonymous"; // as PyScript's fetch() asks: same-origin, so the preload is used
      }
      link.href = url;
      document.head.append(link);
    }
  })
  .catch((err) => console.warn("The UI's files are fetched without preloading:", err));
