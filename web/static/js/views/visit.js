// The stall page's "Lần ghé sạp" card: what the volunteer found at the stall when it could not be
// registered or finished (nobody there, not now, come back on a day, something missing to open an
// account), or what they did besides. Saved through the outbox (offline too, with the time it
// happened); the worklist row shows the latest (lib/visits.js). Earlier visits are read on request
// (the read is logged).

import { h, toast } from "../lib/dom.js";
import { t, addStrings, errorText, describeError, date, dateTime, today } from "../lib/i18n.js";
import * as api from "../lib/api.js";
import * as outbox from "../lib/outbox.js";
import { opener } from "../lib/forms.js";
import { OUTCOMES, BLOCKERS, outcomeText, noteProblem } from "../lib/visits.js";
import { dayInput } from "../lib/dayinput.js";

addStrings({
  vi: {
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
    visit_day_unlisted: "Sạp này đã xong các bước: ngày hẹn chỉ hiện trong “Có lịch hẹn” và danh sách quay lại của tổ khi chọn “Cần theo dõi thêm”.",
    visit_list_show: "Xem các lần ghé",
    visit_list_none: "Chưa ghi nhận lần ghé nào.",
    visit_asked_of_me: "Bạn được nhờ đi lại sạp này ({name} giao ngày {when}).",
    visit_assigned_to: "Đã nhờ {name} đi lại sạp này ({by} giao ngày {when})",
  },
  en: {
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
    visit_day_unlisted: "This stall has done every step: the day shows under “Appointments” and on the team's return visits only with “To follow up”.",
    visit_list_show: "Show visits",
    visit_list_none: "No visits recorded yet.",
    visit_asked_of_me: "You are asked to visit this stall again ({name}, {when}).",
    visit_assigned_to: "{name} is asked to visit this stall again ({by}, {when})",
  },
});


/**
 * "Lần ghé sạp": what the volunteer found at the stall when it could not be registered or finished
 * (nobody there, not now, come back on a day, a document missing), or what they did besides. Saved
 * through the outbox (offline too, with the time it happened); the worklist row shows the latest.
 * Earlier visits are read on request (the read is logged).
 */
export function visitsCard(ctx, stall, listed, tile = null) {
  const last = listed && listed.last_visit;
  // Someone asked this person to go back to the stall (teams/assignments.py; the worklist's card,
  // from the device's last answer): said here too, until a visit is recorded.
  const mine = (api.cache.value("assignments") || []).find((a) => a.stall_id === stall.id && !a.visited_since);
  const asked = mine
    ? h("p", { class: "note", id: "asked-of-me" }, t("visit_asked_of_me", { name: mine.assigned_by, when: date(mine.assigned_at) }))
    : null;
  // A manager or an administrator reads who is asked (they assign on the return-visit list).
  const assignedTo = h("p", { class: "note", id: "assigned-to", hidden: true });
  if (!asked && ["admin", "manager"].includes(ctx.me && ctx.me.role) && navigator.onLine) {
    api.getJSON(`/api/stalls/${stall.id}/assignment`).then((a) => {
      if (!a.user_id) return;
      assignedTo.replaceChildren(...[t("visit_assigned_to", { name: a.name, by: a.assigned_by, when: date(a.assigned_at) }),
        // The words of the return-visit list (lib/i18n.js assign_*).
        a.works_here === false ? h("span", { class: "assign-gone" }, ` (${t("assign_gone")})`) : null,
        a.visited_since ? h("span", { class: "muted" }, ` (${t("assign_visited")})`) : null].filter(Boolean));
      assignedTo.hidden = false;
    }).catch(() => { /* the card stands without it */ });
  }
  const lastLine = h("p", { id: "last-visit", class: "small", hidden: !last },
    last ? t("visit_last", { what: outcomeText(last), when: dateTime(last.visited_at) }) : "");
  // The form is built when it is first opened: the stall page opens right after "Lưu sạp", and a
  // slow tablet should not lay out a form nobody asked for.
  const form = h("form", { id: "visit-form", novalidate: true, hidden: true });
  let built = false;
  const openBtn = opener({ id: "visit-open", className: "btn", label: t("visit_record") }, form, () => {
    if (!built) { built = true; buildForm(); }
  });

  function buildForm() {
    const error = h("p", { class: "field-error", id: "visit-error", role: "alert", hidden: true });
    const outcomes = OUTCOMES.map((o) => {
      const input = h("input", { type: "radio", name: "visit-outcome", id: `vo-${o}`, value: o });
      return [input, h("div", { class: "check check-big" }, input, h("label", { for: `vo-${o}` }, t(`vo_${o}`)))];
    });
    const blockers = BLOCKERS.map((b) => {
      const input = h("input", { type: "checkbox", id: `vb-${b}`, value: b });
      return [input, h("div", { class: "check" }, input, h("label", { for: `vb-${b}` }, t(`vb_${b}`)))];
    });
    const blockerBox = h("fieldset", { id: "visit-blockers", hidden: true },
      h("legend", {}, t("visit_blockers")), blockers.map(([, row]) => row));
    const comeBack = dayInput({ id: "visit-come-back", min: today(), max: today(Date.now() + 365 * 86400000), attrs: { "aria-describedby": "visit-come-back-error" } });
    const comeBackError = h("p", { class: "field-error", id: "visit-come-back-error", hidden: true });
    // A stall with nothing left to do is on the lists of appointments (the worklist's "Có lịch
    // hẹn", the team's return visits) only for a follow-up (worklist.categories, the server's
    // agreed visits): said when a day is set, or the appointment seems to vanish.
    const done = Boolean(tile && !tile.needs_revisit && !tile.sign_reprint_needed
      && ["qr_verified", "transacting", "fees_cashless"].includes(tile.level));
    const listNote = h("p", { class: "hint", id: "visit-day-unlisted", hidden: true }, t("visit_day_unlisted"));
    listNote.style.marginTop = "10px";  // clear of the date field's focus ring
    const drawListNote = () => {
      const picked = outcomes.find(([i]) => i.checked);
      listNote.hidden = !(done && comeBack.input.value.trim() && !(picked && picked[0].value === "follow_up"));
    };
    comeBack.input.addEventListener("input", drawListNote);
    comeBack.input.addEventListener("input", () => { comeBackError.hidden = true; comeBack.input.removeAttribute("aria-invalid"); });
    // No maxlength: a longer note was cut without a word; it is refused with the rule instead.
    const note = h("input", { type: "text", id: "visit-note", autocomplete: "off" });
    const saveBtn = h("button", { type: "submit", class: "btn btn-primary", id: "visit-save" }, t("visit_save"));
    form.append(
      h("fieldset", { id: "visit-outcomes" }, h("legend", {}, t("visit_outcome")), outcomes.map(([, row]) => row)),
      blockerBox,
      h("div", { class: "field" }, h("label", { for: "visit-come-back" }, t("visit_come_back_on")), comeBack.el, comeBackError, listNote),
      h("div", { class: "field" }, h("label", { for: "visit-note" }, t("visit_note")), note),
      error,
      h("div", { class: "row-actions" }, saveBtn));
    const say = (text) => { error.textContent = text; error.hidden = false; };
    // The note's length is said while it is too long, whatever else is picked meanwhile.
    const sayNoteLength = () => { if (noteProblem(note.value.trim()) === "visit_note_long") say(t("visit_note_long")); };
    for (const [input] of outcomes) {
      input.addEventListener("change", () => {
        blockerBox.hidden = input.value !== "blocked";
        error.hidden = true;
        sayNoteLength();
        drawListNote();
      });
    }
    for (const [input] of blockers) input.addEventListener("change", () => { error.hidden = true; sayNoteLength(); });
    note.addEventListener("input", () => { error.hidden = true; sayNoteLength(); });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      // Each save says what is wrong now: an error already put right does not stay.
      error.hidden = true;
      comeBackError.hidden = true;
      const picked = outcomes.find(([i]) => i.checked);
      if (!picked) { say(t("visit_need_outcome")); return; }
      const outcome = picked[0].value;
      const missing = outcome === "blocked" ? blockers.filter(([b]) => b.checked).map(([b]) => b.value) : [];
      if (outcome === "blocked" && !missing.length) { say(t("visit_need_blocker")); return; }
      const text = note.value.trim();
      const problem = noteProblem(text);
      if (problem) { say(problem === "invalid_note" ? errorText(problem) : t(problem)); return; }
      const back = comeBack.read();
      if (back.error) {
        comeBackError.textContent = back.error;
        comeBackError.hidden = false;
        comeBack.input.setAttribute("aria-invalid", "true");
        comeBack.input.focus();
        return;
      }
      error.hidden = true;
      const body = { outcome, blockers: missing, visited_at: new Date().toISOString() };
      if (back.day) body.come_back_on = back.day;
      if (text) body.note = text;
      saveBtn.disabled = true;
      const rec = await outbox.add("visit", { stall_id: stall.id, market_id: stall.market_id, label: stall.stall_code, body });
      const done = navigator.onLine ? await outbox.sendOne(rec.id) : rec;
      saveBtn.disabled = false;
      if (done.state === "failed") {
        await outbox.remove(rec.id);
        say(errorText(done.error.code));
        return;
      }
      // The worklist row shows it at once, sent or still on the device. A visit that sets no day
      // keeps the day agreed before, unless it is that day or later (kept): as the server reads it.
      const key = `stalls.${stall.market_id}`;
      const list = api.cache.value(key);
      const row = Array.isArray(list) ? list.find((x) => x.id === stall.id) : null;
      const agreed = row && row.last_visit && row.last_visit.come_back_on;
      const standing = agreed && agreed > today(Date.parse(body.visited_at)) ? agreed : null;
      const brief = {
        outcome, visited_at: body.visited_at, come_back_on: body.come_back_on || standing, blockers: missing,
        come_back_for: body.come_back_on ? outcome : standing ? row.last_visit.come_back_for : null,
      };
      if (row) { row.last_visit = brief; api.cache.set(key, list); }
      toast(t(done.state === "sent" ? "visit_saved" : "visit_queued"), done.state === "sent" ? "ok" : "warn", 8000, "saved");
      lastLine.textContent = t("visit_last", { what: outcomeText(brief), when: dateTime(brief.visited_at) });
      lastLine.hidden = false;
      if (asked) {
        asked.hidden = true;
        // The worklist's card too (sent or queued: done); the server's next answer has the last word.
        const cached = api.cache.value("assignments");
        const entry = Array.isArray(cached) ? cached.find((a) => a.stall_id === stall.id) : null;
        if (entry) { entry.visited_since = true; api.cache.set("assignments", cached); }
      }
      form.reset();
      form.hidden = true;
      blockerBox.hidden = true;
      openBtn.setAttribute("aria-expanded", "false");
      listBox.replaceChildren();
      showBtn.hidden = false;
      showBtn.disabled = false;
      openBtn.focus();
    });
  }
  const listBox = h("div", { id: "visit-list" });
  const showBtn = h("button", { type: "button", class: "btn btn-small btn-ghost", id: "show-visits" }, t("visit_list_show"));
  showBtn.addEventListener("click", async () => {
    showBtn.disabled = true;
    try {
      const rows = await api.getJSON(`/api/stalls/${stall.id}/visits?limit=50`);
      listBox.replaceChildren(rows.length
        ? h("ol", { class: "plain history-list" }, rows.map((v) => h("li", { dataset: { outcome: v.outcome } },
          h("p", {}, h("strong", {}, outcomeText(v))),
          h("p", { class: "muted small" }, `${dateTime(v.visited_at)} · ${v.visited_by || t("history_system")}`),
          v.note ? h("p", { class: "small" }, v.note) : null)))
        : h("p", { class: "muted" }, t("visit_list_none")));
      showBtn.hidden = true;
    } catch (err) {
      listBox.replaceChildren(h("p", { class: "form-error" }, describeError(err)));
      showBtn.disabled = false;
    }
  });
  return h("section", { class: "card", id: "visits-card", "aria-labelledby": "visits-h" },
    h("h2", { id: "visits-h" }, t("visit_card_title")), h("p", { class: "muted small" }, t("visit_card_intro")),
    asked, assignedTo, lastLine, h("div", { class: "row-actions" }, openBtn, showBtn), form, listBox);
}
