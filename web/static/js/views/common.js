// Bits shared by the volunteer app's views.

import { h } from "../lib/dom.js";
import { t, errorText, time } from "../lib/i18n.js";

export function recordReason(rec) {
  const err = rec.state === "failed" ? rec.error : rec.last_error;
  if (!err) return "";
  if (err.code === "network") return errorText("network");
  if (err.status >= 500) return errorText("server");
  return errorText(err.code || "unknown");
}

export function stateBadge(rec) {
  const label = rec.state === "failed" ? `${t("state_failed")}: ${recordReason(rec)}` : t(`state_${rec.state}`);
  return h("span", { class: `badge state-${rec.state}`, dataset: { state: rec.state } }, label);
}

export function retryLine(rec) {
  if (rec.state !== "queued" || !rec.attempts) return null;
  return h("span", { class: "sub" }, `${t("tries", { n: rec.attempts, time: time(rec.next_at) })} · ${recordReason(rec)}`);
}
