// Visits to a stall (POST /api/stalls/{id}/visits): what a volunteer found there when the stall
// could not be registered or finished (nobody there, not now, come back on a day, a document
// missing), or what they did besides. What a worklist row says of the latest (views/visit.js has the
// stall page's card). Only the Vietnamese words ship with the worklist; English is in lib/i18n-en.js.

import { t, addStrings, date } from "./i18n.js";

export const OUTCOMES = ["absent", "declined", "come_back", "blocked", "trained", "follow_up"];
export const BLOCKERS = ["no_cccd", "no_own_sim", "no_smartphone", "no_bank_account"];

addStrings({
  vi: {
    vs_absent: "Vắng chủ sạp",
    vs_declined: "Chưa đồng ý",
    vs_come_back: "Hẹn quay lại",
    vs_blocked: "Chưa đủ điều kiện",
    vs_trained: "Đã hướng dẫn",
    vs_follow_up: "Cần theo dõi",
    visit_on: "hẹn {date}",
    visit_on_day: "ngày {date}",
  },
  // What a visit refused by the server says (the queue shows it, whatever screen is open).
  errorsVi: {
    invalid_blockers: "Chọn ít nhất một thứ chủ sạp còn thiếu (chỉ khi thiếu điều kiện mở tài khoản).",
    invalid_visited_at: "Lần ghé này đã quá 14 ngày nên không gửi được nữa. Hãy ghi nhận lại nếu cần.",
    invalid_come_back_on: "Ngày hẹn quay lại phải từ hôm ghé trở đi, trong vòng một năm.",
    invalid_note: "Ghi chú tối đa 300 ký tự, không dùng ký hiệu (₫, =, <, >…) hay biểu tượng cảm xúc.",
  },
});

/** The day to come back as a visit says it: "Hẹn quay lại ngày 04/12", "Vắng chủ sạp, hẹn 04/12". */
export function dayText(visit) {
  if (!visit.come_back_on) return "";
  const day = date(visit.come_back_on);
  return visit.outcome === "come_back" ? t("visit_on_day", { date: day }) : t("visit_on", { date: day });
}

/** The short label of a worklist row's badge: the outcome, and the day to come back if any. */
export function badgeText(visit) {
  return [t(`vs_${visit.outcome}`), dayText(visit)].filter(Boolean).join(visit.outcome === "come_back" ? " " : " · ");
}

// What the server refuses in a note (core.types.free_text): control characters, and symbols and
// emoji other than + & % /. Checked before a visit is queued, so it cannot fail later offline.
const NOT_IN_NOTES = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]|(?![+&%/])\p{S}/u;

/** Whether a note would be refused by the server (too long, or a symbol it does not take). */
export function noteProblem(text) {
  if ([...text.normalize("NFC").replace(/\s+/g, " ").trim()].length > 300) return "visit_note_long";
  return NOT_IN_NOTES.test(text) ? "invalid_note" : null;
}
