// /map: the city's markets on a Leaflet map (lib/map.js) with a search box, the legend, and the
// list of markets beside it.

import { h, mount } from "./lib/dom.js";
import { t, num } from "./lib/i18n.js";
import * as api from "./lib/api.js";
import { widePage, optional } from "./lib/page.js";
import { settings } from "./lib/shell.js";
import { marketMap } from "./lib/map.js";
import { marketsFromGeo, marketsFromList, statusClass, statusLabel } from "./lib/coverage.js";

async function render(main) {
  const geo = await optional("/api/coverage/markets.geojson");
  const markets = geo ? marketsFromGeo(geo) : marketsFromList(await api.getJSON("/api/markets"));
  const map = marketMap(markets, { tileUrl: settings.tileUrl });
  const sorted = [...markets].sort((a, b) => a.name.localeCompare(b.name, "vi"));
  mount(main,
    h("h1", {}, t("map_page_title")),
    h("p", { class: "muted" }, t("map_intro")),
    geo ? null : h("p", { class: "note note-warn" }, t("coverage_missing")),
    h("div", { class: "map-page" },
      h("section", { class: "card", "aria-label": t("map_title") }, map.search, map.el, map.legend, map.note),
      h("nav", { class: "card market-index", "aria-labelledby": "h-index" },
        h("h2", { id: "h-index" }, t("market_list")),
        h("ul", {}, sorted.map((m) => h("li", {}, h("a", { href: `/markets/${m.id}` },
          h("span", { class: `swatch ${statusClass(m.status)}`, "aria-hidden": "true" }),
          h("span", {}, m.name, h("span", { class: "sub" }, `${statusLabel(m.status)} · ${t("stall_count", { n: num(m.stalls) })}`)))))))));
}

widePage("map", render);
