// "Where to go next" on the dashboard: markets ranked by how close they are to the rule with what
// each still needs in stalls, sortable and filterable by ward and status; the coverage trend with
// a period selector, its numbers written on the chart and in a table for screen readers.

import { h, mount, clear } from "./dom.js";
import { t, num, describeError, addStrings } from "./i18n.js";
import * as api from "./api.js";
import { coverageChart } from "./chart.js";
import { history as readHistory, statusLabel, STATUSES } from "./coverage.js";
import { statusBadge, openReport } from "./widgets.js";
import { today, addDays, longDate } from "./activity.js";
import { dayInput, periodProblem, showPeriodProblem } from "./dayinput.js";

/** The choice "Chưa rõ phường, xã" in a list of wards (a ward code is digits). */
export const NO_WARD = "-";

addStrings({
  vi: { trend_starts: "Số liệu có từ {day}: trước ngày đó chưa có gì được ghi nhận ở đây." },
  en: { trend_starts: "Figures start on {day}: nothing was recorded here before that day." },
});

/** "Cần thêm 3 sạp đã kiểm tra mã, 5 sạp có giao dịch", or that the rule is met. */
export function missingText(market) {
  if (market.rule_met) return t("rank_met");
  if (!market.active_stalls) return t("rank_no_stalls");
  const parts = market.progress.filter((p) => p.stalls_needed > 0).map((p) => t(`need_${p.level}`, { n: num(p.stalls_needed) }));
  return parts.length ? `${t("rank_need_prefix")} ${parts.join(", ")}` : t("rank_met");
}

const SORTS = {
  closest: (a, b) => a.rank - b.rank,
  needed: (a, b) => b.stalls_needed - a.stalls_needed || a.rank - b.rank,
  stalls: (a, b) => b.active_stalls - a.active_stalls || a.rank - b.rank,
  name: (a, b) => a.name.localeCompare(b.name, "vi"),
};

function select(id, label, options, value) {
  const el = h("select", { id }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
  return { el, field: h("div", { class: "field" }, h("label", { for: id }, label), el) };
}

const RANK_SHOWN = 10;

/** The ranked markets (one request), filtered and sorted in the page; the first ten, then all.
 * `ward` or `province`: only that area's markets (in a ward the ward filter goes); `pickArea`:
 * too many markets to rank in the page, ask for an area first. */
export function rankingSection({ ward: onlyWard = null, province = null, pickArea = false } = {}) {
  const body = h("div", {}, h("p", { class: "loading" }, t("loading")));
  const section = h("section", { class: "card ranking", "aria-labelledby": "h-ranking", id: "ranking" },
    h("h2", { id: "h-ranking" }, t("rank_title")),
    h("p", { class: "muted" }, t("rank_intro")),
    body);
  if (pickArea) {
    mount(body, h("p", { class: "muted" }, t("drill_rank_pick")));
    return section;
  }
  const qs = new URLSearchParams();
  if (onlyWard) qs.set("ward_code", onlyWard);
  if (province) qs.set("province", province);
  api.getJSON(`/api/coverage/ranking${qs.toString() ? `?${qs}` : ""}`).then((data) => {
    const markets = data.markets;
    const wards = [...new Map(markets.filter((m) => m.ward_code).map((m) => [m.ward_code, m.ward_name || m.ward_code])).entries()]
      .sort((a, b) => a[1].localeCompare(b[1], "vi"));
    const sort = select("rank-sort", t("rank_sort"), Object.keys(SORTS).map((k) => [k, t(`rank_sort_${k}`)]), "closest");
    // Markets whose ward is not known yet are a choice too (the tables show them as such).
    const unplaced = markets.some((m) => !m.ward_code) ? [[NO_WARD, t("drill_unknown_ward")]] : [];
    const ward = select("rank-ward", t("rank_ward"), [["", t("rank_all_wards")], ...wards, ...unplaced], "");
    const status = select("rank-status", t("rank_status"), [["", t("rank_all_statuses")], ...STATUSES.map((s) => [s, statusLabel(s)])], "");
    const count = h("p", { class: "muted small", id: "rank-count", "aria-live": "polite" });
    const tbody = h("tbody", {});
    const more = h("button", { type: "button", class: "btn", id: "rank-more", hidden: true, onclick: () => { all = true; draw(); } });
    let all = false;
    const draw = () => {
      const inWard = (m) => !ward.el.value || (ward.el.value === NO_WARD ? !m.ward_code : m.ward_code === ward.el.value);
      const matching = markets.filter((m) => inWard(m) && (!status.el.value || m.status === status.el.value))
        .sort(SORTS[sort.el.value] || SORTS.closest);
      const rows = all ? matching : matching.slice(0, RANK_SHOWN);
      count.textContent = t("rank_count", { n: num(matching.length), total: num(markets.length) });
      more.hidden = rows.length === matching.length;
      more.textContent = t("rank_show_all", { n: num(matching.length) });
      mount(tbody, rows.map((m) => h("tr", { dataset: { market: m.market_id, rank: m.rank } },
        h("td", { class: "num rank-no" }, num(m.rank)),
        h("td", { class: "rank-name" }, h("a", { href: `/markets/${m.market_id}`, class: "market-name" }, m.name), h("span", { class: "sub" }, m.ward_name || "")),
        h("td", { class: "rank-status" }, statusBadge(m.status)),
        // On a phone the row is a card (app.css): the number says what it counts there.
        h("td", { class: "num rank-stalls", dataset: { label: t("col_stalls") } }, num(m.active_stalls)),
        h("td", { class: ["missing", m.rule_met ? "missing-met" : ""] }, missingText(m)),
        // What closes the gap: the market's report lists its stalls by what each still lacks
        // (no sign yet, sign not checked, ...), to take along.
        h("td", { class: "rank-action" }, h("button", { type: "button", class: "btn btn-small rank-missing", onclick: () => openReport(m.market_id, m.name), "aria-label": `${t("rank_visits")} — ${m.name}` }, t("rank_visits"))))));
      if (!rows.length) tbody.append(h("tr", {}, h("td", { colspan: 6, class: "muted" }, t("rank_none"))));
    };
    for (const s of [sort, ward, status]) s.el.addEventListener("change", draw);
    mount(body,
      h("div", { class: "ranking-controls" }, sort.field, onlyWard ? null : ward.field, status.field),
      count,
      h("div", { class: "table-wrap" }, h("table", { class: "ranking-table" },
        h("caption", { class: "sr-only" }, t("rank_title")),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col", class: "num" }, t("rank_col_rank")), h("th", { scope: "col" }, t("col_market")),
          h("th", { scope: "col" }, t("col_status")), h("th", { scope: "col", class: "num" }, t("col_stalls")),
          h("th", { scope: "col" }, t("rank_col_missing")), h("th", { scope: "col" }, h("span", { class: "sr-only" }, t("rank_visits"))))),
        tbody)),
      more);
    draw();
  }).catch((err) => {
    mount(body, h("p", { class: api.routeMissing(err) ? "muted" : "form-error" }, api.routeMissing(err) ? t("not_available_yet") : describeError(err)));
  });
  return section;
}

const TREND_DAYS = { week: 6, month: 29, quarter: 89 };

/** The coverage trend with a period selector: week, month, quarter (to today) or chosen dates;
 * of one market, or of an area ({province, ward}: the dashboard's level). */
export function trendSection({ thresholds = {}, marketId = null, area = null, ruleSteps = null } = {}) {
  let kind = "quarter";
  const box = h("div", { id: "trend-chart" });
  const from = dayInput({ id: "trend-from", min: "2000-01-01", max: today(), attrs: { "aria-describedby": "trend-error" } });
  const to = dayInput({ id: "trend-to", min: "2000-01-01", max: today(), attrs: { "aria-describedby": "trend-error" } });
  const error = h("p", { class: "field-error", id: "trend-error", role: "alert", hidden: true });
  const custom = h("form", { class: "period-dates", hidden: true },
    h("div", { class: "field" }, h("label", { for: "trend-from" }, t("period_from")), from.el),
    h("div", { class: "field" }, h("label", { for: "trend-to" }, t("period_to")), to.el),
    h("button", { type: "submit", class: "btn btn-primary", id: "trend-apply" }, t("period_apply")),
    error);
  const load = async () => {
    if (kind === "custom") {
      // At most MAX_HISTORY_DAYS (coverage/reads.py), as the server takes it.
      if (showPeriodProblem(periodProblem(from, to, { maxDays: 1100 }), error, from, to)) return;
    }
    const end = kind === "custom" ? to.iso : today();
    const start = kind === "custom" ? from.iso : addDays(end, -TREND_DAYS[kind]);
    if (!start || !end) return;
    const qs = new URLSearchParams({ from: start, to: end });
    if (marketId) qs.set("market_id", marketId);
    if (area && area.province) qs.set("province", area.province);
    if (area && area.ward) qs.set("ward", area.ward);
    clear(box);
    box.append(h("p", { class: "loading" }, t("loading")));
    try {
      const hist = await api.getJSON(`/api/coverage/history?${qs}`);
      const points = readHistory(hist);
      // A chart whose days start after the period's first day says why (nothing recorded yet),
      // and its title and table caption start where its days do (they said the period's start).
      const first = points.length ? String(points[0].date).slice(0, 10) : "";
      const title = `${t("trend_title")} — ${t("period_line", { from: longDate(first > start ? first : start), to: longDate(end) })}`;
      mount(box, first > start ? h("p", { class: "muted small", id: "trend-starts" }, t("trend_starts", { day: longDate(first) })) : null,
        coverageChart(points, { thresholds, title, labels: true, table: true, ruleSteps }));
    } catch (err) {
      mount(box, h("p", { class: "form-error" }, describeError(err)));
    }
  };
  custom.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  const chips = h("div", { class: "chips", role: "radiogroup", "aria-label": t("period_label") });
  for (const k of ["week", "month", "quarter", "custom"]) {
    const input = h("input", { type: "radio", name: "trend-period", id: `trend-${k}`, value: k, class: "chip-input", checked: k === kind });
    input.addEventListener("change", () => {
      kind = k;
      custom.hidden = k !== "custom";
      error.hidden = true;
      if (k === "custom") {
        if (!to.iso) to.iso = today();
        if (!from.iso) from.iso = addDays(to.iso, -TREND_DAYS.month);
        from.input.focus();
      } else load();
    });
    chips.append(input, h("label", { for: `trend-${k}`, class: "chip" }, t(`trend_${k}`)));
  }
  load();
  return h("section", { class: "card", "aria-labelledby": "h-trend", id: "trend" },
    h("h2", { id: "h-trend" }, t("trend_title")), chips, custom, box);
}
