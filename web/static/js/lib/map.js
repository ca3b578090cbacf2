// The markets map, drawn as SVG: an equirectangular projection fitted to the markets' bounds,
// circles coloured by status and sized by stall count (area ~ count), zoom and pan, and an
// optional background of map tiles when a tile URL is configured (same origin, because of the CSP).

import { h, s, clear } from "./dom.js";
import { t, num, pct } from "./i18n.js";
import { statusClass, statusLabel, STATUSES, levelShare } from "./coverage.js";

const W = 1000;
const DEG = Math.PI / 180;

function mercTile(lon, lat, z) {
  const n = 2 ** z;
  const x = ((lon + 180) / 360) * n;
  const y = ((1 - Math.log(Math.tan(lat * DEG) + 1 / Math.cos(lat * DEG)) / Math.PI) / 2) * n;
  return [x, y];
}

function tileCorner(x, y, z) {
  const n = 2 ** z;
  const lon = (x / n) * 360 - 180;
  const lat = Math.atan(Math.sinh(Math.PI * (1 - (2 * y) / n))) / DEG;
  return [lon, lat];
}

function niceKm(km) {
  const steps = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500];
  return steps.reduce((best, v) => (v <= km ? v : best), steps[0]);
}

/**
 * marketMap(markets, {tileUrl, compact, hrefOf}) -> {el, legend}
 * markets: [{id, name, ward, status, lat, lon, stalls, ...shares}]
 */
export function marketMap(markets, { tileUrl = "", compact = false, hrefOf = (m) => `/markets/${m.id}` } = {}) {
  const placed = markets.filter((m) => Number.isFinite(m.lat) && Number.isFinite(m.lon));
  const missing = markets.filter((m) => !(Number.isFinite(m.lat) && Number.isFinite(m.lon)));
  let minLon = Math.min(...placed.map((m) => m.lon)), maxLon = Math.max(...placed.map((m) => m.lon));
  let minLat = Math.min(...placed.map((m) => m.lat)), maxLat = Math.max(...placed.map((m) => m.lat));
  if (!placed.length) { minLon = 108.1; maxLon = 108.3; minLat = 15.9; maxLat = 16.1; }
  const padLon = Math.max(0.01, (maxLon - minLon) * 0.08), padLat = Math.max(0.01, (maxLat - minLat) * 0.08);
  minLon -= padLon; maxLon += padLon; minLat -= padLat; maxLat += padLat;
  const k = Math.cos(((minLat + maxLat) / 2) * DEG);
  const spanX = (maxLon - minLon) * k, spanY = maxLat - minLat;
  const H = Math.round(Math.max(compact ? 420 : 520, Math.min(compact ? 560 : 820, (W * spanY) / spanX)));
  const scale = Math.min(W / spanX, H / spanY);
  const ox = (W - spanX * scale) / 2, oy = (H - spanY * scale) / 2;
  const px = (lon) => ox + (lon - minLon) * k * scale;
  const py = (lat) => oy + (maxLat - lat) * scale;
  const unpx = (x) => minLon + (x - ox) / (k * scale);
  const unpy = (y) => maxLat - (y - oy) / scale;
  const kmPerUnit = 111.32 / scale;

  const maxStalls = Math.max(1, ...placed.map((m) => m.stalls || 0));
  // Radius in screen pixels (area ~ stall count); circles keep their size when zooming, so zooming
  // in pulls a cluster of markets apart.
  const baseR = (m) => (compact ? 5 : 7) + (compact ? 15 : 22) * Math.sqrt((m.stalls || 0) / maxStalls);

  const svg = s("svg", {
    class: "map", viewBox: `0 0 ${W} ${H}`, role: "group",
    "aria-label": `${t("map_title")}: ${markets.length}`,
  });
  const tiles = s("g", { class: "map-tiles", "aria-hidden": "true" });
  const grid = s("g", { class: "map-grid", "aria-hidden": "true" });
  const dots = s("g", { class: "map-markets" });
  const labels = s("g", { class: "map-labels", "aria-hidden": "true" });
  const overlay = s("g", { "aria-hidden": "true" });
  svg.append(tiles, grid, dots, labels, overlay);

  // A light graticule every 0.05° gives a sense of distance without a basemap.
  for (let lon = Math.ceil(minLon / 0.05) * 0.05; lon < maxLon; lon += 0.05) grid.append(s("line", { x1: px(lon), x2: px(lon), y1: 0, y2: H }));
  for (let lat = Math.ceil(minLat / 0.05) * 0.05; lat < maxLat; lat += 0.05) grid.append(s("line", { x1: 0, x2: W, y1: py(lat), y2: py(lat) }));

  const info = h("div", { class: "map-info", hidden: true, role: "status" });
  let view = { x: 0, y: 0, w: W, h: H };
  // viewBox units per screen pixel, so text and strokes keep a readable size at any zoom and width.
  // (The SVG letterboxes the view when its box has another shape: "meet" keeps the smaller scale.)
  const screenScale = () => {
    const r = svg.getBoundingClientRect();
    if (!r.width || !r.height) return { scale: 1, dx: 0, dy: 0, r };
    const scale = Math.min(r.width / view.w, r.height / view.h);
    return { scale, dx: (r.width - view.w * scale) / 2, dy: (r.height - view.h * scale) / 2, r };
  };
  const upx = () => 1 / screenScale().scale;

  const items = [...placed].sort((a, b) => (b.stalls || 0) - (a.stalls || 0)).map((m) => {
    const circle = s("circle", { class: `mk ${statusClass(m.status)}`, cx: px(m.lon), cy: py(m.lat), r: baseR(m), "data-status": m.status || "unknown" });
    const label = `${m.name} — ${statusLabel(m.status)} — ${t("stall_count", { n: num(m.stalls || 0) })}`;
    const link = s("a", { class: "mk-link", href: hrefOf(m), "aria-label": label, "data-market": m.id }, circle, s("title", {}, label));
    const show = () => {
      const rows = [["qr_issued", "level_qr_issued"], ["qr_verified", "level_qr_verified"], ["transacting", "level_transacting"]]
        .map(([lvl, key]) => `${t(key)}: ${pct(levelShare(m, lvl).share)}`);
      info.replaceChildren(h("p", {}, h("strong", {}, m.name)), m.ward ? h("p", { class: "muted" }, m.ward) : null,
        h("p", {}, h("span", { class: `badge status-badge ${statusClass(m.status)}` }, statusLabel(m.status)), " ", t("stall_count", { n: num(m.stalls || 0) })),
        h("p", { class: "small" }, rows.join(" · ")));
      info.hidden = false;
    };
    link.addEventListener("mouseenter", show);
    link.addEventListener("focus", show);
    link.addEventListener("mouseleave", () => { info.hidden = true; });
    link.addEventListener("blur", () => { info.hidden = true; });
    dots.append(link);
    return { m, circle };
  });

  function drawLabels() {
    clear(labels);
    const u = upx();
    const right = view.x + view.w, bottom = view.y + view.h;
    // Keep labels off the scale bar, the north arrow and the zoom buttons.
    const boxes = [
      [view.x, bottom - 44 * u, view.x + 170 * u, bottom],
      [right - 80 * u, bottom - 40 * u, right, bottom],
      [right - 76 * u, view.y, right, view.y + 170 * u],
    ];
    const fs = 13 * u;
    const limit = compact ? 10 : 60;
    for (const { m } of items.slice(0, limit)) {
      const r = baseR(m) * u;
      const x = px(m.lon) + r + 3 * u, y = py(m.lat) + fs * 0.35;
      const w = m.name.length * fs * 0.6, hgt = fs * 1.2;
      if (x < view.x || x + w > view.x + view.w || y < view.y || y > view.y + view.h) continue;
      const box = [x, y - hgt, x + w, y];
      if (boxes.some((b) => !(box[2] < b[0] || box[0] > b[2] || box[3] < b[1] || box[1] > b[3]))) continue;
      boxes.push(box);
      labels.append(s("text", { class: "mk-label", x, y, "font-size": fs.toFixed(2), "stroke-width": (4 * u).toFixed(2) }, m.name));
    }
  }

  function drawOverlay() {
    clear(overlay);
    const u = upx();
    const km = niceKm((view.w * kmPerUnit) / 5);
    const len = km / kmPerUnit;
    const x0 = view.x + 16 * u, y0 = view.y + view.h - 16 * u;
    const sw = (3 * u).toFixed(2);
    overlay.append(s("g", { class: "map-scale" },
      s("line", { x1: x0, x2: x0 + len, y1: y0, y2: y0, "stroke-width": sw }),
      s("line", { x1: x0, x2: x0, y1: y0 - 6 * u, y2: y0, "stroke-width": sw }),
      s("line", { x1: x0 + len, x2: x0 + len, y1: y0 - 6 * u, y2: y0, "stroke-width": sw }),
      s("text", { x: x0 + len / 2, y: y0 - 8 * u, "text-anchor": "middle", "font-size": (13 * u).toFixed(2), "stroke-width": sw }, `${km} km`)));
    overlay.append(s("g", { class: "map-north" },
      s("text", { x: view.x + view.w - 56 * u, y: view.y + view.h - 16 * u, "font-size": (14 * u).toFixed(2), "stroke-width": sw }, `↑ ${t("north")}`)));
  }

  function drawTiles() {
    clear(tiles);
    if (!tileUrl) return;
    const lonA = unpx(view.x), lonB = unpx(view.x + view.w);
    const latA = unpy(view.y), latB = unpy(view.y + view.h);
    const pxWidth = view.w * screenScale().scale;
    let z = Math.round(Math.log2((360 / Math.max(1e-6, lonB - lonA)) * (pxWidth / 256)));
    z = Math.max(0, Math.min(19, z));
    const [x0, y0] = mercTile(lonA, latA, z), [x1, y1] = mercTile(lonB, latB, z);
    if ((Math.floor(x1) - Math.floor(x0) + 1) * (Math.floor(y1) - Math.floor(y0) + 1) > 80) return;
    for (let tx = Math.floor(x0); tx <= Math.floor(x1); tx += 1) {
      for (let ty = Math.floor(y0); ty <= Math.floor(y1); ty += 1) {
        const [lo0, la0] = tileCorner(tx, ty, z), [lo1, la1] = tileCorner(tx + 1, ty + 1, z);
        const href = tileUrl.replace("{z}", z).replace("{x}", tx).replace("{y}", ty).replace("{s}", "a");
        tiles.append(s("image", { href, x: px(lo0), y: py(la0), width: px(lo1) - px(lo0), height: py(la1) - py(la0), preserveAspectRatio: "none" }));
      }
    }
  }

  function apply() {
    svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
    const u = upx();
    for (const { m, circle } of items) {
      circle.setAttribute("r", (baseR(m) * u).toFixed(2));
      circle.setAttribute("stroke-width", (2 * u).toFixed(2));
    }
    grid.setAttribute("stroke-width", u.toFixed(3));
    drawLabels();
    drawOverlay();
    drawTiles();
  }

  function zoomAt(factor, cx = view.x + view.w / 2, cy = view.y + view.h / 2) {
    const w = Math.max(W / 40, Math.min(W, view.w / factor));
    const hh = (w * H) / W;
    view = {
      x: Math.max(0, Math.min(W - w, cx - ((cx - view.x) * w) / view.w)),
      y: Math.max(0, Math.min(H - hh, cy - ((cy - view.y) * hh) / view.h)),
      w, h: hh,
    };
    apply();
  }

  function toSvg(ev) {
    const { scale, dx, dy, r } = screenScale();
    return [view.x + (ev.clientX - r.left - dx) / scale, view.y + (ev.clientY - r.top - dy) / scale];
  }

  svg.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const [cx, cy] = toSvg(ev);
    zoomAt(ev.deltaY < 0 ? 1.25 : 0.8, cx, cy);
  }, { passive: false });
  let drag = null;
  let justDragged = false;
  svg.addEventListener("pointerdown", (ev) => {
    if (ev.button !== 0) return;
    drag = { sx: ev.clientX, sy: ev.clientY, vx: view.x, vy: view.y, moved: false, id: ev.pointerId };
  });
  svg.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    const { scale } = screenScale();
    const dx = (ev.clientX - drag.sx) / scale, dy = (ev.clientY - drag.sy) / scale;
    if (!drag.moved && Math.hypot(ev.clientX - drag.sx, ev.clientY - drag.sy) < 6) return;
    if (!drag.moved) { drag.moved = true; svg.setPointerCapture(drag.id); svg.classList.add("dragging"); }
    view.x = Math.max(0, Math.min(W - view.w, drag.vx - dx));
    view.y = Math.max(0, Math.min(H - view.h, drag.vy - dy));
    svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
  });
  const endDrag = (ev) => {
    if (!drag) return;
    const moved = drag.moved;
    drag = null;
    svg.classList.remove("dragging");
    if (moved) {
      ev.preventDefault();
      justDragged = true;
      window.setTimeout(() => { justDragged = false; }, 0);
      apply();
    }
  };
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointercancel", endDrag);
  // A drag must not also follow the market link under the pointer.
  svg.addEventListener("click", (ev) => { if (justDragged) ev.preventDefault(); }, true);

  const controls = h("div", { class: "map-controls" },
    h("button", { type: "button", class: "btn btn-small", "aria-label": t("zoom_in"), title: t("zoom_in"), onclick: () => zoomAt(1.5) }, "+"),
    h("button", { type: "button", class: "btn btn-small", "aria-label": t("zoom_out"), title: t("zoom_out"), onclick: () => zoomAt(1 / 1.5) }, "−"),
    h("button", { type: "button", class: "btn btn-small", "aria-label": t("zoom_reset"), title: t("zoom_reset"), onclick: () => { view = { x: 0, y: 0, w: W, h: H }; apply(); } }, "⤢"));

  const el = h("div", { class: "map-wrap" }, svg, controls, info);
  apply();
  // Sizes depend on the drawn width: redraw once the map is on the page and whenever it resizes.
  if ("ResizeObserver" in window) new ResizeObserver(() => apply()).observe(svg);
  else window.requestAnimationFrame(() => apply());

  const counts = Object.fromEntries(STATUSES.map((st) => [st, 0]));
  for (const m of markets) if (m.status in counts) counts[m.status] += 1;
  const legend = h("div", { class: "legend", "aria-label": t("legend") },
    STATUSES.map((st) => h("span", { class: "legend-item" }, h("span", { class: `swatch status-${st}` }), `${statusLabel(st)} (${counts[st]})`)),
    markets.some((m) => !m.status) ? h("span", { class: "legend-item" }, h("span", { class: "swatch status-unknown" }), statusLabel(null)) : null,
    h("span", { class: "legend-item" },
      s("svg", { width: 44, height: 28, viewBox: "0 0 44 28", "aria-hidden": "true" },
        s("circle", { cx: 8, cy: 20, r: 5 }), s("circle", { cx: 28, cy: 14, r: 12 })),
      t("legend_size")));
  const note = missing.length ? h("p", { class: "muted small" }, t("no_location", { names: missing.map((m) => m.name).join(", ") })) : null;
  return { el, legend, note };
}
