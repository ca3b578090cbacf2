// The outbox: registrations and edits made on this device, kept in IndexedDB until the server has
// them. Each record carries the Idempotency-Key made when the volunteer tapped Save, so sending it
// again (after a lost answer, a closed tab, a flaky hall) can never create a second stall.
//
// States: queued (waiting) -> sending -> sent | failed (the server refused it: the reason is kept and
// the record can be edited) ; network errors and 5xx put it back to queued with a growing delay.
//
// Personal data stays only as long as it is needed: once the server has a record, what is kept is a
// receipt (kind, stall code, stall id, times) without the body (name, phone, account number, any
// CCCD); signing out empties the store altogether (wipe()).

import * as idb from "./idb.js";
import { cachedMe, request, toError, token, NetworkError } from "./api.js";
import { uuid } from "./text.js";

const STORE = "outbox";
const BASE_DELAY_MS = 5000;
const MAX_DELAY_MS = 5 * 60 * 1000;
const KEEP_SENT_MS = 3 * 24 * 3600 * 1000;
const TICK_MS = 15000;
// How long a volunteer waits for the answer to a change sent now (sendOne): longer, and it stays
// in the queue, "saved on this device", and the answer is taken when it comes.
const SEND_WAIT_MS = 8000;
const SEND_TIMEOUT_MS = 45000;
let running = null;
let started = false;

function emit(name = "choso:outbox", detail = {}) {
  window.dispatchEvent(new CustomEvent(name, { detail }));
}

function backoff(attempts) {
  const base = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

function mine(rec) {
  const me = cachedMe();
  return !!me && rec.user === me.username;
}

/** This user's records, oldest first. */
export async function list() {
  const rows = (await idb.all(STORE)).filter(mine);
  return rows.sort((a, b) => a.created_at - b.created_at);
}

export async function get(id) {
  return idb.get(STORE, id);
}

export function counts(rows) {
  const c = { queued: 0, sending: 0, failed: 0, sent: 0 };
  for (const r of rows) c[r.state] = (c[r.state] || 0) + 1;
  c.pending = c.queued + c.sending;
  return c;
}

/** Queue something to send. kind: register | patch | account | account_fix | account_off | account_on | printed | delivered | consent | visit | support. */
export async function add(kind, fields) {
  const me = cachedMe();
  const now = Date.now();
  const rec = {
    id: uuid(), key: uuid(), kind, user: me ? me.username : null,
    market_id: fields.market_id ?? null, stall_id: fields.stall_id ?? null, holder_id: fields.holder_id ?? null,
    account_id: fields.account_id ?? null,
    body: fields.body ?? null, if_match: fields.if_match ?? null, label: fields.label || "",
    // The stall version the change was decided on (see rebase).
    base_version: fields.base_version ?? fields.if_match ?? null,
    state: "queued", attempts: 0, next_at: 0, created_at: now, updated_at: now,
    error: null, last_error: null, result: null,
  };
  await idb.put(STORE, rec);
  emit();
  return rec;
}

/**
 * Save an edited version of a record the server refused. A refused request stored nothing on the
 * server, so the corrected one is a new request with a new key.
 */
export async function revise(id, fields) {
  const rec = await idb.get(STORE, id);
  if (!rec || rec.state !== "failed") return null;
  Object.assign(rec, fields, {
    key: uuid(), state: "queued", attempts: 0, next_at: 0, error: null, last_error: null,
    updated_at: Date.now(),
  });
  await idb.put(STORE, rec);
  emit();
  return rec;
}

export async function remove(id) {
  await idb.del(STORE, id);
  dropDrafts(id);
  emit();
}

/** Forget the drafts typed for a record that is gone: the form that fixes it, and the new-stall
 * form that made it (it would otherwise open filled in with that person's details and consent). */
function dropDrafts(id) {
  const gone = [];
  for (let i = 0; i < localStorage.length; i += 1) {
    const key = localStorage.key(i) || "";
    if (!key.startsWith("choso.draft.")) continue;
    if (key.endsWith(`.fix.${id}`)) { gone.push(key); continue; }
    try {
      const draft = JSON.parse(localStorage.getItem(key) || "null");
      if (draft && draft.record_id != null && String(draft.record_id) === String(id)) gone.push(key);
    } catch { /* not a draft of ours */ }
  }
  for (const key of gone) localStorage.removeItem(key);
}

/** A failed record sent again as it is (for refusals that may pass later, e.g. a missing feature). */
export async function retry(id) {
  const rec = await idb.get(STORE, id);
  if (!rec || rec.state !== "failed") return;
  Object.assign(rec, { state: "queued", next_at: 0, error: null, updated_at: Date.now() });
  await idb.put(STORE, rec);
  emit();
}

function problemOf(err, status) {
  return {
    status, code: err.code, field: err.field, detail: err.problem.detail || "",
    errors: err.errors, existing_stall_id: err.problem.existing_stall_id ?? null,
  };
}

function samePhone(a, b) {
  const da = String(a || "").replace(/\D/g, "").slice(-9);
  const db = String(b || "").replace(/\D/g, "").slice(-9);
  return da === db;
}

/** What is kept of a record the server acknowledged: enough to list it, no personal data. */
export function receipt(rec) {
  const code = rec.kind === "register" ? (rec.body && rec.body.stall_code) || "" : rec.label;
  const result = rec.result ? { stall_id: rec.result.stall_id ?? null, version: rec.result.version ?? null } : null;
  return { ...rec, body: null, label: String(code || "").split(" · ")[0], result };
}

async function patchAlreadyApplied(rec) {
  const res = await request(`/api/stalls/${rec.stall_id}`);
  if (!res.ok) return false;
  const stall = await res.json();
  const body = rec.body || {};
  for (const key of ["stall_code", "zone", "goods", "status", "licence_no"]) {
    if (key in body && (body[key] ?? null) !== (stall[key] ?? null)) return false;
  }
  for (const key of ["confirm_by", "also_accepts"]) {
    if (key in body && JSON.stringify(body[key] ?? null) !== JSON.stringify(stall[key] ?? null)) return false;
  }
  if (body.holder) {
    if ("full_name" in body.holder && body.holder.full_name !== stall.holder.full_name) return false;
    if ("phone" in body.holder && !samePhone(body.holder.phone, stall.holder.phone)) return false;
  }
  return true;
}

/** An added account the server says the stall has: in use there as sent (an earlier attempt whose
 * answer was lost added it), or not (it was there before, or was stopped: then it is refused). */
async function accountAlreadyAdded(rec) {
  if (!rec.attempts) return false;  // the first attempt: the account was there before it
  const res = await request(`/api/stalls/${rec.stall_id}`);
  if (!res.ok) return false;
  const stall = await res.json();
  const body = rec.body || {};
  const number = String(body.account_number || "").replace(/\s/g, "");
  return (stall.payment_accounts || []).some((a) => a.active !== false && a.bin === body.bin && a.account_number === number);
}

async function send(rec) {
  const idem = { "Idempotency-Key": rec.key };
  // A request the network holds open (a weak signal that neither answers nor fails) ends after
  // SEND_TIMEOUT_MS as a network failure: the record waits its turn again, with the same key.
  const signal = AbortSignal.timeout ? AbortSignal.timeout(SEND_TIMEOUT_MS) : undefined;
  const req = (path, options) => request(path, { ...options, signal });
  let res;
  try {
    if (rec.kind === "register") {
      res = await req(`/api/markets/${rec.market_id}/stalls`, { method: "POST", json: rec.body, headers: idem });
    } else if (rec.kind === "patch") {
      res = await req(`/api/stalls/${rec.stall_id}`, {
        method: "PATCH", json: rec.body, headers: { ...idem, "If-Match": `"${rec.if_match}"` },
      });
    } else if (rec.kind === "account") {
      res = await req(`/api/stalls/${rec.stall_id}/payment-accounts`, { method: "POST", json: rec.body, headers: idem });
    } else if (rec.kind === "account_fix") {
      // The same correction sent again changes nothing on the server (it answers the stall as it is).
      res = await req(`/api/stalls/${rec.stall_id}/payment-accounts/${rec.account_id}`, { method: "PATCH", json: rec.body, headers: idem });
    } else if (rec.kind === "account_off" || rec.kind === "account_on") {
      // Stopping a stopped account (or using again one in use) changes nothing on the server, so a
      // resend is harmless; If-Match refuses one that would undo a later change (412).
      const action = rec.kind === "account_off" ? "deactivate" : "reactivate";
      const headers = rec.if_match != null ? { ...idem, "If-Match": `"${rec.if_match}"` } : idem;
      res = await req(`/api/stalls/${rec.stall_id}/payment-accounts/${rec.account_id}/${action}`, { method: "POST", json: rec.body, headers });
    } else if (rec.kind === "consent") {
      // Granting a purpose already granted changes nothing, so a resend is harmless.
      res = await req(`/api/stallholders/${rec.holder_id}/consents`, { method: "POST", json: rec.body, headers: idem });
    } else if (rec.kind === "printed") {
      const q = rec.account_id ? `?account_id=${rec.account_id}` : "";
      // With the printed PDF's digest (records queued before it was sent have none).
      res = await req(`/api/stalls/${rec.stall_id}/sign-printed${q}`, { method: "POST", headers: idem, ...(rec.body ? { json: rec.body } : {}) });
    } else if (rec.kind === "visit") {
      // The same visit sent again with its key is answered with the one recorded (200).
      res = await req(`/api/stalls/${rec.stall_id}/visits`, { method: "POST", json: rec.body, headers: idem });
    } else if (rec.kind === "delivered") {
      res = await req(`/api/stalls/${rec.stall_id}/sign-delivered`, { method: "POST", json: rec.body || {}, headers: idem });
    } else if (rec.kind === "support") {
      // The support package's items: the same items sent again change nothing on the server.
      res = await req(`/api/stalls/${rec.stall_id}/support`, { method: "POST", json: rec.body, headers: idem });
    } else {
      return { outcome: "failed", error: { code: "unknown_kind", detail: rec.kind } };
    }
  } catch (err) {
    if (err instanceof NetworkError) return { outcome: "retry", error: { code: "network" } };
    throw err;
  }
  if (res.ok) {
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    // A visit's answer is the visit (its id is not the stall's), not the stall.
    if (rec.kind === "visit") return { outcome: "sent", result: { stall_id: rec.stall_id, version: null, visit: data } };
    return { outcome: "sent", result: { stall_id: data && data.id ? data.id : rec.stall_id, version: data && data.version, stall: data } };
  }
  const err = await toError(res);
  if (res.status === 401) return { outcome: "auth", error: problemOf(err, 401) };
  if (res.status >= 500 || res.status === 429 || res.status === 408) return { outcome: "retry", error: problemOf(err, res.status) };
  // An earlier attempt whose answer was lost may already have done the work.
  if (rec.kind === "account" && err.code === "account_exists") {
    try {
      if (await accountAlreadyAdded(rec)) return { outcome: "sent", result: { stall_id: rec.stall_id } };
    } catch { return { outcome: "retry", error: { code: "network" } }; }
  }
  if (rec.kind === "patch" && res.status === 412) {
    try {
      if (await patchAlreadyApplied(rec)) return { outcome: "sent", result: { stall_id: rec.stall_id } };
    } catch { return { outcome: "retry", error: { code: "network" } }; }
  }
  if (res.status === 404 && err.code === "not_found") return { outcome: "failed", error: { ...problemOf(err, 404), code: "not_available" } };
  return { outcome: "failed", error: problemOf(err, res.status) };
}

/**
 * Send one record now (the volunteer is waiting for the answer); resolves with the updated record,
 * or after `within` ms with the record still queued or sending (the caller says it is kept on the
 * device): on a weak signal the volunteer goes on, and the answer, when it comes, is taken as a
 * background send (its toast, the lists drawn again) without taking the volunteer anywhere.
 */
export async function sendOne(id, { within = SEND_WAIT_MS } = {}) {
  const how = { background: false };
  const sending = withLock(() => attempt(id, true, how));
  let timer = null;
  const waited = new Promise((resolve) => { timer = window.setTimeout(() => resolve(null), within); });
  const done = await Promise.race([sending, waited]);
  window.clearTimeout(timer);
  if (done) return done;
  how.background = true;
  return (await idb.get(STORE, id)) || { id, state: "queued" };
}

async function attempt(id, force, how = { background: true }) {
  const rec = await idb.get(STORE, id);
  if (!rec || rec.state !== "queued" || !mine(rec)) return rec;
  if (!force && rec.next_at > Date.now()) return rec;
  rec.state = "sending";
  rec.updated_at = Date.now();
  await idb.put(STORE, rec);
  emit();
  let out;
  try {
    out = await send(rec);
  } catch (err) {
    out = { outcome: "retry", error: { code: "client_error", detail: String(err && err.message) } };
  }
  const now = Date.now();
  rec.updated_at = now;
  if (out.outcome === "sent") {
    Object.assign(rec, { state: "sent", result: out.result, sent_at: now, error: null, last_error: null });
  } else if (out.outcome === "failed") {
    Object.assign(rec, { state: "failed", error: out.error });
  } else {
    rec.attempts += 1;
    Object.assign(rec, { state: "queued", next_at: out.outcome === "auth" ? 0 : now + backoff(rec.attempts), last_error: out.error });
  }
  // The answer (the stall with its holder and accounts) goes to the listeners; the store keeps a receipt.
  await idb.put(STORE, out.outcome === "sent" ? receipt(rec) : rec);
  if (out.outcome === "sent") await rebase(rec, out.result && out.result.version);
  emit();
  if (out.outcome === "sent") emit("choso:sent", { record: rec, background: how.background });
  if (out.outcome === "auth") emit("choso:unauthorized");
  rec.outcome = out.outcome;
  return rec;
}

/**
 * This device's change to a stall went through: its other queued changes to the stall decided on
 * the same version now follow the version it made. Their If-Match would otherwise refuse our own
 * change as if someone else had made it (edit the goods, then stop an account, both offline).
 */
async function rebase(rec, version) {
  if (rec.stall_id == null || version == null || rec.base_version == null) return;
  for (const other of await idb.all(STORE)) {
    if (other.id === rec.id || other.stall_id !== rec.stall_id || other.user !== rec.user) continue;
    if (other.state !== "queued" || other.base_version !== rec.base_version) continue;
    other.base_version = version;
    if (other.if_match != null) other.if_match = version;
    await idb.put(STORE, other);
  }
}

function withLock(fn) {
  if (navigator.locks && navigator.locks.request) return navigator.locks.request("choso-outbox", fn);
  return fn();
}

/**
 * Send every queued record that is due (all of them when forced). Stops at the first network
 * failure, since the rest would fail the same way.
 */
export function flush({ force = false } = {}) {
  if (running) return running;
  running = (async () => {
    if (!token() || !cachedMe()) return;
    if (!force && !navigator.onLine) return;
    await withLock(async () => {
      const due = (await list()).filter((r) => r.state === "queued" && (force || r.next_at <= Date.now()));
      for (const rec of due) {
        const done = await attempt(rec.id, force);
        if (done && (done.outcome === "retry" || done.outcome === "auth")) break;
      }
    });
  })().finally(() => { running = null; });
  return running;
}

/** Records left "sending" by a closed tab go back to the queue (same key, so resending is safe). */
async function recover() {
  const now = Date.now();
  for (const rec of await idb.all(STORE)) {
    if (rec.state === "sending") {
      // Cut off mid-send (the tab closed): the server may have done it, as after a lost answer.
      Object.assign(rec, { state: "queued", next_at: 0, updated_at: now, attempts: (rec.attempts || 0) + 1 });
      await idb.put(STORE, rec);
    } else if (rec.state === "sent" && now - (rec.sent_at || rec.updated_at) > KEEP_SENT_MS) {
      await idb.del(STORE, rec.id);
    } else if (rec.state === "sent" && (rec.body || (rec.result && rec.result.stall))) {
      // Kept in full by an earlier version of the app.
      await idb.put(STORE, receipt(rec));
    }
  }
}

/** Records on this device not yet accepted by the server, whoever made them. */
export async function unsentOnDevice() {
  return (await idb.all(STORE)).filter((r) => r.state !== "sent").length;
}

/** Remove every record, sent or not, of every user (sign-out). */
export async function wipe() {
  await idb.clearAll();
  emit();
}

export async function clearSent() {
  for (const rec of await list()) if (rec.state === "sent") await idb.del(STORE, rec.id);
  emit();
}

/** Start automatic sending: now, when the network returns, when the app is shown, and every 15 s. */
export async function start() {
  if (started) return;
  started = true;
  try { await recover(); } catch { /* storage unavailable: nothing to recover */ }
  window.addEventListener("online", () => { flush({ force: true }); });
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") flush(); });
  window.setInterval(() => { flush(); }, TICK_MS);
  emit();
  flush();
}
