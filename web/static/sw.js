// Chợ Số service worker: keeps the app shell (pages, scripts, styles, icons) on the device, so the
// volunteer app opens from the device with no round trip to the server, and opens in a market hall
// without signal. API calls are never cached here: the app keeps its own offline copies and its
// outbox in IndexedDB/localStorage.
// The server fills in VERSION (a hash of the shipped files, the page template and the pages'
// settings) and ASSETS when it serves /sw.js; a new VERSION installs a new copy of everything and
// the app offers to reload. Scripts and styles are listed by their hashed URLs (`?v=`): they never
// change, so installing takes them from the browser's cache when the page has just loaded them.
// Pages and plain-named files (icons, the manifest) are fetched again (revalidated).

const VERSION = "__VERSION__";
const ASSETS = ["__ASSETS__"];
const CACHE = `choso-${VERSION}`;
// Cached answers are looked up by URL alone: they were compressed on the wire, not in the cache.
const MATCH = { ignoreVary: true };
// Pages kept in the copy made for a device (web/router.py DEVICE_COPY): the volunteer app's page then
// also preloads the worklist's modules, the first screen of a device that is signed in.
const DEVICE_COPIES = { "/": "/?copy=device" };

// Chrome's static routing (InstallEvent.addRoutes): the browser answers these from this version's
// cache, or sends them to the network, without starting this worker first (on a slow tablet that
// takes longer than reading the cache). Elsewhere the fetch handler below does the same.
const ROUTES = [
  { condition: { urlPattern: "/api/*" }, source: "network" },
  ...["/", "/dashboard", "/map"].map((pathname) => ({ condition: { urlPattern: { pathname }, requestMode: "navigate" }, source: { cacheName: CACHE } })),
  ...["js", "css", "icons"].map((dir) => ({ condition: { urlPattern: { pathname: `/static/${dir}/*` } }, source: { cacheName: CACHE } })),
];

self.addEventListener("install", (event) => {
  if (event.addRoutes) event.addRoutes(ROUTES).catch(() => { /* rules this browser does not know: the fetch handler */ });
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const fresh = (url) => new Request(url, { cache: url.includes("?v=") ? "default" : "no-cache" });
    await cache.addAll(ASSETS.filter((url) => !DEVICE_COPIES[url]).map(fresh));
    for (const [url, copy] of Object.entries(DEVICE_COPIES)) {
      const res = await fetch(fresh(copy));
      if (!res.ok) throw new Error(`${copy}: ${res.status}`);
      await cache.put(url, res);
    }
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith("choso-") && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

function shellKey(url) {
  // Every market page is the same shell; the page reads the market id from its address.
  return url.pathname.startsWith("/markets/") ? "/markets/1" : url.pathname;
}

// A page: the shell of this version from the device, at once. It names the scripts of this version,
// which are here too; a newer version arrives through the service worker's own update.
async function page(request) {
  const url = new URL(request.url);
  const cache = await caches.open(CACHE);
  const cached = await cache.match(shellKey(url), MATCH);
  if (cached) return cached;
  try {
    const res = await fetch(request);
    if (res.ok) cache.put(shellKey(url), res.clone());
    return res;
  } catch (err) {
    const home = await cache.match("/", MATCH);
    if (home) return home;
    throw err;
  }
}

async function asset(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request, MATCH);
  if (hit) return hit;
  const res = await fetch(request);
  if (res.ok) cache.put(request, res.clone());
  return res;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname === "/sw.js") return;
  if (request.mode === "navigate") {
    if (["/", "/dashboard", "/map"].includes(url.pathname) || /^\/markets\/\d+$/.test(url.pathname)) event.respondWith(page(request));
    return;
  }
  if (url.pathname.startsWith("/static/") || url.pathname === "/manifest.webmanifest") {
    event.respondWith(asset(request));
  }
});
