// The field activity page (/activity): who did the work in a week, a month or a chosen period,
// per day (chart with its numbers written on it, and a table), per team, per volunteer, per market;
// downloads as CSV and Excel.

import { h, mount, toast } from "./lib/dom.js";
import { t, num, describeError, addStrings } from "./lib/i18n.js";
import { widePage } from "./lib/page.js";
import { barChart } from "./lib/chart.js";
import { download } from "./lib/widgets.js";
import { dayInput, periodProblem, showPeriodProblem } from "./lib/dayinput.js";
import { KINDS, kindLabel, periodOf, load, query, rowLabel, today, longDate, calendarDay } from "./lib/activity.js";

const PERIODS = ["week", "month", "custom"];

addStrings({
  vi: {
    period_link_refused: "Khoảng thời gian trong đường dẫn không dùng được (ngày không có trong lịch, ngược thứ tự hoặc dài quá 400 ngày): đang hiện tuần này.",
    period_link_unknown: "Đường dẫn không ghi tuần, tháng hay khoảng ngày nào dùng được: đang hiện tuần này.",
  },
  en: {
    period_link_refused: "The period in the link cannot be used (a day not in the calendar, days in the wrong order or more than 400 days): showing this week.",
    period_link_unknown: "The link names no week, month or period that can be used: showing this week.",
  },
});
const GROUPS = ["day", "team", "user", "market", "ward"];

// What the API answers (teams/activity.py MAX_DAYS): a longer range is asked for in parts.
const MAX_DAYS = 400;

function initialState() {
  const qs = new URLSearchParams(window.location.search);
  const asked = qs.get("period");
  const kind = PERIODS.includes(asked) ? asked : "week";
  // A custom range from a link holds only if its days exist, in order, within what the API gives;
  // otherwise the week (the page, with its period form, opens instead of an error with no way out).
  const [from, to] = [calendarDay(qs.get("from")), calendarDay(qs.get("to"))];
  const inRange = (d) => d >= calendarDay("2000-01-01") && d <= calendarDay("2100-12-31");  // the API's bounds
  if (kind === "custom" && from !== null && to !== null && inRange(from) && inRange(to) && from <= to && to - from + 1 <= MAX_DAYS) {
    return { kind, from: qs.get("from"), to: qs.get("to") };
  }
  const fallback = periodOf(kind === "custom" ? "week" : kind);
  // Said on the page (the address was rewritten to this week without a word).
  // An unknown period (a link typed or cut short) is said the same way.
  const refused = kind === "custom" ? "period_link_refused" : asked !== null && !PERIODS.includes(asked) ? "period_link_unknown" : null;
  return { kind: kind === "custom" ? "week" : kind, from: fallback.from, to: fallback.to, refused };
}

const state = initialState();

/** Stacks of the daily chart, adding up to the day's total: a return visit is a code check
 * already stacked (flagged by a failed one, resolved by the next good one), so it stays out. */
function dayRows(rows) {
  return rows.map((r) => ({
    date: r.key,
    registrations: r.registrations,
    signs: r.prints + r.deliveries,
    verifications: r.verifications,
    visits: r.visits,
    other: r.edits + r.accounts + r.consents + (r.support || 0) + (r.assignments || 0),
  }));
}

export function activityTable({ id, caption, first, rows, groupBy }) {
  if (!rows.length) return h("p", { class: "muted", id }, t("act_empty"));
  return h("div", { class: "table-wrap" }, h("table", { class: "activity-table", id },
    h("caption", { class: "sr-only" }, caption),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, first),
      KINDS.map((k) => h("th", { scope: "col", class: "num" }, kindLabel(k))))),
    h("tbody", {}, rows.map((r) => h("tr", { dataset: { key: r.key ?? "" } },
      h("th", { scope: "row" }, rowLabel(r, groupBy)),
      KINDS.map((k) => h("td", { class: ["num", r[k] ? "" : "zero"] }, num(r[k]))))))));
}

function kpi(value, label) {
  return h("div", { class: "kpi" }, h("span", { class: "kpi-value" }, value), h("span", { class: "kpi-label" }, label));
}

function periodForm(onChange) {
  const from = dayInput({ id: "period-from", value: state.from, max: "2100-12-31", min: "2000-01-01", attrs: { "aria-describedby": "period-error" } });
  const to = dayInput({ id: "period-to", value: state.to, max: "2100-12-31", min: "2000-01-01", attrs: { "aria-describedby": "period-error" } });
  const error = h("p", { class: "field-error", id: "period-error", role: "alert", hidden: true });
  const chips = h("div", { class: "chips", role: "radiogroup", "aria-label": t("period_label") });
  for (const kind of PERIODS) {
    const input = h("input", { type: "radio", name: "period", id: `period-${kind}`, value: kind, class: "chip-input", checked: kind === state.kind });
    input.addEventListener("change", () => {
      state.kind = kind;
      if (kind !== "custom") Object.assign(state, periodOf(kind));
      from.iso = state.from;
      to.iso = state.to;
      error.hidden = true;
      if (kind === "custom") from.input.focus();
      else onChange();
    });
    chips.append(input, h("label", { for: `period-${kind}`, class: "chip" }, t(`period_${kind}`)));
  }
  const form = h("form", { class: "period-form", id: "period-form" },
    chips,
    h("div", { class: "period-dates" },
      h("div", { class: "field" }, h("label", { for: "period-from" }, t("period_from")), from.el),
      h("div", { class: "field" }, h("label", { for: "period-to" }, t("period_to")), to.el),
      h("button", { type: "submit", class: "btn btn-primary", id: "period-apply" }, t("period_apply"))),
    error);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    // At most MAX_DAYS (teams/activity.py) at a time, as the server takes it.
    if (showPeriodProblem(periodProblem(from, to, { maxDays: 400 }), error, from, to)) return;
    Object.assign(state, { kind: "custom", from: from.iso, to: to.iso });
    onChange();
  });
  return form;
}

async function render(main, me) {
  const [byDay, byTeam, byUser, byMarket] = await Promise.all(
    ["day", "team", "user", "market"].map((groupBy) => load({ from: state.from, to: state.to, groupBy })));
  const qs = new URLSearchParams({ period: state.kind, ...(state.kind === "custom" ? { from: state.from, to: state.to } : {}) });
  window.history.replaceState(null, "", `/activity?${qs}`);
  const total = byDay.total;
  const exportGroup = h("select", { id: "export-group" }, GROUPS.map((g) => h("option", { value: g }, t(`act_group_${g}`))));
  const exportPath = (ext) => `/api/activity.${ext}?${query({ from: state.from, to: state.to, groupBy: exportGroup.value })}`;
  const series = [
    { key: "registrations", label: kindLabel("registrations") },
    { key: "signs", label: t("act_signs") },
    { key: "verifications", label: kindLabel("verifications") },
    { key: "visits", label: kindLabel("visits") },
    { key: "other", label: t("act_other") },
  ];
  const rerun = async () => {
    try {
      await render(main, me);
    } catch (err) {
      toast(describeError(err), "error");
    }
  };

  mount(main,
    h("h1", {}, t("act_title")),
    h("p", { class: "muted" }, t(me && me.role === "volunteer" ? "act_intro_volunteer" : "act_intro")),
    h("section", { class: "card", "aria-labelledby": "h-period" },
      h("h2", { id: "h-period", class: "sr-only" }, t("period_label")),
      periodForm(() => { state.refused = false; return rerun(); }),
      state.refused ? h("p", { class: "note note-warn", id: "period-refused" }, t(state.refused)) : null,
      h("p", { class: "lead", id: "period-line" }, t("period_line", { from: longDate(byDay.from), to: longDate(byDay.to) }))),
    byUser.names_hidden ? h("p", { class: "note note-warn", id: "names-hidden" }, t("act_names_hidden")) : null,
    h("div", { class: "kpis", id: "activity-kpis" },
      ["registrations", "prints", "deliveries", "verifications", "return_visits", "codes_fixed", "visits"].map((k) => kpi(num(total[k]), kindLabel(k)))),
    h("div", { class: "dash-grid" },
      h("section", { class: "card", "aria-labelledby": "h-day" },
        h("h2", { id: "h-day" }, t("act_per_day")),
        barChart(dayRows(byDay.rows), { series, title: `${t("act_per_day")} — ${t("period_line", { from: longDate(byDay.from), to: longDate(byDay.to) })}` })),
      h("section", { class: "card exports", "aria-labelledby": "h-download" },
        h("h2", { id: "h-download" }, t("act_download")),
        h("div", { class: "field" }, h("label", { for: "export-group" }, t("act_download_group")), exportGroup),
        h("div", { class: "row-actions" },
          // Excel for people (Vietnamese headings); CSV is the machine format (column codes).
          h("button", { type: "button", class: "btn btn-primary", id: "activity-xlsx", onclick: () => download(exportPath("xlsx"), `hoat-dong-${state.from}-${state.to}.xlsx`) }, t("act_xlsx")),
          h("button", { type: "button", class: "btn", id: "activity-csv", onclick: () => download(exportPath("csv"), `hoat-dong-${state.from}-${state.to}.csv`) }, t("export_csv"))))),
    h("section", { class: "card", "aria-labelledby": "h-team" },
      h("h2", { id: "h-team" }, t("act_per_team")),
      activityTable({ id: "by-team", caption: t("act_per_team"), first: t("col_team"), rows: byTeam.rows, groupBy: "team" })),
    h("section", { class: "card", "aria-labelledby": "h-user" },
      h("h2", { id: "h-user" }, t("act_per_user")),
      activityTable({ id: "by-user", caption: t("act_per_user"), first: t("col_person"), rows: byUser.rows, groupBy: "user" })),
    h("section", { class: "card", "aria-labelledby": "h-market" },
      h("h2", { id: "h-market" }, t("act_per_market")),
      activityTable({ id: "by-market", caption: t("act_per_market"), first: t("col_market"), rows: byMarket.rows, groupBy: "market" })));
  if (state.to > today()) document.getElementById("period-line").append(" ", h("span", { class: "muted small" }, t("period_future")));
}

widePage("activity", render);
