// The volunteer app (/): sign in, pick a market, work through its stalls, register, print, verify.
// Hash routes keep it one page, so it keeps working from the service worker's cache when offline.
// Only what the first screen needs is imported up front (the page preloads exactly these); the rest
// of the app loads as soon as that screen is up, while the volunteer types, so on a slow network
// the sign-in form comes first. A volunteer signed in on this device gets the worklist at once from
// what the device knows, and the server's answers follow.

import { h, mount, toast, dropToast, dropStaleToasts } from "./lib/dom.js";
import { t, applyStatic, setNotice, noticeVersion } from "./lib/i18n.js";
import * as api from "./lib/api.js";
import * as shell from "./lib/shell.js";

// The rest of the app, by name; the worklist's first.
const LATER = {
  outbox: () => import("./lib/outbox.js"),
  consents: () => import("./lib/consents.js"),
  markets: () => import("./views/markets.js"),
  worklist: () => import("./views/worklist.js"),
  register: () => import("./views/register.js"),
  stall: () => import("./views/stall.js"),
  verify: () => import("./views/verify.js"),
  outboxView: () => import("./views/outbox.js"),
  team: () => import("./views/team.js"),
  dialog: () => import("./lib/dialog.js"),
  wipe: () => import("./lib/wipe.js"),
};
const mods = {}; // the loaded ones
const loading = {};

/** A module of the rest of the app (loaded once; a failed load is tried again next time). */
function need(name) {
  if (!loading[name]) {
    loading[name] = LATER[name]().then((mod) => { mods[name] = mod; return mod; }, (err) => { delete loading[name]; throw err; });
  }
  return loading[name];
}

/** Load all of it now, so every screen also opens offline (the service worker keeps it as well). */
function loadRest() {
  for (const name of Object.keys(LATER)) need(name).catch(() => { /* offline: tried again when needed */ });
}

let swRegistered = false;
/** Once the first screen is painted: the rest of the app, then the service worker's downloads. */
function afterFirstScreen() {
  window.requestAnimationFrame(() => window.setTimeout(() => routing.then(() => {
    loadRest();
    if (!swRegistered) { swRegistered = true; shell.registerServiceWorker(); }
  }), 0));
}

const main = document.getElementById("main");
// How long the partner list read from the server is used before it is asked for again.
const PARTNERS_FRESH_MS = 10 * 60 * 1000;

const ctx = {
  main,
  me: null,
  markets: [],
  banks: [],
  partners: [],
  cleanup: null,
  openRecord: null,  // the queued record the register form on screen is for (views/register.js)
  /** Whether the signed-in role works with stallholders' data (register, edit, print, verify). */
  canWork() { return shell.canWork(ctx.me); },
  go(hash) { if (window.location.hash === hash) route(); else window.location.hash = hash; },
  /** Show `hash` in place of the current address (a redirect: Back does not come here again). */
  redirect(hash) { window.history.replaceState(window.history.state, "", hash); route(); },
  /** After a form is saved: back to `hash` where the form was opened from it (Back from there
   * then leaves it, not the form again), else in the form's place. */
  leaveForm(hash) {
    const before = previousHash || "";
    if (before === hash) window.history.back();
    // The same page under another query (the stall as it opened after "Lưu sạp", ?new=1): back to
    // that entry, shown as `hash` (it stayed in the history twice, and Back seemed to do nothing).
    else if (before.split("?")[0] === hash.split("?")[0]) { landing = hash; window.history.back(); }
    else ctx.redirect(hash);
  },
  marketKey() { return `choso.market.${ctx.me ? ctx.me.username : ""}`; },
  currentMarketId() { return Number(localStorage.getItem(ctx.marketKey())) || null; },
  setMarket(id) {
    if (ctx.currentMarketId() === Number(id)) return;
    localStorage.setItem(ctx.marketKey(), String(id));
    drawTopbar();
  },
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
  partnersAt: 0,
  async loadPartners() {
    // Asked again after a while: a partner's support number, shown as a number to call, may have
    // been corrected by an administrator since (offline: the device's copy).
    if (ctx.partners.length && Date.now() - ctx.partnersAt < PARTNERS_FRESH_MS) return ctx.partners;
    try {
      const got = await api.cachedGet(`partners`, "/api/partners");
      const list = Array.isArray(got.value) ? got.value : (got.value && got.value.items) || [];
      ctx.partners = [...list].sort((a, b) => String(a.name || a.code).localeCompare(String(b.name || b.code), "vi"));
      ctx.partnersAt = got.stale ? 0 : Date.now();
    } catch { ctx.partners = api.cache.value("partners") || []; }
    return ctx.partners;
  },
};

const queueBadge = h("span", { class: "badge-count", hidden: true });
const queueLink = h("a", { href: "#/outbox", class: "btn btn-small btn-ghost queue-link", id: "queue-link" },
  h("span", { class: "queue-label long" }), h("span", { class: "queue-short short" }), queueBadge);

async function updateQueueBadge() {
  const outbox = mods.outbox;
  if (!ctx.me || !outbox) return;
  // The record open in the form being fixed is not counted (the form shows its refusal).
  const c = outbox.counts((await outbox.list()).filter((r) => r.id !== ctx.openRecord));
  // A record the server refused is not waiting: it needs someone to fix it, and says so first
  // (its count, in red); records still waiting are counted when none needs fixing.
  const n = c.failed || c.pending;
  queueBadge.hidden = n === 0;
  queueBadge.textContent = String(n);
  queueBadge.className = `badge-count ${c.failed ? "badge-failed" : ""}`;
  queueLink.querySelector(".queue-label").textContent = t(c.failed ? "queue_fix_title" : "queue_title");
  queueLink.querySelector(".queue-short").textContent = t(c.failed ? "queue_fix_short" : "queue_short");
  queueLink.setAttribute("aria-label", `${t(c.failed ? "queue_fix_title" : "queue_title")}: ${c.pending} ${t("state_queued")}, ${c.failed} ${t("state_failed")}`);
}

// The top bar is drawn once per frame however many answers ask for it (each redraw costs a slow
// tablet tens of milliseconds, and several arrive while the first screen opens).
let topbarFrame = 0;
function drawTopbar() {
  if (!topbarFrame) topbarFrame = window.requestAnimationFrame(() => { topbarFrame = 0; drawTopbarNow(); });
}

function drawTopbarNow() {
  const m = ctx.me ? ctx.market(ctx.currentMarketId()) : null;
  const items = [];
  if (ctx.me) {
    items.push(h("a", { href: "#/markets", class: "btn btn-block btn-ghost" }, t("change_market")));
    if (ctx.me.role === "volunteer") items.push(h("a", { href: "#/team", class: "btn btn-block btn-ghost", id: "my-team-link" }, t("my_team")));
    // A team leader's week is on the activity page too (it was reachable through the map only).
    if (ctx.me.leads_team) items.push(h("a", { href: "/activity", class: "btn btn-block btn-ghost", id: "activity-link" }, t("nav_activity")));
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
  const { signOutAndWipe } = await need("wipe");
  if (!await signOutAndWipe()) return;
  if (ctx.cleanup) { try { ctx.cleanup(); } catch { /* view already gone */ } ctx.cleanup = null; }
  ctx.me = null;
  ctx.markets = [];
  ctx.partners = [];
  mount(main);
  window.location.hash = "#/";
  await start();
}

// Routes marked `work` show stallholders' data or change it: only roles that work with it get them.
const work = (fn) => Object.assign(fn, { work: true });
// A route's view lives in a module of the rest of the app: (module name, what to call in it).
const view = (name, show) => async (m) => show(await need(name), m);
const routes = [
  [/^#?\/?$/, home],
  [/^#\/markets$/, view("markets", (v) => v.marketsView(ctx))],
  [/^#\/m\/(\d+)$/, view("worklist", (v, m) => v.worklistView(ctx, Number(m[1])))],
  [/^#\/m\/(\d+)\/new(?:\/([\w-]+))?$/, work(view("register", (v, m) => v.registerView(ctx, Number(m[1]), m[2] || null)))],
  [/^#\/s\/(\d+)(?:\?(.*))?$/, work(view("stall", (v, m) => v.stallView(ctx, Number(m[1]), new URLSearchParams(m[2] || ""))))],
  [/^#\/s\/(\d+)\/edit$/, work(view("stall", (v, m) => v.editView(ctx, Number(m[1]))))],
  [/^#\/s\/(\d+)\/account$/, work(view("stall", (v, m) => v.accountView(ctx, Number(m[1]))))],
  [/^#\/s\/(\d+)\/account\/(\d+)$/, work(view("stall", (v, m) => v.accountFixView(ctx, Number(m[1]), Number(m[2]))))],
  [/^#\/s\/(\d+)\/verify$/, work(view("verify", (v, m) => v.verifyView(ctx, Number(m[1]))))],
  [/^#\/outbox$/, view("outboxView", (v) => v.outboxView(ctx))],
  [/^#\/team$/, view("team", (v) => v.teamView(ctx))],
];

async function home() {
  if (!ctx.markets.length) await ctx.loadMarkets().catch(() => null);
  const id = ctx.currentMarketId();
  if (id && ctx.market(id)) ctx.redirect(`#/m/${id}`);
  else if (ctx.markets.length === 1) { ctx.setMarket(ctx.markets[0].id); ctx.redirect(`#/m/${ctx.markets[0].id}`); }
  else ctx.redirect("#/markets");
}

const TITLE = document.title;  // the page's own ("Chợ Số — Đăng ký sạp"), for a screen without a heading
let routing = Promise.resolve();
// The address before the one on screen, and where a saved form's Back lands (ctx.leaveForm).
let previousHash = null;
let currentHash = null;
let landing = null;

function route() {
  if (landing && window.location.hash !== landing && window.location.hash.split("?")[0] === landing.split("?")[0]) {
    window.history.replaceState(window.history.state, "", landing);
  }
  landing = null;
  if (window.location.hash !== currentHash) { previousHash = currentHash; currentHash = window.location.hash; }
  routing = routing.then(async () => {
    if (!ctx.me || reauthing) return;
    if (ctx.cleanup) { try { ctx.cleanup(); } catch { /* view already gone */ } ctx.cleanup = null; }
    if (ctx.openRecord !== null) { ctx.openRecord = null; updateQueueBadge(); }
    const hash = window.location.hash || "#/";
    dropStaleToasts(window.location.hash);
    // The worklist the page showed while the app loaded (instant.js): the app's own drawing takes
    // its place where the volunteer is, scrolled and focused as they left it.
    const overSnapshot = document.body.hasAttribute("data-snapshot") && /^#\/m\/\d+$/.test(hash);
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
        shell.showError(main, err, () => route(), { home: "#/", label: t("back") });
      }
      // A redirect (home) showed nothing: the route it queued scrolls and focuses. Doing it here
      // too would lay out the half-built page once more (on a slow tablet, a tenth of a second).
      if ((window.location.hash || "#/") !== hash) return;
      document.body.removeAttribute("data-snapshot");
      drawTopbar();
      // Each screen names itself in the tab and the history ("Chợ Số — Sạp A-12"), not one title
      // for all of them.
      const heading = main.querySelector("h1");
      document.title = heading && heading.textContent.trim() ? `Chợ Số — ${heading.textContent.trim()}` : TITLE;
      if (!overSnapshot) {
        window.scrollTo(0, 0);
        main.focus({ preventScroll: true });
      }
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
  api.cache.prune("support.", KEEP_STALL_MS);  // a stall's support package (views/support.js)
  const known = api.token() ? api.cachedMe() : null;
  const markets = api.cache.value("markets");
  if (known && Array.isArray(markets)) {
    // Signed in on this device: open with what it knows, and ask the server meanwhile. A session
    // the server refuses brings the sign-in form back (choso:unauthorized).
    ctx.me = known;
    ctx.markets = markets;
    setNotice(api.cache.value("notice"));
    // The usual first screen: its modules now, every import level side by side (the page lists
    // them: web/router.py WARM), rather than one level at a time.
    for (const href of (document.body.dataset.warm || "").split(" ").filter(Boolean)) {
      document.head.append(h("link", { rel: "modulepreload", href }));
    }
    for (const name of ["worklist", "outbox", "consents", "markets"]) need(name).catch(() => { /* shown by the route */ });
    // The top bar comes with the first screen, in the same frame: drawn before it, it cost a slow
    // tablet a layout and a paint of the loading page (0.1-0.2 s) that the worklist then waited for.
    need("worklist").catch(() => null).then(() => drawTopbar());
    api.loadMe().then((me) => {
      if (ctx.me && ctx.me.username === me.username) { ctx.me = me; drawTopbar(); }
    }).catch(() => { /* offline, or refused: handled where the session is checked */ });
    Promise.all([ctx.loadMarkets().catch(() => null), ctx.loadNotice()]).then(() => drawTopbar());
  } else {
    drawTopbar();
    const signedIn = shell.ensureUser(main, { message });
    afterFirstScreen(); // the sign-in form is up: load the rest while the volunteer types
    ctx.me = await signedIn;
    drawTopbar();
    // Markets and the consent notice now, so a tablet that goes offline later can still register.
    await Promise.all([ctx.loadMarkets().catch(() => null), ctx.loadNotice()]);
  }
  await route();
  const [outbox] = await Promise.all([need("outbox"), need("consents")]);
  outbox.start();
  outbox.flush({ force: true });
  afterFirstScreen();
  // The bank and partner lists the registration form needs, kept on the device once after a
  // sign-in (signing out wipes them): a tablet that goes offline before any form was opened
  // could not register a stall with an account. A warm start that has them asks for nothing.
  if (ctx.canWork()) {
    window.setTimeout(() => {
      if (!api.cache.value("banks")) ctx.loadBanks().catch(() => null);
      if (!api.cache.value("partners")) ctx.loadPartners().catch(() => null);
    }, 0);
  }
}

// A registration that reached the server joins the cached stall list at once, with what its
// consent says about the sign; recorded consent updates that.
window.addEventListener("choso:sent", (ev) => {
  const rec = ev.detail.record;
  // lib/consents.js is loaded by the time records are sent (see start()); if not, a moment later.
  const withConsents = (fn) => (mods.consents ? fn(mods.consents) : need("consents").then(fn, () => {}));
  if (rec.kind === "consent" && rec.body) {
    withConsents((consents) => {
      if ((rec.body.purposes || []).includes(consents.SIGN)) consents.remember(rec.market_id, rec.stall_id, "granted");
    });
  }
  if (rec.kind !== "register" || !rec.result || !rec.result.stall) return;
  const st = rec.result.stall;
  const purposes = (rec.body && rec.body.consent && rec.body.consent.purposes) || [];
  withConsents((consents) => consents.remember(rec.market_id, st.id, purposes.includes(consents.SIGN) ? "granted" : "missing"));
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
  need("outbox").then((outbox) => outbox.flush({ force: true }), () => {});
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

applyStatic();
start();
