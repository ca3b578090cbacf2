// Visits to a stall (POST /api/stalls/{id}/visits): what a volunteer found there when the stall
// could not be registered or finished (nobody there, not now, come back on a day, a document
// missing), or what they did besides. Their words, for the worklist's rows (loaded once the list is
// on screen), the stall page's card (views/visit.js) and the printed list of the next visit.

import { t, addStrings, date } from "./i18n.js";

export const OUTCOMES = ["absent", "declined", "come_back", "blocked", "trained", "follow_up"];
export const BLOCKERS = ["no_cccd", "no_own_sim", "no_smartphone", "no_bank_account"];

addStrings({
  vi: {
    vo_absent: "Không gặp chủ sạp",
    vo_declined: "Chủ sạp chưa đồng ý",
    vo_come_back: "Hẹn quay lại",
    vo_blocked: "Thiếu điều kiện mở tài khoản",
    vo_trained: "Đã hướng dẫn sử dụng",
    vo_follow_up: "Cần theo dõi thêm",
    vb_no_cccd: "CCCD",
    vb_no_own_sim: "SIM chính chủ",
    vb_no_smartphone: "Điện thoại thông minh",
    vb_no_bank_account: "Tài khoản ngân hàng",
    vs_absent: "Vắng chủ sạp",
    vs_declined: "Chưa đồng ý",
    vs_come_back: "Hẹn quay lại",
    vs_blocked: "Chưa đủ điều kiện",
    vs_trained: "Đã hướng dẫn",
    vs_follow_up: "Cần theo dõi",
    visit_on: "hẹn {date}",
    visit_on_day: "ngày {date}",
  },
  en: {
    vo_absent: "Stallholder not there",
    vo_declined: "Stallholder said not now",
    vo_come_back: "Come back later",
    vo_blocked: "Cannot open an account yet",
    vo_trained: "Shown how to use it",
    vo_follow_up: "To follow up",
    vb_no_cccd: "ID card (CCCD)",
    vb_no_own_sim: "SIM in their own name",
    vb_no_smartphone: "Smartphone",
    vb_no_bank_account: "Bank account",
    vs_absent: "Not there",
    vs_declined: "Not now",
    vs_come_back: "Come back",
    vs_blocked: "Not ready",
    vs_trained: "Shown how",
    vs_follow_up: "Follow up",
    visit_on: "on {date}",
    visit_on_day: "on {date}",
  },
  // What a visit refused by the server says (the queue shows it, whatever screen is open).
  errorsVi: {
    invalid_blockers: "Chọn ít nhất một thứ chủ sạp còn thiếu (chỉ khi thiếu điều kiện mở tài khoản).",
    invalid_visited_at: "Lần ghé này đã quá 14 ngày nên không gửi được nữa. Hãy ghi nhận lại nếu cần.",
    invalid_come_back_on: "Ngày hẹn quay lại phải từ hôm ghé trở đi, trong vòng một năm.",
    invalid_note: "Ghi chú tối đa 300 ký tự, không dùng ký hiệu như =, <, >, ~ hay biểu tượng cảm xúc (được ghi ₫).",
  },
  errorsEn: {
    invalid_blockers: "Choose at least one thing the stallholder still needs (only when an account cannot be opened yet).",
    invalid_visited_at: "This visit is over 14 days old and can no longer be sent. Record it again if need be.",
    invalid_come_back_on: "The day to come back is the visit's day or later, within a year.",
    invalid_note: "The note is at most 300 characters, without symbols such as =, <, >, ~ or emoji (₫ is fine).",
  },
});

/** The day to come back as a visit says it: "Hẹn quay lại ngày 04/12", "Vắng chủ sạp, hẹn 04/12". */
export function dayText(visit) {
  if (!visit.come_back_on) return "";
  const day = date(visit.come_back_on);
  return visit.outcome === "come_back" ? t("visit_on_day", { date: day }) : t("visit_on", { date: day });
}

/** What happened on a visit, in words: the outcome, what was missing, the day to come back. */
export function outcomeText(visit) {
  let text = t(`vo_${visit.outcome}`);
  if (visit.blockers && visit.blockers.length) text += `: ${visit.blockers.map((b) => t(`vb_${b}`)).join(", ")}`;
  if (!visit.come_back_on) return text;
  return visit.outcome === "come_back" ? `${text} ${dayText(visit)}` : `${text} (${dayText(visit)})`;
}

/** What a visit found, without the day (the printed list has a column for it). */
export function foundText(visit) {
  return outcomeText({ ...visit, come_back_on: null });
}

/** The short label of a worklist row's badge: the outcome, and the day to come back if any. */
export function badgeText(visit) {
  return [t(`vs_${visit.outcome}`), dayText(visit)].filter(Boolean).join(visit.outcome === "come_back" ? " " : " · ");
}

// What the server refuses in a note (core.types.free_text): control characters, and symbols and
// emoji other than + & % / and currency signs (₫). Checked before a visit is queued, so it cannot fail later offline.
const NOT_IN_NOTES = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]|(?![+&%/])(?!\p{Sc})\p{S}/u;

/** Whether a note would be refused by the server (too long, or a symbol it does not take). */
export function noteProblem(text) {
  if ([...text.normalize("NFC").replace(/\s+/g, " ").trim()].length > 300) return "visit_note_long";
  return NOT_IN_NOTES.test(text) ? "invalid_note" : null;
}
