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

/**
 * Show an error under a field. `local` errors were found on the device (their code is kept, so
 * refreshErrors can ask again); other errors came from the server, and `value` is the value it
 * refused, so the error clears once the field holds something else.
 */
export function setError(id, message, extra = null, { local = false, code = "", value } = {}) {
  const line = document.getElementById(`${id}-error`);
  const wrap = document.getElementById(`${id}-field`) || (line && line.parentElement);
  const control = document.getElementById(id);
  if (!line) return false;
  line.textContent = message;
  if (extra) line.append(" ", extra);
  line.hidden = false;
  line.dataset.local = local ? "1" : "";
  line.dataset.code = code || "";
  if (value !== undefined) line.dataset.value = JSON.stringify(value);
  else delete line.dataset.value;
  if (wrap) wrap.classList.add("has-error");
  if (control && control.setAttribute) control.setAttribute("aria-invalid", "true");
  return true;
}

/**
 * Field limits: no `maxlength` on our inputs (it cuts a pasted value, or stops typing, without a
 * word). A value over the limit stays as typed and the field says at once what its rule is, with
 * the code the API would answer; `check(id)` (see refreshErrors) takes the error away once the
 * value is short enough again.
 */
export function limitLength(control, { id, max, code, count = (v) => [...String(v).normalize("NFC").replace(/\s+/g, " ").trim()].length }) {
  control.dataset.max = String(max);
  control.addEventListener("input", () => {
    if (count(control.value) > max) setError(id, errorText(code), null, { local: true, code });
  });
}

/** Hide one field's error. */
export function clearError(id) {
  const line = document.getElementById(`${id}-error`);
  const wrap = document.getElementById(`${id}-field`) || (line && line.parentElement);
  const control = document.getElementById(id);
  if (line) { line.hidden = true; line.textContent = ""; delete line.dataset.value; }
  if (wrap) wrap.classList.remove("has-error");
  if (control && control.removeAttribute) control.removeAttribute("aria-invalid");
}

export function clearErrors(root) {
  for (const line of root.querySelectorAll(".field-error")) { line.hidden = true; line.textContent = ""; delete line.dataset.value; }
  for (const wrap of root.querySelectorAll(".has-error")) wrap.classList.remove("has-error");
  for (const c of root.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
  for (const e of root.querySelectorAll(".form-error")) e.textContent = "";
}

/**
 * Take errors away as soon as the field is put right (volunteers kept "fixing" fields whose red
 * line stayed). `check(id)` is the device's own verdict on a field (an error code or null);
 * `valueOf(id)` its current value, compared with the value the server refused. Returns how many
 * field errors still show.
 */
export function refreshErrors(root, { check = () => null, valueOf = () => undefined } = {}) {
  let left = 0;
  for (const line of root.querySelectorAll(".field-error")) {
    if (line.hidden) continue;
    const id = line.id.replace(/-error$/, "");
    if (line.dataset.local === "1") {
      const code = check(id);
      if (!code) { clearError(id); continue; }
      if (code !== line.dataset.code) setError(id, errorText(code), null, { local: true, code });
    } else if (line.dataset.value !== undefined && JSON.stringify(valueOf(id)) !== line.dataset.value) {
      clearError(id);
      continue;
    }
    left += 1;
  }
  return left;
}

/** "payment_accounts.0.bin" -> "payment_accounts.*.bin" */
const pattern = (path) => String(path || "").replace(/\.\d+(?=\.|$)/g, ".*");

/**
 * Show an API problem next to the fields it names. fieldMap: {"holder.phone": "f-phone", ...}
 * (keys may use * for list indexes; a key matches the path or any longer path under it).
 * Returns the ids that got an error; anything unplaced goes to the form-level line. With `valueOf`
 * each error remembers the refused value, so refreshErrors clears it once the field changes.
 */
export function showProblem(formLevel, problem, fieldMap, extras = {}, codeMap = {}, valueOf = null) {
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
    const refused = valueOf && id ? { value: valueOf(id) } : {};
    if (id && !placed.includes(id) && setError(id, msg, extras[code] || null, refused)) placed.push(id);
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

/** A button that shows and hides a form below it (aria-expanded says which); `onOpen` runs when it opens. */
export function opener({ id, className, label }, form, onOpen = null) {
  const btn = h("button", { type: "button", class: className, id, "aria-expanded": "false", "aria-controls": form.id }, label);
  btn.addEventListener("click", () => {
    form.hidden = !form.hidden;
    btn.setAttribute("aria-expanded", form.hidden ? "false" : "true");
    if (!form.hidden && onOpen) onOpen();
  });
  return btn;
}
