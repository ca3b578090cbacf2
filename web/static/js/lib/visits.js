// Visits to a stall (POST /api/stalls/{id}/visits): what a volunteer found there when the stall
// could not be registered or finished (nobody there, not now, come back on a day, a document
// missing), or what they did besides. The words for them, and the line a worklist row shows.

import { t, addStrings, date } from "./i18n.js";

export const OUTCOMES = ["absent", "declined", "come_back", "blocked", "trained", "follow_up"];
export const BLOCKERS = ["no_cccd", "no_own_sim", "no_smartphone", "no_bank_account"];
// The outcomes that leave work at the stall: the worklist counts them under "Cần làm".
export const OPEN = ["absent", "declined", "come_back", "blocked", "follow_up"];

addStrings({
  vi: {
    vo_absent: "Không gặp chủ sạp",
    vo_declined: "Chủ sạp chưa đồng ý",
    vo_come_back: "Hẹn quay lại",
    vo_blocked: "Thiếu điều kiện mở tài khoản",
    vo_trained: "Đã hướng dẫn sử dụng",
    vo_follow_up: "Cần theo dõi thêm",
    f_appointment: "Có hẹn quay lại",
    vs_absent: "Vắng chủ sạp",
    vs_declined: "Chưa đồng ý",
    vs_come_back: "Hẹn quay lại",
    vs_blocked: "Chưa đủ điều kiện",
    vs_trained: "Đã hướng dẫn",
    vs_follow_up: "Cần theo dõi",
    vb_no_cccd: "CCCD (không ghi số)",
    vb_no_own_sim: "SIM chính chủ",
    vb_no_smartphone: "Điện thoại thông minh",
    vb_no_bank_account: "Tài khoản ngân hàng",
    visit_on: "hẹn {date}",
    visit_last: "Lần ghé gần nhất: {what} · {when}",
    visit_card_title: "Lần ghé sạp",
    visit_card_intro: "Ghi lại khi chưa đăng ký hay chưa làm xong được, để người đến sau không phải hỏi lại từ đầu.",
    visit_record: "Ghi nhận lần ghé",
    visit_outcome: "Kết quả lần ghé",
    visit_blockers: "Chủ sạp còn thiếu",
    visit_come_back_on: "Hẹn ngày quay lại (không bắt buộc)",
    visit_note: "Ghi chú (không bắt buộc; không ghi số CCCD hay số tài khoản)",
    visit_save: "Lưu lần ghé",
    visit_saved: "Đã lưu lần ghé.",
    visit_queued: "Đã lưu trên máy, sẽ gửi khi có mạng.",
    visit_need_outcome: "Chọn kết quả lần ghé.",
    visit_need_blocker: "Chọn ít nhất một thứ chủ sạp còn thiếu.",
    visit_note_long: "Ghi chú tối đa 300 ký tự.",
    visit_list_show: "Xem các lần ghé",
    visit_list_none: "Chưa ghi nhận lần ghé nào.",
  },
  en: {
    vo_absent: "Stallholder not there",
    vo_declined: "Stallholder said not now",
    vo_come_back: "Come back later",
    vo_blocked: "Cannot open an account yet",
    vo_trained: "Shown how to use it",
    vo_follow_up: "To follow up",
    f_appointment: "Appointments",
    vs_absent: "Not there",
    vs_declined: "Not now",
    vs_come_back: "Come back",
    vs_blocked: "Not ready",
    vs_trained: "Shown how",
    vs_follow_up: "Follow up",
    vb_no_cccd: "ID card (no number kept)",
    vb_no_own_sim: "SIM in their own name",
    vb_no_smartphone: "Smartphone",
    vb_no_bank_account: "Bank account",
    visit_on: "on {date}",
    visit_last: "Last visit: {what} · {when}",
    visit_card_title: "Visits",
    visit_card_intro: "Record a visit that did not end in a registration or a finished stall, so whoever comes next does not start over.",
    visit_record: "Record a visit",
    visit_outcome: "What happened",
    visit_blockers: "The stallholder still needs",
    visit_come_back_on: "Day to come back (optional)",
    visit_note: "Note (optional; no ID card or account numbers)",
    visit_save: "Save visit",
    visit_saved: "Visit saved.",
    visit_queued: "Saved on this device; it is sent when there is a network.",
    visit_need_outcome: "Choose what happened.",
    visit_need_blocker: "Choose at least one thing the stallholder still needs.",
    visit_note_long: "The note is at most 300 characters.",
    visit_list_show: "Show visits",
    visit_list_none: "No visits recorded yet.",
  },
  errorsVi: {
    invalid_blockers: "Chọn ít nhất một thứ chủ sạp còn thiếu (chỉ khi thiếu điều kiện mở tài khoản).",
    invalid_visited_at: "Giờ của lần ghé không hợp lệ (quá 14 ngày trước hoặc sau giờ hiện tại). Kiểm tra đồng hồ của máy.",
    invalid_come_back_on: "Ngày hẹn quay lại phải từ hôm ghé trở đi, trong vòng một năm.",
    invalid_note: "Ghi chú tối đa 300 ký tự, không dùng biểu tượng cảm xúc.",
  },
  errorsEn: {
    invalid_blockers: "Choose at least one thing the stallholder still needs (only when an account cannot be opened yet).",
    invalid_visited_at: "The visit's time is out of range (over 14 days ago, or ahead of now). Check the device's clock.",
    invalid_come_back_on: "The day to come back is the visit's day or later, within a year.",
    invalid_note: "The note is at most 300 characters, without emoji.",
  },
});

/** What happened on a visit, in words: the outcome, what was missing, the day to come back. */
export function outcomeText(visit) {
  let text = t(`vo_${visit.outcome}`);
  if (visit.blockers && visit.blockers.length) text += `: ${visit.blockers.map((b) => t(`vb_${b}`)).join(", ")}`;
  if (visit.come_back_on) text += ` (${t("visit_on", { date: date(visit.come_back_on) })})`;
  return text;
}

/** The short label of a worklist row's badge: the outcome, and the day to come back if any. */
export function badgeText(visit) {
  const on = visit.come_back_on ? ` · ${t("visit_on", { date: date(visit.come_back_on) })}` : "";
  return `${t(`vs_${visit.outcome}`)}${on}`;
}
