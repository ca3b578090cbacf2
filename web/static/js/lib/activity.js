// Field activity (GET /api/activity): the kinds of action, periods in Asia/Ho_Chi_Minh, labels.

import { t, today } from "./i18n.js";
import * as api from "./api.js";

export const KINDS = ["registrations", "edits", "accounts", "consents", "prints", "deliveries", "verifications", "return_visits", "codes_fixed", "visits", "support", "assignments"];
export const kindLabel = (kind) => t(`kind_${kind}`);

// Asia/Ho_Chi_Minh is UTC+7 all year (no daylight saving since 1975): the date is read off the
// shifted clock, without building a time-zone formatter (its first one costs a slow tablet about
// 100 ms, right after the worklist shows). tests/web/test_formats.py compares it with Intl.
export { today }; // it lives in lib/i18n.js: the worklist needs it without loading this module

/** A calendar day as written (YYYY-MM-DD; 2027-02-29 is none) in days since 1970, or null. */
export function calendarDay(text) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text || "")) return null;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text ? d.getTime() / 86400000 : null;
}

export function addDays(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** {from, to} of this week (Monday to today), this month (1st to today) or this quarter. */
export function periodOf(kind, now = today()) {
  const d = new Date(`${now}T00:00:00Z`);
  if (kind === "month") return { from: `${now.slice(0, 8)}01`, to: now };
  if (kind === "quarter") {
    const m = Math.floor(d.getUTCMonth() / 3) * 3 + 1;
    return { from: `${now.slice(0, 5)}${String(m).padStart(2, "0")}-01`, to: now };
  }
  const back = (d.getUTCDay() + 6) % 7;
  return { from: addDays(now, -back), to: now };
}

export function query({ from, to, groupBy }) {
  return new URLSearchParams({ from, to, group_by: groupBy }).toString();
}

export function load({ from, to, groupBy }) {
  return api.getJSON(`/api/activity?${query({ from, to, groupBy })}`);
}

/** A row's label as people read it: names, or a number when the role may not see names. */
export function rowLabel(row, groupBy) {
  if (row.key === null || row.key === undefined) {
    return groupBy === "team" ? t("act_no_team") : groupBy === "user" ? "—" : t("act_no_market");
  }
  if (groupBy === "user" && !row.label) return t("act_hidden_name", { id: row.key });
  return row.label || row.key;
}

/** A day (YYYY-MM-DD) written in full for people: 01/12/2026. */
export function longDate(day) {
  const [y, m, d] = String(day).split("-");
  return `${d}/${m}/${y}`;
}
