// The "partner who helped open the account" list of the registration and account forms (not
// in views/common.js: the worklist loads that one, and this is not needed to draw it).

import { h } from "../lib/dom.js";
import { t, addStrings } from "../lib/i18n.js";

addStrings({
  vi: {
    partner_group_wallets: "Ví điện tử, cổng thanh toán",
    partner_group_account: "Đơn vị của tài khoản vừa chọn",
    partner_group_banks: "Ngân hàng",
    partner_none: "Không có — chủ sạp tự mở",
    partner_group_recent: "Vừa ghi trên máy này",
  },
  en: {
    partner_group_wallets: "Wallets, payment gateways",
    partner_group_account: "Of the account just picked",
    partner_group_banks: "Banks",
    partner_none: "None — the stallholder opened it themself",
    partner_group_recent: "Recently recorded on this device",
  },
});

/** The options of a "partner who helped open the account" list: wallets and payment gateways
 * first (the programme's named partners), then the banks, each by the name people know it by,
 * with the bank's full name from the directory (`directory`: the bank list) when its short name is a code
 * ("IBKHCM — Ngân hàng Công nghiệp Hàn Quốc - Chi nhánh TP. Hồ Chí Minh"). */
export function partnerOptions(partners, selected, bin = "", recent = [], directory = []) {
  const fullName = (p) => {
    const bank = p.kind === "bank" ? directory.find((b) => (p.bins || []).includes(b.bin)) : null;
    // The full name without a closing "(…)" that repeats what it already says ("Ngân hàng số Timo
    // by Ban Viet Bank (Timo by Ban Viet Bank)" in the bank list).
    const full = bank && bank.name ? bank.name.replace(/\s*\(([^()]+)\)$/, (m, inner) => (bank.name.slice(0, -m.length).includes(inner) ? "" : m)) : "";
    return full && full !== p.name ? `${p.name || p.code} — ${full}` : p.name || p.code;
  };
  const option = (p) => h("option", { value: p.code, selected: p.code === selected }, fullName(p));
  // The bank or wallet of the account picked above comes first, in a group of its own (about 70
  // names otherwise): offered, never chosen for the volunteer (a bank is not an onboarding). Then
  // the partners this person recorded last on this device (a team usually works with one or two
  // partners all day), also only offered.
  const own = bin ? partners.filter((p) => (p.bins || []).includes(bin)) : [];
  const lately = recent.map((code) => partners.find((p) => p.code === code)).filter((p) => p && !own.includes(p));
  const rest = partners.filter((p) => !own.includes(p) && !lately.includes(p));
  const wallets = rest.filter((p) => p.kind !== "bank");
  const banks = rest.filter((p) => p.kind === "bank");
  return [
    h("option", { value: "" }, t("partner_none")),
    own.length ? h("optgroup", { label: t("partner_group_account") }, own.map(option)) : null,
    lately.length ? h("optgroup", { label: t("partner_group_recent") }, lately.map(option)) : null,
    wallets.length ? h("optgroup", { label: t("partner_group_wallets") }, wallets.map(option)) : null,
    banks.length ? h("optgroup", { label: t("partner_group_banks") }, banks.map(option)) : null,
  ].filter(Boolean);
}

const RECENT_PARTNERS = 3;
const recentKey = (me) => `choso.partners.recent.${me ? me.username : ""}`;

/** The partners this person recorded last on this device, newest first (at most three). Kept
 * with the device's other lists (lib/wipe.js removes them at sign-out); codes, no personal data. */
export function recentPartners(me) {
  try {
    const got = JSON.parse(localStorage.getItem(recentKey(me)) || "[]");
    return Array.isArray(got) ? got.filter((c) => typeof c === "string").slice(0, RECENT_PARTNERS) : [];
  } catch { return []; }
}

/** Remember a partner just recorded (a registration or an account saved with it). */
export function rememberPartner(me, code) {
  if (!code) return;
  const list = [code, ...recentPartners(me).filter((c) => c !== code)].slice(0, RECENT_PARTNERS);
  try { localStorage.setItem(recentKey(me), JSON.stringify(list)); } catch { /* storage full: only a convenience */ }
}
