// Visits to a stall (POST /api/stalls/{id}/visits): what a volunteer found there when the stall
// could not be registered or finished (nobody there, not now, come back on a day, a document
// missing), or what they did besides. What a worklist row says of the latest (views/visit.js has the
// stall page's card). Only the Vietnamese words ship with the worklist; English is in lib/i18n-en.js.

import { t, addStrings, date } from "./i18n.js";

export const OUTCOMES = ["absent", "declined", "come_back", "blocked", "trained", "follow_up"];
export const BLOCKERS = ["no_cccd", "no_own_sim", "no_smartphone", "no_bank_account"];

addStrings({
  vi: {
    f_appointment: "Có hẹn quay lại",
    vs_absent: "Vắng chủ sạp",
    vs_declined: "Chưa đồng ý",
    vs_come_back: "Hẹn quay lại",
    vs_blocked: "Chưa đủ điều kiện",
    vs_trained: "Đã hướng dẫn",
    vs_follow_up: "Cần theo dõi",
    visit_on: "hẹn {date}",
  },
  // What a visit refused by the server says (the queue shows it, whatever screen is open).
  errorsVi: {
    invalid_blockers: "Chọn ít nhất một thứ chủ sạp còn thiếu (chỉ khi thiếu điều kiện mở tài khoản).",
    invalid_visited_at: "Giờ của lần ghé không hợp lệ (quá 14 ngày trước hoặc sau giờ hiện tại). Kiểm tra đồng hồ của máy.",
    invalid_come_back_on: "Ngày hẹn quay lại phải từ hôm ghé trở đi, trong vòng một năm.",
    invalid_note: "Ghi chú tối đa 300 ký tự, không dùng biểu tượng cảm xúc.",
  },
});

/** The short label of a worklist row's badge: the outcome, and the day to come back if any. */
export function badgeText(visit) {
  const on = visit.come_back_on ? ` · ${t("visit_on", { date: date(visit.come_back_on) })}` : "";
  return `${t(`vs_${visit.outcome}`)}${on}`;
}
