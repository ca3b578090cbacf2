// The manager dashboard (/dashboard): markets in scope with status and progress toward the rule,
// the coverage map, the partner leaderboard, the trend chart, exports and market reports.

import { h, mount } from "./lib/dom.js";
import { t, num, pct } from "./lib/i18n.js";
import * as api from "./lib/api.js";
import { widePage, optional } from "./lib/page.js";
import { settings } from "./lib/shell.js";
import { marketMap } from "./lib/map.js";
import {
  groups, levelShare, activeStalls, thresholdsOf, levelLabel, marketsFromGeo, marketsFromList,
} from "./lib/coverage.js";
import { rankingSection, trendSection } from "./lib/nextsteps.js";
import { statusBadge, ruleLine, progressRows, download, openReport } from "./lib/widgets.js";

const STATUS_ORDER = { lapsed: 0, in_progress: 1, not_started: 2, cashless: 3 };

async function render(main, me) {
  const [rule, byMarket, byPartner, geo, list] = await Promise.all([
    optional("/api/programme/rule"),
    optional("/api/coverage?group_by=market"),
    optional("/api/coverage?group_by=partner"),
    optional("/api/coverage/markets.geojson"),
    api.getJSON("/api/markets"),
  ]);
  const thresholds = thresholdsOf(rule || byMarket);
  const covById = new Map(groups(byMarket).map((g) => [String(g.key), g]));
  const markets = list.map((m) => ({ ...m, cov: covById.get(String(m.id)) || null }));
  const status = (m) => (m.cov && m.cov.status) || null;
  markets.sort((a, b) => (STATUS_ORDER[status(a)] ?? 9) - (STATUS_ORDER[status(b)] ?? 9) || a.name.localeCompare(b.name, "vi"));
  const total = byMarket && byMarket.total ? byMarket.total : null;
  const active = total ? activeStalls(total) : markets.reduce((n, m) => n + (m.cov ? activeStalls(m.cov) : m.stall_count || 0), 0);
  const cashless = markets.filter((m) => status(m) === "cashless").length;

  const kpis = h("div", { class: "kpis" },
    kpi(num(markets.length), t("kpi_markets")),
    kpi(num(active), t("kpi_active")),
    kpi(num(cashless), t("kpi_cashless")),
    ["qr_issued", "qr_verified", "transacting"].map((l) => kpi(total ? pct(levelShare(total, l).share) : "—", levelLabel(l))));

  const table = h("table", { class: "markets-table" },
    h("caption", { class: "sr-only" }, t("markets_table")),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, t("col_market")), h("th", { scope: "col" }, t("col_status")),
      h("th", { scope: "col", class: "num" }, t("col_stalls")), h("th", { scope: "col" }, t("col_progress")))),
    h("tbody", {}, markets.map((m) => h("tr", { dataset: { market: m.id } },
      h("td", {}, h("div", { class: "name-cell" },
        h("div", {}, h("a", { href: `/markets/${m.id}`, class: "market-name" }, m.name), h("span", { class: "sub" }, m.ward_name || m.legacy_district_name || "")),
        h("button", { type: "button", class: "btn btn-small", onclick: () => openReport(m.id, m.name), "aria-label": `${t("report_pdf")} — ${m.name}` }, "PDF"))),
      h("td", {}, statusBadge(status(m))),
      h("td", { class: "num" }, num(m.cov ? activeStalls(m.cov) : m.stall_count)),
      h("td", {}, m.cov ? progressRows(m.cov, thresholds) : h("span", { class: "muted" }, t("status_unknown")))))));

  const mapMarkets = geo ? marketsFromGeo(geo) : marketsFromList(list);
  const map = marketMap(mapMarkets, { tileUrl: settings.tileUrl, compact: true });

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

  const marketSel = h("select", { id: "export-market" }, h("option", { value: "" }, t("export_all_markets")),
    [...list].sort((a, b) => a.name.localeCompare(b.name, "vi")).map((m) => h("option", { value: m.id }, m.name)));
  const levelSel = h("select", { id: "export-level" }, h("option", { value: "" }, t("export_any_level")),
    ["registered", "qr_issued", "qr_verified", "transacting", "fees_cashless"].map((l) => h("option", { value: l }, levelLabel(l))));
  const exportPath = (ext) => {
    const qs = new URLSearchParams();
    if (marketSel.value) qs.set("market_id", marketSel.value);
    if (levelSel.value) qs.set("level", levelSel.value);
    return `/api/exports/stalls.${ext}${qs.toString() ? `?${qs}` : ""}`;
  };

  mount(main,
    h("h1", {}, t("dash_title")),
    h("p", { class: "muted" }, t("dash_scope"), " · ", h("span", { class: "rule-line" }, ruleLine(rule, thresholds))),
    byMarket ? null : h("p", { class: "note note-warn" }, t("coverage_missing")),
    kpis,
    rankingSection(),
    h("div", { class: "dash-grid" },
      h("section", { class: "card", "aria-labelledby": "h-markets" },
        h("h2", { id: "h-markets" }, t("markets_table")),
        h("div", { class: "table-wrap" }, table)),
      h("div", {},
        h("section", { class: "card", "aria-labelledby": "h-map" },
          h("h2", { id: "h-map" }, t("map_title")), map.el, map.legend, map.note,
          h("p", {}, h("a", { href: "/map" }, t("open_full_map")))),
        trendSection({ thresholds }),
        h("section", { class: "card", "aria-labelledby": "h-partners" },
          h("h2", { id: "h-partners" }, t("partners_title")), leaderboard),
        h("section", { class: "card exports", "aria-labelledby": "h-exports" },
          h("h2", { id: "h-exports" }, t("exports_title")),
          h("form", { onsubmit: (e) => e.preventDefault() },
            h("div", { class: "field" }, h("label", { for: "export-market" }, t("export_market")), marketSel),
            h("div", { class: "field" }, h("label", { for: "export-level" }, t("export_level")), levelSel),
            h("div", { class: "row-actions" },
              h("button", { type: "button", class: "btn btn-primary", id: "export-csv", onclick: () => download(exportPath("csv"), "choso-sap.csv") }, t("export_csv")),
              h("button", { type: "button", class: "btn", id: "export-geojson", onclick: () => download(exportPath("geojson"), "choso-sap.geojson") }, t("export_geojson"))))))));
}

function kpi(value, label) {
  return h("div", { class: "kpi" }, h("span", { class: "kpi-value" }, value), h("span", { class: "kpi-label" }, label));
}

widePage("dashboard", render);
