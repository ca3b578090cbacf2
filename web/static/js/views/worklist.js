// A market's worklist: what is left to do at each stall, searchable without diacritics, offline too.

import { h, mount, clear, toast, debounce } from "../lib/dom.js";
import { t, num, time, date, today, describeError, errorText, currentLang, zoneLabel, wardLine } from "../lib/i18n.js";
import * as api from "../lib/api.js";
import * as outbox from "../lib/outbox.js";
import { fold, byCode, compact } from "../lib/text.js";
import { tiles as readTiles, levelLabel, levelClass } from "../lib/coverage.js";
import { stateBadge } from "./common.js";
import * as consents from "../lib/consents.js";
import { roleName } from "../lib/shell.js";

const FILTERS = ["todo", "no_account", "no_sign", "not_verified", "revisit", "appointment", "all"];
const pendingCat = (rec) => (((rec.body || {}).payment_accounts || []).length ? "no_sign" : "no_account");
// Without stallholders' data the accounts are unknown: only what the levels tell.
const VIEWER_FILTERS = ["all", "not_verified", "revisit"];
const PAGE = 60;
// The words of a row's latest visit (lib/visits.js) load once the list is on screen, as the day's
// line does: the first screen of a slow tablet waits for fewer modules.
let visitWords = null;

async function loadStalls(marketId) {
  const all = [];
  let cursor = null;
  for (let i = 0; i < 40; i += 1) {
    const qs = new URLSearchParams({ limit: "500" });
    if (cursor) qs.set("cursor", cursor);
    const page = await api.getJSON(`/api/markets/${marketId}/stalls?${qs}`);
    all.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return all;
}

/**
 * Stalls (fresh or cached) and their levels (when the coverage API has them). A role without
 * access to stallholders' data (viewer) gets the stalls from the tiles: codes and levels only.
 */
export async function marketData(marketId, { personal = true } = {}) {
  if (!personal) {
    const got = await api.cachedGet(`tiles.${marketId}`, `/api/markets/${marketId}/stall-tiles`);
    const levels = got.value ? readTiles(got.value).byId : new Map();
    const stalls = [...levels.values()].map((tile) => ({
      id: tile.id, market_id: marketId, stall_code: tile.stall_code, zone: tile.zone ?? null, status: tile.status,
      holder_name: null, account_count: null, bank_short_names: [],
    }));
    return { stalls, levels, stale: !!got.stale, at: got.at || Date.now() };
  }
  // The levels at the same time as the stalls (a round trip each on a slow network).
  const tiles = api.cachedGet(`tiles.${marketId}`, `/api/markets/${marketId}/stall-tiles`).catch(() => null);
  let stalls, stale = false, at = Date.now();
  try {
    stalls = await loadStalls(marketId);
    api.cache.set(`stalls.${marketId}`, stalls);
  } catch (err) {
    const hit = api.cache.get(`stalls.${marketId}`);
    if (!hit || !(err instanceof api.NetworkError || api.retryable(err))) throw err;
    stalls = hit.value;
    stale = true;
    at = hit.at;
  }
  const got = await tiles;
  const levels = got && got.value ? readTiles(got.value).byId : null;
  return { stalls, levels, stale, at };
}

// What instant.js shows at the next start of the app on this device, and what it leaves out: what
// the queue, the print job, the network and today's counts say changes without the list (the app
// draws them when it takes over), and rows past the first few screens. Removed at sign-out with the
// rest of the device's data.
const SNAPSHOT_KEY = "choso.snapshot";
const NOT_KEPT = ["#today-line", "#queue-card > *", "#assigned-card > *", "#print-job-box > *", ".badge-visit", "li:has(> .stall-local)"];
// Rows kept: more than a tablet's first screen shows, few enough to keep the page's first drawing
// short on a slow tablet (every row is parsed, styled and laid out); the app draws the rest.
const SNAPSHOT_ROWS = 24;

function keepSnapshot(ctx, marketId) {
  // Signed out meanwhile (lib/wipe.js has cleared the device): nothing is written back.
  if (!ctx.me || !api.token() || !document.getElementById("worklist")) return;
  const main = ctx.main.cloneNode(true);
  for (const el of main.querySelectorAll(NOT_KEPT.join(", "))) el.remove();
  for (const el of main.querySelectorAll(`#worklist li:nth-child(n+${SNAPSHOT_ROWS + 1}), #worklist > button`)) el.remove();
  // A chip ticked by the app is a property, which HTML leaves out; sizes set through the CSSOM come
  // out as style attributes, which the page's CSP refuses.
  for (const el of main.querySelectorAll("input")) if (el.checked) el.setAttribute("checked", "");
  for (const el of main.querySelectorAll("[style]")) el.removeAttribute("style");
  const bar = document.getElementById("topbar").cloneNode(true);
  for (const el of bar.querySelectorAll(".pill.net, .badge-count")) el.remove();
  for (const el of bar.querySelectorAll("details[open]")) el.removeAttribute("open");
  for (const el of bar.querySelectorAll("[style]")) el.removeAttribute("style");
  const shot = {
    user: ctx.me.username, version: document.body.dataset.version, lang: currentLang(),
    market: marketId, day: daysAgoVN(0), topbar: bar.innerHTML, main: main.innerHTML,
  };
  try { localStorage.setItem(SNAPSHOT_KEY, JSON.stringify(shot)); } catch { /* storage full: the app draws the list itself */ }
}

/** The day `n` days before today in Vietnam, as yyyy-mm-dd. */
const daysAgoVN = (n) => today(Date.now() - n * 86400000);

function categories(stall, tile) {
  const cats = new Set();
  if (stall.status && stall.status !== "active") return cats;
  if (stall.account_count === 0) cats.add("no_account");
  if (tile) {
    if (stall.account_count && tile.level === "registered") cats.add("no_sign");
    if (tile.level === "qr_issued") cats.add("not_verified");
    if (tile.needs_revisit) cats.add("revisit");
  }
  // A sign to print again (what it shows changed) is work at the stall too.
  if (cats.size || (tile && tile.sign_reprint_needed)) cats.add("todo");
  // A day agreed with the stallholder to come back (the latest visit), while work is left there or
  // when that visit asked for a follow-up (training, the support package: not the stall's level);
  // one missed by over a week drops off, as on the printed list (merchants.visits.OVERDUE).
  const day = stall.last_visit && stall.last_visit.come_back_on;
  const followUp = stall.last_visit && stall.last_visit.come_back_for === "follow_up";
  if ((cats.has("todo") || followUp) && day && day >= daysAgoVN(7)) cats.add("appointment");
  return cats;
}

function haystack(s) {
  // The compacted code too, as the server's search (core.text.stall_search_text): "a15" finds A-15.
  return fold([s.stall_code, s.holder_name, s.goods, s.zone, s.phone_masked, (s.phone_masked || "").replace(/\D/g, ""), compact(s.stall_code)].filter(Boolean).join(" "));
}

/** Whether a stall matches the query as typed, or (for a query with digits) compacted. A bank is
 * found by the start of its short name ("mb" MBBank, "vietcom" Vietcombank), not by letters inside
 * another's: "mb" is not every Techcombank and Vietcombank stall. */
function matches(s, q) {
  if ((s.bank_short_names || []).some((b) => fold(b).startsWith(q))) return true;
  if (haystack(s).includes(q)) return true;
  const key = compact(q);
  return /\d/.test(key) && key !== q && haystack(s).includes(key);
}

// The list on the device shows phones masked (090****456): a whole phone number is looked up on the
// server (GET /api/markets/{id}/stalls?q=), which has them, whenever there is a network.
const PHONE_DIGITS = 6;
const looksLikePhoneQuery = (q) => (q.match(/\d/g) || []).length >= PHONE_DIGITS;

export async function worklistView(ctx, marketId) {
  if (!ctx.market(marketId)) await ctx.loadMarkets().catch(() => null);
  let market = ctx.market(marketId);
  if (!market) market = await api.getJSON(`/api/markets/${marketId}`);
  ctx.setMarket(marketId);
  const canWork = ctx.canWork();

  const key = `choso.worklist.${marketId}`;
  const saved = JSON.parse(sessionStorage.getItem(key) || "{}");
  const filters = canWork ? FILTERS : VIEWER_FILTERS;
  let filter = filters.includes(saved.filter) ? saved.filter : filters[0];
  let query = saved.q || "";
  let shown = PAGE;

  const listBox = h("div", { class: "worklist", id: "worklist" });
  // The volunteer's day so far (views/team.js) and printing (lib/printjob.js) load after the list is
  // on screen: the first screen of a slow tablet waits for fewer modules.
  let gone = false; // the volunteer left this screen
  let today = h("p", { hidden: true });
  import("./team.js").then(({ todayLine }) => {
    if (gone) return;
    const line = todayLine(ctx);
    today.replaceWith(line);
    today = line;
  }, () => { /* offline: no line */ });
  const chips = h("div", { class: "chips chips-filter", role: "radiogroup", "aria-label": t("filter_label") });
  const queueBox = h("div", { id: "queue-card" });
  const assignedBox = h("div", { id: "assigned-card" });
  const printBox = h("div", { id: "print-job-box" });
  const statusLine = h("p", { class: "muted small", id: "list-status" });
  // The list the page showed while the app loaded (instant.js): what the volunteer typed in its
  // search box meanwhile is the search, and the box keeps the focus.
  const keptSearch = document.body.hasAttribute("data-snapshot") ? ctx.main.querySelector("#search") : null;
  const typed = keptSearch && keptSearch.value ? keptSearch.value : null;
  const focused = Boolean(keptSearch) && document.activeElement === keptSearch;
  if (typed !== null) query = typed;
  const search = h("input", {
    // A viewer finds stalls by code only: the example names no person for them.
    id: "search", type: "search", value: query, placeholder: canWork ? t("search_placeholder") : "a-12",
    autocomplete: "off", spellcheck: "false", enterkeyhint: "search",
  });

  // Only what the role can do is offered: a viewer neither registers nor prints.
  mount(ctx.main,
    h("div", { class: "page-head" },
      h("h1", {}, market.name),
      h("p", { class: "muted" }, wardLine(market))),
    today,
    // An archived market (opened from a link, or archived while open) takes no new stalls.
    market.archived
      ? h("p", { class: "note note-warn", id: "archived-note" }, errorText("market_archived"))
      : canWork
        ? h("a", { href: `#/m/${marketId}/new`, class: "btn btn-primary btn-big btn-block", id: "register-new" }, "+ ", t("register_new"))
        : h("p", { class: "note note-warn", id: "viewer-note" }, t("viewer_note", { role: roleName(ctx.me.role) })),
    queueBox,
    assignedBox,
    h("h2", {}, t("worklist_title")),
    h("div", { class: "field" }, h("label", { for: "search" }, t(canWork ? "search_label" : "search_label_code")), search),
    chips, statusLine, listBox,
    h("div", { class: "row-actions" },
      h("button", { type: "button", class: "btn", id: "reload-list", onclick: () => reload() }, t("refresh")),
      canWork ? h("button", { type: "button", class: "btn", id: "print-unprinted", onclick: () => printUnprinted() }, t("print_unprinted")) : null),
    printBox);
  document.body.removeAttribute("data-snapshot");
  if (focused) {
    search.focus({ preventScroll: true });
    search.setSelectionRange(search.value.length, search.value.length);
  }

  // What the device knows is on screen at once (levels too, or "Cần làm" would look empty).
  const knownTiles = canWork ? api.cache.value(`tiles.${marketId}`) : null;
  // Until the server answers it says so ("loading"), not that fresh data could not be had; kept
  // with the time the device's copy was saved, for when the server does not answer.
  const kept = canWork ? api.cache.get(`stalls.${marketId}`) : null;
  let data = { stalls: (kept && kept.value) || [], levels: knownTiles ? readTiles(knownTiles).byId : null, stale: true, loading: true, at: (kept && kept.at) || Date.now() };
  let local = [];

  async function printUnprinted() {
    const { printJob } = await import("../lib/printjob.js");
    await printJob(marketId, { only_unprinted: true }, printBox, () => reload());
  }

  async function drawQueueCard() {
    local = (await outbox.list()).filter((r) => r.market_id === marketId || r.kind !== "register");
    const c = outbox.counts(local);
    clear(queueBox);
    if (c.pending + c.failed === 0) return;
    queueBox.append(h("div", { class: ["card", "queue-card", c.failed ? "queue-card-failed" : ""] },
      h("p", {}, t("queue_card", { pending: c.pending, failed: c.failed })),
      h("div", { class: "row-actions" },
        // Only records waiting can be sent; a refused one waits for a fix (the queue says how).
        c.pending ? h("button", { type: "button", class: "btn btn-primary", id: "send-now", onclick: () => outbox.flush({ force: true }) }, t("send_now")) : null,
        h("a", { href: "#/outbox", class: "btn" }, t("open_queue")))));
  }

  // The stalls of this market someone asked this person to visit again (a team leader, a manager:
  // teams/assignments.py), not visited since; the device's last answer while offline.
  let assigned = null;
  function drawAssigned(list) {
    assigned = list;
    clear(assignedBox);
    // A visit recorded on this device and still in the queue counts as done already.
    const queued = new Set(local.filter((r) => r.kind === "visit" && r.state !== "sent").map((r) => r.stall_id));
    const open = (list || []).filter((a) => a.market_id === marketId && !a.visited_since && !queued.has(a.stall_id));
    if (!open.length) return;
    assignedBox.append(h("section", { class: "card assigned-card", "aria-labelledby": "assigned-title" },
      h("h2", { id: "assigned-title" }, t("assigned_title", { n: num(open.length) })),
      h("ul", { class: "plain assigned-list" }, open.map((a) => h("li", { dataset: { stall: a.stall_id } },
        h("a", { href: `#/s/${a.stall_id}` }, h("strong", {}, a.stall_code), a.zone ? ` · ${zoneLabel(a.zone)}` : ""),
        " ", h("span", { class: "muted small" }, t("assigned_by", { name: a.assigned_by, when: date(a.assigned_at) })))))));
  }

  async function loadAssigned() {
    if (!canWork) return;
    drawAssigned(api.cache.value("assignments"));
    try {
      const list = await api.getJSON("/api/assignments/mine");
      api.cache.set("assignments", list);
      if (!gone) drawAssigned(list);
    } catch { /* offline: the device's last answer stays */ }
  }

  function drawChips(counts) {
    clear(chips);
    for (const f of filters) {
      const id = `filter-${f}`;
      const input = h("input", { type: "radio", name: "filter", id, value: f, checked: f === filter, class: "chip-input" });
      input.addEventListener("change", () => { filter = f; shown = PAGE; persist(); drawList(); });
      chips.append(input, h("label", { for: id, class: "chip" }, t(`f_${f}`), " ", h("span", { class: "chip-count" }, num(counts[f] || 0))));
    }
  }

  // The device's queued registrations for this market: the list shows them first.
  const pendingRegistrations = () => local.filter((r) => r.kind === "register" && r.market_id === marketId && r.state !== "sent");
  const pendingKey = () => JSON.stringify(pendingRegistrations().map((r) => [r.id, r.state]));

  function persist() { sessionStorage.setItem(key, JSON.stringify({ filter, q: query })); }

  function drawList() {
    const q = fold(query);
    const counts = Object.fromEntries(FILTERS.map((f) => [f, 0]));
    const rows = [];
    const pendingRegs = pendingRegistrations();
    const knownConsent = consents.knownFor(marketId);
    // A search looks in the chosen filter, and says how many stalls match outside it: a stall
    // done already must not look unregistered (and be registered again).
    let elsewhere = 0;
    const todayVN = daysAgoVN(0);
    for (const s of [...data.stalls].sort(byCode)) {
      const tile = data.levels ? data.levels.get(s.id) : null;
      const cats = categories(s, tile);
      cats.add("all");
      // While searching, the chips count what the search finds (they kept the whole list's).
      if (q && !matches(s, q) && !(serverHits.query === query && serverHits.ids.has(s.id))) continue;
      for (const c of cats) counts[c] += 1;
      if (!cats.has(filter)) { elsewhere += 1; continue; }
      rows.push([s, tile, cats]);
    }
    // Appointments by their day (the earliest, overdue ones first), then by stall code.
    if (filter === "appointment") rows.sort(([a], [b]) => a.last_visit.come_back_on.localeCompare(b.last_visit.come_back_on));
    // A stall still on this device is to do, and has no sign yet (or no account): counted where
    // it is listed, so the chips add up offline as they do once it is sent.
    const localHit = (rec) => { const b = rec.body || {}; return !q || fold(`${b.stall_code} ${b.holder && b.holder.full_name} ${b.goods || ""}`).includes(q); };
    for (const rec of pendingRegs) if (localHit(rec)) for (const c of ["todo", "all", pendingCat(rec)]) counts[c] += 1;
    drawChips(counts);
    clear(statusLine);
    if (data.loading) statusLine.append(t("loading_fresh"));
    else {
      statusLine.append(data.stale ? t("stale_data", { time: time(data.at) }) : t("updated_at", { time: time(data.at) }));
      if (!data.levels) statusLine.append(" · ", t("levels_unknown"));
    }

    clear(listBox);
    const ul = h("ul", { class: "stall-list" });
    for (const rec of pendingRegs) {
      if (!["todo", "all", pendingCat(rec)].includes(filter)) continue;
      const b = rec.body || {};
      if (!localHit(rec)) continue;
      const href = rec.state === "failed" ? `#/m/${marketId}/new/${rec.id}` : "#/outbox";
      ul.append(h("li", {}, h("a", { href, class: "stall-row stall-local", dataset: { record: rec.id } },
        h("span", { class: "code" }, b.stall_code || "?"),
        h("span", { class: "who" }, h("span", { class: "name" }, (b.holder && b.holder.full_name) || ""), h("span", { class: "sub" }, t("local_record"), b.goods ? ` · ${b.goods}` : "")),
        stateBadge(rec))));
    }
    for (const [s, tile, cats] of rows.slice(0, shown)) {
      // Say what is left to do at the stall; when nothing is, say how far it got.
      const badges = [];
      const sign = consents.signConsent(s, knownConsent);
      if (cats.has("revisit")) badges.push(h("span", { class: "badge badge-revisit" }, t("f_revisit")));
      if (tile && tile.sign_reprint_needed) badges.push(h("span", { class: "badge badge-reprint" }, t("reprint_needed")));
      if (cats.has("no_account")) badges.push(h("span", { class: "badge badge-todo" }, t("f_no_account")));
      else if (cats.has("no_sign") && (sign === "missing" || sign === "withdrawn")) {
        // Say why the sign is not there: it cannot be printed until the stallholder agrees.
        badges.push(h("span", { class: "badge badge-blocked", dataset: { blocked: sign } }, t(sign === "withdrawn" ? "sign_blocked_withdrawn" : "sign_blocked_consent")));
      } else if (cats.has("no_sign")) badges.push(h("span", { class: "badge badge-todo" }, t("f_no_sign")));
      else if (cats.has("not_verified")) badges.push(h("span", { class: "badge badge-todo" }, t("f_not_verified")));
      if (!badges.length && tile) badges.push(h("span", { class: `badge ${levelClass(tile.level)}` }, levelLabel(tile.level)));
      if (s.status && s.status !== "active") badges.push(h("span", { class: "badge badge-muted" }, t(`st_${s.status}`)));
      const visited = visitBadge(s, cats, todayVN);
      if (visited) badges.push(visited);
      const sub = [s.goods, (s.bank_short_names || []).join(", ")].filter(Boolean).join(" · ");
      // A role without access to stallholders' data cannot open a stall: its row is not a link.
      const rowAttrs = { class: ["stall-row", cats.has("revisit") ? "stall-revisit" : "", canWork ? "" : "stall-row-static"], dataset: { stall: s.id } };
      ul.append(h("li", {}, h(canWork ? "a" : "div", canWork ? { href: `#/s/${s.id}`, ...rowAttrs } : rowAttrs,
        h("span", { class: "code" }, s.stall_code),
        h("span", { class: "who" }, canWork ? h("span", { class: "name" }, s.holder_name || "—") : null, h("span", { class: "sub" }, sub)),
        h("span", { class: "badges" }, badges))));
    }
    listBox.append(ul);
    if (q && elsewhere) {
      listBox.append(h("p", { class: "note", id: "matches-elsewhere" }, t(ul.children.length ? "more_matches_elsewhere" : "matches_elsewhere", { n: elsewhere }), " ",
        h("button", { type: "button", class: "btn btn-small", onclick: () => { filter = "all"; shown = PAGE; persist(); drawList(); } }, t("show_in_all"))));
    } else if (!ul.children.length && data.loading && !data.stalls.length) listBox.append(h("p", { class: "loading" }, t("loading")));
    // A phone number is looked up on the server (the device keeps phones masked): offline, or only
    // a part of it, nothing here can say the stall is not registered, and the row says so.
    else if (!ul.children.length) {
      const phoneLike = canWork && q && /^[\d\s.+-]+$/.test(q) && /\d{3}/.test(q);
      const unsure = phoneLike && (!navigator.onLine || !looksLikePhoneQuery(q));
      listBox.append(h("p", { class: "empty", id: "no-results" }, q ? t("no_results") : t("all_done"),
        unsure ? [" ", t(navigator.onLine ? "phone_search_part" : "phone_search_offline")] : null));
    }
    if (rows.length > shown) {
      listBox.append(h("button", { type: "button", class: "btn btn-block", onclick: () => { shown += PAGE; drawList(); } }, t("show_more", { n: rows.length - shown })));
    }
    keepSoon();
  }

  // The list as a new start of the app shows it first (the default filter, no search, the first
  // page), kept for instant.js once the screen has settled.
  const keepSoon = debounce(() => {
    if (!gone && !query && filter === filters[0] && shown === PAGE) keepSnapshot(ctx, marketId);
  }, 1000);

  /**
   * The latest visit, while the stall still has work (or something to follow up): what the last
   * volunteer found, and the day agreed to come back (due today or earlier: marked).
   */
  function visitBadge(s, cats, todayVN) {
    const visit = s.last_visit;
    if (!visit || !visitWords || !(cats.has("todo") || visit.outcome === "follow_up")) return null;
    const due = visit.come_back_on && visit.come_back_on <= todayVN;
    return h("span", { class: ["badge", "badge-visit", due ? "badge-due" : ""], dataset: { visit: visit.outcome } }, visitWords.badgeText(visit));
  }

  /** The visit badges put into the rows on screen (nothing else is drawn again: focus and scroll stay). */
  function addVisitBadges() {
    const byId = new Map(data.stalls.map((s) => [String(s.id), s]));
    const todayVN = daysAgoVN(0);
    for (const row of listBox.querySelectorAll("[data-stall]")) {
      const s = byId.get(row.dataset.stall);
      const box = row.querySelector(".badges");
      if (!s || !box || box.querySelector(".badge-visit")) continue;
      const tile = data.levels ? data.levels.get(s.id) : null;
      const badge = visitBadge(s, categories(s, tile), todayVN);
      if (badge) box.append(badge);
    }
  }

  let serverHits = { query: null, ids: new Set() };
  async function searchServer() {
    const asked = query;
    if (!canWork || !looksLikePhoneQuery(asked) || !navigator.onLine) return;
    try {
      const page = await api.getJSON(`/api/markets/${marketId}/stalls?${new URLSearchParams({ q: asked, limit: "500" })}`);
      if (gone || asked !== query) return;
      serverHits = { query: asked, ids: new Set(page.items.map((x) => x.id)) };
      drawList();
    } catch { /* offline or refused: the device's own search stands */ }
  }
  const searchServerSoon = debounce(searchServer, 300);
  const onSearch = debounce(() => { query = search.value; shown = PAGE; persist(); drawList(); searchServerSoon(); }, 120);
  // On a phone the results came below four rows of filters, under the keyboard: typing brings
  // the search box to the top and the filters to one row that scrolls sideways.
  const searching = () => chips.classList.toggle("chips-searching", Boolean(search.value.trim()));
  search.addEventListener("input", () => { searching(); onSearch(); });
  search.addEventListener("focus", () => { if (matchMedia("(max-width: 560px)").matches) search.scrollIntoView({ block: "start" }); });
  searching();

  async function reload() {
    if (today.refresh) today.refresh();
    try {
      const fresh = await marketData(marketId, { personal: canWork });
      if (gone) return;
      data = fresh;
    } catch (err) {
      if (gone) return;
      data.loading = false;  // what the device has, said as such
      toast(describeError(err), "error");
    }
    await drawQueueCard();
    drawList();
    loadAssigned();
  }

  const onOutbox = async () => { if (gone) return; await drawQueueCard(); drawList(); drawAssigned(assigned); };
  // When the queue sends records of this market, show them at once from the device, then reload the
  // list and the levels from the server (once per batch), so what was done drops off "Cần làm".
  const reloadSoon = debounce(() => { if (!gone) reload(); }, 600);
  const onSent = (ev) => {
    const rec = ev.detail.record;
    if (rec.market_id && rec.market_id !== marketId) return;
    if (rec.kind === "register") {
      data.stalls = api.cache.value(`stalls.${marketId}`) || data.stalls;
      drawList();
    }
    reloadSoon();
  };
  // Back on the network with a list kept on the device: ask the server again (nothing queued may
  // be there to send, which would otherwise be the only reason to reload).
  // The list is drawn again too: what it said offline ("cannot search phones offline") goes, and
  // a phone number typed is looked up on the server.
  const onOnline = () => {
    if (data.stale) reloadSoon(); else if (today.refresh) today.refresh();
    drawList();
    searchServerSoon();
  };
  window.addEventListener("choso:outbox", onOutbox);
  window.addEventListener("choso:sent", onSent);
  window.addEventListener("online", onOnline);
  ctx.cleanup = () => {
    gone = true;
    window.removeEventListener("choso:outbox", onOutbox);
    window.removeEventListener("choso:sent", onSent);
    window.removeEventListener("online", onOnline);
  };

  drawList(); // what the device knows, at once; then the queue (IndexedDB) and the server's answers
  if (!visitWords) {
    import("../lib/visits.js").then((mod) => { visitWords = mod; if (!gone) addVisitBadges(); }, () => { /* offline: no visit badges */ });
  }
  const drawnWith = pendingKey();
  await drawQueueCard();
  if (pendingKey() !== drawnWith) drawList(); // the queue's registrations join the list
  await reload();
  if (query) await searchServer();
}
