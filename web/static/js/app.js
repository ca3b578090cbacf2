// The volunteer app (/): sign in, pick a market, work through its stalls, register, print, verify.
// Hash routes keep it one page, so it keeps working from the service worker's cache when offline.

import { h, mount, toast, dropToast } from "./lib/dom.js";
import { t, applyStatic, setNotice, noticeVersion } from "./lib/i18n.js";
import * as api from "./lib/api.js";
import * as outbox from "./lib/outbox.js";
import * as shell from "./lib/shell.js";
import { marketsView } from "./views/markets.js";
import { worklistView } from "./views/worklist.js";
import { registerView } from "./views/register.js";
import { stallView, editView, accountView, accountFixView } from "./views/stall.js";
import { verifyView } from "./views/verify.js";
import { outboxView } from "./views/outbox.js";
import { teamView } from "./views/team.js";
import { confirmDialog } from "./lib/dialog.js";
import { wipeDevice, draftCount } from "./lib/wipe.js";
import * as consents from "./lib/consents.js";

const main = document.getElementById("main");

const ctx = {
  main,
  me: null,
  markets: [],
  banks: [],
  partners: [],
  cleanup: null,
  /** Whether the signed-in role works with stallholders' data (register, edit, print, verify). */
  canWork() { return shell.canWork(ctx.me); },
  go(hash) { if (window.location.hash === hash) route(); else window.location.hash = hash; },
  marketKey() { return `choso.market.${ctx.me ? ctx.me.username : ""}`; },
  currentMarketId() { return Number(localStorage.getItem(ctx.marketKey())) || null; },
  setMarket(id) { localStorage.setItem(ctx.marketKey(), String(id)); drawTopbar(); },
  market(id) { return ctx.markets.find((m) => m.id === Number(id)) || null; },
  async loadMarkets() {
    const got = await api.cachedGet("markets", "/api/markets");
    ctx.markets = got.value || [];
    return got;
  },
  async loadBanks() {
    if (ctx.banks.length) return ctx.banks;
    try {
      const got = await api.cachedGet("banks", "/api/banks");
      ctx.banks = Array.isArray(got.value) ? got.value : [];
    } catch { ctx.banks = api.cache.value("banks") || []; }
    return ctx.banks;
  },
  async loadNotice() {
    try {
      const got = await api.cachedGet("notice", "/api/consent-notice");
      setNotice(got.value);
    } catch { setNotice(api.cache.value("notice")); }
    return noticeVersion();
  },
  async loadPartners() {
    if (ctx.partners.length) return ctx.partners;
    try {
      const got = await api.cachedGet(`partners`, "/api/partners");
      const list = Array.isArray(got.value) ? got.value : (got.value && got.value.items) || [];
      ctx.partners = [...list].sort((a, b) => String(a.name || a.code).localeCompare(String(b.name || b.code), "vi"));
    } catch { ctx.partners = api.cache.value("partners") || []; }
    return ctx.partners;
  },
};

const queueBadge = h("span", { class: "badge-count", hidden: true });
const queueLink = h("a", { href: "#/outbox", class: "btn btn-small btn-ghost queue-link", id: "queue-link" },
  h("span", { class: "queue-label long" }), h("span", { class: "queue-short short" }), queueBadge);

async function updateQueueBadge() {
  if (!ctx.me) return;
  const c = outbox.counts(await outbox.list());
  const n = c.pending + c.failed;
  queueBadge.hidden = n === 0;
  queueBadge.textContent = String(n);
  queueBadge.className = `badge-count ${c.failed ? "badge-failed" : ""}`;
  queueLink.querySelector(".queue-label").textContent = t("queue_title");
  queueLink.querySelector(".queue-short").textContent = t("queue_short");
  queueLink.setAttribute("aria-label", `${t("queue_title")}: ${c.pending} ${t("state_queued")}, ${c.failed} ${t("state_failed")}`);
}

function drawTopbar() {
  const m = ctx.me ? ctx.market(ctx.currentMarketId()) : null;
  const items = [];
  if (ctx.me) {
    items.push(h("a", { href: "#/markets", class: "btn btn-block btn-ghost" }, t("change_market")));
    if (ctx.me.role === "volunteer") items.push(h("a", { href: "#/team", class: "btn btn-block btn-ghost", id: "my-team-link" }, t("my_team")));
    if (ctx.me.role !== "volunteer") {
      items.push(h("a", { href: "/dashboard", class: "btn btn-block btn-ghost" }, t("nav_dashboard")));
    }
    items.push(h("a", { href: "/map", class: "btn btn-block btn-ghost" }, t("nav_map")));
  }
  const marketBtn = m ? h("a", { href: `#/m/${m.id}`, class: "btn btn-small btn-ghost market-link" }, m.name) : null;
  shell.topbar({
    me: ctx.me, home: "#/", extra: ctx.me ? [marketBtn, ctx.canWork() ? queueLink : null] : [], menuItems: items,
    onSignOut: signOut,
  });
  updateQueueBadge();
}

/**
 * Sign out and leave no personal data on the device (lib/wipe.js). Unsent records and drafts would
 * be lost with it, so the volunteer is told first and may stay.
 */
async function signOut() {
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
    if (!ok) return;
  }
  if (ctx.cleanup) { try { ctx.cleanup(); } catch { /* view already gone */ } ctx.cleanup = null; }
  await api.signOut();
  await wipeDevice();
  ctx.me = null;
  ctx.markets = [];
  mount(main);
  window.location.hash = "#/";
  await start();
}

// Routes marked `work` show stallholders' data or change it: only roles that work with it get them.
const work = (fn) => Object.assign(fn, { work: true });
const routes = [
  [/^#?\/?$/, home],
  [/^#\/markets$/, () => marketsView(ctx)],
  [/^#\/m\/(\d+)$/, (m) => worklistView(ctx, Number(m[1]))],
  [/^#\/m\/(\d+)\/new(?:\/([\w-]+))?$/, work((m) => registerView(ctx, Number(m[1]), m[2] || null))],
  [/^#\/s\/(\d+)(?:\?(.*))?$/, work((m) => stallView(ctx, Number(m[1]), new URLSearchParams(m[2] || "")))],
  [/^#\/s\/(\d+)\/edit$/, work((m) => editView(ctx, Number(m[1])))],
  [/^#\/s\/(\d+)\/account$/, work((m) => accountView(ctx, Number(m[1])))],
  [/^#\/s\/(\d+)\/account\/(\d+)$/, work((m) => accountFixView(ctx, Number(m[1]), Number(m[2])))],
  [/^#\/s\/(\d+)\/verify$/, work((m) => verifyView(ctx, Number(m[1])))],
  [/^#\/outbox$/, () => outboxView(ctx)],
  [/^#\/team$/, () => teamView(ctx)],
];

async function home() {
  await ctx.loadMarkets().catch(() => null);
  const id = ctx.currentMarketId();
  if (id && ctx.market(id)) ctx.go(`#/m/${id}`);
  else if (ctx.markets.length === 1) { ctx.setMarket(ctx.markets[0].id); ctx.go(`#/m/${ctx.markets[0].id}`); }
  else ctx.go("#/markets");
}

let routing = Promise.resolve();
function route() {
  routing = routing.then(async () => {
    if (!ctx.me) return;
    if (ctx.cleanup) { try { ctx.cleanup(); } catch { /* view already gone */ } ctx.cleanup = null; }
    const hash = window.location.hash || "#/";
    for (const [re, fn] of routes) {
      const m = hash.match(re);
      if (!m) continue;
      try {
        if (fn.work && !ctx.canWork()) {
          const id = ctx.currentMarketId();
          shell.notAllowed(main, ctx.me, id ? `#/m/${id}` : "#/markets");
        } else {
          await fn(m);
        }
      } catch (err) {
        shell.showError(main, err, () => route());
      }
      drawTopbar();
      window.scrollTo(0, 0);
      main.focus({ preventScroll: true });
      return;
    }
    window.location.hash = "#/";
  });
  return routing;
}

// A stall's full record (phone, account numbers) is kept for offline use for a few days at most;
// market stall lists stay until sign-out, which removes everything (lib/wipe.js).
const KEEP_STALL_MS = 3 * 24 * 3600 * 1000;

async function start(message) {
  api.cache.prune("stall.", KEEP_STALL_MS);
  api.cache.prune("consents.", KEEP_STALL_MS);
  drawTopbar();
  ctx.me = await shell.ensureUser(main, { message });
  drawTopbar();
  // Markets and the consent notice now, so a tablet that goes offline later can still register.
  await Promise.all([ctx.loadMarkets().catch(() => null), ctx.loadNotice()]);
  outbox.start();
  outbox.flush({ force: true });
  await route();
}

// A registration that reached the server joins the cached stall list at once, with what its
// consent says about the sign; recorded consent updates that.
window.addEventListener("choso:sent", (ev) => {
  const rec = ev.detail.record;
  if (rec.kind === "consent" && rec.body && (rec.body.purposes || []).includes(consents.SIGN)) {
    consents.remember(rec.market_id, rec.stall_id, "granted");
  }
  if (rec.kind !== "register" || !rec.result || !rec.result.stall) return;
  const st = rec.result.stall;
  const purposes = (rec.body && rec.body.consent && rec.body.consent.purposes) || [];
  consents.remember(rec.market_id, st.id, purposes.includes(consents.SIGN) ? "granted" : "missing");
  const key = `stalls.${rec.market_id}`;
  const list = api.cache.value(key);
  if (!Array.isArray(list) || list.some((s) => s.id === st.id)) return;
  list.push({
    id: st.id, market_id: st.market_id, stall_code: st.stall_code, zone: st.zone, goods: st.goods,
    status: st.status, version: st.version, holder_name: st.holder && st.holder.full_name,
    phone_masked: null, account_count: (st.payment_accounts || []).length,
    bank_short_names: (st.payment_accounts || []).map((a) => a.bank_short_name).filter(Boolean),
  });
  api.cache.set(key, list);
});

let reauthing = false;
window.addEventListener("choso:unauthorized", async () => {
  if (reauthing || !ctx.me) return;
  reauthing = true;
  const previous = ctx.me.username;
  api.forget();
  ctx.me = null;
  drawTopbar();
  ctx.me = await shell.signIn(main, { message: t("signin_again") });
  reauthing = false;
  if (ctx.me.username !== previous) ctx.markets = [];
  drawTopbar();
  outbox.flush({ force: true });
  route();
});

window.addEventListener("choso:outbox", updateQueueBadge);
window.addEventListener("hashchange", () => route());
window.addEventListener("choso:lang", () => { applyStatic(); drawTopbar(); route(); });
window.addEventListener("offline", () => toast(t("offline_hint"), "warn", 0, "net"));
window.addEventListener("online", () => { dropToast("net"); toast(t("back_online"), "info", 4000, "net"); });

// Tell the volunteer when queued records reach the server (counted over a few seconds); a record
// sent while the volunteer waited for it already has its own answer on screen.
let sentCount = 0;
let sentTimer = null;
window.addEventListener("choso:sent", (ev) => {
  if (!ev.detail.background) return;
  sentCount += 1;
  window.clearTimeout(sentTimer);
  sentTimer = window.setTimeout(() => {
    toast(t("sent_n", { n: sentCount }), "ok", 6000, "sent");
    sentCount = 0;
  }, 1200);
});

shell.init();
start();
