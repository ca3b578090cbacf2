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

/** The options of a "partner who helped open the account" list: wallets and payment gateways
 * first (the programme's named partners), then the banks, each by the name people know it by. */
export function partnerOptions(partners, selected, bin = "") {
  const option = (p) => h("option", { value: p.code, selected: p.code === selected }, p.name || p.code);
  // The bank or wallet of the account picked above comes first, in a group of its own (about 70
  // names otherwise): offered, never chosen for the volunteer (a bank is not an onboarding).
  const own = bin ? partners.filter((p) => (p.bins || []).includes(bin)) : [];
  const rest = partners.filter((p) => !own.includes(p));
  const wallets = rest.filter((p) => p.kind !== "bank");
  const banks = rest.filter((p) => p.kind === "bank");
  return [
    h("option", { value: "" }, t("partner_none")),
    own.length ? h("optgroup", { label: t("partner_group_account") }, own.map(option)) : null,
    wallets.length ? h("optgroup", { label: t("partner_group_wallets") }, wallets.map(option)) : null,
    banks.length ? h("optgroup", { label: t("partner_group_banks") }, banks.map(option)) : null,
  ].filter(Boolean);
}
