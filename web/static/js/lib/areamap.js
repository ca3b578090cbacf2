// The map of an area's areas (lib/drill.js): one circle per province or ward at the mean point of
// its markets, sized by its number of markets, its ring's arcs showing how many of them are in
// each status (as a cluster of markets on the market map), its number of markets in the middle and
// its name beside it where the name overlaps nothing. Selecting a circle (click, tap, Enter)
// drills into that area. A few dozen circles whatever the size of the country.

import { h, s } from "./dom.js";
import { t, num } from "./i18n.js";
import { baseMap, loadLeaflet, overlaps, watchMap, whenSized } from "./map.js";
import { STATUSES, statusLabel } from "./coverage.js";

const MAX_ZOOM = 14;
const VIETNAM = { center: [16.0, 106.5], zoom: 5 };
const hasPoint = (a) => Number.isFinite(a.lat) && Number.isFinite(a.lon);

const live = new Set(); // maps drawn on this page; the ones no longer on it are removed

function counts(statuses) {
  return STATUSES.map((st) => [st, Number((statuses || {})[st] || 0)]).filter(([, n]) => n);
}

/** "Phường Hải Châu: 3 chợ (2 chợ không tiền mặt, 1 đang triển khai). Bấm để xem." */
export function areaLabel(a) {
  const parts = counts(a.statuses).map(([st, n]) => `${num(n)} ${statusLabel(st).toLocaleLowerCase(document.documentElement.lang)}`).join(", ");
  return t("drill_circle", { name: a.name, n: num(a.markets || 0), parts: parts || statusLabel(null) });
}

/**
 * areaMap(areas, {tileUrl, compact, onPick}) -> {el, legend, note, ready}
 * areas: [{key, name, markets, statuses, lat, lon}]; onPick(area) when a circle is selected.
 */
export function areaMap(areas, { tileUrl = "", compact = false, onPick = () => {} } = {}) {
  const placed = areas.filter((a) => hasPoint(a) && a.key);
  const missing = areas.filter((a) => !hasPoint(a) || !a.key);
  const box = h("div", { class: "map-box area-map", role: "region", "aria-label": t("drill_map_region") });
  const state = h("p", { class: "map-state muted", role: "status" }, t("loading"));
  const el = h("div", { class: ["map-wrap", compact && "map-compact"] }, box, state);

  const ready = loadLeaflet()
    .then((L) => whenSized(box).then(() => draw(L)))
    .then((c) => { state.textContent = ""; box.dataset.drawn = "areas"; return c; })
    .catch((err) => {
      state.textContent = t("map_unavailable");
      state.classList.add("note", "note-warn");
      throw err;
    });
  ready.catch(() => {});

  function draw(L) {
    const map = baseMap(L, box, live, { minZoom: 4, maxZoom: MAX_ZOOM, compact, tileUrl });

    // Area ~ number of markets: the biggest circle is 64 px across (48 on the dashboard).
    const most = Math.max(1, ...placed.map((a) => a.markets || 0));
    const size = (a) => Math.round((compact ? 26 : 30) + (compact ? 22 : 34) * Math.sqrt((a.markets || 0) / most));
    const AreaIcon = L.DivIcon.extend({
      options: { html: false, className: "area-mk" },
      createIcon(old) {
        const div = L.DivIcon.prototype.createIcon.call(this, old);
        const a = this.options.area;
        const parts = counts(a.statuses);
        const total = parts.reduce((n, [, c]) => n + c, 0) || 1;
        let at = 0;
        const stops = parts.map(([st, n]) => {
          const from = at;
          at += (n / total) * 100;
          return `var(--st-${st}) ${from.toFixed(2)}% ${at.toFixed(2)}%`;
        });
        const ring = h("span", { class: "mk-ring" });
        ring.style.background = stops.length ? `conic-gradient(${stops.join(", ")})` : "#8a96a3";
        div.replaceChildren(ring, h("span", { class: "mk-count", "aria-hidden": "true" }, num(a.markets || 0)),
          h("span", { class: "mk-label", "aria-hidden": "true" }, a.name));
        div.dataset.area = a.key;
        div.dataset.markets = String(a.markets || 0);
        div.setAttribute("aria-label", areaLabel(a));
        return div;
      },
    });
    const markers = placed.map((a) => {
      const d = size(a);
      const marker = L.marker([a.lat, a.lon], { icon: new AreaIcon({ area: a, iconSize: [d, d] }), title: a.name, riseOnHover: true });
      marker.on("click", () => onPick(a));
      marker.on("keypress", (e) => { if (e.originalEvent.key === "Enter" || e.originalEvent.key === " ") onPick(a); });
      marker.addTo(map);
      return { marker, a, d };
    });
    const bounds = placed.length ? L.latLngBounds(placed.map((a) => [a.lat, a.lon])) : null;
    if (bounds && placed.length > 1) map.fitBounds(bounds, { padding: [36, 36], maxZoom: 12 });
    else if (bounds) map.setView(bounds.getCenter(), 11);
    else map.setView(VIETNAM.center, VIETNAM.zoom);

    // Names: the areas with most markets first, beside their circle where they overlap nothing.
    function placeLabels() {
      const W = box.clientWidth;
      const H = box.clientHeight;
      const frame = box.getBoundingClientRect();
      const taken = [];
      for (const c of box.querySelectorAll(".leaflet-control")) {
        const r = c.getBoundingClientRect();
        taken.push([r.left - frame.left - 4, r.top - frame.top - 4, r.right - frame.left + 4, r.bottom - frame.top + 4]);
      }
      const dots = markers.map(({ marker, a, d }) => ({ icon: marker.getElement(), p: map.latLngToContainerPoint(marker.getLatLng()), r: d / 2, a }))
        .filter((x) => x.icon);
      for (const { p, r } of dots) taken.push([p.x - r - 2, p.y - r - 2, p.x + r + 2, p.y + r + 2]);
      dots.sort((x, y) => (y.a.markets || 0) - (x.a.markets || 0) || x.a.name.localeCompare(y.a.name, "vi"));
      for (const { icon, p, r } of dots) {
        const label = icon.querySelector(".mk-label");
        const w = label.offsetWidth;
        const lh = label.offsetHeight;
        icon.classList.remove("lbl-r", "lbl-l", "lbl-b", "lbl-t");
        for (const [cls, x, y] of [
          ["lbl-r", p.x + r + 4, p.y - lh / 2], ["lbl-l", p.x - r - 4 - w, p.y - lh / 2],
          ["lbl-b", p.x - w / 2, p.y + r + 2], ["lbl-t", p.x - w / 2, p.y - r - 2 - lh],
        ]) {
          const rect = [x, y, x + w, y + lh];
          if (x < 2 || y < 2 || x + w > W - 2 || y + lh > H - 2) continue;
          if (taken.some((q) => overlaps(q, rect))) continue;
          taken.push(rect);
          icon.classList.add(cls);
          break;
        }
      }
    }
    watchMap(map, box, live, placeLabels);
    return { map };
  }

  const shown = Object.fromEntries(STATUSES.map((st) => [st, 0]));
  for (const a of areas) for (const [st, n] of counts(a.statuses)) shown[st] += n;
  const legend = h("div", { class: "legend", role: "group", "aria-label": t("legend") },
    STATUSES.map((st) => h("span", { class: "legend-item" }, h("span", { class: `swatch status-${st}`, "aria-hidden": "true" }), `${statusLabel(st)} (${num(shown[st])})`)),
    h("span", { class: "legend-item" },
      s("svg", { width: 44, height: 28, viewBox: "0 0 44 28", "aria-hidden": "true" },
        s("circle", { cx: 8, cy: 20, r: 5 }), s("circle", { cx: 28, cy: 14, r: 12 })),
      t("drill_legend_size")),
    h("span", { class: "legend-item" }, h("span", { class: "legend-cluster", "aria-hidden": "true" }, "3"), t("drill_legend_ring")));
  const note = missing.length ? h("p", { class: "muted small" }, t("no_location", { names: missing.map((a) => a.name).join(", ") })) : null;
  return { el, legend, note, ready };
}
