// Pieces shared by the manager pages: status badges, progress toward the rule, downloads.

import { h, toast, progressBar } from "./dom.js";
import { t, pct, targetPct, num, describeError, today, addStrings } from "./i18n.js";
import { longDate } from "./activity.js";
import * as api from "./api.js";
import { fold } from "./text.js";
import { levelShare, ruleVersion, statusLabel, statusClass, levelLabel } from "./coverage.js";
import { cardsOnPhone } from "./cards.js";

export function statusBadge(status) {
  return h("span", { class: `badge status-badge ${statusClass(status)}`, dataset: { status: status || "unknown" } }, statusLabel(status));
}

addStrings({
  vi: { rule_scheduled_line: "Từ {day} áp dụng tiêu chí mới (phiên bản {v}): {parts}" },
  en: { rule_scheduled_line: "From {day} a new rule applies (version {v}): {parts}" },
});

/** The calendar day in Vietnam of a moment written as text (i18n's today), "" if it is none. */
const vietnamDay = (moment) => (Number.isFinite(Date.parse(moment)) ? today(Date.parse(moment)) : "");

/** The rule's versions that applied (in force or superseded), oldest first, for a chart's target
 * lines: [{from: ms, thresholds}]; null without them. */
export function ruleSteps(versions) {
  const applied = (versions || []).filter((v) => v.state === "in_force" || v.state === "superseded")
    // From the Vietnamese day it applied, on the charts' scale (a day is its date at midnight UTC):
    // the step stands at that day's point, whatever the hour it was saved.
    .map((v) => ({ from: Date.parse(vietnamDay(v.effective_from)), thresholds: v.thresholds || {} }))
    .filter((v) => Number.isFinite(v.from))
    .sort((a, b) => a.from - b.from);
  return applied.length ? applied : null;
}

/** The version in force, from the list of versions (GET /api/programme/rule/versions). */
export function ruleInForce(versions) {
  return (versions || []).find((v) => v.state === "in_force") || null;
}

/** A version waiting for its day, said where the rule is: a manager learns their market's status
 * may change then. Nothing when none is scheduled. */
export function scheduledRule(versions) {
  const next = (versions || []).filter((v) => v.state === "scheduled")
    .sort((a, b) => Date.parse(a.effective_from) - Date.parse(b.effective_from))[0];
  if (!next) return null;
  const parts = Object.entries(next.thresholds || {}).map(([l, v]) => `${levelLabel(l)} ≥ ${targetPct(v)}`).join(", ");
  return h("span", { class: "rule-scheduled", id: "rule-scheduled" }, t("rule_scheduled_line", { v: next.version, day: longDate(vietnamDay(next.effective_from)), parts }));
}

export function ruleLine(rule, thresholds) {
  const parts = Object.entries(thresholds).map(([l, v]) => `${levelLabel(l)} ≥ ${targetPct(v)}`).join(", ");
  return parts ? t("rule_line", { v: ruleVersion(rule), parts }) : t("rule_missing");
}

/** Rows of small progress bars toward each threshold of the rule. */
export function progressRows(cov, thresholds, levels = null) {
  // Signs first, whatever the rule asks (the number every team follows; a manager looked for it
  // per market), then the rule's levels.
  const list = levels || [...new Set(["qr_issued", ...(Object.keys(thresholds).length ? Object.keys(thresholds) : ["qr_verified", "transacting"])])];
  return h("div", { class: "progress-rows" }, list.map((level) => {
    const { share } = levelShare(cov, level);
    const target = thresholds[level] ?? null;
    // Each level in its colour, as in the trend chart and the printed report; a target reached
    // says so beside the share (the bar had turned green, and "checked" below it orange).
    const met = target != null && share >= target;
    return h("div", { class: "progress-row" },
      h("span", {}, levelLabel(level)),
      progressBar(share, { target, kind: `bar-level-${level}`, label: `${levelLabel(level)} ${pct(share)}${target != null ? `, ${t("target", { pct: targetPct(target) })}${met ? `, ${t("target_met")}` : ""}` : ""}` }),
      h("span", { class: "pct" }, pct(share), met ? h("span", { class: "pct-met", title: t("target_met") }, " ✓") : ""));
  }));
}

/**
 * A download's file name that says what is in it: "choso-sap-cho-han-da-kiem-tra-ma-2026-12-05.csv"
 * (the parts folded to ASCII words joined by "-", empty parts left out, the day in Vietnam).
 */
export function fileName(parts, ext) {
  const words = parts.map((p) => fold(p).replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "")).filter(Boolean);
  return `${[...words, today()].join("-")}.${ext}`;
}

export async function download(path, filename) {
  toast(t("downloading"), "info", 3000, "dl");
  try {
    await api.downloadFile(path, filename);
  } catch (err) {
    toast(describeError(err), "error");
  }
}

export async function openReport(marketId, name) {
  toast(t("pdf_opening"), "info", 3000, "dl");
  try {
    await api.openFile(`/api/markets/${marketId}/report.pdf`, `bao-cao-${name || marketId}.pdf`);
  } catch (err) {
    toast(describeError(err), "error");
  }
}



/**
 * The support package's figures (users_want #21), for a market or an area: the share of active
 * stalls whose household was told about at least one item, then per item how many were
 * introduced to it, received it, did not need it, and all of those (the households consulted
 * about that item). `id`: the table's id.
 */
export function supportFigures(counts, id) {
  const states = ["offered", "delivered", "declined"];
  const share = counts.active_stalls ? counts.consulted / counts.active_stalls : 0;
  return [
    h("p", {}, t("support_market", { n: num(counts.consulted), total: num(counts.active_stalls), pct: pct(share) })),
    progressBar(share, { label: t("support_title") }),
    counts.consulted
      ? h("div", { class: "table-wrap" }, cardsOnPhone(h("table", { id },
        h("caption", { class: "sr-only" }, t("support_title")),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("support_col_item")),
          states.map((st) => h("th", { scope: "col", class: "num" }, t(`support_${st}`))),
          h("th", { scope: "col", class: "num" }, t("support_col_total")))),
        h("tbody", {}, counts.items.map((i) => h("tr", { dataset: { item: i.item } },
          h("th", { scope: "row" }, t(`support_item_${i.item}`)),
          states.map((st) => h("td", { class: "num" }, num(i[st]))),
          h("td", { class: "num" }, num(states.reduce((n, st) => n + i[st], 0)))))))))
      : h("p", { class: "muted" }, t("support_area_none")),
  ];
}
