// A promise wrapper over IndexedDB with two stores: the outbox (records waiting to be sent) and a
// key-value store. Falls back to localStorage when IndexedDB is unavailable (some private modes).

const NAME = "choso";
const VERSION = 1;
let opening = null;

function open() {
  if (opening) return opening;
  opening = new Promise((resolve, reject) => {
    if (!("indexedDB" in window)) { reject(new Error("no indexedDB")); return; }
    const req = indexedDB.open(NAME, VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "id" });
      if (!db.objectStoreNames.contains("kv")) db.createObjectStore("kv", { keyPath: "k" });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error("indexedDB blocked"));
  }).catch((err) => { opening = null; throw err; });
  return opening;
}

function tx(store, mode, fn) {
  return open().then((db) => new Promise((resolve, reject) => {
    const t = db.transaction(store, mode);
    const os = t.objectStore(store);
    let result;
    const req = fn(os);
    if (req) req.onsuccess = () => { result = req.result; };
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  }));
}

// localStorage fallback: one JSON object per store.
const fallback = {
  load(store) { try { return JSON.parse(localStorage.getItem(`choso.idb.${store}`) || "{}"); } catch { return {}; } },
  save(store, data) { localStorage.setItem(`choso.idb.${store}`, JSON.stringify(data)); },
};
const keyOf = (store, value) => (store === "kv" ? value.k : value.id);

export async function all(store) {
  try { return (await tx(store, "readonly", (os) => os.getAll())) || []; } catch {
    return Object.values(fallback.load(store));
  }
}

export async function get(store, key) {
  try { return await tx(store, "readonly", (os) => os.get(key)); } catch {
    return fallback.load(store)[key];
  }
}

export async function put(store, value) {
  try { await tx(store, "readwrite", (os) => os.put(value)); } catch {
    const data = fallback.load(store);
    data[keyOf(store, value)] = value;
    fallback.save(store, data);
  }
  return value;
}

export async function del(store, key) {
  try { await tx(store, "readwrite", (os) => os.delete(key)); } catch {
    const data = fallback.load(store);
    delete data[key];
    fallback.save(store, data);
  }
}

/** Empty every store (sign-out): nothing a volunteer typed stays on the device. */
export async function clearAll() {
  for (const store of ["outbox", "kv"]) {
    try { await tx(store, "readwrite", (os) => os.clear()); } catch { /* no IndexedDB: the fallback below */ }
    localStorage.removeItem(`choso.idb.${store}`);
  }
}

export async function kvGet(k) { const row = await get("kv", k); return row ? row.v : undefined; }
export async function kvSet(k, v) { return put("kv", { k, v }); }
