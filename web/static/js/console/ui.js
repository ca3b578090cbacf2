// Pieces the console pages share: dialogs that ask for a reason or show a secret once, tables,
// text fields with their error lines, and the answers to API errors.

import { h, toast } from "../lib/dom.js";
import { t, describeError, errorText, hasErrorText, dateTime } from "../lib/i18n.js";
import { field } from "../lib/forms.js";
import { dayInput } from "../lib/dayinput.js";
import { cardsOnPhone } from "../lib/cards.js";

function modal({ id, title, body, buttons, onCancel, initial }) {
  const dialog = h("dialog", { class: "dialog", id, "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title` }, title), body, h("div", { class: "row-actions" }, buttons));
  dialog.addEventListener("cancel", (ev) => { ev.preventDefault(); onCancel(); });
  document.body.append(dialog);
  dialog.showModal();
  (initial || buttons[0]).focus();
  return dialog;
}

/** Ask for a reason (archive, unarchive, erase): resolves to the text, or null when cancelled. */
export function reasonDialog({ id = "reason-dialog", title, lines = [], label, ok, danger = false }) {
  return new Promise((resolve) => {
    const input = h("input", { id: `${id}-input`, maxlength: 200, autocomplete: "off", required: true });
    const err = h("p", { class: "form-error", id: `${id}-error`, role: "alert" });
    const okBtn = h("button", { type: "button", class: ["btn", danger ? "btn-danger" : "btn-primary"], id: `${id}-ok` }, ok);
    const cancelBtn = h("button", { type: "button", class: "btn", id: `${id}-cancel` }, t("cancel"));
    let dialog = null;
    const done = (value) => { dialog.close(); dialog.remove(); resolve(value); };
    okBtn.addEventListener("click", () => {
      const text = input.value.trim();
      if (!text) { err.textContent = t("c_reason_required"); input.focus(); return; }
      done(text);
    });
    cancelBtn.addEventListener("click", () => done(null));
    input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); okBtn.click(); } });
    const body = h("div", {}, lines.filter(Boolean).map((l) => h("p", {}, l)),
      h("div", { class: "field" }, h("label", { for: input.id }, label), input), err);
    dialog = modal({ id, title, body, buttons: [cancelBtn, okBtn], onCancel: () => done(null), initial: input });
  });
}

/** Show a secret (a new password, an API key) once, with a copy button; resolves when closed. */
export function secretDialog({ id = "secret-dialog", title, lines = [], secret, label = t("c_secret_label") }) {
  return new Promise((resolve) => {
    // All of it in view (an API key is wider than an input: its end was hidden), wrapped anywhere;
    // sized to its lines once in the dialog.
    const value = h("textarea", { id: `${id}-value`, class: "secret", readonly: true, rows: 1, spellcheck: "false", autocomplete: "off" });
    value.value = secret;
    const copied = h("p", { class: "hint", role: "status" });
    const copy = h("button", { type: "button", class: "btn", id: `${id}-copy` }, t("c_copy"));
    const close = h("button", { type: "button", class: "btn btn-primary", id: `${id}-close` }, t("c_secret_done"));
    let dialog = null;
    copy.addEventListener("click", async () => {
      value.select();
      try { await navigator.clipboard.writeText(secret); copied.textContent = t("c_copied"); } catch { copied.textContent = t("c_copy_by_hand"); }
    });
    const done = () => { value.value = ""; dialog.close(); dialog.remove(); resolve(); };
    close.addEventListener("click", done);
    const body = h("div", {}, lines.filter(Boolean).map((l) => h("p", {}, l)),
      h("div", { class: "field" }, h("label", { for: value.id }, label), value), copied,
      h("p", { class: "note note-warn" }, t("c_secret_once")));
    dialog = modal({ id, title, body, buttons: [copy, close], onCancel: done, initial: value });
    // As tall as the text wraps at this width (a phone wraps a key over three lines, not two).
    value.style.height = "auto";
    value.style.height = `${value.scrollHeight + value.offsetHeight - value.clientHeight}px`;
    value.select();
  });
}

/** A labelled text input with its error line (forms.field). */
export function textField(id, label, { value = "", hint = "", type = "text", required = false, optional = false, attrs = {} } = {}) {
  const control = h("input", { id, name: id, type, value: value ?? "", autocomplete: "off", ...attrs });
  return { el: field({ id, label, hint, control, required, optional }), control };
}

/** A labelled day field (lib/dayinput.js: day/month/year whatever the browser's language, with a
 * calendar button) with its hint and error line; `day` reads it. */
export function dayField(id, label, { hint = "", value = "", min = "", max = "" } = {}) {
  const describedBy = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(" ");
  const day = dayInput({ id, value, min, max, attrs: { "aria-describedby": describedBy } });
  return {
    day,
    el: h("div", { class: "field", id: `${id}-field` },
      h("label", { for: id }, label),
      hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null,
      day.el,
      h("p", { class: "field-error", id: `${id}-error`, hidden: true })),
  };
}

/** A table with a caption (read by screen readers) and column headings; cards on a phone. */
export function table({ caption, columns, rows, className = "", captionVisible = false }) {
  return h("div", { class: "table-wrap" }, cardsOnPhone(h("table", { class: ["console-table", className] },
    h("caption", { class: captionVisible ? "" : "sr-only" }, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : "" }, c.label)))),
    h("tbody", {}, rows))));
}

/** What to say about a failed call, in the page's language. */
export function failed(err) {
  toast(describeError(err), "error", 8000);
}

/** The message for a problem code, or for the error as a whole. */
export function problemText(err) {
  if (err && err.code && hasErrorText(err.code)) return errorText(err.code, err.problem);
  return describeError(err);
}

export function when(value) {
  return value ? dateTime(value) : "—";
}
