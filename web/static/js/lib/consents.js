// Whether a stall's sign may be printed as far as consent goes: the stallholder must have agreed to
// the `qr_sign` purpose (name and account printed on the sign). Consent can be completed after
// registration (POST /api/stallholders/{id}/consents); the worklist says which stalls wait for it.

import * as api from "./api.js";

export const SIGN = "qr_sign";
export const BASE_PURPOSES = ["registration", "qr_sign", "coverage_reporting"];

/** "granted" | "withdrawn" | "missing" per purpose, from GET /api/stallholders/{id}/consents. */
export function purposeStates(consents, purposes) {
  const active = new Set((consents && consents.active_purposes) || []);
  const rows = (consents && consents.consents) || [];
  const out = {};
  for (const p of purposes) {
    if (active.has(p)) out[p] = "granted";
    else out[p] = rows.some((r) => r.purpose === p && r.withdrawn_at) ? "withdrawn" : "missing";
  }
  return out;
}

const key = (marketId) => `signconsent.${marketId}`;

/** Remember what this device learnt about a stall's sign consent (wiped with the rest at sign-out). */
export function remember(marketId, stallId, state) {
  if (!marketId || !stallId || !state) return;
  // The market's cached stall list says what the server said when it was fetched, and wins over
  // what is remembered here (signConsent): it learns the news too, or the worklist would still
  // say "no consent" for a stall whose consent was just recorded, until its next refresh.
  const hit = api.cache.get(`stalls.${marketId}`);
  const list = hit && Array.isArray(hit.value) ? hit.value : [];
  const listed = list.find((s) => s.id === stallId);
  if (listed && typeof listed.sign_consent === "string" && listed.sign_consent !== state) {
    listed.sign_consent = state;
    api.cache.set(`stalls.${marketId}`, list, hit.at);
  }
  const known = api.cache.value(key(marketId)) || {};
  if (known[stallId] === state) return;
  known[stallId] = state;
  api.cache.set(key(marketId), known);
}

/**
 * The sign consent of a stall in a market's stall list: what the API says when it says it
 * (`sign_consent`, or `missing_purposes` / `active_purposes`), else what this device learnt at
 * registration or on the stall's page; null when unknown.
 */
export function signConsent(stall, known) {
  if (typeof stall.sign_consent === "string") return stall.sign_consent;
  if (Array.isArray(stall.missing_purposes)) return stall.missing_purposes.includes(SIGN) ? "missing" : "granted";
  if (Array.isArray(stall.active_purposes)) return stall.active_purposes.includes(SIGN) ? "granted" : "missing";
  return (known && known[stall.id]) || null;
}

export function knownFor(marketId) {
  return api.cache.value(key(marketId)) || {};
}
