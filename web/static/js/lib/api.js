// Calls to the Chợ Số API with the signed-in user's bearer token; problem+json errors become ApiError.

const TOKEN_KEY = "choso.token";
const ME_KEY = "choso.me";

export class NetworkError extends Error {
  constructor(message) { super(message || "network"); this.name = "NetworkError"; }
}

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem || {};
    this.code = this.problem.code || (status === 404 ? "not_found" : `http_${status}`);
    this.field = this.problem.field || null;
    this.errors = Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
}

export function token() { return localStorage.getItem(TOKEN_KEY); }
export function setToken(value) { localStorage.setItem(TOKEN_KEY, value); }

export function cachedMe() {
  try { return JSON.parse(localStorage.getItem(ME_KEY) || "null"); } catch { return null; }
}

export function forget() {
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(ME_KEY);
}

/** fetch() with auth; network failure -> NetworkError. Returns the Response. */
export async function request(path, { method = "GET", json, body, headers = {}, auth = true, signal } = {}) {
  const hdrs = new Headers(headers);
  const tok = token();
  if (auth && tok) hdrs.set("Authorization", `Bearer ${tok}`);
  let payload = body;
  if (json !== undefined) {
    hdrs.set("Content-Type", "application/json");
    payload = JSON.stringify(json);
  }
  let res;
  try {
    res = await fetch(path, { method, headers: hdrs, body: payload, cache: "no-store", signal });
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new NetworkError(err && err.message);
  }
  if (res.status === 401 && auth && tok) {
    window.dispatchEvent(new CustomEvent("choso:unauthorized"));
  }
  return res;
}

export async function toError(res) {
  let problem = null;
  try { problem = await res.json(); } catch { problem = null; }
  return new ApiError(res.status, problem);
}

export async function getJSON(path, options = {}) {
  const res = await request(path, options);
  if (!res.ok) throw await toError(res);
  return res.status === 204 ? null : res.json();
}

export async function sendJSON(method, path, json, headers = {}) {
  const res = await request(path, { method, json, headers });
  if (!res.ok) throw await toError(res);
  if (res.status === 204) return { data: null, res };
  const text = await res.text();
  return { data: text ? JSON.parse(text) : null, res };
}

/** True when the error says the route itself does not exist (a feature not deployed yet). */
export function routeMissing(err) {
  return err instanceof ApiError && ((err.status === 404 && err.code === "not_found") || err.status === 405);
}

/** Network trouble or a server-side failure: worth retrying later. */
export function retryable(err) {
  return err instanceof NetworkError || (err instanceof ApiError && (err.status >= 500 || err.status === 429 || err.status === 408));
}

export async function signIn(username, password) {
  const form = new URLSearchParams({ username, password });
  const res = await request("/api/auth/token", {
    method: "POST", body: form, auth: false,
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  if (!res.ok) throw await toError(res);
  const data = await res.json();
  setToken(data.access_token);
  return loadMe();
}

export async function loadMe() {
  const me = await getJSON("/api/users/me");
  localStorage.setItem(ME_KEY, JSON.stringify(me));
  return me;
}

/** End the session on the server (when it can be reached within a few seconds) and forget it here. */
export async function signOut() {
  const stop = new AbortController();
  const timer = window.setTimeout(() => stop.abort(), 5000);
  try { await request("/api/auth/logout", { method: "POST", signal: stop.signal }); } catch { /* offline: forget locally */ }
  window.clearTimeout(timer);
  forget();
}

/** Fetch a file with auth and give back an object URL (revoked after a while). */
export async function blobUrl(path, options = {}) {
  const res = await request(path, options);
  if (!res.ok) throw await toError(res);
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  objectUrls.add(url);
  window.setTimeout(() => { URL.revokeObjectURL(url); objectUrls.delete(url); }, 10 * 60 * 1000);
  return { url, type: blob.type, size: blob.size, headers: res.headers };
}

// Files fetched with auth (QR images, sign PDFs) live as object URLs until revoked.
const objectUrls = new Set();

/** Revoke every object URL made here (sign-out: a sign PDF names the stallholder). */
export function revokeObjectUrls() {
  for (const url of objectUrls) URL.revokeObjectURL(url);
  objectUrls.clear();
}

/**
 * Open an authenticated file (PDF) in a new tab. The tab is opened at the click, before the download,
 * so pop-up blockers allow it; if it is blocked anyway, the file is downloaded instead.
 * Returns what blobUrl does (its headers included).
 */
export async function openFile(path, filename) {
  // An installed app (standalone window) hands files to the system viewer through a download.
  if (window.matchMedia && window.matchMedia("(display-mode: standalone)").matches) {
    return downloadFile(path, filename || "file.pdf");
  }
  const win = window.open("", "_blank");
  try {
    const file = await blobUrl(path);
    const { url } = file;
    if (win && !win.closed) {
      win.location.href = url;
    } else {
      const a = document.createElement("a");
      a.href = url;
      a.download = filename || "";
      document.body.append(a);
      a.click();
      a.remove();
    }
    return file;
  } catch (err) {
    if (win && !win.closed) win.close();
    throw err;
  }
}

/** Download an authenticated file (CSV, GeoJSON) under a file name; `options` as request's
 * (a POST for a file whose making is recorded, such as a person's printed export). */
export async function downloadFile(path, filename, options = {}) {
  const file = await blobUrl(path, options);
  const a = document.createElement("a");
  a.href = file.url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  return file;
}

/** A small localStorage cache for lists the app needs offline. */
export const cache = {
  get(key) {
    try { return JSON.parse(localStorage.getItem(`choso.cache.${key}`) || "null"); } catch { return null; }
  },
  /** `at`: when the value was fetched (a local edit of a cached answer keeps the answer's time). */
  set(key, value, at = Date.now()) {
    try { localStorage.setItem(`choso.cache.${key}`, JSON.stringify({ at, value })); } catch { /* full */ }
  },
  value(key) { const hit = this.get(key); return hit ? hit.value : null; },
  /** Drop entries under a key prefix saved longer ago than maxAgeMs. */
  prune(prefix, maxAgeMs) {
    const now = Date.now();
    for (let i = localStorage.length - 1; i >= 0; i -= 1) {
      const k = localStorage.key(i);
      if (!k || !k.startsWith(`choso.cache.${prefix}`)) continue;
      const hit = this.get(k.slice("choso.cache.".length));
      if (!hit || !(now - hit.at <= maxAgeMs)) localStorage.removeItem(k);
    }
  },
  clearAll() {
    for (let i = localStorage.length - 1; i >= 0; i -= 1) {
      const k = localStorage.key(i);
      if (k && k.startsWith("choso.cache.")) localStorage.removeItem(k);
    }
  },
};

/** GET with an offline fallback to the last good answer. Returns {value, stale, missing}. */
export async function cachedGet(key, path) {
  try {
    const value = await getJSON(path);
    cache.set(key, value);
    return { value, stale: false, missing: false };
  } catch (err) {
    if (routeMissing(err)) return { value: null, stale: false, missing: true };
    const hit = cache.get(key);
    if (hit && (retryable(err) || err instanceof NetworkError)) return { value: hit.value, stale: true, at: hit.at, missing: false };
    throw err;
  }
}
