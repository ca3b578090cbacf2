// The drill-down of the manager pages (/dashboard, /map): country -> province -> ward -> market.
// Each level shows one row (and one circle) per area below it, never every market of the country;
// the level lives in the URL (?province=48&ward=20242), so a link, a reload, the breadcrumbs and
// the browser's back button all land on the same level (history.pushState / popstate).
//
// Where a page opens: a URL naming an area (the country: ?country=1) opens there, so a reload or a
// shared link stays on its level. A bare /dashboard or /map opens at the
// deepest level the caller's scope leaves no choice about: a scope inside one province starts at
// that province, and inside one ward of it (a ward manager) at that ward; a national viewer starts
// at the country. The Đà Nẵng demo (31 markets, one province) thus opens at Đà Nẵng.

import { h } from "./dom.js";
import { t, num } from "./i18n.js";
import * as api from "./api.js";
import * as shell from "./shell.js";
import { widePage } from "./page.js";
import { groups, STATUSES } from "./coverage.js";

/** An area holding at most this many markets is drawn market by market (dots and clusters, as in
 * a city); a larger one as one circle per area below it. */
export const SMALL = 60;

const PROVINCE = /^[0-9]{1,3}$/;
const WARD = /^[0-9]{1,6}$/;

/** The area the URL names: {province, ward} (codes, or null). */
export function areaFromUrl() {
  const qs = new URLSearchParams(window.location.search);
  const code = (key, re) => { const v = qs.get(key); return v && re.test(v) ? v : null; };
  // ?country=1: the country, asked for (a bare address opens where the scope leads instead).
  return { province: code("province", PROVINCE), ward: code("ward", WARD), chosen: qs.get("country") === "1" };
}

export const levelOf = (area) => (area.ward ? "ward" : area.province ? "province" : "country");
/** What the rows of a level are: the areas (or markets) one level down. */
export const CHILD = { country: "province", province: "ward", ward: "market" };

/** The area's query string ("province=48&ward=20242"), with extra parameters. */
export function areaQuery(area, extra = {}) {
  const qs = new URLSearchParams(extra);
  if (area.province) qs.set("province", area.province);
  if (area.ward) qs.set("ward", area.ward);
  return qs.toString();
}

/** The page's own URL at an area. */
export function areaHref(area, path = window.location.pathname) {
  const qs = areaQuery(area);
  return qs ? `${path}?${qs}` : `${path}?country=1`;
}

/** The area one row of a level's table opens. */
export function childArea(area, key) {
  const level = levelOf(area);
  if (level === "country") return { province: key, ward: null };
  if (level === "province") return { province: area.province, ward: key };
  return area;
}

/** The deepest level the caller's scope leaves no choice about (see the top of this file). */
async function startArea() {
  const provinces = groups(await api.getJSON("/api/coverage?group_by=province"));
  if (provinces.length !== 1 || !provinces[0].key) return { province: null, ward: null };
  const province = provinces[0].key;
  const wards = groups(await api.getJSON(`/api/coverage?${areaQuery({ province }, { group_by: "ward" })}`));
  return { province, ward: wards.length === 1 && wards[0].key ? wards[0].key : null };
}

/** A ward named without its province (?ward=20242): its province, so the breadcrumbs are whole. */
async function withProvince(area) {
  if (!area.ward || area.province) return area;
  const found = groups(await api.getJSON(`/api/coverage?${areaQuery(area, { group_by: "province" })}`));
  return { province: found.length === 1 && found[0].key ? found[0].key : null, ward: area.ward };
}

/**
 * A page that drills: draw(main, me, area, ctx) draws one level; ctx.go(area) moves to another
 * (a new history entry), ctx.link(area, ...children) is a link that does so, ctx.stale() says a
 * newer level was asked for meanwhile (a draw that finds it so stops without touching the page).
 */
export function drillPage(current, draw) {
  let main = null;
  let me = null;
  let first = true;
  let generation = 0;
  let moved = false;

  async function show() {
    const mine = ++generation;
    const stale = () => mine !== generation;
    const ctx = { go, link, stale, moved };
    moved = false;
    try {
      let area = areaFromUrl();
      if (first && levelOf(area) === "country" && !area.chosen) area = await startArea();
      else if (area.ward && !area.province) area = await withProvince(area);
      first = false;
      if (stale()) return;
      if (areaHref(area) !== window.location.pathname + window.location.search) {
        window.history.replaceState(null, "", areaHref(area));
      }
      await draw(main, me, area, ctx);
    } catch (err) {
      if (!stale()) shell.showError(main, err, show);
    }
  }

  function go(area) {
    window.history.pushState(null, "", areaHref(area));
    moved = true;
    show();
  }

  function link(area, attrs, ...children) {
    return h("a", {
      ...attrs,
      href: areaHref(area),
      onclick: (ev) => {
        if (ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return; // new tab
        ev.preventDefault();
        go(area);
      },
    }, ...children);
  }

  window.addEventListener("popstate", () => { moved = true; show(); });
  widePage(current, async (m, who) => {
    main = m;
    me = who;
    await show();
  });
}

/** After a move to another level: focus on its heading (keyboard and screen-reader users start
 * there, as on a new page) and say where they are. */
export function arrived(ctx, heading, where) {
  if (!ctx.moved) return;
  heading.setAttribute("tabindex", "-1");
  heading.focus({ preventScroll: false });
  if (where) {
    const live = document.getElementById("live");
    if (live) live.textContent = where;
  }
}

/** Names of the levels of an area: [{area, name}] from the country down (the last is the current). */
export function trail(area, names) {
  const out = [{ area: { province: null, ward: null }, name: t("drill_country") }];
  if (area.province) out.push({ area: { province: area.province, ward: null }, name: names.province || area.province });
  if (area.ward) out.push({ area: { ...area }, name: names.ward || area.ward });
  return out;
}

/** The breadcrumbs: every level above as a link, the current one as text. */
export function breadcrumbs(ctx, steps) {
  return h("nav", { class: "crumbs", "aria-label": t("drill_crumbs") },
    h("ol", {}, steps.map((step, i) => h("li", {},
      i === steps.length - 1
        ? h("span", { "aria-current": "page" }, step.name)
        : ctx.link(step.area, { dataset: { level: levelOf(step.area) } }, step.name)))));
}

/** Areas in alphabetical order of their names without their kind ("Thành phố Đà Nẵng" between
 * "Tỉnh Cà Mau" and "Tỉnh Điện Biên"), the rows without an area last. */
const KIND = /^(Thành phố|Tỉnh|Phường|Xã|Đặc khu|Thị trấn)\s+/u;
export function byName(a, b) {
  return (a.key ? 0 : 1) - (b.key ? 0 : 1) || a.name.replace(KIND, "").localeCompare(b.name.replace(KIND, ""), "vi");
}

/** "Tỉnh, thành phố" / "Phường, xã" / "Chợ": what a level's rows are. */
export const childLabel = (area) => t(`drill_col_${CHILD[levelOf(area)]}`);

/** The name of a row with no area (markets without a province or ward on record). */
export const unknownName = (area) => t(`drill_unknown_${CHILD[levelOf(area)]}`);

/** A bar of an area's markets per status (its arcs on the map), with the numbers in words. */
export function statusMix(statuses, markets) {
  const counts = STATUSES.map((st) => [st, Number((statuses || {})[st] || 0)]).filter(([, n]) => n);
  const words = counts.map(([st, n]) => `${num(n)} ${t(`status_${st}`).toLocaleLowerCase(document.documentElement.lang)}`).join(", ");
  const bar = h("span", { class: "mix", "aria-hidden": "true" },
    counts.map(([st, n]) => {
      const part = h("span", { class: `mix-part status-${st}` });
      part.style.width = `${((n / Math.max(1, markets)) * 100).toFixed(1)}%`;
      return part;
    }));
  return h("span", { class: "mix-cell" }, bar, h("span", { class: "sub" }, words || t("status_unknown")));
}
