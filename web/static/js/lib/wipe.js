// Signing out leaves no personal data on the tablet: the outbox (sent records too), drafts, cached
// stall lists and stalls, consent states, the session, and any API answer a cache may hold. Only
// the language choice stays. Volunteers share tablets, and a lost tablet must not carry names,
// phone numbers or account numbers of stallholders.

import * as outbox from "./outbox.js";
import * as api from "./api.js";
import { revokeObjectUrls } from "./api.js";
import { confirmDialog } from "./dialog.js";
import { t } from "./i18n.js";

const KEEP = new Set(["choso.lang"]);

/** Drafts (half-filled forms) on this device, for the sign-out warning. */
export function draftCount() {
  let n = 0;
  for (let i = 0; i < localStorage.length; i += 1) if ((localStorage.key(i) || "").startsWith("choso.draft.")) n += 1;
  return n;
}

export async function wipeDevice() {
  try { await outbox.wipe(); } catch { /* no IndexedDB: its localStorage fallback goes below */ }
  for (let i = localStorage.length - 1; i >= 0; i -= 1) {
    const key = localStorage.key(i);
    if (key && !KEEP.has(key)) localStorage.removeItem(key);
  }
  sessionStorage.clear();
  revokeObjectUrls();
  // The service worker caches only the app itself; drop any API answer a cache may hold all the same.
  if ("caches" in window) {
    try {
      for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const request of await cache.keys()) {
          if (new URL(request.url).pathname.startsWith("/api/")) await cache.delete(request);
        }
      }
    } catch { /* Cache Storage unavailable (insecure context) */ }
  }
}

/**
 * Sign out from any page and leave no personal data on the device. Unsent records and drafts would
 * be lost with it, so the person is told first and may stay: false when they do.
 */
export async function signOutAndWipe() {
  let unsent = 0;
  try { unsent = await outbox.unsentOnDevice(); } catch { unsent = 0; }
  const drafts = draftCount();
  if (unsent + drafts > 0) {
    const menu = document.querySelector("#topbar details.menu");
    if (menu) menu.open = false;
    const ok = await confirmDialog({
      id: "sign-out-dialog",
      title: t("sign_out_title"),
      lines: [unsent ? t("sign_out_unsent", { n: unsent }) : "", drafts ? t("sign_out_drafts", { n: drafts }) : "", t("sign_out_wipe_note")],
      ok: t("sign_out_confirm"),
      cancel: t("sign_out_stay"),
    });
    if (!ok) return false;
  }
  await api.signOut();
  await wipeDevice();
  const live = document.getElementById("live");
  if (live) live.textContent = "";  // "Đăng nhập: <the last user>" is not for the next one
  return true;
}
