// A printable list of the stalls to visit again (/return-visits?market=ID or ?team=ID): stall,
// zone, reason and since when, one table per market, with a box to tick on paper. Print CSS
// leaves out the page's frame.

import { h, mount } from "./lib/dom.js";
import { t, num, dateTime } from "./lib/i18n.js";
import * as api from "./lib/api.js";
import { widePage } from "./lib/page.js";
import { revisitReason } from "./lib/coverage.js";

const qs = new URLSearchParams(window.location.search);
const positive = (v) => (/^[1-9][0-9]{0,17}$/.test(v || "") ? v : null);


function marketTable(market) {
  return h("section", { class: "visit-market", dataset: { market: market.market_id } },
    h("h2", {}, market.name, market.ward_name ? h("span", { class: "muted small" }, ` · ${market.ward_name}`) : null,
      " ", h("span", { class: "muted small" }, `(${t(market.visits.length === 1 ? "visits_one" : "visits_n", { n: num(market.visits.length) })})`)),
    market.visits.length
      ? h("table", { class: "visits-table" },
        h("caption", { class: "sr-only" }, `${t("visits_title")} — ${market.name}`),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, t("visits_col_stall")), h("th", { scope: "col" }, t("visits_col_zone")),
          h("th", { scope: "col" }, t("visits_col_reason")), h("th", { scope: "col" }, t("visits_col_since")),
          h("th", { scope: "col", class: "visit-done" }, t("visits_col_done")))),
        h("tbody", {}, market.visits.map((v) => h("tr", { dataset: { stall: v.stall_id } },
          h("th", { scope: "row", class: "visit-code" }, v.stall_code),
          h("td", {}, v.zone || "—"),
          h("td", {}, revisitReason(v.reason)),
          h("td", {}, v.since ? dateTime(v.since) : "—"),
          h("td", { class: "visit-done" }, h("span", { class: "tick-box", "aria-hidden": "true" }))))))
      : h("p", { class: "muted" }, t("visits_none")));
}

async function render(main) {
  const market = positive(qs.get("market"));
  const team = positive(qs.get("team"));
  let title, markets;
  if (team) {
    const data = await api.getJSON(`/api/teams/${team}/return-visits`);
    title = t("visits_team", { name: data.team_name });
    markets = data.markets;
  } else if (market) {
    const data = await api.getJSON(`/api/markets/${market}/return-visits`);
    title = t("visits_market", { name: data.name });
    markets = [data];
  } else {
    mount(main, h("h1", {}, t("visits_title")), h("p", { class: "note note-warn" }, t("visits_pick")),
      h("p", {}, h("a", { href: "/dashboard" }, t("nav_dashboard"))));
    return;
  }
  document.title = `${title} — ${t("app_name")}`;
  const count = markets.reduce((n, m) => n + m.visits.length, 0);
  mount(main,
    h("div", { class: "visits-page" },
      h("h1", {}, t("visits_title")),
      h("p", { class: "lead" }, title, " · ", t(count === 1 ? "visits_one" : "visits_n", { n: num(count) })),
      h("p", { class: "muted small" }, t("visits_printed_at", { when: dateTime(new Date()) })),
      h("div", { class: "row-actions" },
        h("button", { type: "button", class: "btn btn-primary", id: "print-visits", onclick: () => window.print() }, t("visits_print"))),
      markets.length ? markets.map(marketTable) : h("p", { class: "muted" }, t("visits_none"))));
}

widePage("visits", render);
