// Line chart of coverage shares over time, drawn as SVG (no library). It is drawn for the width it
// gets on screen, so its text stays readable on a phone as on a laptop.

import { h, s } from "./dom.js";
import { t, pct, date } from "./i18n.js";
import { levelLabel } from "./coverage.js";

function draw(points, { levels, thresholds, title, width }) {
  const W = Math.max(300, Math.round(width)), H = Math.round(Math.max(200, Math.min(280, W * 0.45)));
  const L = 46, R = 16, T = 14, B = 30;
  const times = points.map((p) => new Date(p.date).getTime());
  const t0 = Math.min(...times), t1 = Math.max(...times);
  const x = (ms) => (t1 === t0 ? L + (W - L - R) / 2 : L + ((ms - t0) / (t1 - t0)) * (W - L - R));
  const y = (share) => T + (1 - Math.max(0, Math.min(1, share))) * (H - T - B);
  const last = points[points.length - 1];
  const summary = levels.map((l) => `${levelLabel(l)} ${pct(last.shares[l] || 0)}`).join(", ");
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-label": `${title}: ${summary} (${date(last.date)})` },
    s("title", {}, title));
  const grid = s("g", { class: "chart-grid" });
  const axis = s("g", { class: "chart-axis" });
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    grid.append(s("line", { x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    axis.append(s("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, pct(v)));
  }
  const ticks = Math.min(points.length, Math.max(2, Math.floor((W - L - R) / 70)));
  for (let i = 0; i < ticks; i += 1) {
    const p = points[Math.round((i * (points.length - 1)) / Math.max(1, ticks - 1))];
    axis.append(s("text", { x: x(new Date(p.date).getTime()), y: H - 8, "text-anchor": "middle" }, date(p.date)));
  }
  svg.append(grid, axis);
  for (const level of levels) {
    if (thresholds[level] != null) {
      svg.append(s("line", { class: `chart-threshold series-${level}`, x1: L, x2: W - R, y1: y(thresholds[level]), y2: y(thresholds[level]) }));
    }
    const coords = points.map((p) => [x(new Date(p.date).getTime()), y(p.shares[level] || 0)]);
    if (coords.length > 1) {
      svg.append(s("path", { class: `chart-line series-${level}`, d: coords.map((c, i) => `${i ? "L" : "M"}${c[0].toFixed(1)},${c[1].toFixed(1)}`).join("") }));
    }
    const [lx, ly] = coords[coords.length - 1];
    svg.append(s("circle", { class: `chart-dot series-${level}`, cx: lx, cy: ly, r: 5 }));
  }
  return svg;
}

/**
 * points: [{date, shares: {level: 0..1}}]; levels: which series; thresholds: {level: share}.
 * Returns a figure with the chart and its legend (or a note when there is nothing to draw).
 */
export function coverageChart(points, { levels = ["qr_issued", "qr_verified", "transacting"], thresholds = {}, title = "" } = {}) {
  if (!points.length) return h("p", { class: "muted" }, t("trend_missing"));
  const last = points[points.length - 1];
  const box = h("div", { class: "chart-box" });
  const legend = h("p", { class: "chart-legend" }, levels.map((l) => h("span", {},
    h("span", { class: `chart-key series-${l}` }), `${levelLabel(l)}: ${pct(last.shares[l] || 0)}`,
    thresholds[l] != null ? ` (${t("target", { pct: pct(thresholds[l]) })})` : "")));
  const note = points.length === 1 ? h("p", { class: "muted small" }, t("trend_one_day")) : null;
  const opts = { levels, thresholds, title };
  let drawnFor = 0;
  const redraw = () => {
    const width = box.clientWidth || 640;
    if (Math.abs(width - drawnFor) < 8) return;
    drawnFor = width;
    box.replaceChildren(draw(points, { ...opts, width }));
  };
  redraw();
  if ("ResizeObserver" in window) new ResizeObserver(redraw).observe(box);
  return h("figure", { class: "chart-figure" }, box, legend, note);
}
