// A day field written day/month/year (15/01/2027), as the page's language writes days, whatever
// the browser's language: the browser's own date control shows mm/dd/yyyy on a tablet set to
// English, where 05/12 is 12 May to the app and 5 December to the person typing. A calendar button
// beside it opens the browser's date picker for those who would rather tap a day; the day picked
// is written into the field the same way. Values in and out are ISO days (2027-01-15).

import { h, s } from "./dom.js";
import { t, addStrings, today } from "./i18n.js";
import { calendarDay } from "./activity.js";

addStrings({
  vi: {
    day_placeholder: "ngày/tháng/năm",
    day_pick: "Chọn trên lịch",
    day_bad: "Ghi ngày theo dạng ngày/tháng/năm, ví dụ {example}.",
    day_no_such: "Ngày này không có trong lịch (ví dụ 31/02): kiểm tra lại ngày và tháng.",
    day_not_before: "Chọn từ ngày {day} trở đi.",
    day_not_after: "Chọn ngày {day} hoặc trước đó.",
    day_need_both: "Ghi cả ngày bắt đầu và ngày kết thúc.",
    day_backwards: "Ngày bắt đầu phải trước ngày kết thúc.",
    day_too_long: "Chọn khoảng tối đa {n} ngày.",
  },
  en: {
    day_placeholder: "day/month/year",
    day_pick: "Pick on a calendar",
    day_bad: "Write the day as day/month/year, e.g. {example}.",
    day_no_such: "There is no such day (e.g. 31/02): check the day and month.",
    day_not_before: "Pick {day} or a later day.",
    day_not_after: "Pick {day} or an earlier day.",
    day_need_both: "Write both the first and the last day.",
    day_backwards: "The first day must come before the last.",
    day_too_long: "Choose at most {n} days.",
  },
});

/** "2027-01-15" -> "15/01/2027" ("" for anything else). */
export function dayText(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  return m ? `${m[3]}/${m[2]}/${m[1]}` : "";
}

/** "15/1/2027", "15.01.2027", "15-01-2027" or "2027-01-15" -> "2027-01-15"; "" -> ""; written
 * another way -> undefined; written right but not in the calendar (31/02/2027) -> false. A day
 * without its year ("8/12") is the one nearest today (the field's min and max then check it as
 * any day: "5/12" typed the day after is yesterday, refused as such, not next year's). */
export function parseDay(text) {
  const v = String(text || "").trim();
  if (!v) return "";
  const short = /^(\d{1,2})[/.-](\d{1,2})$/.exec(v);
  if (short) {
    const now = today();
    const year = Number(now.slice(0, 4));
    const days = (iso) => Math.abs(Date.parse(iso) - Date.parse(now));
    const candidates = [year - 1, year, year + 1]
      .map((y) => parseDay(`${short[1]}/${short[2]}/${y}`))
      .filter((d) => typeof d === "string");
    if (!candidates.length) return false;  // 30/02: no such day in any year
    return candidates.reduce((best, d) => (days(d) < days(best) ? d : best));
  }
  const m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(v);
  const iso = m ? `${m[3]}-${m[2].padStart(2, "0")}-${m[1].padStart(2, "0")}` : (/^\d{4}-\d{2}-\d{2}$/.test(v) ? v : null);
  if (!iso) return undefined;
  return calendarDay(iso) === null ? false : iso;
}

function calendarIcon() {
  return s("svg", { width: 20, height: 20, viewBox: "0 0 20 20", "aria-hidden": "true", focusable: "false" },
    s("rect", { x: 2.5, y: 4, width: 15, height: 13.5, rx: 2, fill: "none", stroke: "currentColor", "stroke-width": 1.6 }),
    s("path", { d: "M2.5 8.5h15M6.5 2v4M13.5 2v4", fill: "none", stroke: "currentColor", "stroke-width": 1.6, "stroke-linecap": "round" }));
}

/**
 * The field: `input` (the text box, with `id`: labels point at it), `el` (it with its calendar
 * button, to put in the form), `iso` (get/set the day, ISO; "" when empty) and `read()`: the
 * day written, or { error } with the message to show (written wrong, not in the calendar, or
 * outside min..max, both ISO and optional).
 */
export function dayInput({ id, value = "", min = "", max = "", attrs = {} }) {
  const input = h("input", {
    id, type: "text", inputmode: "numeric", autocomplete: "off", maxlength: 10, class: "day-text",
    placeholder: t("day_placeholder"), value: dayText(value), ...attrs,
  });
  // The browser's picker, out of sight and out of the tab order; only its calendar is used.
  const native = h("input", { type: "date", class: "day-native", tabindex: "-1", "aria-hidden": "true", min, max });
  const pick = h("button", { type: "button", class: "btn day-pick", id: `${id}-pick`, title: t("day_pick"), "aria-label": t("day_pick") }, calendarIcon());
  pick.addEventListener("click", () => {
    const day = parseDay(input.value);
    native.value = day || "";
    try {
      native.showPicker();
    } catch {
      input.focus(); // no picker here: typing still works
    }
  });
  native.addEventListener("change", () => {
    if (!native.value) return;
    input.value = dayText(native.value);
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
    input.focus();
  });
  const el = h("span", { class: "day-input" }, input, pick, native);
  return {
    el,
    input,
    get iso() {
      const day = parseDay(input.value);
      return typeof day === "string" ? day : "";
    },
    set iso(day) {
      input.value = dayText(day);
    },
    read() {
      const day = parseDay(input.value);
      if (day === undefined) {
        // The example is a day the field takes: today when it may, else its first day.
        const now = today();
        const example = (!min || now >= min) && (!max || now <= max) ? now : (min || max);
        return { error: t("day_bad", { example: dayText(example) }) };
      }
      if (day === false) return { error: t("day_no_such") };
      if (day && min && day < min) return { error: t("day_not_before", { day: dayText(min) }) };
      if (day && max && day > max) return { error: t("day_not_after", { day: dayText(max) }) };
      return { day };
    },
  };
}

/** What is wrong with a period written in two day fields (each as read() says, then both needed,
 * first no later than last, at most `maxDays` days), as { error, field } (the field to mark: its
 * `input`), or null when it is right. */
export function periodProblem(from, to, { maxDays = 0 } = {}) {
  const a = from.read();
  const b = to.read();
  if (a.error) return { error: a.error, field: from };
  if (b.error) return { error: b.error, field: to };
  if (!a.day) return { error: t("day_need_both"), field: from };
  if (!b.day) return { error: t("day_need_both"), field: to };
  if (a.day > b.day) return { error: t("day_backwards"), field: to };
  const days = Math.round((Date.parse(b.day) - Date.parse(a.day)) / 86400000) + 1;
  if (maxDays && days > maxDays) return { error: t("day_too_long", { n: maxDays }), field: from };
  return null;
}

/** Show a period's problem (periodProblem) in its error line, marking the field it is about and
 * focusing it; clears both fields' marks first. Returns whether there was one. */
export function showPeriodProblem(problem, line, from, to) {
  for (const f of [from, to]) f.input.removeAttribute("aria-invalid");
  line.textContent = problem ? problem.error : "";
  line.hidden = !problem;
  if (problem) {
    problem.field.input.setAttribute("aria-invalid", "true");
    problem.field.input.focus();
  }
  return Boolean(problem);
}
