// The manager dashboard (/dashboard), one level of the drill-down at a time (lib/drill.js): the
// country's provinces, a province's wards, or a ward's markets with their status and progress
// toward the rule; the numbers, the map, the trend, the partners and the exports of that level;
// where to go next; market reports.

import { h, mount } from "./lib/dom.js";
import { t, num, pct, addStrings } from "./lib/i18n.js";

addStrings({
  vi: { partners_note: "Số sạp có tài khoản do đối tác hỗ trợ mở (theo ghi nhận khi đăng ký hoặc báo cáo của đối tác), không phải số sạp dùng ngân hàng hay ví đó. Tài khoản đối tác báo tạm ngưng hay đã gỡ vẫn tính ở đây cho tới khi sạp sửa tài khoản; trang của đối tác chia theo trạng thái." },
  en: { partners_note: "Stalls with an account the partner helped open (as recorded at registration or in the partner's reports), not every stall that banks with it. An account the partner reports suspended or removed still counts here until the stall's account is changed; the partner's page splits them by status." },
});
import * as api from "./lib/api.js";
import { optional } from "./lib/page.js";
import { settings } from "./lib/shell.js";
import { marketMap } from "./lib/map.js";
import { areaMap } from "./lib/areamap.js";
import {
  groups, levelShare, activeStalls, thresholdsOf, levelLabel, marketsFromGeo,
} from "./lib/coverage.js";
import { NO_WARD, rankingSection, trendSection } from "./lib/nextsteps.js";
import { statusBadge, ruleLine, ruleInForce, ruleSteps, scheduledRule, progressRows, download, openReport, supportFigures, fileName } from "./lib/widgets.js";
import {
  drillPage, levelOf, CHILD, SMALL, areaQuery, areaHref, childArea, trail, breadcrumbs, arrived,
  childLabel, unknownName, statusMix, byName,
} from "./lib/drill.js";

const STATUS_ORDER = { lapsed: 0, in_progress: 1, not_started: 2, cashless: 3 };
// "Where to go next" ranks every market of the level in the page: at the country, up to this many
// (a city, a few provinces); beyond, it asks for a province first.
const RANK_ALL = 1000;

async function draw(main, me, area, ctx) {
  const level = levelOf(area);
  const child = CHILD[level];
  const markets = () => optional(`/api/coverage/markets.geojson?${areaQuery(area)}`);
  const [versions, rollup, byPartner, wardGeo] = await Promise.all([
    optional("/api/programme/rule/versions"),
    api.getJSON(`/api/coverage?${areaQuery(area, { group_by: child })}`),
    optional(`/api/coverage?${areaQuery(area, { group_by: "partner" })}`),
    level === "ward" ? markets() : null,
  ]);
  if (ctx.stale()) return;
  const total = rollup.total || null;
  const marketCount = total ? Number(total.markets || 0) : 0;
  // A ward, or any area small enough, is drawn market by market; a larger one as circles.
  const geo = wardGeo || (level !== "ward" && marketCount <= SMALL ? await markets() : null);
  if (ctx.stale()) return;
  // Every version: the one in force says the rule; the applied ones draw the chart's targets over
  // time; a scheduled one is said with the rule.
  const rule = ruleInForce(versions);
  const thresholds = thresholdsOf(rule || rollup);
  const names = { province: rollup.province && rollup.province.name, ward: rollup.ward && rollup.ward.name };
  const steps = trail(area, names);
  const here = steps[steps.length - 1].name;
  const rows = groups(rollup).map((g) => ({ ...g, name: g.key ? g.name : unknownName(area) }));

  const kpis = h("div", { class: "kpis" },
    kpi(num(marketCount), t("kpi_markets")),
    kpi(num(total ? activeStalls(total) : 0), t("kpi_active")),
    kpi(num(total && total.statuses ? total.statuses.cashless : 0), t("kpi_cashless")),
    ["qr_issued", "qr_verified", "transacting"].map((l) => kpi(total ? pct(levelShare(total, l).share) : "—", levelLabel(l))));

  const table = level === "ward" ? marketTable(rows, thresholds) : areaTable(rows, area, thresholds, ctx);
  const tableTitle = level === "ward" ? t("markets_table") : t(`drill_table_${child}`);

  const map = geo
    ? marketMap(marketsFromGeo(geo), { tileUrl: settings.tileUrl, compact: true })
    : areaMap(rows, { tileUrl: settings.tileUrl, compact: true, onPick: (a) => ctx.go(childArea(area, a.key)) });

  const partnerRows = groups(byPartner).filter((g) => activeStalls(g) > 0)
    .sort((a, b) => activeStalls(b) - activeStalls(a)).slice(0, 12);
  const leaderboard = partnerRows.length
    ? h("table", { class: "leaderboard" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("col_partner")), h("th", { scope: "col", class: "num" }, t("col_stalls")),
        h("th", { scope: "col", class: "num" }, levelLabel("qr_verified")), h("th", { scope: "col", class: "num" }, levelLabel("transacting")))),
      h("tbody", {}, partnerRows.map((g) => h("tr", {},
        h("td", {}, g.name || g.key), h("td", { class: "num" }, num(activeStalls(g))),
        h("td", { class: "num" }, pct(levelShare(g, "qr_verified").share)),
        h("td", { class: "num" }, pct(levelShare(g, "transacting").share))))))
    : h("p", { class: "muted" }, t("partners_missing"));

  const heading = h("h1", {}, level === "country" ? t("dash_title") : `${t("dash_title")}: ${here}`);
  mount(main,
    breadcrumbs(ctx, steps),
    heading,
    h("p", { class: "muted" }, t(`drill_scope_${level}`, { name: here }), " · ", h("span", { class: "rule-line" }, ruleLine(rule, thresholds)), scheduledRule(versions) ? [" · ", scheduledRule(versions)] : null),
    // Zeros alone would read as a place with no progress: say there is nothing here to count.
    marketCount === 0 ? h("p", { class: "note", id: "area-empty" }, t("area_no_markets", { name: here })) : null,
    kpis,
    rankingSection({ ward: area.ward, province: area.ward ? null : area.province, pickArea: level === "country" && marketCount > RANK_ALL }),
    h("div", { class: "dash-grid" },
      h("section", { class: "card", "aria-labelledby": "h-markets" },
        h("h2", { id: "h-markets" }, tableTitle),
        level === "ward" ? null : h("p", { class: "muted small" }, t("drill_rows_hint", { what: childLabel(area).toLocaleLowerCase(document.documentElement.lang) })),
        h("div", { class: "table-wrap" }, table)),
      h("div", {},
        h("section", { class: "card", "aria-labelledby": "h-map" },
          h("h2", { id: "h-map" }, t("map_title")), map.el, map.legend, map.note,
          h("p", { class: "nav-links" }, h("a", { href: areaHref(area, "/map") }, t("open_full_map")))),
        trendSection({ thresholds, area, ruleSteps: ruleSteps(versions) }),
        h("section", { class: "card", "aria-labelledby": "h-partners" },
          h("h2", { id: "h-partners" }, t("partners_title")),
          h("p", { class: "muted small", id: "partners-note" }, t("partners_note")), leaderboard),
        supportSection(area, ctx),
        exportsSection(area, rows, levelOf(area) === "country" ? "ca nuoc" : here))));
  arrived(ctx, heading, here);
}

/** One row per province or ward: its markets, their statuses, stalls and progress; a link in. */
function areaTable(rows, area, thresholds, ctx) {
  const sorted = [...rows].sort(byName);
  return h("table", { class: "markets-table area-table" },
    h("caption", { class: "sr-only" }, t(`drill_table_${CHILD[levelOf(area)]}`)),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, childLabel(area)), h("th", { scope: "col", class: "num" }, t("drill_col_markets")),
      h("th", { scope: "col" }, t("drill_col_statuses")),
      h("th", { scope: "col", class: "num" }, t("col_stalls")), h("th", { scope: "col" }, t("col_progress")))),
    h("tbody", {}, sorted.map((g) => h("tr", { dataset: { area: g.key } },
      h("td", {}, g.key
        ? ctx.link(childArea(area, g.key), { class: "market-name area-link" }, g.name)
        : h("span", { class: "market-name" }, g.name)),
      h("td", { class: "num cell-count", dataset: { label: t("drill_col_markets") } }, num(g.markets || 0)),
      h("td", { class: "cell-wide" }, statusMix(g.statuses, g.markets || 0)),
      h("td", { class: "num cell-count", dataset: { label: t("kpi_active") } }, num(activeStalls(g))),
      h("td", { class: "cell-wide" }, progressRows(g, thresholds))))));
}

/** One row per market of a ward, as the dashboard always had: status, stalls, progress, report. */
function marketTable(rows, thresholds) {
  const sorted = [...rows].sort((a, b) => (STATUS_ORDER[a.status] ?? 9) - (STATUS_ORDER[b.status] ?? 9) || a.name.localeCompare(b.name, "vi"));
  return h("table", { class: "markets-table" },
    h("caption", { class: "sr-only" }, t("markets_table")),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, t("col_market")), h("th", { scope: "col" }, t("col_status")),
      h("th", { scope: "col", class: "num" }, t("col_stalls")), h("th", { scope: "col" }, t("col_progress")))),
    h("tbody", {}, sorted.map((m) => h("tr", { dataset: { market: m.key } },
      h("td", {}, h("div", { class: "name-cell" },
        h("div", {}, h("a", { href: `/markets/${m.key}`, class: "market-name" }, m.name)),
        h("button", { type: "button", class: "btn btn-small", onclick: () => openReport(m.key, m.name), "aria-label": `${t("report_pdf")} — ${m.name}` }, "PDF"))),
      h("td", { class: "cell-status" }, statusBadge(m.status)),
      h("td", { class: "num cell-count", dataset: { label: t("kpi_active") } }, num(activeStalls(m))),
      h("td", { class: "cell-wide" }, progressRows(m, thresholds))))));
}

/** Exports of the level: a ward's markets (one or all); a province's markets (all, one ward's, or
 * those whose ward is not recorded); at the country, everything in scope. */
function exportsSection(area, rows, placeName) {
  const level = levelOf(area);
  const sorted = rows.filter((r) => r.key).sort((a, b) => a.name.localeCompare(b.name, "vi"));
  let pick = null;
  if (level === "ward") {
    pick = h("select", { id: "export-market" }, h("option", { value: "" }, t("drill_export_all_ward")),
      sorted.map((m) => h("option", { value: m.key }, m.name)));
  } else if (level === "province") {
    // The province's markets (all, one ward's, or those whose ward is not recorded).
    const unplaced = rows.some((r) => !r.key) ? [h("option", { value: NO_WARD }, t("drill_unknown_ward"))] : [];
    pick = h("select", { id: "export-ward" }, h("option", { value: "" }, t("drill_export_all_province")),
      sorted.map((w) => h("option", { value: w.key }, w.name)), unplaced);
  }
  const levelSel = h("select", { id: "export-level" }, h("option", { value: "" }, t("export_any_level")),
    ["registered", "qr_issued", "qr_verified", "transacting", "fees_cashless"].map((l) => h("option", { value: l }, levelLabel(l))));
  const exportPath = (ext) => {
    const qs = new URLSearchParams();
    if (level === "ward") {
      if (pick.value) qs.set("market_id", pick.value);
      else qs.set("ward_code", area.ward);
    } else if (level === "province") {
      if (pick.value === NO_WARD) qs.set("without_ward", "true");
      if (pick.value && pick.value !== NO_WARD) qs.set("ward_code", pick.value);
      else qs.set("province", area.province);
    }
    if (levelSel.value) qs.set("level", levelSel.value);
    return `/api/exports/stalls.${ext}${qs.toString() ? `?${qs}` : ""}`;
  };
  const pickLabel = level === "ward" ? t("export_market") : t("drill_col_ward");
  // The file says what it holds: the place (the market or ward picked, else the level's own
  // place), the level asked for, the day.
  const named = (ext) => {
    const picked = pick && pick.value ? pick.selectedOptions[0].textContent : "";
    return fileName(["choso-sap", picked || placeName, levelSel.value ? levelLabel(levelSel.value) : ""], ext);
  };
  return h("section", { class: "card exports", "aria-labelledby": "h-exports" },
    h("h2", { id: "h-exports" }, t("exports_title")),
    level === "country" ? h("p", { class: "muted small" }, t("drill_export_scope")) : null,
    h("form", { onsubmit: (e) => e.preventDefault() },
      pick ? h("div", { class: "field" }, h("label", { for: pick.id }, pickLabel), pick) : null,
      h("div", { class: "field" }, h("label", { for: "export-level" }, t("export_level")), levelSel),
      // Excel for people (Vietnamese headers, local times); CSV and GeoJSON for other software.
      h("div", { class: "row-actions" },
        h("button", { type: "button", class: "btn btn-primary", id: "export-xlsx", onclick: () => download(exportPath("xlsx"), named("xlsx")) }, t("export_xlsx")),
        // The markets of the area the page is at (the country, a province, a ward), named so.
        h("button", { type: "button", class: "btn", id: "export-markets-xlsx", onclick: () => download(`/api/exports/markets.xlsx${areaQuery(area) ? `?${areaQuery(area)}` : ""}`, fileName(["choso-cho", placeName], "xlsx")) }, t("export_markets_xlsx")),
        h("button", { type: "button", class: "btn", id: "export-csv", onclick: () => download(exportPath("csv"), named("csv")) }, t("export_csv")),
        h("button", { type: "button", class: "btn", id: "export-geojson", onclick: () => download(exportPath("geojson"), named("geojson")) }, t("export_geojson")))));
}

/** The support package over the area (users_want #21): households consulted and each item; read
 * after the page is drawn, so it never holds up the numbers above. */
function supportSection(area, ctx) {
  const body = h("div", {}, h("p", { class: "muted" }, t("loading")));
  const card = h("section", { class: "card", id: "area-support", "aria-labelledby": "h-support" },
    h("h2", { id: "h-support" }, t("support_title")), body);
  optional(`/api/support-package?${areaQuery(area)}`).then((c) => {
    if (ctx.stale()) return;
    if (!c) { card.remove(); return; }
    body.replaceChildren(...supportFigures(c, "area-support-table"));
  }, () => body.replaceChildren(h("p", { class: "muted" }, t("support_area_unavailable"))));
  return card;
}

function kpi(value, label) {
  return h("div", { class: "kpi" }, h("span", { class: "kpi-value" }, value), h("span", { class: "kpi-label" }, label));
}

drillPage("dashboard", draw);
