// /map, one level of the drill-down at a time (lib/drill.js): the country's provinces or a
// province's wards as circles (lib/areamap.js) with the list of those areas beside the map; a ward,
// or any area small enough, market by market on the Leaflet map (lib/map.js) with the search box,
// the legend and the list of its markets.

import { h, mount } from "./lib/dom.js";
import { t, num, addStrings } from "./lib/i18n.js";
import * as api from "./lib/api.js";
import { optional } from "./lib/page.js";
import { settings } from "./lib/shell.js";
import { marketMap } from "./lib/map.js";
import { areaMap } from "./lib/areamap.js";
import { glyph, kindLabel, pointDetails } from "./lib/points.js";
import { groups, marketsFromGeo, marketsFromList, statusClass, statusLabel } from "./lib/coverage.js";
import {
  drillPage, levelOf, CHILD, SMALL, areaQuery, areaHref, childArea, trail, breadcrumbs, arrived,
  childLabel, unknownName, statusMix, byName,
} from "./lib/drill.js";

async function draw(main, me, area, ctx) {
  const level = levelOf(area);
  const child = CHILD[level];
  // The areas one level down (not needed in a ward: its markets are the rows).
  const rollup = await optional(`/api/coverage?${areaQuery(area, { group_by: child === "market" ? "ward" : child })}`);
  if (ctx.stale()) return;
  const total = rollup && rollup.total;
  const marketCount = total ? Number(total.markets || 0) : 0;
  const byMarket = level === "ward" || !rollup || marketCount <= SMALL;
  let markets = null;
  let points = null;
  if (byMarket) {
    // The partners' service points of the area come with its markets (users_want #22); a map
    // without them is still the coverage map, so their failure only leaves them out.
    const [geo, page] = await Promise.all([
      optional(`/api/coverage/markets.geojson?${areaQuery(area)}`),
      optional(`/api/service-points?${areaQuery(area)}`).catch(() => null),
    ]);
    markets = geo ? marketsFromGeo(geo) : rollup ? [] : marketsFromList(await api.getJSON("/api/markets"));
    points = page;
  }
  if (ctx.stale()) return;
  const names = { province: rollup && rollup.province && rollup.province.name, ward: rollup && rollup.ward && rollup.ward.name };
  const steps = trail(area, names);
  const here = steps[steps.length - 1].name;
  const areas = level === "ward" || !rollup ? [] : groups(rollup).map((g) => ({ ...g, name: g.key ? g.name : unknownName(area) }))
    .sort(byName);

  // An area with no market (in the caller's scope): said in words, not a map of somewhere else.
  const empty = byMarket ? !markets.length : !areas.length;
  const map = empty ? { el: h("p", { class: "note", id: "map-empty" }, t("map_no_markets", { place: here })) }
    : byMarket
    ? marketMap(markets, {
      tileUrl: settings.tileUrl, points: points ? points.points : [],
      pointView: {
        glyph, kindLabel, details: (p) => pointDetails(p, { showMarket: true }), legend: (n) => t("sp_legend", { n: num(n) }),
        label: (p) => `${p.name}: ${kindLabel(p.kind)}, ${p.partner_name}`,
      },
    })
    : areaMap(areas, { tileUrl: settings.tileUrl, onPick: (a) => ctx.go(childArea(area, a.key)) });
  const heading = h("h1", {}, level === "country" ? t("map_page_title") : `${t("map_page_title")}: ${here}`);

  const areaIndex = areas.length
    ? h("nav", { class: "card area-index", "aria-labelledby": "h-areas" },
      h("h2", { id: "h-areas" }, childLabel(area)),
      h("ul", {}, areas.map((a) => h("li", {}, a.key
        ? ctx.link(childArea(area, a.key), { dataset: { area: a.key } }, areaItem(a))
        : h("span", { class: "area-item" }, areaItem(a))))))
    : null;
  const marketIndex = byMarket && markets.length
    ? h("nav", { class: "card market-index", "aria-labelledby": "h-index" },
      h("h2", { id: "h-index" }, t("market_list")),
      h("ul", {}, [...markets].sort((a, b) => a.name.localeCompare(b.name, "vi")).map((m) => h("li", {}, h("a", { href: `/markets/${m.id}` },
        h("span", { class: `swatch ${statusClass(m.status)}`, "aria-hidden": "true" }),
        h("span", {}, m.name, h("span", { class: "sub" }, `${statusLabel(m.status)} · ${t("stall_count", { n: num(m.stalls) })}`)))))))
    : null;

  mount(main,
    breadcrumbs(ctx, steps),
    heading,
    h("p", { class: "muted" }, byMarket ? t("map_intro") : t("drill_map_intro", { what: childLabel(area).toLocaleLowerCase(document.documentElement.lang) })),
    rollup ? null : h("p", { class: "note note-warn" }, t("coverage_missing")),
    h("div", { class: "map-page" },
      h("section", { class: "card", "aria-label": t("map_title") }, byMarket && !empty ? map.search : null, map.el, map.legend, map.note,
        points && points.more ? h("p", { class: "note note-warn" }, t("sp_more")) : null,
        h("p", { class: "nav-links" }, h("a", { href: areaHref(area, "/dashboard") }, t("drill_open_dashboard")))),
      h("div", { class: "map-side" }, marketIndex, areaIndex)));
  arrived(ctx, heading, here);
}

function areaItem(a) {
  return h("span", { class: "area-item" },
    h("span", { class: "area-name" }, a.name, h("span", { class: "area-count" }, t("drill_n_markets", { n: num(a.markets || 0) }))),
    statusMix(a.statuses, a.markets || 0));
}

addStrings({
  vi: { map_no_markets: "Chưa có chợ nào ở {place} trong phạm vi bạn được xem." },
  en: { map_no_markets: "No market in {place} within what you may see yet." },
});

drillPage("map", draw);
