// Chợ Số service worker: keeps the app shell (pages, scripts, styles, icons) on the device so the
// volunteer app opens in a market hall without signal. API calls are never cached here: the app
// keeps its own offline copies and its outbox in IndexedDB/localStorage.
// The server fills in VERSION (a hash of the shipped files) and ASSETS when it serves /sw.js.

const VERSION = "__VERSION__";
const ASSETS = ["__ASSETS__"];
const CACHE = `choso-${VERSION}`;
const PAGE_TIMEOUT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(ASSETS.map((url) => new Request(url, { cache: "reload" })));
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

async function page(request) {
  const url = new URL(request.url);
  const cache = await caches.open(CACHE);
  const network = fetch(request).then((res) => {
    if (res.ok) cache.put(shellKey(url), res.clone());
    return res;
  });
  const timeout = new Promise((resolve) => { setTimeout(() => resolve(null), PAGE_TIMEOUT_MS); });
  try {
    const res = await Promise.race([network, timeout]);
    if (res) return res;
  } catch { /* offline: fall back to the cached shell */ }
  const cached = (await cache.match(shellKey(url))) || (await cache.match("/"));
  if (cached) return cached;
  return network;
}

async function asset(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
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
