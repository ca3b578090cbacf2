// Form fields with a hint and an error line each, and mapping of API problems onto them.

import { h } from "./dom.js";
import { t, errorText, hasErrorText } from "./i18n.js";

/** A labelled field: label, optional hint, the control, and a (hidden) error line under it. */
export function field({ id, label, hint, control, optional = false, required = false, extraClass = "" }) {
  const describedBy = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(" ");
  control.setAttribute("aria-describedby", describedBy);
  if (!control.id) control.id = id;
  const tag = optional ? h("span", { class: "tag" }, t("optional")) : required ? h("span", { class: "tag tag-req" }, t("required")) : null;
  return h("div", { class: ["field", extraClass], id: `${id}-field` },
    h("label", { for: control.id }, label, tag ? " " : null, tag),
    hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null,
    control,
    h("p", { class: "field-error", id: `${id}-error`, hidden: true }));
}

export function setError(id, message, extra = null) {
  const line = document.getElementById(`${id}-error`);
  const wrap = document.getElementById(`${id}-field`) || (line && line.parentElement);
  const control = document.getElementById(id);
  if (!line) return false;
  line.textContent = message;
  if (extra) line.append(" ", extra);
  line.hidden = false;
  if (wrap) wrap.classList.add("has-error");
  if (control && control.setAttribute) control.setAttribute("aria-invalid", "true");
  return true;
}

export function clearErrors(root) {
  for (const line of root.querySelectorAll(".field-error")) { line.hidden = true; line.textContent = ""; }
  for (const wrap of root.querySelectorAll(".has-error")) wrap.classList.remove("has-error");
  for (const c of root.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
  for (const e of root.querySelectorAll(".form-error")) e.textContent = "";
}

/** "payment_accounts.0.bin" -> "payment_accounts.*.bin" */
const pattern = (path) => String(path || "").replace(/\.\d+(?=\.|$)/g, ".*");

/**
 * Show an API problem next to the fields it names. fieldMap: {"holder.phone": "f-phone", ...}
 * (keys may use * for list indexes; a key matches the path or any longer path under it).
 * Returns the ids that got an error; anything unplaced goes to the form-level line.
 */
export function showProblem(formLevel, problem, fieldMap, extras = {}, codeMap = {}) {
  const items = problem.errors && problem.errors.length ? problem.errors : [{ field: problem.field, code: problem.code }];
  const placed = [];
  const unplaced = [];
  for (const item of items) {
    const code = hasErrorText(item.code) ? item.code : hasErrorText(problem.code) ? problem.code : "validation_error";
    const msg = errorText(code);
    const p = pattern(item.field);
    let id = codeMap[code] || null;
    for (const [key, target] of id ? [] : Object.entries(fieldMap)) {
      if (p === key || p.startsWith(`${key}.`)) { id = target; break; }
    }
    if (id && !placed.includes(id) && setError(id, msg, extras[code] || null)) placed.push(id);
    else if (!id) unplaced.push(msg);
  }
  if (formLevel) formLevel.textContent = unplaced.join(" ");
  return placed;
}

export function focusFirstError(root) {
  const bad = root.querySelector("[aria-invalid='true']") || root.querySelector(".has-error input, .has-error select");
  if (bad) {
    bad.focus();
    bad.scrollIntoView({ block: "center", behavior: "smooth" });
  }
}
