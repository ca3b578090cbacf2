// A ward picked from the national directory (GET /api/admin-units?province=..&q=..): type its
// name with or without diacritics ("hai chau"), choose with the arrow keys and Enter or a click.
// An ARIA combobox; the chosen ward shows as a chip with a button to change it.

import { h, debounce, closeOnBlur } from "./dom.js";
import { t, describeError } from "./i18n.js";
import * as api from "./api.js";

const LIMIT = 10;

/**
 * wardPicker({id, label, hint, province, value, onChange}) -> {el, input, value(), set(v), focus()}
 * value: {code, name} or null. onChange(value) after a choice or a clear.
 */
export function wardPicker({ id, label, hint = "", province = "48", value = null, onChange = () => {}, clearable = true }) {
  const listId = `${id}-list`;
  let current = value;
  let found = [];
  let active = -1;
  let asked = 0;
  const input = h("input", {
    id, type: "search", role: "combobox", autocomplete: "off", spellcheck: "false",
    "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": listId,
    "aria-describedby": `${id}-hint ${id}-error`, placeholder: t("c_ward_placeholder"),
  });
  const list = h("ul", { id: listId, role: "listbox", class: "options ward-options", hidden: true, "aria-label": label });
  const status = h("p", { class: "hint ward-status", role: "status" });
  const chosen = h("div", { class: "bank-chosen ward-chosen", hidden: true });
  const box = h("div", { class: "bankpicker wardpicker" }, input, list);
  const el = h("div", { class: "field", id: `${id}-field` },
    h("label", { for: id }, label),
    h("p", { class: "hint", id: `${id}-hint` }, hint || t("c_ward_hint")),
    chosen, box, status,
    h("p", { class: "field-error", id: `${id}-error`, hidden: true }));

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(i) {
    active = i;
    [...list.children].forEach((li, j) => li.setAttribute("aria-selected", j === i ? "true" : "false"));
    const li = list.children[i];
    if (li) { input.setAttribute("aria-activedescendant", li.id); li.scrollIntoView({ block: "nearest" }); }
  }

  function show(units) {
    found = units;
    list.replaceChildren(...units.map((u, i) => {
      const li = h("li", { id: `${id}-opt-${i}`, role: "option", class: "option", "aria-selected": "false", dataset: { code: u.code } },
        h("strong", {}, u.name), " ", h("span", { class: "muted" }, u.code));
      li.addEventListener("mousedown", (ev) => ev.preventDefault()); // keep focus in the input
      li.addEventListener("click", () => choose(u));
      return li;
    }));
    list.hidden = !units.length;
    input.setAttribute("aria-expanded", list.hidden ? "false" : "true");
    status.textContent = input.value.trim() && !units.length ? t("c_ward_none") : units.length ? t("c_ward_found", { n: units.length }) : "";
    highlight(units.length ? 0 : -1);
  }

  const search = debounce(async () => {
    const q = input.value.trim();
    if (!q) { show([]); status.textContent = ""; return; }
    const mine = ++asked;
    try {
      const units = await api.getJSON(`/api/admin-units?${new URLSearchParams({ province, q, limit: String(LIMIT) })}`);
      if (mine === asked) show(units.filter((u) => u.level === "ward"));
    } catch (err) {
      if (mine === asked) { show([]); status.textContent = describeError(err); }
    }
  }, 200);

  function render() {
    const has = !!current;
    chosen.hidden = !has;
    box.hidden = has;
    if (has) {
      chosen.replaceChildren(...[
        // The ward by its name; its code (which tells two wards of one name apart) on hover only.
        h("span", { class: "chip-text", dataset: { code: current.code }, title: current.code }, current.name),
        h("button", { type: "button", class: "btn btn-small", onclick: () => { change(); } }, t("c_change")),
        clearable ? h("button", { type: "button", class: "btn btn-small btn-ghost", onclick: () => { set(null, true); input.focus(); } }, t("c_clear")) : null,
      ].filter(Boolean));
    }
  }

  function choose(unit) {
    close();
    input.value = "";
    status.textContent = "";
    set({ code: unit.code, name: unit.name }, true);
    const change = chosen.querySelector("button");
    if (change) change.focus();
  }

  function change() {
    current = null;
    render();
    input.focus();
  }

  function set(v, notify = false) {
    current = v;
    render();
    if (notify) onChange(current);
  }

  input.addEventListener("input", search);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown") {
      ev.preventDefault();
      if (list.hidden) search(); else highlight(Math.min(found.length - 1, active + 1));
    } else if (ev.key === "ArrowUp") {
      ev.preventDefault();
      highlight(Math.max(0, active - 1));
    } else if (ev.key === "Enter") {
      ev.preventDefault();
      if (found.length && !list.hidden) choose(found[Math.max(0, active)]);
    } else if (ev.key === "Escape") {
      close();
    }
  });
  closeOnBlur(input, close);
  render();
  return { el, input, value: () => current, set, focus: () => (current ? chosen.querySelector("button") : input).focus() };
}
