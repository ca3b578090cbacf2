// Charts drawn as SVG (no library): coverage shares over time (lines) and counts per day (bars).
// They are drawn for the width they get on screen, so their text stays readable on a phone as on
// a laptop; the numbers are written on the chart (nothing needs hovering) and, with `table`, a
// table of every value follows for screen readers.

import { h, s } from "./dom.js";
import { t, pct, targetPct, num, date } from "./i18n.js";
import { levelLabel } from "./coverage.js";

/** Keep labels at one x at least `gap` apart vertically (they are sorted by y in place). */
function spread(labels, gap, top, bottom) {
  // None above the top (a 100 % value's label was cut off at the chart's edge).
  for (const l of labels) l.y = Math.max(l.y, top);
  labels.sort((a, b) => a.y - b.y);
  for (let i = 1; i < labels.length; i += 1) labels[i].y = Math.max(labels[i].y, labels[i - 1].y + gap);
  const over = labels.length ? labels[labels.length - 1].y - bottom : 0;
  if (over > 0) for (const l of labels) l.y = Math.max(top, l.y - over);
  return labels;
}

/** Indexes of the points that carry a value label: the first, the last, and evenly between. */
function labelledIndexes(n, room) {
  const count = Math.max(2, Math.min(n, room));
  const out = new Set();
  for (let i = 0; i < count; i += 1) out.add(Math.round((i * (n - 1)) / Math.max(1, count - 1)));
  return [...out];
}

/**
 * The path of one level's threshold over [t0, t1]: at each moment the value of the rule version in
 * force then (`steps`: [{from: ms, thresholds}], oldest first, `from` on the points' own time scale:
 * a day's midnight UTC; the first one also stands for the time before it), so a day before a rule
 * change is drawn against the target it was judged by. Without steps, the current thresholds over
 * the whole chart (called only for a chart of two days or more).
 */
function thresholdPath(level, steps, current, t0, t1, x, y) {
  const spans = steps && steps.length
    ? steps.map((st, i) => [i ? Math.max(t0, st.from) : t0, i + 1 < steps.length ? Math.min(t1, steps[i + 1].from) : t1, st.thresholds[level]])
    : [[t0, t1, current[level]]];
  let d = "";
  let last = null;
  for (const [i, [from, to, value]] of spans.entries()) {
    // A version applied on the last day drops to its target there (no width left to draw along).
    if (to < from || (to === from && i < spans.length - 1)) continue;
    if (value == null) { last = null; continue; }
    d += last == null ? `M${x(from).toFixed(1)},${y(value).toFixed(1)}` : `V${y(value).toFixed(1)}`;
    d += `H${x(to).toFixed(1)}`;
    last = value;
  }
  return d;
}

function draw(points, { levels, thresholds, title, width, labels = false, ruleSteps = null }) {
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
    const target = t1 > t0 ? thresholdPath(level, ruleSteps, thresholds, t0, t1, x, y)
      : thresholds[level] != null ? `M${L},${y(thresholds[level]).toFixed(1)}H${W - R}` : "";
    if (target) svg.append(s("path", { class: `chart-threshold series-${level}`, d: target }));
    const coords = points.map((p) => [x(new Date(p.date).getTime()), y(p.shares[level] || 0)]);
    if (coords.length > 1) {
      svg.append(s("path", { class: `chart-line series-${level}`, d: coords.map((c, i) => `${i ? "L" : "M"}${c[0].toFixed(1)},${c[1].toFixed(1)}`).join("") }));
    }
    const [lx, ly] = coords[coords.length - 1];
    svg.append(s("circle", { class: `chart-dot series-${level}`, cx: lx, cy: ly, r: 5 }));
  }
  if (labels && points.length) {
    // Values written at a few dates (always the first and the last), kept apart from each other.
    const room = Math.max(2, Math.floor((W - L - R) / 90));
    for (const i of labelledIndexes(points.length, room)) {
      const p = points[i];
      const px = x(new Date(p.date).getTime());
      const anchor = i === 0 && points.length > 1 ? "start" : i === points.length - 1 ? "end" : "middle";
      const at = spread(levels.map((level) => ({ level, y: y(p.shares[level] || 0) - 8, text: pct(p.shares[level] || 0) })), 14, T + 10, H - B - 2);
      for (const l of at) {
        svg.append(s("text", { class: `chart-value series-text-${l.level}`, x: px, y: l.y, "text-anchor": anchor }, l.text));
      }
    }
  }
  return svg;
}

/**
 * A visually hidden table of a chart's values: one row per date. Hidden by a box around it: a table
 * is as wide as its cells whatever its own width says, so on its own it widened the page on a tablet.
 */
function valuesTable(caption, head, rows) {
  return h("div", { class: "sr-only" }, h("table", { class: "chart-table" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, head.map((c, i) => h("th", { scope: "col", class: i ? "num" : "" }, c)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => (i ? h("td", { class: "num" }, c) : h("th", { scope: "row" }, c))))))));
}

/**
 * points: [{date, shares: {level: 0..1}}]; levels: which series; thresholds: {level: share};
 * ruleSteps: the rule's applied versions (ruleSteps() of lib/widgets.js), for the target lines.
 * Returns a figure with the chart and its legend (or a note when there is nothing to draw).
 */
export function coverageChart(points, { levels = ["qr_issued", "qr_verified", "transacting"], thresholds = {}, title = "", labels = false, table = false, ruleSteps = null } = {}) {
  if (!points.length) return h("p", { class: "muted" }, t("trend_missing"));
  const last = points[points.length - 1];
  const box = h("div", { class: "chart-box" });
  const legend = h("p", { class: "chart-legend" }, levels.map((l) => h("span", {},
    h("span", { class: `chart-key series-${l}` }), `${levelLabel(l)}: ${pct(last.shares[l] || 0)}`,
    thresholds[l] != null ? ` (${t("target", { pct: targetPct(thresholds[l]) })})` : "")));
  const note = points.length === 1 ? h("p", { class: "muted small" }, t("trend_one_day")) : null;
  const opts = { levels, thresholds, title, labels, ruleSteps };
  let drawnFor = 0;
  const redraw = () => {
    const width = box.clientWidth || 640;
    if (Math.abs(width - drawnFor) < 8) return;
    drawnFor = width;
    box.replaceChildren(draw(points, { ...opts, width }));
  };
  redraw();
  if ("ResizeObserver" in window) new ResizeObserver(redraw).observe(box);
  const values = table
    ? valuesTable(title, [t("col_day"), ...levels.map(levelLabel)], points.map((p) => [date(p.date), ...levels.map((l) => pct(p.shares[l] || 0))]))
    : null;
  return h("figure", { class: "chart-figure" }, box, legend, note, values);
}

function drawBars(rows, { series, title, width }) {
  const W = Math.max(300, Math.round(width)), H = Math.round(Math.max(200, Math.min(300, W * 0.4)));
  const L = 40, R = 12, T = 22, B = 30;
  const totals = rows.map((r) => series.reduce((n, sr) => n + (Number(r[sr.key]) || 0), 0));
  const highest = Math.max(1, ...totals);
  // Gridlines at 1, 2 or 5 times a power of ten, at most about five of them.
  const raw = highest / 4;
  const power = 10 ** Math.floor(Math.log10(Math.max(1, raw)));
  const tick = Math.max(1, [1, 2, 5, 10].map((m) => m * power).find((c) => c >= raw));
  const top = tick * Math.ceil(highest / tick);
  const step = (W - L - R) / Math.max(1, rows.length);
  const barW = Math.max(2, Math.min(48, step * 0.72));
  const y = (v) => T + (1 - v / top) * (H - T - B);
  const summary = `${title}: ${num(totals.reduce((a, b) => a + b, 0))}`;
  const svg = s("svg", { class: "chart chart-bars", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-label": summary },
    s("title", {}, title));
  const grid = s("g", { class: "chart-grid" });
  const axis = s("g", { class: "chart-axis" });
  for (let v = 0; v <= top; v += tick) {
    grid.append(s("line", { x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    axis.append(s("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, num(v)));
  }
  const every = Math.max(1, Math.ceil(rows.length / Math.max(2, Math.floor((W - L - R) / 64))));
  // Counts written above every bar when there is room (smaller type for narrower bars); when
  // bars are very thin, on every few bars and on the highest (the table has them all).
  const small = step < 22;
  const valueEvery = step >= 15 ? 1 : Math.max(1, Math.ceil(22 / step));
  svg.append(grid, axis);
  rows.forEach((r, i) => {
    const cx = L + step * i + step / 2;
    let base = 0;
    for (const sr of series) {
      const v = Number(r[sr.key]) || 0;
      if (!v) continue;
      svg.append(s("rect", { class: `chart-bar bar-${sr.key}`, x: cx - barW / 2, y: y(base + v), width: barW, height: Math.max(1, y(base) - y(base + v)) }));
      base += v;
    }
    if (totals[i] && (i % valueEvery === 0 || totals[i] === highest)) {
      svg.append(s("text", { class: ["chart-value", small ? "chart-value-small" : ""], x: cx, y: y(totals[i]) - 5, "text-anchor": "middle" }, num(totals[i])));
    }
    if (i % every === 0) axis.append(s("text", { x: cx, y: H - 8, "text-anchor": "middle" }, date(r.date)));
  });
  return svg;
}

/**
 * Stacked bars per day. rows: [{date, <key>: count}]; series: [{key, label}] stacked in order.
 * The day's total is written above its bar; `table` adds a table of every count.
 */
export function barChart(rows, { series, title = "", table = true } = {}) {
  if (!rows.length) return h("p", { class: "muted" }, t("trend_missing"));
  const box = h("div", { class: "chart-box" });
  const legend = h("p", { class: "chart-legend" }, series.map((sr) => h("span", {},
    h("span", { class: `chart-key bar-${sr.key}` }), `${sr.label}: ${num(rows.reduce((n, r) => n + (Number(r[sr.key]) || 0), 0))}`)));
  let drawnFor = 0;
  const redraw = () => {
    const width = box.clientWidth || 640;
    if (Math.abs(width - drawnFor) < 8) return;
    drawnFor = width;
    box.replaceChildren(drawBars(rows, { series, title, width }));
  };
  redraw();
  if ("ResizeObserver" in window) new ResizeObserver(redraw).observe(box);
  const values = table
    ? valuesTable(title, [t("col_day"), ...series.map((sr) => sr.label)], rows.map((r) => [date(r.date), ...series.map((sr) => num(r[sr.key] || 0))]))
    : null;
  return h("figure", { class: "chart-figure" }, box, legend, values);
}
