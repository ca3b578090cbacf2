// Pieces shared by the manager pages: status badges, progress toward the rule, downloads.

import { h, toast, progressBar } from "./dom.js";
import { t, pct, describeError } from "./i18n.js";
import * as api from "./api.js";
import { levelShare, ruleVersion, statusLabel, statusClass, levelLabel } from "./coverage.js";

export function statusBadge(status) {
  return h("span", { class: `badge status-badge ${statusClass(status)}`, dataset: { status: status || "unknown" } }, statusLabel(status));
}

export function ruleLine(rule, thresholds) {
  const parts = Object.entries(thresholds).map(([l, v]) => `${levelLabel(l)} ≥ ${pct(v)}`).join(", ");
  return parts ? t("rule_line", { v: ruleVersion(rule), parts }) : t("rule_missing");
}

/** Rows of small progress bars toward each threshold of the rule. */
export function progressRows(cov, thresholds, levels = null) {
  const list = levels || (Object.keys(thresholds).length ? Object.keys(thresholds) : ["qr_issued", "qr_verified", "transacting"]);
  return h("div", { class: "progress-rows" }, list.map((level) => {
    const { share } = levelShare(cov, level);
    const target = thresholds[level] ?? null;
    return h("div", { class: "progress-row" },
      h("span", {}, levelLabel(level)),
      progressBar(share, { target, label: `${levelLabel(level)} ${pct(share)}${target != null ? `, ${t("target", { pct: pct(target) })}` : ""}` }),
      h("span", { class: "pct" }, pct(share)));
  }));
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

